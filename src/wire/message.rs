//! BEP 3's messages after the handshake: their ids ([`MessageId`]), their frames (length,
//! id, payload) written to any `Write` and read from any `Read`, and the words logs print
//! for them (the `Display` impl: `interested`, `have piece 15`, never a block's bytes).
//!
//! Pure codec: no sockets, no state. Reading a frame is three visible steps
//! ([`Message::read_from`]): read the 4-byte length, check it against [`MAX_FRAME_LEN`], then
//! read exactly that many bytes of body.

use std::fmt;
use std::io::{self, Read, Write};

use super::{MAX_FRAME_LEN, WireError};

/// BEP 3's message ids, the byte after a frame's length prefix. Keep-alive has none.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageId {
    Choke = 0,
    Unchoke = 1,
    Interested = 2,
    NotInterested = 3,
    Have = 4,
    Bitfield = 5,
    Request = 6,
    Piece = 7,
    Cancel = 8,
    /// BEP 10: an extended message, its own id in the first payload byte.
    Extended = 20,
}

impl MessageId {
    /// The id a byte names, if BEP 3 defines one.
    pub fn from_byte(byte: u8) -> Option<MessageId> {
        use MessageId::*;
        [
            Choke,
            Unchoke,
            Interested,
            NotInterested,
            Have,
            Bitfield,
            Request,
            Piece,
            Cancel,
            Extended,
        ]
        .into_iter()
        .find(|id| *id as u8 == byte)
    }
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
    /// BEP 10: `id` 0 is the extension handshake, a bencoded dictionary.
    Extended {
        id: u8,
        payload: Vec<u8>,
    },
}

impl Message {
    /// The message's id (`None` for keep-alive, which has none).
    pub fn id(&self) -> Option<MessageId> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Choke => MessageId::Choke,
            Message::Unchoke => MessageId::Unchoke,
            Message::Interested => MessageId::Interested,
            Message::NotInterested => MessageId::NotInterested,
            Message::Have { .. } => MessageId::Have,
            Message::Bitfield(_) => MessageId::Bitfield,
            Message::Request { .. } => MessageId::Request,
            Message::Piece { .. } => MessageId::Piece,
            Message::Cancel { .. } => MessageId::Cancel,
            Message::Extended { .. } => MessageId::Extended,
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
            Message::Extended { .. } => "extended",
        }
    }

    /// Writes the frame: length, id, payload. A piece's block is written from its own buffer,
    /// not copied into a frame first.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let Some(id) = self.id() else {
            return out.write_all(&0u32.to_be_bytes());
        };
        if let Message::Extended { id: ext, payload } = self {
            let len = 2 + payload.len() as u32;
            out.write_all(&len.to_be_bytes())?;
            out.write_all(&[id as u8, *ext])?;
            return out.write_all(payload);
        }
        let mut head = [0u8; 17];
        head[4] = id as u8;
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
        let Some(known) = MessageId::from_byte(id) else {
            return Err(WireError::UnknownId(id));
        };
        let body_len = len - 1;
        let fixed = |expected: u32| -> Result<(), WireError> {
            if body_len == expected {
                Ok(())
            } else {
                Err(WireError::BadLength { id, len: body_len })
            }
        };
        // 3. the body, whose size each id fixes
        let message = match known {
            MessageId::Choke => fixed(0).map(|()| Message::Choke)?,
            MessageId::Unchoke => fixed(0).map(|()| Message::Unchoke)?,
            MessageId::Interested => fixed(0).map(|()| Message::Interested)?,
            MessageId::NotInterested => fixed(0).map(|()| Message::NotInterested)?,
            MessageId::Have => {
                fixed(4)?;
                Message::Have {
                    index: read_u32(input)?,
                }
            }
            MessageId::Bitfield => Message::Bitfield(read_vec(input, body_len)?),
            MessageId::Request | MessageId::Cancel => {
                fixed(12)?;
                let (index, begin, length) = (read_u32(input)?, read_u32(input)?, read_u32(input)?);
                if known == MessageId::Request {
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
            MessageId::Piece => {
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
            MessageId::Extended => {
                if body_len < 1 {
                    return Err(WireError::BadLength { id, len: body_len });
                }
                let mut ext = [0u8; 1];
                input.read_exact(&mut ext)?;
                Message::Extended {
                    id: ext[0],
                    payload: read_vec(input, body_len - 1)?,
                }
            }
        };
        Ok(message)
    }
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

/// The words of the log lines (`send interested`, `received have piece 15`): names and key
/// fields only, so a block's bytes never reach a log.
impl fmt::Display for Message {
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
            Message::Extended { id: 0, payload } => {
                write!(f, "extension handshake ({} bytes)", payload.len())
            }
            Message::Extended { id, payload } => {
                write!(f, "extended message {id} ({} bytes)", payload.len())
            }
            other => f.write_str(other.name()),
        }
    }
}

/// The same words as `Display`, so a failed assertion does not print 16 KiB of block.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
