//! What a connection thread and the engine say to each other over their crossbeam channels:
//! the engine's commands, the connection's events, and the byte counters they share. Plain
//! data, no I/O.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crossbeam_channel::Sender;

use super::PieceFailure;
use crate::pieces::PieceSet;

/// Names a connection for the engine.
pub type ConnId = u64;

/// What the engine tells a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Fetch this piece from the remote.
    Fetch(u32),
    /// Stop fetching this piece (another connection finished it); cancel its requests.
    Cancel(u32),
    /// We completed this piece: tell the remote with `have`.
    Have(u32),
    /// The choker's decision: stop serving the remote (`choke`; its queued requests are
    /// dropped) or serve it (`unchoke`).
    Choke,
    Unchoke,
    /// Close the connection.
    Close,
}

/// What a connection tells the engine.
#[derive(Debug)]
pub enum Event {
    /// Handshake done: commands for this connection go to `commands`.
    Ready {
        id: ConnId,
        addr: SocketAddr,
        outgoing: bool,
        commands: Sender<Command>,
        counters: Arc<Counters>,
    },
    /// The remote's pieces, from its bitfield.
    Bitfield { id: ConnId, pieces: PieceSet },
    /// The remote completed a piece.
    Have { id: ConnId, index: u32 },
    /// The remote choked (true) or unchoked (false) us.
    Choked { id: ConnId, choked: bool },
    /// The remote became interested (true) or not interested (false) in our pieces.
    Interested { id: ConnId, interested: bool },
    /// A `Choke` command was carried out: the remote is choked (its `choke` written).
    ChokeSent { id: ConnId },
    /// The remote's extension handshake (BEP 10) named its listening port.
    ListenPort { id: ConnId, port: u16 },
    /// A fetched piece was verified and written (`Ok(bytes received)`), or thrown away.
    Piece {
        id: ConnId,
        index: u32,
        result: Result<u64, PieceFailure>,
    },
    /// The connection ended; the pieces it was fetching are free again.
    Closed {
        id: ConnId,
        addr: SocketAddr,
        reason: String,
    },
}

/// Bytes of blocks moved over one connection, counted by its thread and read by the engine's
/// choker at each rechoke.
#[derive(Debug, Default)]
pub struct Counters {
    /// Block bytes received from the remote.
    pub received: AtomicU64,
    /// Block bytes sent to the remote.
    pub sent: AtomicU64,
}
