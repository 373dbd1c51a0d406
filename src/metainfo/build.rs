//! [`Metainfo::build`]: makes the metainfo of a local file by hashing it piece by piece, one
//! piece in memory at a time, and encoding a canonical single-file torrent.
//!
//! Blocking calls, in order: 1. open the file and read its metadata; 2. read it piece by piece
//! (`read_exact`), hashing each piece. Nothing is written: saving the result is
//! [`Metainfo::write_to_file`]'s job.
//!
//! What it does not do: multi-file torrents, announce lists, or any network I/O. The result is
//! parsed back by the same code as any `.torrent` ([`super::parse`]), so the info-hash always
//! comes from the `info` span.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::invalid;
use super::parse::check_name;
use super::{MAX_PIECE_LENGTH, MAX_TORRENT_BYTES, Metainfo, MetainfoError};
use crate::bencode::{self, Value};
use crate::infohash::sha1;

impl Metainfo {
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
}
