//! The BitTorrent peer wire protocol (BEP 3): the 68-byte handshake and the length-prefixed
//! messages that follow it.
//!
//! Pure codec: [`Handshake`] and [`Message`] write themselves to any `Write` and read themselves
//! from any `Read`. No sockets here, no state, no policy (who is choked, which block to ask
//! for): that is `peer/`.
//!
//! Reading a frame is three visible steps: read the 4-byte length, check it against
//! [`MAX_FRAME_LEN`], then read exactly that many bytes of body.

use std::fmt;
use std::io::{self, Read, Write};

use crate::infohash::InfoHash;

/// `"BitTorrent protocol"`, the protocol string after the first handshake byte (its length, 19).
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Handshake size: 1 + 19 + 8 reserved + 20 info-hash + 20 peer id.
pub const HANDSHAKE_LEN: usize = 68;
/// Largest frame accepted: libtorrent drops peers past 1 MiB too. A bitfield of 8 million
/// pieces or a 16 KiB block fit well under it.
pub const MAX_FRAME_LEN: u32 = 1 << 20;
/// The block size every real client uses; requests over it are refused.
pub const BLOCK_LEN: u32 = 16 * 1024;

/// The first 68 bytes each side sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// Extension bits; we implement none and send zeros.
    pub reserved: [u8; 8],
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
}

/// One peer wire message. Variants carry BEP 3's names.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// Length 0: "still here".
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have {
        index: u32,
    },
    Bitfield(Vec<u8>),
    Request {
        index: u32,
        begin: u32,
        length: u32,
    },
    Piece {
        index: u32,
        begin: u32,
        block: Vec<u8>,
    },
    Cancel {
        index: u32,
        begin: u32,
        length: u32,
    },
}

/// Why the bytes on a connection are not BEP 3. Every variant ends the connection.
#[derive(Debug)]
pub enum WireError {
    Io(io::Error),
    /// The first 20 bytes were not `\x13BitTorrent protocol`.
    NotBitTorrent,
    /// A length prefix over [`MAX_FRAME_LEN`].
    FrameTooLong(u32),
    /// An id BEP 3 does not define (we announce no extension, so none is expected).
    UnknownId(u8),
    /// A known id with a body of the wrong size.
    BadLength {
        id: u8,
        len: u32,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "{e}"),
            WireError::NotBitTorrent => f.write_str("not a bittorrent handshake"),
            WireError::FrameTooLong(len) => {
                write!(
                    f,
                    "frame of {len} bytes is over the {MAX_FRAME_LEN}-byte cap"
                )
            }
            WireError::UnknownId(id) => write!(f, "unknown message id {id}"),
            WireError::BadLength { id, len } => {
                write!(f, "message id {id} with a body of {len} bytes")
            }
        }
    }
}

impl std::error::Error for WireError {}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}

impl WireError {
    /// True when the remote simply went away (EOF, reset) rather than misbehaved.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, WireError::Io(e) if matches!(e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe))
    }
}

impl Handshake {
    pub fn new(info_hash: InfoHash, peer_id: [u8; 20]) -> Handshake {
        Handshake {
            reserved: [0; 8],
            info_hash,
            peer_id,
        }
    }

    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut bytes = [0u8; HANDSHAKE_LEN];
        bytes[0] = PROTOCOL.len() as u8;
        bytes[1..20].copy_from_slice(PROTOCOL);
        bytes[20..28].copy_from_slice(&self.reserved);
        bytes[28..48].copy_from_slice(self.info_hash.as_bytes());
        bytes[48..68].copy_from_slice(&self.peer_id);
        out.write_all(&bytes)
    }

    /// Reads the 68 bytes. The protocol string is checked here; the info-hash is the caller's
    /// to check (only it knows which swarms it serves).
    pub fn read_from(input: &mut impl Read) -> Result<Handshake, WireError> {
        let mut bytes = [0u8; HANDSHAKE_LEN];
        input.read_exact(&mut bytes[..20])?;
        if bytes[0] as usize != PROTOCOL.len() || &bytes[1..20] != PROTOCOL {
            return Err(WireError::NotBitTorrent);
        }
        input.read_exact(&mut bytes[20..])?;
        let mut reserved = [0u8; 8];
        reserved.copy_from_slice(&bytes[20..28]);
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&bytes[28..48]);
        let mut peer_id = [0u8; 20];
        peer_id.copy_from_slice(&bytes[48..68]);
        Ok(Handshake {
            reserved,
            info_hash: InfoHash(hash),
            peer_id,
        })
    }
}

impl Message {
    /// The message's id byte (`None` for keep-alive, which has none).
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Choke => 0,
            Message::Unchoke => 1,
            Message::Interested => 2,
            Message::NotInterested => 3,
            Message::Have { .. } => 4,
            Message::Bitfield(_) => 5,
            Message::Request { .. } => 6,
            Message::Piece { .. } => 7,
            Message::Cancel { .. } => 8,
        })
    }

    /// BEP 3's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::KeepAlive => "keep-alive",
            Message::Choke => "choke",
            Message::Unchoke => "unchoke",
            Message::Interested => "interested",
            Message::NotInterested => "not interested",
            Message::Have { .. } => "have",
            Message::Bitfield(_) => "bitfield",
            Message::Request { .. } => "request",
            Message::Piece { .. } => "piece",
            Message::Cancel { .. } => "cancel",
        }
    }

    /// Writes the frame: length, id, payload. A piece's block is written from its own buffer,
    /// not copied into a frame first.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let Some(id) = self.id() else {
            return out.write_all(&0u32.to_be_bytes());
        };
        let mut head = [0u8; 17];
        head[4] = id;
        let (fields, tail): (&[u32], &[u8]) = match self {
            Message::Have { index } => (&[*index], &[]),
            Message::Bitfield(bits) => (&[], bits),
            Message::Request {
                index,
                begin,
                length,
            }
            | Message::Cancel {
                index,
                begin,
                length,
            } => (&[*index, *begin, *length][..], &[]),
            Message::Piece {
                index,
                begin,
                block,
            } => (&[*index, *begin][..], block),
            _ => (&[], &[]),
        };
        let mut at = 5;
        for field in fields {
            head[at..at + 4].copy_from_slice(&field.to_be_bytes());
            at += 4;
        }
        let len = (at - 4 + tail.len()) as u32;
        head[..4].copy_from_slice(&len.to_be_bytes());
        out.write_all(&head[..at])?;
        out.write_all(tail)
    }

    /// Reads one frame.
    pub fn read_from(input: &mut impl Read) -> Result<Message, WireError> {
        // 1. the length prefix
        let mut prefix = [0u8; 4];
        input.read_exact(&mut prefix)?;
        let len = u32::from_be_bytes(prefix);
        if len == 0 {
            return Ok(Message::KeepAlive);
        }
        // 2. checked against the cap before anything is allocated
        if len > MAX_FRAME_LEN {
            return Err(WireError::FrameTooLong(len));
        }
        let mut id = [0u8; 1];
        input.read_exact(&mut id)?;
        let id = id[0];
        let body_len = len - 1;
        let fixed = |expected: u32| -> Result<(), WireError> {
            if body_len == expected {
                Ok(())
            } else {
                Err(WireError::BadLength { id, len: body_len })
            }
        };
        // 3. the body, whose size each id fixes
        let message = match id {
            0..=3 => {
                fixed(0)?;
                [
                    Message::Choke,
                    Message::Unchoke,
                    Message::Interested,
                    Message::NotInterested,
                ][id as usize]
                    .clone()
            }
            4 => {
                fixed(4)?;
                Message::Have {
                    index: read_u32(input)?,
                }
            }
            5 => Message::Bitfield(read_vec(input, body_len)?),
            6 | 8 => {
                fixed(12)?;
                let (index, begin, length) = (read_u32(input)?, read_u32(input)?, read_u32(input)?);
                if id == 6 {
                    Message::Request {
                        index,
                        begin,
                        length,
                    }
                } else {
                    Message::Cancel {
                        index,
                        begin,
                        length,
                    }
                }
            }
            7 => {
                if body_len < 8 {
                    return Err(WireError::BadLength { id, len: body_len });
                }
                let (index, begin) = (read_u32(input)?, read_u32(input)?);
                Message::Piece {
                    index,
                    begin,
                    block: read_vec(input, body_len - 8)?,
                }
            }
            other => return Err(WireError::UnknownId(other)),
        };
        Ok(message)
    }
}

/// One whole frame decoded from a buffer that holds all of it. A `piece` borrows its block from
/// that buffer, so the receive path files a 16 KiB block into its piece without first copying
/// it into a `Vec` of its own; every other frame is decoded by [`Message::read_from`].
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Piece {
        index: u32,
        begin: u32,
        block: &'a [u8],
    },
    Message(Message),
}

/// Bytes of a `piece` frame before its block: length (4), id 7 (1), index (4), begin (4).
pub const PIECE_HEADER_LEN: usize = 13;

impl<'a> Frame<'a> {
    /// Decodes `frame`: exactly one frame, length prefix included, its length already checked
    /// against [`MAX_FRAME_LEN`] by whoever cut it out of the stream.
    pub fn decode(frame: &'a [u8]) -> Result<Frame<'a>, WireError> {
        match frame.get(4) {
            Some(7) if frame.len() >= PIECE_HEADER_LEN => Ok(Frame::Piece {
                index: u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]),
                begin: u32::from_be_bytes([frame[9], frame[10], frame[11], frame[12]]),
                block: &frame[PIECE_HEADER_LEN..],
            }),
            // a piece too short for its header is refused by read_from, like any bad length
            _ => Message::read_from(&mut &frame[..]).map(Frame::Message),
        }
    }

    /// The frame as an owned [`Message`] (copies a piece's block).
    pub fn into_message(self) -> Message {
        match self {
            Frame::Piece {
                index,
                begin,
                block,
            } => Message::Piece {
                index,
                begin,
                block: block.to_vec(),
            },
            Frame::Message(message) => message,
        }
    }
}

/// The 13 bytes of a `piece` frame that come before its block of `block_len` bytes. The
/// upload path sends them and the block, read from the file into a reused buffer, in one
/// vectored write: a piece frame is never assembled, nor a block copied, in our memory.
pub fn piece_header(index: u32, begin: u32, block_len: u32) -> [u8; PIECE_HEADER_LEN] {
    let mut head = [0u8; PIECE_HEADER_LEN];
    head[..4].copy_from_slice(&(9 + block_len).to_be_bytes());
    head[4] = 7;
    head[5..9].copy_from_slice(&index.to_be_bytes());
    head[9..13].copy_from_slice(&begin.to_be_bytes());
    head
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_be_bytes(bytes))
}

/// Reads `len` bytes; `len` was already checked against [`MAX_FRAME_LEN`]. Into a buffer that
/// is not zeroed first (`read_to_end` fills uninitialised capacity): a block is 16 KiB, and
/// zeroing it only to overwrite it was a visible share of a leecher's time.
fn read_vec(input: &mut impl Read, len: u32) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(len as usize);
    input.take(u64::from(len)).read_to_end(&mut bytes)?;
    if bytes.len() < len as usize {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

impl fmt::Debug for Message {
    /// Names and key fields only: a block's bytes never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Have { index } => write!(f, "have piece {index}"),
            Message::Bitfield(bits) => {
                let held: u32 = bits.iter().map(|b| b.count_ones()).sum();
                write!(f, "bitfield ({} bytes, {held} pieces)", bits.len())
            }
            Message::Request {
                index,
                begin,
                length,
            } => {
                write!(f, "request piece {index} begin {begin} length {length}")
            }
            Message::Piece {
                index,
                begin,
                block,
            } => {
                write!(f, "piece {index} begin {begin} ({} bytes)", block.len())
            }
            Message::Cancel {
                index,
                begin,
                length,
            } => {
                write!(f, "cancel piece {index} begin {begin} length {length}")
            }
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests;
