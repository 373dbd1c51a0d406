//! The download engine, owned by the peer's main thread: which connections are open, what the
//! remote peers hold, which pieces are being fetched and from whom, and who is banned.
//!
//! It never touches a socket, the tracker's included. The task loop (`task_loop.rs`) talks to
//! the tracker and hands the engine the list ([`Engine::set_listed`]); the engine decides (a
//! round, `engine/round.rs`: rarest missing pieces, each from its least loaded holder,
//! `picker.rs`), sends commands to connection threads over crossbeam channels, and reacts to
//! their events (a bitfield, a piece verified, a connection closed) in [`Engine::handle`].
//!
//! Beside it: `engine/slots.rs` (how many pieces are in flight), `engine/backoff.rs` (resting
//! peers whose connections fail), `engine/dial.rs` (a complete peer dials those that lack
//! pieces) and `engine/disk.rs` (a full disk pauses downloads).

mod backoff;
mod dial;
mod disk;
mod round;
mod slots;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, unbounded};
use log::{info, warn};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::PeerState;
use super::announcer::Candidate;
use super::connection::{Command, ConnId, Event, PieceFailure};
use super::picker::Avoid;
pub(super) use crate::defaults::{CONNECT_TIMEOUTS, EARLY_CLOSE};
use crate::pieces::PieceSet;
use backoff::Backoff;

/// A holder whose data fails its hash this many times is never used again.
pub const STRIKES_TO_BAN: u32 = 2;

/// What the engine knows of one connection.
struct ConnInfo {
    addr: SocketAddr,
    commands: Sender<Command>,
    outgoing: bool,
    ready: bool,
    /// The remote's pieces, once its bitfield or a have arrived.
    pieces: Option<PieceSet>,
    /// Pieces this connection is fetching.
    fetching: HashSet<u32>,
    /// When the connection was opened (the back-off counts an early close as a failure).
    opened: Instant,
    /// It brought data (a bitfield, a have, a piece): the back-off forgets its address.
    useful: bool,
}

/// What one connection event changed, for the task loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Nothing a round could use now.
    Nothing,
    /// A download slot was freed or a holder learned: a round may fetch more (in continuous
    /// mode the task loop starts one at once).
    MayFetch,
    /// The last missing piece was verified: the tracker must hear of it.
    Completed,
}

/// The engine's settings.
pub struct Settings {
    pub parallel: usize,
    /// Pieces fetched at once from one holder (`--per-peer`; `usize::MAX`: no limit).
    pub per_peer: usize,
    pub min_peers: usize,
    pub max_peers: usize,
    /// `--connect-to-all`: connect to every listed peer, not only to holders of wanted pieces.
    pub connect_to_all: bool,
    /// Continuous mode: a download slot holds as many pieces as fill one pipeline
    /// (`engine/slots.rs`).
    pub fill_pipelines: bool,
}

pub struct Engine {
    shared: Arc<PeerState>,
    settings: Settings,
    conns: HashMap<ConnId, ConnInfo>,
    /// The tracker's latest list.
    listed: Vec<Candidate>,
    /// Piece -> connections fetching it (two during endgame).
    in_flight: HashMap<u32, Vec<ConnId>>,
    avoid: Avoid,
    strikes: HashMap<SocketAddr, u32>,
    /// Peers not to connect to yet, their connections having failed (`engine/backoff.rs`).
    backoff: Backoff,
    /// Downloads paused by a full disk (`engine/disk.rs`).
    disk: disk::DiskPause,
    events_tx: Sender<Event>,
    pub events: Receiver<Event>,
    rng: StdRng,
}

impl Engine {
    pub fn new(shared: Arc<PeerState>, settings: Settings, listed: Vec<Candidate>) -> Engine {
        let (events_tx, events) = unbounded();
        Engine {
            shared,
            settings,
            conns: HashMap::new(),
            listed,
            in_flight: HashMap::new(),
            avoid: Avoid::default(),
            strikes: HashMap::new(),
            backoff: Backoff::default(),
            disk: disk::DiskPause::default(),
            events_tx,
            events,
            rng: StdRng::from_rng(&mut rand::rng()),
        }
    }

    /// Where connection threads send their events (the listener needs it too).
    pub fn event_sender(&self) -> Sender<Event> {
        self.events_tx.clone()
    }

    pub fn is_complete(&self) -> bool {
        self.shared.have_snapshot().is_complete()
    }

    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// The tracker's latest list, for the rounds to come. (A failed `LIST` hands nothing: the
    /// peers of the last list still hold their pieces.)
    pub fn set_listed(&mut self, listed: Vec<Candidate>) {
        self.listed = listed;
    }

    /// Reacts to one connection event, and says what it changed for the task loop.
    pub fn handle(&mut self, event: Event) -> Handled {
        match event {
            Event::Ready {
                id,
                addr,
                outgoing,
                commands,
            } => {
                let conn = self.conns.entry(id).or_insert_with(|| ConnInfo {
                    addr,
                    commands,
                    outgoing,
                    ready: false,
                    pieces: None,
                    fetching: HashSet::new(),
                    opened: Instant::now(),
                    useful: false,
                });
                conn.ready = true;
                Handled::Nothing
            }
            Event::Bitfield { id, pieces } => {
                let seed_to_seed = pieces.is_complete() && self.is_complete();
                self.brought_data(id);
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.pieces = Some(pieces);
                    if seed_to_seed {
                        let _ = conn.commands.send(Command::Close); // nothing to exchange
                    }
                }
                Handled::MayFetch
            }
            Event::Have { id, index } => {
                let count = self.shared.metainfo.num_pieces();
                self.brought_data(id);
                let max_in_flight = self.max_in_flight();
                let max_per_holder = self.max_per_holder();
                let Some(conn) = self.conns.get_mut(&id) else {
                    return Handled::Nothing;
                };
                conn.pieces
                    .get_or_insert_with(|| PieceSet::empty(count))
                    .insert(index);
                // A new round only when this piece could be fetched from it right now: haves
                // are the most frequent event, and a round costs a pass over every piece.
                let fetchable_now = conn.fetching.len() < max_per_holder
                    && self.in_flight.len() < max_in_flight
                    && !self.in_flight.contains_key(&index)
                    && !self.shared.has(index);
                if fetchable_now {
                    Handled::MayFetch
                } else {
                    Handled::Nothing
                }
            }
            Event::Choked { .. } => Handled::Nothing,
            Event::Piece { id, index, result } => {
                if result.is_ok() {
                    self.brought_data(id);
                }
                if self.piece_done(id, index, result) {
                    Handled::Completed
                } else if self.top_up_due(id) {
                    Handled::MayFetch
                } else {
                    Handled::Nothing
                }
            }
            Event::Closed { id, addr, reason } => {
                if let Some(conn) = self.conns.remove(&id) {
                    info!("{addr}: connection closed ({reason})");
                    let early =
                        !conn.ready || (!conn.useful && conn.opened.elapsed() < EARLY_CLOSE);
                    if conn.outgoing && early {
                        self.backoff.failed(addr, &reason, Instant::now());
                    }
                    // Its pieces are free again, to be fetched from another holder first.
                    for index in conn.fetching {
                        self.release(index, id);
                        self.avoid.failed.entry(index).or_default().insert(addr);
                    }
                }
                Handled::MayFetch
            }
        }
    }

    /// Connection `id` brought data: if we opened it, its address's failures are forgotten.
    fn brought_data(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.get_mut(&id)
            && !conn.useful
        {
            conn.useful = true;
            if conn.outgoing {
                self.backoff.succeeded(conn.addr);
            }
        }
    }

    fn release(&mut self, index: u32, id: ConnId) {
        if let Some(ids) = self.in_flight.get_mut(&index) {
            ids.retain(|&other| other != id);
            if ids.is_empty() {
                self.in_flight.remove(&index);
            }
        }
    }

    /// A fetch ended. Returns true when its piece was the last one missing.
    fn piece_done(&mut self, id: ConnId, index: u32, result: Result<u64, PieceFailure>) -> bool {
        let Some(from) = self.conns.get_mut(&id).map(|c| {
            c.fetching.remove(&index);
            c.addr
        }) else {
            return false;
        };
        self.release(index, id);
        match result {
            Ok(bytes) => {
                if self.shared.has(index) {
                    return false; // the slower copy of an endgame piece
                }
                self.shared.downloaded.fetch_add(bytes, Ordering::Relaxed);
                self.disk_written();
                let have = self.shared.add_piece(index);
                info!(
                    "piece {index} verified from {from}: {}/{} pieces ({}%) [{}]",
                    have.count(),
                    have.len(),
                    have.percent(),
                    have.map(64)
                );
                self.avoid.failed.remove(&index);
                for other in self.in_flight.remove(&index).unwrap_or_default() {
                    if let Some(conn) = self.conns.get_mut(&other) {
                        conn.fetching.remove(&index);
                        let _ = conn.commands.send(Command::Cancel(index));
                    }
                }
                for conn in self.conns.values().filter(|c| c.ready) {
                    let _ = conn.commands.send(Command::Have(index));
                }
                if have.is_complete() {
                    info!(
                        "download complete: {} verified",
                        self.shared.storage.path().display()
                    );
                    for conn in self
                        .conns
                        .values()
                        .filter(|c| c.pieces.as_ref().is_some_and(PieceSet::is_complete))
                    {
                        let _ = conn.commands.send(Command::Close);
                    }
                }
                have.is_complete()
            }
            Err(PieceFailure::Storage(e)) => {
                self.storage_failed(from, index, &e);
                false
            }
            Err(failure) => {
                warn!("{from}: piece {index} not fetched: {failure}");
                self.avoid.failed.entry(index).or_default().insert(from);
                if matches!(failure, PieceFailure::HashMismatch) {
                    let strikes = self.strikes.entry(from).or_default();
                    *strikes += 1;
                    if *strikes >= STRIKES_TO_BAN && self.avoid.banned.insert(from) {
                        warn!("{from}: banned after {strikes} pieces that failed their hash");
                        if let Some(conn) = self.conns.get(&id) {
                            let _ = conn.commands.send(Command::Close);
                        }
                    }
                }
                false
            }
        }
    }
}
