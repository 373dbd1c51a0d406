//! BEP 3 metainfo (`.torrent`) files, single-file (`length`) and multi-file (`files`, a
//! folder): parsing (from a `.torrent`'s bytes, a file, or a bare `info` dictionary), building
//! one for a local file or folder, and the tracker address helpers.
//!
//! The info-hash is the SHA-1 of the `info` dictionary's bytes exactly as they appear in the
//! file (the span kept by [`crate::bencode`]), never of a re-encoding, so unknown keys such as
//! `private` count. Unknown keys are otherwise ignored.
//!
//! A `.torrent` whose dictionaries list their keys out of order, or repeat a key with the same
//! value, is read with a warning ([`bencode::decode_lenient`]); its info-hash is still the SHA-1
//! of the `info` bytes as found, which is what other clients compute. A key repeated with a
//! different value is refused: two readers would see two different torrents.
//!
//! What it does not do: announce lists, web seeds, BEP 52 (v2) torrents, BEP 47 file
//! attributes, or any network I/O. The only I/O is reading and writing `.torrent` files and
//! reading the files being hashed by [`Metainfo::build`].
//!
//! This file holds the [`Metainfo`] type, its limits, reading a `.torrent` from bytes or a
//! file, writing one, and the piece arithmetic. The rest lives beside it: `parse` (the checks
//! on a torrent's bytes and its name), `files` (a folder's file list and its path rules),
//! `build` (hashing a local file or folder into a torrent), `error` ([`MetainfoError`]),
//! `announce` (tracker address helpers) and `info_dict` (the `info` dictionary alone, BEP 9's
//! metadata: served to and fetched by magnet links).

mod announce;
mod build;
mod error;
mod files;
mod folder;
mod info_dict;
#[cfg(test)]
mod multi_tests;
mod parse;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::infohash::InfoHash;

pub use announce::{announce_url, tracker_addr_from_announce};
pub use error::MetainfoError;
pub use files::{FileEntry, MAX_FILES};
pub use parse::MAX_NAME_LEN;

/// Largest `.torrent` we read, from disk or from the network.
pub const MAX_TORRENT_BYTES: usize = 8 << 20;
/// Largest piece length accepted: a piece is held in memory while it is verified.
pub const MAX_PIECE_LENGTH: u64 = 16 << 20;

/// A torrent's metainfo: one file named `name`, or a folder named `name` holding `files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    pub announce: Option<String>,
    /// The file's name, or the folder's for a multi-file torrent.
    pub name: String,
    pub piece_length: u64,
    /// The data's total length: the file's, or the sum of the folder's files.
    pub length: u64,
    /// `None` for a single-file torrent; the folder's files, in torrent order, otherwise.
    pub files: Option<Vec<FileEntry>>,
    pub piece_hashes: Vec<[u8; 20]>,
    pub info_hash: InfoHash,
    raw: Vec<u8>,
}

impl Metainfo {
    /// Parses a `.torrent` file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Metainfo, MetainfoError> {
        if bytes.len() > MAX_TORRENT_BYTES {
            return Err(MetainfoError::TooLarge {
                path: None,
                size: bytes.len() as u64,
            });
        }
        Metainfo::parse(bytes.to_vec())
    }

    /// The metainfo of a bare `info` dictionary (as fetched from peers by BEP 9, or kept by a
    /// tracker), single- or multi-file, with `announce` as its tracker. The info-hash is the
    /// SHA-1 of `info` exactly as given; [`Metainfo::as_bytes`] is then a `.torrent` wrapping
    /// those bytes unchanged (`d8:announce...4:info<info>e`).
    pub fn from_info_bytes(info: &[u8], announce: Option<&str>) -> Result<Metainfo, MetainfoError> {
        let mut raw = Vec::with_capacity(info.len() + 64);
        raw.push(b'd');
        if let Some(url) = announce {
            raw.extend_from_slice(format!("8:announce{}:", url.len()).as_bytes());
            raw.extend_from_slice(url.as_bytes());
        }
        raw.extend_from_slice(b"4:info");
        raw.extend_from_slice(info);
        raw.push(b'e');
        let metainfo = Metainfo::from_bytes(&raw)?;
        // Bytes after the dictionary would have been read as more keys of the wrapper.
        if metainfo.info_hash != InfoHash(crate::infohash::sha1(info)) {
            return Err(error::invalid(
                "the info bytes are not one bencoded dictionary: something follows it",
            ));
        }
        Ok(metainfo)
    }

    /// Reads and parses a `.torrent` file of at most [`MAX_TORRENT_BYTES`].
    pub fn from_file(path: &Path) -> Result<Metainfo, MetainfoError> {
        let io = |source| MetainfoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let too_large = |size| MetainfoError::TooLarge {
            path: Some(path.to_path_buf()),
            size,
        };
        if size > MAX_TORRENT_BYTES as u64 {
            return Err(too_large(size));
        }
        // The file may grow after the size check: read one byte past the cap to notice.
        let mut raw = Vec::new();
        file.take(MAX_TORRENT_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(io)?;
        if raw.len() > MAX_TORRENT_BYTES {
            return Err(too_large(raw.len() as u64));
        }
        Metainfo::parse(raw).map_err(|e| MetainfoError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Writes the torrent's bytes, exactly as read or built.
    pub fn write_to_file(&self, path: &Path) -> Result<(), MetainfoError> {
        std::fs::write(path, &self.raw).map_err(|source| MetainfoError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The raw `.torrent` bytes, without a copy (the tracker keeps only these).
    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    pub fn num_pieces(&self) -> u32 {
        self.piece_hashes.len() as u32
    }

    /// Length of piece `index`: `piece_length`, except for a shorter last piece; 0 for an
    /// index past the end.
    pub fn piece_len(&self, index: u32) -> u32 {
        if index >= self.num_pieces() {
            return 0;
        }
        let rest = self.length.saturating_sub(self.piece_offset(index));
        rest.min(self.piece_length) as u32
    }

    pub fn piece_offset(&self, index: u32) -> u64 {
        index as u64 * self.piece_length
    }

    pub fn piece_hash(&self, index: u32) -> &[u8; 20] {
        &self.piece_hashes[index as usize]
    }
}
