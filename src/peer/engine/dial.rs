//! A complete peer's round: it fetches nothing, but dials the listed peers that lack pieces it
//! holds (up to `--max-peers` connections), as real seeds do. A client that cannot connect to
//! us (Transmission trying uTP first and getting "port unreachable", a peer behind a NAT)
//! then still gets data, over the connection we opened.
//!
//! A peer that already connected to us is known by the listening port its extension
//! handshake gave (BEP 10 `p`) and not dialled again; one that gave none (an accepted
//! connection carries the remote's outgoing port, not the listening port the tracker lists)
//! may be dialled once more: at most one extra connection per such leecher, which
//! `--max-peers` bounds, and which the engine's duplicate check closes once the port is known.
//! Peers whose connections keep failing rest (`engine/backoff.rs`).
//!
//! No socket here: [`Engine::open`] spawns the connection's thread.

use std::net::SocketAddr;
use std::time::Instant;

use log::info;
use rand::seq::SliceRandom;

use super::Engine;
use crate::pieces::PieceSet;

impl Engine {
    /// Dials every listed peer that lacks pieces we hold and that we have no outgoing
    /// connection to, in random order, while fewer than `--max-peers` connections are open.
    pub fn serve_round(&mut self) {
        let have = self.shared.have_snapshot();
        let now = Instant::now();
        let mut wanting: Vec<SocketAddr> = self
            .listed
            .iter()
            .filter(|c| c.pieces.as_ref().is_none_or(|p| lacks_some_of(p, &have)))
            .map(|c| c.addr)
            .filter(|&addr| {
                !self.avoid.banned.contains(&addr)
                    && !self.backoff.is_resting(addr, now)
                    && self.conn_to(addr).is_none()
            })
            .collect();
        wanting.shuffle(&mut self.rng);
        for addr in wanting {
            if !self.may_open() {
                break;
            }
            info!("round: {addr} lacks pieces we hold; connecting to it");
            self.open(addr);
        }
    }
}

/// Whether `theirs` misses a piece of `ours`.
fn lacks_some_of(theirs: &PieceSet, ours: &PieceSet) -> bool {
    ours.iter().any(|index| !theirs.contains(index))
}
