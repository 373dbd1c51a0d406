//! BEP 9's `ut_metadata` messages, which carry a torrent's info dictionary (its "metadata")
//! from peer to peer in 16 KiB pieces, so that a magnet link (an info-hash) is enough to join a
//! swarm. Each is the payload of a BEP 10 extended message: a bencoded dictionary
//! `{msg_type, piece[, total_size]}`, followed, in a `data` message only, by the piece's raw
//! bytes.
//!
//! Pure codec and arithmetic: payload bytes in, payload bytes out, and where piece N lies in
//! metadata of a given size. No sockets, no state: who asks whom is `peer/magnet.rs`, and who
//! is answered `connection/receive.rs`.

use std::fmt;
use std::io::{self, Write};
use std::ops::Range;

use crate::bencode::{self, BencodeError, Value};

/// The extension's name in BEP 10's `m` dictionary.
pub const NAME: &str = "ut_metadata";
/// The extended id we ask remotes to send `ut_metadata` messages to us with (our `m` says
/// `ut_metadata: 3`). Any id from 1 to 255 would do; each side picks its own.
pub const LOCAL_ID: u8 = 3;
/// Metadata travels in pieces of 16 KiB, the last one shorter.
pub const PIECE_LEN: usize = 16 * 1024;
/// Largest metadata accepted or announced: a `.torrent` is capped at 8 MiB
/// ([`MAX_TORRENT_BYTES`](crate::metainfo::MAX_TORRENT_BYTES)), its info dictionary no more.
/// A remote announcing more is not asked.
pub const MAX_METADATA_SIZE: usize = 8 << 20;

/// `msg_type` 0, 1 and 2.
#[derive(Clone, PartialEq, Eq)]
pub enum MetadataMessage {
    /// "Send me piece N."
    Request { piece: u32 },
    /// Piece N, and the size of the whole metadata.
    Data {
        piece: u32,
        total_size: u32,
        data: Vec<u8>,
    },
    /// "I will not send piece N" (we have no metadata, or N is out of range).
    Reject { piece: u32 },
}

/// Why a payload is not a `ut_metadata` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataError {
    /// The payload does not start with a bencoded value.
    Bencode(BencodeError),
    /// It starts with something other than a dictionary.
    NotDict,
    /// `msg_type` or `piece` is missing or not an integer (`total_size` in `data`).
    Missing(&'static str),
    /// A `msg_type` other than 0, 1, 2.
    UnknownType(i64),
    /// A piece index no metadata of [`MAX_METADATA_SIZE`] has.
    BadPiece(i64),
    /// A `total_size` of 0 or over [`MAX_METADATA_SIZE`].
    BadSize(i64),
    /// A `data` piece over [`PIECE_LEN`], or bytes after a `request` or `reject`.
    BadLength(usize),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::Bencode(e) => write!(f, "ut_metadata message is not bencode: {e}"),
            MetadataError::NotDict => f.write_str("ut_metadata message is not a dictionary"),
            MetadataError::Missing(key) => {
                write!(f, "ut_metadata message has no integer `{key}`")
            }
            MetadataError::UnknownType(t) => write!(f, "ut_metadata msg_type {t} is unknown"),
            MetadataError::BadPiece(p) => write!(f, "ut_metadata piece {p} is out of range"),
            MetadataError::BadSize(n) => write!(
                f,
                "metadata size {n} is not between 1 and {MAX_METADATA_SIZE} bytes"
            ),
            MetadataError::BadLength(n) => {
                write!(f, "ut_metadata message with {n} bytes of data")
            }
        }
    }
}

impl std::error::Error for MetadataError {}

impl MetadataMessage {
    pub fn piece(&self) -> u32 {
        match self {
            MetadataMessage::Request { piece }
            | MetadataMessage::Data { piece, .. }
            | MetadataMessage::Reject { piece } => *piece,
        }
    }

    /// Writes the payload (what follows the extended id): the dictionary, then a `data`
    /// message's bytes from their own buffer.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let (kind, extra, data): (i64, Option<u32>, &[u8]) = match self {
            MetadataMessage::Request { .. } => (0, None, &[]),
            MetadataMessage::Data {
                total_size, data, ..
            } => (1, Some(*total_size), data),
            MetadataMessage::Reject { .. } => (2, None, &[]),
        };
        let mut entries = vec![
            ("msg_type", Value::Int(kind)),
            ("piece", Value::Int(i64::from(self.piece()))),
        ];
        if let Some(total) = extra {
            entries.push(("total_size", Value::Int(i64::from(total))));
        }
        out.write_all(&bencode::encode(&Value::dict(entries)))?;
        out.write_all(data)
    }

    /// The payload as bytes, for [`Message::Extended`](super::Message::Extended).
    pub fn to_payload(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        let _ = self.write_to(&mut payload); // writing to a Vec cannot fail
        payload
    }

    /// Decodes an extended message's payload (already read whole by
    /// [`Message::read_from`](super::Message::read_from), within its frame cap). Checks the
    /// fields against the caps; whether a piece fits *this* metadata is the caller's to check
    /// ([`piece_range`]).
    pub fn decode(payload: &[u8]) -> Result<MetadataMessage, MetadataError> {
        let dict = bencode::decode_prefix(payload).map_err(MetadataError::Bencode)?;
        if dict.as_dict().is_none() {
            return Err(MetadataError::NotDict);
        }
        let rest = &payload[dict.raw.len()..];
        let int = |key: &'static str| {
            dict.get(key.as_bytes())
                .and_then(|n| n.as_int())
                .ok_or(MetadataError::Missing(key))
        };
        let kind = int("msg_type")?;
        let piece = int("piece")?;
        let max_pieces = num_pieces(MAX_METADATA_SIZE);
        let piece = u32::try_from(piece)
            .ok()
            .filter(|&p| p < max_pieces)
            .ok_or(MetadataError::BadPiece(piece))?;
        if kind != 1 && !rest.is_empty() {
            return Err(MetadataError::BadLength(rest.len()));
        }
        match kind {
            0 => Ok(MetadataMessage::Request { piece }),
            1 => {
                let total = int("total_size")?;
                let total_size = check_size(total)?;
                if rest.len() > PIECE_LEN {
                    return Err(MetadataError::BadLength(rest.len()));
                }
                Ok(MetadataMessage::Data {
                    piece,
                    total_size,
                    data: rest.to_vec(),
                })
            }
            2 => Ok(MetadataMessage::Reject { piece }),
            other => Err(MetadataError::UnknownType(other)),
        }
    }
}

/// A metadata size as a remote states it (`metadata_size`, `total_size`), checked to be in
/// `1..=`[`MAX_METADATA_SIZE`].
pub fn check_size(size: i64) -> Result<u32, MetadataError> {
    u32::try_from(size)
        .ok()
        .filter(|&n| n > 0 && n as usize <= MAX_METADATA_SIZE)
        .ok_or(MetadataError::BadSize(size))
}

/// How many 16 KiB pieces metadata of `size` bytes has.
pub fn num_pieces(size: usize) -> u32 {
    size.div_ceil(PIECE_LEN) as u32
}

/// The bytes of piece `piece` within metadata of `size` bytes; `None` past the end.
pub fn piece_range(size: usize, piece: u32) -> Option<Range<usize>> {
    let start = (piece as usize).checked_mul(PIECE_LEN)?;
    (start < size).then(|| start..size.min(start + PIECE_LEN))
}

/// For logs: the type and piece, never the bytes.
impl fmt::Debug for MetadataMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataMessage::Request { piece } => write!(f, "metadata request piece {piece}"),
            MetadataMessage::Data {
                piece,
                total_size,
                data,
            } => write!(
                f,
                "metadata data piece {piece} ({} bytes of {total_size})",
                data.len()
            ),
            MetadataMessage::Reject { piece } => write!(f, "metadata reject piece {piece}"),
        }
    }
}

impl fmt::Display for MetadataMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests;
