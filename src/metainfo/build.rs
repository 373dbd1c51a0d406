//! [`Metainfo::build`]: makes the metainfo of a local file or folder by hashing its data piece
//! by piece, one piece in memory at a time, and encoding a canonical torrent: single-file for a
//! file, multi-file (`files`, sorted by path, see [`super::folder`]) for a folder.
//!
//! Blocking calls, in order: 1. read the path's metadata (and, for a folder, list it); 2. open
//! each file in turn and read it (`read_exact`), hashing each piece, which may span files.
//! Nothing is written: saving the result is [`Metainfo::write_to_file`]'s job.
//!
//! What it does not do: announce lists, padding files, or any network I/O. The result is
//! parsed back by the same code as any `.torrent` ([`super::parse`]), so the info-hash always
//! comes from the `info` span.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::invalid;
use super::folder;
use super::parse::check_name;
use super::{MAX_PIECE_LENGTH, MAX_TORRENT_BYTES, Metainfo, MetainfoError};
use crate::bencode::{self, Value};
use crate::infohash::sha1;

impl Metainfo {
    /// Builds the metainfo of `path`, a file or a folder, by hashing its data piece by piece
    /// (one piece in memory at a time). The torrent is canonical bencode with `announce` (if
    /// given), `created by`, `creation date` and `info` = {`length`, `name`, `piece length`,
    /// `pieces`} for a file, or {`files`, `name`, `piece length`, `pieces`} for a folder (its
    /// regular files sorted by path; links and special files refused). The creation date
    /// changes from run to run, the info-hash does not.
    pub fn build(
        path: &Path,
        piece_length: u64,
        announce: Option<String>,
    ) -> Result<Metainfo, MetainfoError> {
        if !(1..=MAX_PIECE_LENGTH).contains(&piece_length) {
            return Err(invalid(format!(
                "piece length {piece_length} is outside 1..={MAX_PIECE_LENGTH}"
            )));
        }
        let io = |source| MetainfoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs::metadata(path).map_err(io)?;
        let name = name_of(path)?;
        check_name(&name)?;
        // What to read, in order, and the `files` list of a folder.
        let (sources, files): (Vec<(PathBuf, u64)>, _) = if meta.is_dir() {
            let found = folder::list(path)?;
            let sources = found.iter().map(|f| (f.disk.clone(), f.entry.length));
            (sources.collect(), Some(found.into_iter().map(|f| f.entry)))
        } else if meta.is_file() {
            (vec![(path.to_path_buf(), meta.len())], None)
        } else {
            return Err(invalid(format!(
                "{}: not a regular file or folder",
                path.display()
            )));
        };
        let length = sources.iter().try_fold(0u64, |sum, (_, len)| {
            sum.checked_add(*len)
                .ok_or_else(|| invalid(format!("{}: too many bytes", path.display())))
        })?;
        if length == 0 {
            if files.is_some() {
                return Err(invalid(format!(
                    "{}: the folder holds no file with a byte in it; a torrent needs at least \
                     one byte to share",
                    path.display()
                )));
            }
            return Err(MetainfoError::Empty {
                path: path.to_path_buf(),
            });
        }
        // Leave room for the keys around `pieces`, so that the result is readable again.
        let max_pieces = (MAX_TORRENT_BYTES as u64 - 4096) / 20;
        let count = length.div_ceil(piece_length);
        if count > max_pieces {
            return Err(invalid(format!(
                "{}: {length} bytes in pieces of {piece_length} need {count} piece hashes, \
                 more than a torrent can hold ({max_pieces}); use a larger piece length",
                path.display()
            )));
        }
        let pieces = hash_pieces(&sources, piece_length, length)?;
        let as_int = |n: u64, what: &str| {
            i64::try_from(n).map_err(|_| invalid(format!("{what} {n} does not fit in bencode")))
        };
        let size = match files {
            None => ("length", Value::Int(as_int(length, "length")?)),
            Some(files) => {
                let mut list = Vec::new();
                for file in files {
                    let path = file.path.into_iter().map(Value::from).collect();
                    list.push(Value::dict([
                        ("length", Value::Int(as_int(file.length, "length")?)),
                        ("path", Value::List(path)),
                    ]));
                }
                ("files", Value::List(list))
            }
        };
        let info = Value::dict([
            size,
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
}

/// The torrent's name: the last component of `path` (of its canonical form for `.` or `dir/..`).
fn name_of(path: &Path) -> Result<String, MetainfoError> {
    let canonical;
    let named = if path.file_name().is_some() {
        path
    } else {
        canonical = fs::canonicalize(path).map_err(|source| MetainfoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        &canonical
    };
    named
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            invalid(format!(
                "{}: the file name is missing or not utf-8",
                path.display()
            ))
        })
}

/// The SHA-1 of every piece of the files' bytes laid end to end (`length` in all), reading
/// each file's listed length; a piece may span several files.
fn hash_pieces(
    sources: &[(PathBuf, u64)],
    piece_length: u64,
    length: u64,
) -> Result<Vec<u8>, MetainfoError> {
    let mut buf = vec![0u8; piece_length.min(length) as usize];
    let mut pieces = Vec::with_capacity(length.div_ceil(piece_length) as usize * 20);
    let mut filled = 0usize;
    for (disk, len) in sources {
        let io = |source| MetainfoError::Io {
            path: disk.clone(),
            source,
        };
        let mut reader = File::open(disk).map_err(io)?;
        let mut left = *len;
        while left > 0 {
            let n = left.min((buf.len() - filled) as u64) as usize;
            // A file that shrinks while being hashed ends in an `UnexpectedEof` here.
            reader
                .read_exact(&mut buf[filled..filled + n])
                .map_err(io)?;
            filled += n;
            left -= n as u64;
            if filled == buf.len() {
                pieces.extend_from_slice(&sha1(&buf));
                filled = 0;
            }
        }
    }
    if filled > 0 {
        pieces.extend_from_slice(&sha1(&buf[..filled]));
    }
    Ok(pieces)
}
