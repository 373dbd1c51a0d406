//! BEP 3 metainfo (`.torrent`) files for single-file torrents: parsing (from bytes or a file),
//! building one for a local file, and the tracker address helpers.
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
//! What it does not do: multi-file torrents (refused with a clear message), announce lists,
//! web seeds, BEP 52 (v2) torrents, or any network I/O. The only I/O is reading and writing
//! `.torrent` files and reading the file being hashed by [`Metainfo::build`].

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::bencode::{self, BencodeError, Node, Value};
use crate::infohash::{InfoHash, sha1};

/// Largest `.torrent` we read, from disk or from the network.
pub const MAX_TORRENT_BYTES: usize = 8 << 20;
/// Largest piece length accepted: a piece is held in memory while it is verified.
pub const MAX_PIECE_LENGTH: u64 = 16 << 20;

/// A single-file torrent's metainfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    pub announce: Option<String>,
    pub name: String,
    pub piece_length: u64,
    pub length: u64,
    pub piece_hashes: Vec<[u8; 20]>,
    pub info_hash: InfoHash,
    raw: Vec<u8>,
}

#[derive(Debug)]
pub enum MetainfoError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    Invalid(String),
    /// Not (canonical) bencode at all.
    Bencode(BencodeError),
    /// A torrent with a `files` list, which this implementation cannot download yet.
    MultiFile {
        name: String,
        files: usize,
    },
    /// More than [`MAX_TORRENT_BYTES`]; `path` is the file it came from, if any.
    TooLarge {
        path: Option<PathBuf>,
        size: u64,
    },
    /// [`Metainfo::build`] was given an empty file: there is nothing to share.
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
            MetainfoError::MultiFile { name, files } => write!(
                f,
                "multi-file torrents are not supported yet (torrent \"{name}\" has {files} \
                 files); make a single-file torrent"
            ),
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

fn invalid(why: impl Into<String>) -> MetainfoError {
    MetainfoError::Invalid(why.into())
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

    /// Builds the metainfo of `file` by hashing it piece by piece (one piece in memory at a
    /// time). The torrent is canonical bencode with `announce` (if given), `created by`,
    /// `creation date` and `info` = {`length`, `name`, `piece length`, `pieces`}; the creation
    /// date changes from run to run, the info-hash does not.
    pub fn build(
        file: &Path,
        piece_length: u64,
        announce: Option<String>,
    ) -> Result<Metainfo, MetainfoError> {
        if !(1..=MAX_PIECE_LENGTH).contains(&piece_length) {
            return Err(invalid(format!(
                "piece length {piece_length} is outside 1..={MAX_PIECE_LENGTH}"
            )));
        }
        let name = file.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            invalid(format!(
                "{}: the file name is missing or not utf-8",
                file.display()
            ))
        })?;
        check_name(name)?;
        let io = |source| MetainfoError::Io {
            path: file.to_path_buf(),
            source,
        };
        let mut reader = File::open(file).map_err(io)?;
        let meta = reader.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(invalid(format!("{}: not a regular file", file.display())));
        }
        let length = meta.len();
        if length == 0 {
            return Err(MetainfoError::Empty {
                path: file.to_path_buf(),
            });
        }
        // Leave room for the keys around `pieces`, so that the result is readable again.
        let max_pieces = (MAX_TORRENT_BYTES as u64 - 4096) / 20;
        let count = length.div_ceil(piece_length);
        if count > max_pieces {
            return Err(invalid(format!(
                "{}: {length} bytes in pieces of {piece_length} need {count} piece hashes, \
                 more than a torrent can hold ({max_pieces}); use a larger piece length",
                file.display()
            )));
        }
        let mut buf = vec![0u8; piece_length.min(length) as usize];
        let mut pieces = Vec::with_capacity(count as usize * 20);
        let mut left = length;
        while left > 0 {
            let n = left.min(piece_length) as usize;
            // A file that shrinks while being hashed ends in an `UnexpectedEof` here.
            reader.read_exact(&mut buf[..n]).map_err(io)?;
            pieces.extend_from_slice(&sha1(&buf[..n]));
            left -= n as u64;
        }
        let as_int = |n: u64, what: &str| {
            i64::try_from(n).map_err(|_| invalid(format!("{what} {n} does not fit in bencode")))
        };
        let info = Value::dict([
            ("length", Value::Int(as_int(length, "length")?)),
            ("name", Value::from(name)),
            (
                "piece length",
                Value::Int(as_int(piece_length, "piece length")?),
            ),
            ("pieces", Value::Bytes(pieces)),
        ]);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut top = vec![
            (
                "created by",
                Value::from(concat!("bittorrent-sim ", env!("CARGO_PKG_VERSION"))),
            ),
            ("creation date", Value::Int(as_int(now, "creation date")?)),
            ("info", info),
        ];
        if let Some(announce) = announce {
            top.push(("announce", Value::from(announce)));
        }
        let raw = bencode::encode(&Value::dict(top));
        if raw.len() > MAX_TORRENT_BYTES {
            return Err(MetainfoError::TooLarge {
                path: None,
                size: raw.len() as u64,
            });
        }
        // Parse our own output: the info-hash then comes from the info span, as for any file.
        Metainfo::parse(raw)
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

    /// The checks shared by every way in; `raw` is at most [`MAX_TORRENT_BYTES`].
    fn parse(raw: Vec<u8>) -> Result<Metainfo, MetainfoError> {
        let bencode::Lenient {
            node: top,
            notes,
            count,
        } = bencode::decode_lenient(&raw)?;
        if let Some(first) = notes.first() {
            log::warn!(
                "torrent is not canonical bencode ({first}{}): read anyway, info-hash taken over the info dictionary's bytes as found",
                match count {
                    1 => String::new(),
                    n => format!(", and {} more", n - 1),
                }
            );
        }
        if top.as_dict().is_none() {
            return Err(invalid(format!(
                "the torrent is {}, expected a dictionary",
                top.kind_name()
            )));
        }
        let announce = match top.get(b"announce") {
            Some(node) => Some(text(node, "announce")?.to_string()),
            None => None,
        };
        let info = top
            .get(b"info")
            .ok_or_else(|| invalid("no `info` dictionary"))?;
        if info.as_dict().is_none() {
            return Err(invalid(format!(
                "`info` is {}, expected a dictionary",
                info.kind_name()
            )));
        }
        let name = text(field(info, "name")?, "name")?.to_string();
        if let Some(files) = info.get(b"files") {
            let files = files.as_list().map_or(0, <[Node]>::len);
            return Err(MetainfoError::MultiFile { name, files });
        }
        check_name(&name)?;
        let piece_length = number(
            field(info, "piece length")?,
            "piece length",
            MAX_PIECE_LENGTH,
        )?;
        let length = number(field(info, "length")?, "length", i64::MAX as u64)?;
        let pieces = field(info, "pieces")?;
        let pieces = pieces.as_bytes().ok_or_else(|| {
            invalid(format!(
                "`pieces` is {}, expected a byte string",
                pieces.kind_name()
            ))
        })?;
        if pieces.len() % 20 != 0 {
            return Err(invalid(format!(
                "`pieces` is {} bytes, not a whole number of 20-byte hashes",
                pieces.len()
            )));
        }
        let needed = length.div_ceil(piece_length);
        if pieces.len() as u64 / 20 != needed {
            return Err(invalid(format!(
                "`pieces` holds {} hashes, but {length} bytes in pieces of {piece_length} \
                 need {needed}",
                pieces.len() / 20
            )));
        }
        let piece_hashes = pieces
            .chunks_exact(20)
            .map(|chunk| {
                let mut hash = [0u8; 20];
                hash.copy_from_slice(chunk);
                hash
            })
            .collect();
        let info_hash = InfoHash(sha1(info.raw));
        Ok(Metainfo {
            announce,
            name,
            piece_length,
            length,
            piece_hashes,
            info_hash,
            raw,
        })
    }
}

/// `dict[key]`, or an error naming the missing key.
fn field<'n, 'a>(dict: &'n Node<'a>, key: &str) -> Result<&'n Node<'a>, MetainfoError> {
    dict.get(key.as_bytes())
        .ok_or_else(|| invalid(format!("`info` has no `{key}`")))
}

fn text<'a>(node: &Node<'a>, key: &str) -> Result<&'a str, MetainfoError> {
    match node.as_bytes() {
        Some(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| invalid(format!("`{key}` is not valid utf-8")))
        }
        None => Err(invalid(format!(
            "`{key}` is {}, expected a string",
            node.kind_name()
        ))),
    }
}

/// An integer in `1..=max`.
fn number(node: &Node<'_>, key: &str, max: u64) -> Result<u64, MetainfoError> {
    let n = node.as_int().ok_or_else(|| {
        invalid(format!(
            "`{key}` is {}, expected an integer",
            node.kind_name()
        ))
    })?;
    match u64::try_from(n) {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(invalid(format!("`{key}` is {n}, expected 1..={max}"))),
    }
}

/// The longest torrent name accepted, in bytes (a file name on most file systems).
pub const MAX_NAME_LEN: usize = 255;

/// The torrent's name becomes a file name on disk (it must not climb out of the directory),
/// and is shown to others: in tracker replies and terminals (no control characters, which
/// could break a protocol line or drive a terminal; not longer than [`MAX_NAME_LEN`]).
fn check_name(name: &str) -> Result<(), MetainfoError> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name == "." || name == ".." {
        "it names a directory"
    } else if name.contains(['/', '\\']) {
        "it contains a path separator"
    } else if name.contains('\0') {
        "it contains a nul byte"
    } else if name.chars().any(char::is_control) {
        "it contains a control character"
    } else if name.len() > MAX_NAME_LEN {
        "it is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(invalid(format!(
        "unsafe file name \"{}\": {why}; the name must be a plain file name",
        name.escape_debug()
    )))
}

/// `true` if `text` starts with `scheme`, ignoring ASCII case.
fn has_scheme(text: &str, scheme: &str) -> bool {
    text.get(..scheme.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
}

/// The announce URL of a tracker given as `HOST:PORT`; a full `http://` or `https://` URL is
/// returned unchanged.
pub fn announce_url(tracker: &str) -> String {
    if has_scheme(tracker, "http://") || has_scheme(tracker, "https://") {
        tracker.to_string()
    } else {
        format!("http://{tracker}/announce")
    }
}

/// `HOST:PORT` to connect to for an `http://` announce URL (port 80 if none is given); `None`
/// for other schemes or a URL without a usable host and port.
pub fn tracker_addr_from_announce(url: &str) -> Option<String> {
    if !has_scheme(url, "http://") {
        return None;
    }
    let rest = url.get("http://".len()..)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:6000`.
        let (inside, tail) = bracketed.split_once(']')?;
        if !tail.is_empty() && !tail.starts_with(':') {
            return None;
        }
        (
            host_port.get(..inside.len() + 2)?,
            tail.get(1..).unwrap_or(""),
        )
    } else {
        host_port.split_once(':').unwrap_or((host_port, ""))
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = if port.is_empty() { "80" } else { port };
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{host}:{p}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
