//! Parsing a `.torrent`'s bytes into a [`Metainfo`]: the checks shared by every way in
//! ([`Metainfo::from_bytes`], [`Metainfo::from_file`], and [`Metainfo::build`] reading its own
//! output), and the rule for a safe torrent name.
//!
//! The bytes go through [`bencode::decode_lenient`]: out-of-order or same-value repeated keys
//! are read with a warning, and the info-hash is the SHA-1 of the `info` span as found.
//!
//! A torrent has either `length` (one file named `name`) or `files` (a folder named `name`,
//! read by [`super::files`]), never both.
//!
//! What it does not do: any I/O (the caller has the bytes in memory, at most
//! [`super::MAX_TORRENT_BYTES`]), or meaning for keys it does not know (ignored, but hashed
//! with `info`).

use super::error::invalid;
use super::files::{check_component, parse_files};
use super::{MAX_PIECE_LENGTH, Metainfo, MetainfoError};
use crate::bencode::{self, Node};
use crate::infohash::{InfoHash, sha1};

impl Metainfo {
    /// The checks shared by every way in; `raw` is at most [`MAX_TORRENT_BYTES`].
    pub(super) fn parse(raw: Vec<u8>) -> Result<Metainfo, MetainfoError> {
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
        check_name(&name)?;
        let piece_length = number(
            field(info, "piece length")?,
            "piece length",
            MAX_PIECE_LENGTH,
        )?;
        let (length, files) = match (info.get(b"length"), info.get(b"files")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "`info` has both `length` and `files`: is it one file or a folder?",
                ));
            }
            (None, Some(files)) => {
                let (files, total) = parse_files(files)?;
                (total, Some(files))
            }
            (length, None) => {
                let length = length.ok_or_else(|| invalid("`info` has no `length`"))?;
                (number(length, "length", i64::MAX as u64)?, None)
            }
        };
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
            files,
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

/// The torrent's name becomes a file or folder name on disk (it must not climb out of the
/// directory), and is shown to others: in tracker replies and terminals (no control characters,
/// which could break a protocol line or drive a terminal; not longer than [`MAX_NAME_LEN`]).
pub(super) fn check_name(name: &str) -> Result<(), MetainfoError> {
    let Err(why) = check_component(name) else {
        return Ok(());
    };
    Err(invalid(format!(
        "unsafe file name \"{}\": {why}; the name must be a plain file name",
        name.escape_debug()
    )))
}
