//! Why a connection ended ([`ConnError`]) and why a fetched piece was not kept
//! ([`PieceFailure`]): the error types of `connection.rs`, with the wording of the one `warn!`
//! that closes a connection. No I/O here.

use std::fmt;
use std::time::Duration;

use super::IDLE_TIMEOUT;
use crate::admission::Refused;
use crate::mse::MseError;
use crate::wire::WireError;

/// Why a fetched piece was not kept.
#[derive(Debug)]
pub enum PieceFailure {
    /// The assembled piece failed its SHA-1.
    HashMismatch,
    /// It verified but could not be written.
    Storage(std::io::Error),
}

impl fmt::Display for PieceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PieceFailure::HashMismatch => f.write_str("piece failed its sha-1 check"),
            PieceFailure::Storage(e) => write!(f, "cannot write the piece: {e}"),
        }
    }
}

/// Why a connection ended.
#[derive(Debug)]
pub enum ConnError {
    Wire(WireError),
    /// The MSE handshake failed, or `--encryption` refused the remote's kind of handshake.
    Mse(MseError),
    WrongSwarm,
    /// The handshake carried our own peer id: we connected to ourselves.
    Myself,
    BadBitfield,
    BadRequest {
        index: u32,
        begin: u32,
        length: u32,
    },
    UnrequestedBlock {
        index: u32,
        begin: u32,
        len: usize,
    },
    QueueFull,
    Stalled(Duration),
    Idle,
    /// An incoming connection that may not stay (`admission.rs`).
    Refused(Refused),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Wire(e) => write!(f, "{e}"),
            ConnError::Mse(e) => write!(f, "{e}"),
            ConnError::WrongSwarm => f.write_str("handshake names another swarm"),
            ConnError::Myself => f.write_str("connected to ourselves"),
            ConnError::BadBitfield => f.write_str("bitfield of the wrong size"),
            ConnError::BadRequest {
                index,
                begin,
                length,
            } => {
                write!(
                    f,
                    "bad request: piece {index} begin {begin} length {length}"
                )
            }
            ConnError::UnrequestedBlock { index, begin, len } => {
                write!(
                    f,
                    "block we did not request: piece {index} begin {begin} ({len} bytes)"
                )
            }
            ConnError::QueueFull => f.write_str("too many requests queued"),
            ConnError::Stalled(after) => write!(f, "no block for {after:?} while fetching"),
            ConnError::Refused(why) => write!(f, "refused: {why}"),
            ConnError::Idle => write!(f, "silent for {IDLE_TIMEOUT:?}"),
        }
    }
}

impl From<WireError> for ConnError {
    fn from(e: WireError) -> Self {
        ConnError::Wire(e)
    }
}

impl From<MseError> for ConnError {
    fn from(e: MseError) -> Self {
        ConnError::Mse(e)
    }
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        ConnError::Wire(WireError::Io(e))
    }
}

impl ConnError {
    /// The remote went away rather than misbehaved.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, ConnError::Wire(e) if e.is_disconnect())
    }

    /// The handshake failed in a way another kind of handshake may not (the remote closed,
    /// was silent, or spoke garbage): worth a retry with the next `--encryption` attempt.
    pub fn is_handshake_failure(&self) -> bool {
        matches!(
            self,
            ConnError::Wire(_) | ConnError::Mse(MseError::Io(_) | MseError::NoSync { .. })
        )
    }
}
