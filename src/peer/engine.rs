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
mod choking;
mod dial;
mod disk;
mod round;
mod slots;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use log::{info, warn};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::PeerState;
use super::announcer::Candidate;
use super::choker::{self, Choker};
use super::connection::{Command, ConnId, Event, PieceFailure};
use super::picker::Avoid;
pub(super) use crate::defaults::{CONNECT_TIMEOUTS, EARLY_CLOSE};
use crate::pieces::PieceSet;
use backoff::Backoff;

/// A holder whose data fails its hash this many times is never used again.
pub const STRIKES_TO_BAN: u32 = 2;

mod conn_info;
use conn_info::ConnInfo;

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
    /// We choked or unchoked someone: the tracker may hear of the new set.
    UnchokeSetChanged,
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
    /// Continuous mode: a download slot holds a pipeline's worth of bytes
    /// (`engine/slots.rs`).
    pub fill_pipelines: bool,
    /// `--picker`: rarest first or random.
    pub picker: super::picker::Strategy,
    /// `--choking`, `--unchoke-slots`, `--optimistic-interval`, `--free-ride`.
    pub choker: choker::Settings,
    /// `--rechoke-interval`; also how long a fetch waits on a remote that chokes us.
    pub rechoke_interval: Duration,
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
    choker: Choker<ConnId>,
    /// Connections told to choke whose thread has not yet done it; unchokes wait for them,
    /// so that on the wire too no more than slots + 1 remotes are unchoked at once.
    choking: HashSet<ConnId>,
    /// Unchokes waiting for those chokes.
    pending_unchokes: Vec<ConnId>,
    rng: StdRng,
}

impl Engine {
    pub fn new(shared: Arc<PeerState>, settings: Settings, listed: Vec<Candidate>) -> Engine {
        let (events_tx, events) = unbounded();
        let choker = Choker::new(settings.choker);
        Engine {
            shared,
            settings,
            choker,
            choking: HashSet::new(),
            pending_unchokes: Vec::new(),
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
                counters,
            } => {
                let conn = self
                    .conns
                    .entry(id)
                    .or_insert_with(|| ConnInfo::new(addr, commands, outgoing));
                conn.ready = true;
                conn.ready_at = Instant::now();
                conn.counters = counters;
                self.choker.connected(id, addr, Instant::now());
                self.drop_duplicate(id);
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
            Event::Choked { id, choked } => self.on_choked(id, choked),
            Event::Interested { id, interested } => self.on_interest(id, interested),
            Event::ChokeSent { id } => {
                self.choke_done(id);
                Handled::Nothing
            }
            Event::ListenPort { id, port } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.listen = Some(SocketAddr::new(conn.addr.ip(), port));
                }
                self.drop_duplicate(id);
                Handled::Nothing
            }
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
                    self.choker.disconnected(id);
                    self.choke_done(id);
                    // An early end we did not ask for (`closed`: we closed it) is a failure.
                    let early =
                        !conn.ready || (!conn.useful && conn.opened.elapsed() < EARLY_CLOSE);
                    if conn.outgoing && early && reason != "closed" {
                        self.backoff.failed(addr, &reason, Instant::now());
                    }
                    // Its pieces are free again, to be fetched from another holder first.
                    let name = conn.name();
                    for index in conn.fetching {
                        self.release(index, id);
                        self.avoid.failed.entry(index).or_default().insert(name);
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

    /// Two peers that dialled each other at once hold two connections; both sides keep the
    /// one opened by the peer with the lower listening port (so they agree without a word)
    /// and close the other.
    fn drop_duplicate(&mut self, id: ConnId) {
        let Some(listen) = self.conns.get(&id).and_then(|c| c.listen) else {
            return;
        };
        let Some((&other, _)) = self
            .conns
            .iter()
            .find(|(o, c)| **o != id && c.ready && c.listen == Some(listen))
        else {
            return;
        };
        if listen.port() == self.shared.port {
            return; // the same port on two hosts: no order to agree on, keep both
        }
        let we_are_lower = self.shared.port < listen.port();
        // Keep ours (outgoing) when we are lower, theirs (incoming) otherwise.
        let drop = [id, other]
            .into_iter()
            .find(|c| self.conns[c].outgoing != we_are_lower);
        if let Some(drop) = drop
            && let Some(conn) = self.conns.get(&drop)
        {
            info!("{listen}: a second connection to the same peer; closing one");
            let _ = conn.commands.send(Command::Close);
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
            c.name()
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
