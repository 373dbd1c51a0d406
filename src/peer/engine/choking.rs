//! The engine's side of choking: feeds the choker (`peer/choker.rs`) what the connections
//! measured, sends its decisions to the connection threads as `Choke` / `Unchoke` commands,
//! logs each decision in words a class can grade, and steers downloads around remotes that
//! choke us.
//!
//! No socket here: the connection threads send the messages.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use log::info;

use super::{ConnInfo, Engine, Handled};
use crate::peer::choker::{Observed, Policy, RankedList};
use crate::peer::connection::{Command, ConnId};

impl Engine {
    /// The remote said `interested` or `not interested`: a free slot is taken at once, a
    /// slot given up is freed at once; everything else waits for the next rechoke.
    pub(super) fn on_interest(&mut self, id: ConnId, interested: bool) -> Handled {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Handled::Nothing;
        };
        conn.interested = interested;
        let addr = conn.name();
        let tit_for_tat = self.choker.settings().policy == Policy::TitForTat;
        match self.choker.interest(id, interested, Instant::now()) {
            Some(true) => {
                if tit_for_tat {
                    info!("unchoke {addr}: interested, and an upload slot is free");
                }
                self.unchoke(id);
                Handled::UnchokeSetChanged
            }
            Some(false) => {
                info!("choke {addr}: no longer interested, its upload slot is free");
                self.choke(id);
                Handled::UnchokeSetChanged
            }
            None => Handled::Nothing,
        }
    }

    /// The remote choked or unchoked us; the connection stays open either way. The pieces we
    /// were fetching from it stay with it (their blocks received so far too) until it has
    /// choked us for a whole rechoke interval ([`Engine::rechoke`] then gives them to other
    /// holders), and no new piece is asked of it meanwhile (`round.rs`, `holders`).
    pub(super) fn on_choked(&mut self, id: ConnId, choked: bool) -> Handled {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Handled::Nothing;
        };
        conn.choking_us = choked;
        if !choked {
            conn.choked_since = None;
            return Handled::MayFetch;
        }
        conn.choked_since = Some(Instant::now());
        Handled::Nothing
    }

    /// Gives back every piece connection `id` is fetching, cancelling its requests.
    fn release_all(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let pieces: Vec<u32> = conn.fetching.drain().collect();
        for &index in &pieces {
            let _ = conn.commands.send(Command::Cancel(index));
        }
        if !pieces.is_empty() {
            info!(
                "{}: chokes us; pieces {pieces:?} go to other holders",
                conn.name()
            );
        }
        for index in pieces {
            self.release(index, id);
        }
    }

    /// The periodic decision (`--rechoke-interval`). Returns true when the set of remotes we
    /// unchoke changed (the task loop then reports it to the tracker).
    pub fn rechoke(&mut self) -> bool {
        let now = Instant::now();
        // Fetches waiting on a remote that has choked us for a whole interval go elsewhere.
        let stuck: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                let since = c.choked_since.unwrap_or(c.ready_at);
                c.choking_us
                    && !c.fetching.is_empty()
                    && now.saturating_duration_since(since) >= self.settings.rechoke_interval
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stuck {
            self.release_all(id);
            // A remote that never unchoked us (a free rider sends no `choke`: every
            // connection starts choked) refuses us from now on, so the picker stops asking it.
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.choked_since.get_or_insert(conn.ready_at);
            }
        }
        let have = self.shared.have_snapshot();
        let seeding = have.is_complete();
        let observed: Vec<Observed<ConnId>> = self
            .conns
            .iter()
            .filter(|(_, c)| c.ready)
            .map(|(&id, c)| {
                let has_wanted = c
                    .pieces
                    .as_ref()
                    .is_some_and(|theirs| theirs.iter().any(|index| !have.contains(index)));
                observed(id, c, has_wanted)
            })
            .collect();
        let decision = self.choker.rechoke(now, seeding, &observed, &mut self.rng);
        for addr in &decision.snubbed {
            info!(
                "snubbed by {addr}: it unchokes us and holds what we lack, but sent no block for \
                 {:?}; not a preferred neighbour until it sends again",
                self.choker.settings().snub_timeout
            );
        }
        let tit_for_tat = self.choker.settings().policy == Policy::TitForTat;
        let anyone_interested = observed.iter().any(|o| o.interested);
        if tit_for_tat && !self.choker.settings().free_ride && anyone_interested {
            let mode = if seeding { " (seeding: in turn)" } else { "" };
            info!(
                "preferred neighbours now {}{mode}",
                RankedList(&decision.preferred)
            );
        }
        if let Some((_, addr)) = decision.new_optimistic {
            info!("optimistic unchoke {addr}");
        }
        for &id in &decision.choke {
            self.choke(id);
        }
        for &id in &decision.unchoke {
            self.unchoke(id);
        }
        !decision.choke.is_empty() || !decision.unchoke.is_empty()
    }

    /// The listening addresses of the remotes we unchoke now, where we know them (an outgoing
    /// connection's address is the remote's listening address).
    pub fn unchoked_listeners(&self) -> Vec<SocketAddr> {
        let mut addrs: Vec<SocketAddr> = self
            .choker
            .unchoked()
            .filter_map(|(id, _)| self.conns.get(&id)?.listen)
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    /// Tells a connection to choke; unchokes decided meanwhile wait until it has.
    fn choke(&mut self, id: ConnId) {
        self.pending_unchokes.retain(|&other| other != id);
        self.choking.insert(id);
        self.command(id, Command::Choke);
    }

    /// Tells a connection to unchoke, at once unless a choke is still on its way.
    fn unchoke(&mut self, id: ConnId) {
        if self.choking.is_empty() {
            self.command(id, Command::Unchoke);
        } else if !self.pending_unchokes.contains(&id) {
            self.pending_unchokes.push(id);
        }
    }

    /// Connection `id` choked its remote (or closed): once no choke is on its way, the
    /// waiting unchokes go out, those the choker still wants.
    pub(super) fn choke_done(&mut self, id: ConnId) {
        if !self.choking.remove(&id) || !self.choking.is_empty() {
            return;
        }
        let unchoked: HashSet<ConnId> = self.choker.unchoked().map(|(id, _)| id).collect();
        for id in std::mem::take(&mut self.pending_unchokes) {
            if unchoked.contains(&id) {
                self.command(id, Command::Unchoke);
            }
        }
    }

    fn command(&self, id: ConnId, command: Command) {
        if let Some(conn) = self.conns.get(&id) {
            let _ = conn.commands.send(command);
        }
    }
}

/// What the choker is told of one connection.
fn observed(id: ConnId, c: &ConnInfo, has_wanted: bool) -> Observed<ConnId> {
    Observed {
        id,
        addr: c.name(),
        interested: c.interested,
        received: c.counters.received.load(Ordering::Relaxed),
        sent: c.counters.sent.load(Ordering::Relaxed),
        choking_us: c.choking_us,
        has_wanted,
    }
}
