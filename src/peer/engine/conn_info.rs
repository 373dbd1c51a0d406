//! What the engine knows of one connection: its address (and the remote's listening address
//! once known), its command channel, the remote's pieces, what it is fetching, and the
//! choking state both ways. Plain data; the engine owns one per connection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::peer::connection::{Command, Counters};
use crate::pieces::PieceSet;

/// What the engine knows of one connection.
pub(super) struct ConnInfo {
    pub(super) addr: SocketAddr,
    pub(super) commands: Sender<Command>,
    pub(super) outgoing: bool,
    pub(super) ready: bool,
    /// The remote's pieces, once its bitfield or a have arrived.
    pub(super) pieces: Option<PieceSet>,
    /// Pieces this connection is fetching.
    pub(super) fetching: HashSet<u32>,
    /// Block bytes each way, counted by the connection's thread (for the choker).
    pub(super) counters: Arc<Counters>,
    /// The remote is interested in our pieces.
    pub(super) interested: bool,
    /// The remote chokes us (every connection starts so, BEP 3).
    pub(super) choking_us: bool,
    /// When the remote last sent `choke`; `None` while it never did. The picker skips a
    /// holder that did.
    pub(super) choked_since: Option<Instant>,
    /// When the handshake completed: how long a remote that never unchoked us has kept us
    /// waiting (once it sends `choke`, `choked_since` counts instead).
    pub(super) ready_at: Instant,
    /// The remote's listening address, where known (an outgoing connection's address).
    pub(super) listen: Option<SocketAddr>,
    /// When the connection was opened (the back-off counts an early close as a failure).
    pub(super) opened: Instant,
    /// It brought data (a bitfield, a have, a piece): the back-off forgets its address.
    pub(super) useful: bool,
}

impl ConnInfo {
    pub(super) fn new(addr: SocketAddr, commands: Sender<Command>, outgoing: bool) -> ConnInfo {
        ConnInfo {
            addr,
            commands,
            outgoing,
            ready: false,
            pieces: None,
            fetching: HashSet::new(),
            counters: Arc::default(),
            interested: false,
            choking_us: true,
            choked_since: None,
            ready_at: Instant::now(),
            listen: outgoing.then_some(addr),
            opened: Instant::now(),
            useful: false,
        }
    }

    /// The remote's listening address when known, else the connection's (for logs).
    pub(super) fn name(&self) -> SocketAddr {
        self.listen.unwrap_or(self.addr)
    }

    /// Whether the remote said `choke` and has not unchoked us since.
    pub(super) fn refuses_us(&self) -> bool {
        self.choking_us && self.choked_since.is_some()
    }
}
