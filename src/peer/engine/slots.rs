//! How many pieces the engine keeps in flight: download slots (`--parallel`, `--per-peer`)
//! and how many pieces one slot holds.
//!
//! A slot is one piece in round-interval mode (each round fetches `--parallel` pieces, as the
//! lesson tells it). In continuous mode (`--round-interval 0`) a slot holds as many pieces as
//! fill one connection's request pipeline: `ceil(pipeline / blocks per piece)`, so 128
//! one-block pieces at `--pipeline 128`, 64 pieces of 32 KiB, 8 of 256 KiB, 1 of 2 MiB. Without
//! that, small pieces left the pipeline nearly empty (`--parallel 4` with 32 KiB pieces kept 8
//! requests in flight) and every piece of a few bytes waited a round trip through the engine.
//!
//! And when to top a connection up: not after every piece (a round is a pass over every
//! missing piece; with 100 000 one-byte pieces that pass per piece was the cost), but once
//! half a slot is free, well before the connection's pipeline runs dry.
//!
//! Pure arithmetic over the engine's state; no I/O.

use super::{ConnId, Engine};
use crate::wire::BLOCK_LEN;

impl Engine {
    /// Pieces per download slot: 1, or in continuous mode as many as fill one pipeline.
    pub(super) fn slot_pieces(&self) -> usize {
        if !self.settings.fill_pipelines {
            return 1;
        }
        let blocks = self
            .shared
            .metainfo
            .piece_length
            .div_ceil(u64::from(BLOCK_LEN))
            .max(1);
        let pieces = (self.shared.pipeline as u64).div_ceil(blocks).max(1);
        usize::try_from(pieces).unwrap_or(usize::MAX)
    }

    /// Pieces in flight at most, over every connection (`--parallel` slots).
    pub(super) fn max_in_flight(&self) -> usize {
        self.settings.parallel.saturating_mul(self.slot_pieces())
    }

    /// Pieces in flight at most from one holder (`--per-peer` slots).
    pub(super) fn max_per_holder(&self) -> usize {
        self.settings.per_peer.saturating_mul(self.slot_pieces())
    }

    /// After a fetch on connection `id` ended: whether a round should top up now. With
    /// one-piece slots, always (the freed slot is a whole piece); with bigger slots, once half a
    /// slot is free overall or on that connection.
    pub(super) fn top_up_due(&self, id: ConnId) -> bool {
        let slot = self.slot_pieces();
        if slot == 1 {
            return true;
        }
        let free = self.max_in_flight().saturating_sub(self.in_flight.len());
        let running_low = self
            .conns
            .get(&id)
            .is_none_or(|c| c.fetching.len() * 2 <= slot);
        free * 2 >= slot || (free > 0 && running_low)
    }
}
