//! A download round of the engine: which missing pieces to fetch (rarest first, each from the
//! least loaded holder, `picker.rs`), which peers to connect to, endgame, and the start of an
//! outgoing connection's thread.
//!
//! No socket here either: [`Engine::open`] only spawns the thread that will `connect`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::unbounded;
use log::{info, warn};
use rand::seq::SliceRandom;

use super::{CONNECT_TIMEOUTS, ConnInfo, Engine};
use crate::net;
use crate::peer::connection::{self, Command, ConnId, Event};
use crate::peer::picker::{self, Holder};
use crate::pieces::PieceSet;
use crate::threads;

impl Engine {
    /// A download round over the last list the task loop handed over
    /// ([`Engine::set_listed`]): connect to peers whose pieces we do not know yet, then give
    /// free download slots to the rarest missing pieces, each to its least loaded holder.
    pub fn round(&mut self) {
        let have = self.shared.have_snapshot();
        if have.is_complete() {
            return;
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
            *load.entry(conn.name()).or_default() += conn.fetching.len();
        }
        let picks = picker::pick_spread(
            &wanted,
            &holders,
            &self.avoid,
            free,
            self.settings.per_peer,
            &mut load,
            self.settings.picker,
            &mut self.rng,
        );
        for pick in &picks {
            let rarity = holders
                .iter()
                .filter(|h| h.pieces.contains(pick.index))
                .count();
            info!(
                "round: {} missing piece {} ({rarity} holders), fetching from {}",
                self.settings.picker.name(),
                pick.index,
                pick.from
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
            .filter(|c| !c.refuses_us())
            .filter_map(|c| {
                Some(Holder {
                    addr: c.name(),
                    pieces: c.pieces.clone()?,
                })
            })
            .collect();
        // Peers we are not connected to count only while we may still open a connection.
        let may_open = self.may_open();
        for candidate in &self.listed {
            if let Some(pieces) = &candidate.pieces
                && !holders.iter().any(|h| h.addr == candidate.addr)
                && match self.conn_to(candidate.addr) {
                    Some(id) => self.conns.get(&id).is_some_and(|c| !c.refuses_us()),
                    None => may_open && !self.is_resting(candidate.addr),
                }
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
            let busy_addr = self.conns.get(&busy).map(|c| c.name());
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
            .find(|(_, c)| c.addr == addr || c.listen == Some(addr))
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

    /// Opens an outgoing connection on its own thread, `peer-PORT-out-N` (step 1 of
    /// `connection.rs`: `connect`).
    fn open(&mut self, addr: SocketAddr) -> ConnId {
        let id = self.shared.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let (commands, commands_rx) = unbounded();
        self.conns
            .insert(id, ConnInfo::new(addr, commands.clone(), true));
        let shared = Arc::clone(&self.shared);
        let events = self.events_tx.clone();
        let name = format!("{}-out-{id}", shared.name);
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
}
