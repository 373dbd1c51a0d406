//! The metainfo layer's error enum, [`MetainfoError`], with its Display (the messages users see
//! for a bad or unreadable `.torrent`) and the `invalid` shorthand the parser and builder share.
//!
//! What it does not do: decide when a torrent is invalid (that is [`super::parse`] and
//! [`super::build`]), or any I/O.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::MAX_TORRENT_BYTES;
use crate::bencode::BencodeError;

#[derive(Debug)]
pub enum MetainfoError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    Invalid(String),
    /// Not (canonical) bencode at all.
    Bencode(BencodeError),
    /// More than [`MAX_TORRENT_BYTES`]; `path` is the file it came from, if any.
    TooLarge {
        path: Option<PathBuf>,
        size: u64,
    },
    /// [`Metainfo::build`] was given an empty file or a folder without a byte in it: there is
    /// nothing to share.
    Empty {
        path: PathBuf,
    },
    /// A `.torrent` file that was read but does not parse: names the file.
    InFile {
        path: PathBuf,
        source: Box<MetainfoError>,
    },
}

impl fmt::Display for MetainfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetainfoError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            MetainfoError::InFile { path, source } => write!(f, "{}: {source}", path.display()),
            MetainfoError::Invalid(why) => write!(f, "invalid metainfo: {why}"),
            MetainfoError::Bencode(e) => write!(f, "invalid metainfo: not bencode: {e}"),
            MetainfoError::TooLarge { path, size } => {
                if let Some(path) = path {
                    write!(f, "{}: ", path.display())?;
                }
                write!(
                    f,
                    "torrent is {size} bytes, over the limit of {MAX_TORRENT_BYTES}"
                )
            }
            MetainfoError::Empty { path } => write!(
                f,
                "{}: file is empty; a torrent needs at least one byte to share",
                path.display()
            ),
        }
    }
}

impl std::error::Error for MetainfoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MetainfoError::Io { source, .. } => Some(source),
            MetainfoError::Bencode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BencodeError> for MetainfoError {
    fn from(e: BencodeError) -> Self {
        MetainfoError::Bencode(e)
    }
}

pub(super) fn invalid(why: impl Into<String>) -> MetainfoError {
    MetainfoError::Invalid(why.into())
}
