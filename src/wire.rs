//! The BitTorrent peer wire protocol (BEP 3): the 68-byte handshake and the length-prefixed
//! messages that follow it.
//!
//! Pure codec: [`Handshake`] and [`Message`] write themselves to any `Write` and read themselves
//! from any `Read`. No sockets here, so no blocking call of its own (the caller's reader and
//! writer block), no state, no policy (who is choked, which block to ask for): that is
//! `peer/`.
//!
//! This file holds the handshake and the errors; `wire/message.rs` the messages, their ids
//! and the words logs print for them; `wire/frame.rs` the frames decoded in place from a
//! buffer (a `piece` lends its block); `wire/extension.rs` BEP 10's extension handshake;
//! `wire/metadata.rs` BEP 9's `ut_metadata` messages, which carry the info dictionary to a
//! magnet link's peer.

pub mod extension;
mod frame;
mod message;
pub mod metadata;

pub use frame::{Frame, PIECE_HEADER_LEN, piece_header};
pub use message::{Message, MessageId};

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
    /// Extension bits; we set only BEP 10's ([`Handshake::with_extensions`]).
    pub reserved: [u8; 8],
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
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

    /// The same handshake, saying we speak BEP 10's extension protocol.
    pub fn with_extensions(mut self) -> Handshake {
        self.reserved[extension::RESERVED_BYTE] |= extension::RESERVED_BIT;
        self
    }

    /// Whether the sender speaks BEP 10's extension protocol.
    pub fn supports_extensions(&self) -> bool {
        self.reserved[extension::RESERVED_BYTE] & extension::RESERVED_BIT != 0
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

#[cfg(test)]
mod tests;
