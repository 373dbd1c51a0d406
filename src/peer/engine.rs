//! The download engine, owned by the peer's main thread: which connections are open, what the
//! remote peers hold, which pieces are being fetched and from whom, and who is banned.
//!
//! It never touches a socket. It decides (a round: rarest missing pieces, a random holder
//! each, `picker.rs`), sends commands to connection threads over crossbeam channels, and
//! reacts to their events (a bitfield, a piece verified, a connection closed).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, unbounded};
use log::{info, warn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::Shared;
use super::announcer::{Announcer, Candidate};
use super::connection::{self, Command, ConnId, Event, PieceFailure};
use super::picker::{self, Avoid, Holder};
use crate::defaults::{CONNECT_TIMEOUTS, RETRY_AFTER};
use crate::net;
use crate::pieces::PieceSet;
use crate::threads;

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
}

/// The engine's settings.
pub struct Settings {
    pub port: u16,
    pub parallel: usize,
    /// Pieces fetched at once from one holder (`--per-peer`; `usize::MAX`: no limit).
    pub per_peer: usize,
    pub min_peers: usize,
    pub max_peers: usize,
    /// `--connect-to-all`: connect to every listed peer, not only to holders of wanted pieces.
    pub connect_to_all: bool,
}

pub struct Engine {
    shared: Arc<Shared>,
    pub announcer: Announcer,
    settings: Settings,
    conns: HashMap<ConnId, ConnInfo>,
    /// The tracker's latest list.
    listed: Vec<Candidate>,
    /// Piece -> connections fetching it (two during endgame).
    in_flight: HashMap<u32, Vec<ConnId>>,
    avoid: Avoid,
    strikes: HashMap<SocketAddr, u32>,
    /// Peers not to connect to before the given instant ([`RETRY_AFTER`]).
    resting: HashMap<SocketAddr, Instant>,
    events_tx: Sender<Event>,
    pub events: Receiver<Event>,
    rng: StdRng,
}

impl Engine {
    pub fn new(
        shared: Arc<Shared>,
        announcer: Announcer,
        settings: Settings,
        listed: Vec<Candidate>,
    ) -> Engine {
        let (events_tx, events) = unbounded();
        Engine {
            shared,
            announcer,
            settings,
            conns: HashMap::new(),
            listed,
            in_flight: HashMap::new(),
            avoid: Avoid::default(),
            strikes: HashMap::new(),
            resting: HashMap::new(),
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

    pub fn ping(&mut self) {
        self.announcer.ping(&self.shared, self.settings.port);
    }

    pub fn report(&mut self) {
        self.announcer.report(&self.shared, self.settings.port);
    }

    pub fn leave(&mut self) {
        self.announcer.leave(&self.shared, self.settings.port);
    }

    /// A download round. `refresh`: ask the tracker for a new list first (timer rounds);
    /// rounds started by a finished fetch in continuous mode use the last list.
    pub fn round(&mut self, refresh: bool) {
        let have = self.shared.have_snapshot();
        if have.is_complete() {
            return;
        }
        // A failed LIST (the tracker is busy or gone) keeps the last list: the peers we know
        // still hold their pieces.
        if refresh && let Some(list) = self.announcer.list(&self.shared, self.settings.port) {
            self.listed = list;
        }
        if self.listed.len() < self.settings.min_peers {
            info!(
                "round: the tracker lists {} other peers; waiting for {} (--min-peers)",
                self.listed.len(),
                self.settings.min_peers
            );
            return;
        }
        self.connect_to_unknown_peers();
        let holders = self.holders();
        let mut wanted = PieceSet::empty(have.len());
        for index in have.missing() {
            wanted.insert(index);
        }
        self.avoid.in_flight = self.in_flight.keys().copied().collect();
        let free = self.settings.parallel.saturating_sub(self.in_flight.len());
        let mut load: HashMap<SocketAddr, usize> = HashMap::new();
        for conn in self.conns.values() {
            *load.entry(conn.addr).or_default() += conn.fetching.len();
        }
        let picks = picker::pick_spread(
            &wanted,
            &holders,
            &self.avoid,
            free,
            self.settings.per_peer,
            &mut load,
            &mut self.rng,
        );
        for pick in &picks {
            let rarity = holders
                .iter()
                .filter(|h| h.pieces.contains(pick.index))
                .count();
            info!(
                "round: rarest missing piece {} ({rarity} holders), fetching from {}",
                pick.index, pick.from
            );
            self.assign(pick.index, pick.from);
        }
        if picks.is_empty() && self.in_flight.is_empty() {
            info!("round: no known peer holds a piece we lack");
        }
        if self.in_flight.len() == wanted.count() as usize {
            self.endgame(&holders);
        }
    }

    /// Peers the tracker lists without pieces (an HTTP tracker) are connected to, so their
    /// bitfields tell what they hold. With `--connect-to-all`, every listed peer is, in random
    /// order (so that a late joiner is not left to the peers nobody else chose), and their
    /// `have`s reach us the moment they complete a piece rather than at their next report.
    fn connect_to_unknown_peers(&mut self) {
        let mut unknown: Vec<SocketAddr> = self
            .listed
            .iter()
            .filter(|c| {
                (c.pieces.is_none() || self.settings.connect_to_all)
                    && !self.avoid.banned.contains(&c.addr)
                    && !self.is_resting(c.addr)
            })
            .map(|c| c.addr)
            .filter(|addr| self.conn_to(*addr).is_none())
            .collect();
        unknown.shuffle(&mut self.rng);
        for addr in unknown {
            if !self.may_open() {
                break;
            }
            self.open(addr);
        }
    }

    fn is_resting(&self, addr: SocketAddr) -> bool {
        self.resting
            .get(&addr)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Everyone whose pieces we know: connections (from their bitfields) and, for peers we are
    /// not connected to, the tracker's list (unless `--max-peers` connections are open).
    fn holders(&self) -> Vec<Holder> {
        let mut holders: Vec<Holder> = self
            .conns
            .values()
            .filter_map(|c| {
                Some(Holder {
                    addr: c.addr,
                    pieces: c.pieces.clone()?,
                })
            })
            .collect();
        // Peers we are not connected to count only while we may still open a connection.
        let may_open = self.may_open();
        for candidate in &self.listed {
            if let Some(pieces) = &candidate.pieces
                && !holders.iter().any(|h| h.addr == candidate.addr)
                && (self.conn_to(candidate.addr).is_some()
                    || (may_open && !self.is_resting(candidate.addr)))
            {
                holders.push(Holder {
                    addr: candidate.addr,
                    pieces: pieces.clone(),
                });
            }
        }
        holders
    }

    /// Endgame: every missing piece is being fetched; ask a second holder for each piece that
    /// has only one, and cancel the slower copy when one finishes.
    fn endgame(&mut self, holders: &[Holder]) {
        let single: Vec<(u32, ConnId)> = self
            .in_flight
            .iter()
            .filter(|(_, ids)| ids.len() == 1)
            .map(|(index, ids)| (*index, ids[0]))
            .collect();
        for (index, busy) in single {
            let busy_addr = self.conns.get(&busy).map(|c| c.addr);
            let failed = self.avoid.failed.get(&index);
            let second = holders.iter().find(|h| {
                Some(h.addr) != busy_addr
                    && h.pieces.contains(index)
                    && !self.avoid.banned.contains(&h.addr)
                    && failed.is_none_or(|f| !f.contains(&h.addr))
            });
            if let Some(holder) = second {
                info!("endgame: piece {index} also requested from {}", holder.addr);
                self.assign(index, holder.addr);
            }
        }
    }

    fn conn_to(&self, addr: SocketAddr) -> Option<ConnId> {
        self.conns
            .iter()
            .find(|(_, c)| c.addr == addr)
            .map(|(id, _)| *id)
    }

    /// Whether we may open another connection: fewer than `--max-peers` are open, counting
    /// those the remotes opened, so a peer few others chose opens more itself.
    fn may_open(&self) -> bool {
        self.conns.len() < self.settings.max_peers
    }

    /// Gives piece `index` to the connection to `addr`, opening one if needed.
    fn assign(&mut self, index: u32, addr: SocketAddr) {
        let id = match self.conn_to(addr) {
            Some(id) => id,
            None if self.may_open() => self.open(addr),
            None => return,
        };
        if let Some(conn) = self.conns.get_mut(&id)
            && conn.fetching.insert(index)
        {
            let _ = conn.commands.send(Command::Fetch(index));
            self.in_flight.entry(index).or_default().push(id);
        }
    }

    /// Opens an outgoing connection on its own thread (step 1 of `connection.rs`: `connect`).
    fn open(&mut self, addr: SocketAddr) -> ConnId {
        let id = self.shared.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let (commands, commands_rx) = unbounded();
        self.conns.insert(
            id,
            ConnInfo {
                addr,
                commands: commands.clone(),
                outgoing: true,
                ready: false,
                pieces: None,
                fetching: HashSet::new(),
            },
        );
        let shared = Arc::clone(&self.shared);
        let events = self.events_tx.clone();
        let name = format!("{}-download-{id}", shared.name);
        let spawned = threads::spawn_named(&name, move || {
            match net::connect(addr, shared.local_ip, CONNECT_TIMEOUTS) {
                Ok(stream) => {
                    info!("{addr}: connected");
                    connection::run(
                        stream,
                        addr,
                        connection::Side::Outgoing,
                        id,
                        shared,
                        events,
                        (commands, commands_rx),
                    );
                }
                Err(e) => {
                    let _ = events.send(Event::Closed {
                        id,
                        addr,
                        reason: format!("cannot connect: {e}"),
                    });
                }
            }
        });
        if let Err(e) = spawned {
            warn!("{addr}: cannot start a connection thread: {e}");
            let _ = self.events_tx.send(Event::Closed {
                id,
                addr,
                reason: e.to_string(),
            });
        }
        id
    }

    /// Reacts to one connection event. Returns true when a download slot was freed.
    pub fn handle(&mut self, event: Event) -> bool {
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
                });
                conn.ready = true;
                false
            }
            Event::Bitfield { id, pieces } => {
                let seed_to_seed = pieces.is_complete() && self.is_complete();
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.pieces = Some(pieces);
                    if seed_to_seed {
                        let _ = conn.commands.send(Command::Close); // nothing to exchange
                    }
                }
                true
            }
            Event::Have { id, index } => {
                let count = self.shared.metainfo.num_pieces();
                let Some(conn) = self.conns.get_mut(&id) else {
                    return false;
                };
                conn.pieces
                    .get_or_insert_with(|| PieceSet::empty(count))
                    .insert(index);
                // A new round only when this piece could be fetched from it right now: haves
                // are the most frequent event, and a round costs a pass over every piece.
                conn.fetching.len() < self.settings.per_peer
                    && self.in_flight.len() < self.settings.parallel
                    && !self.in_flight.contains_key(&index)
                    && !self.shared.has(index)
            }
            Event::Choked { .. } => false,
            Event::Piece { id, index, result } => {
                self.piece_done(id, index, result);
                true
            }
            Event::Closed { id, addr, reason } => {
                if let Some(conn) = self.conns.remove(&id) {
                    info!("{addr}: connection closed ({reason})");
                    if conn.outgoing && !conn.ready {
                        self.resting.retain(|_, until| *until > Instant::now());
                        self.resting.insert(addr, Instant::now() + RETRY_AFTER);
                    }
                    // Its pieces are free again, to be fetched from another holder first.
                    for index in conn.fetching {
                        self.release(index, id);
                        self.avoid.failed.entry(index).or_default().insert(addr);
                    }
                }
                true
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

    fn piece_done(&mut self, id: ConnId, index: u32, result: Result<u64, PieceFailure>) {
        let Some(from) = self.conns.get_mut(&id).map(|c| {
            c.fetching.remove(&index);
            c.addr
        }) else {
            return;
        };
        self.release(index, id);
        match result {
            Ok(bytes) => {
                if self.shared.has(index) {
                    return; // the slower copy of an endgame piece
                }
                self.shared.downloaded.fetch_add(bytes, Ordering::Relaxed);
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
                    self.announcer.completed(&self.shared, self.settings.port);
                    for conn in self
                        .conns
                        .values()
                        .filter(|c| c.pieces.as_ref().is_some_and(PieceSet::is_complete))
                    {
                        let _ = conn.commands.send(Command::Close);
                    }
                }
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
            }
        }
    }
}
