//! How many pieces the engine keeps in flight: download slots (`--parallel`, `--per-peer`)
//! and how many pieces one slot holds.
//!
//! A slot is one piece in round-interval mode (each round fetches `--parallel` pieces, as the
//! lesson tells it). In continuous mode (`--round-interval 0`) a slot holds a pipeline's worth
//! of bytes: `ceil(pipeline x 16 KiB / piece length)` pieces, at most 1 024, so 8 pieces of
//! 256 KiB at `--pipeline 128`, 64 of 32 KiB, 128 of 16 KiB, 1 of 2 MiB, and 1 024 of one or
//! three bytes (requests in flight stay capped at `--pipeline`). Without
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

/// At most this many pieces in one slot (tiny pieces): each assigned piece is a little
/// bookkeeping on its connection, searched per block.
const MAX_SLOT_PIECES: u64 = 1024;

impl Engine {
    /// Pieces per download slot: 1, or in continuous mode as many as fill one pipeline.
    pub(super) fn slot_pieces(&self) -> usize {
        if !self.settings.fill_pipelines {
            return 1;
        }
        // A pipeline's worth of bytes: pieces smaller than a block count by their bytes, so
        // a top-up of tiny pieces is big enough to outlast the round that makes the next one.
        let piece = self.shared.metainfo.piece_length.max(1);
        let bytes = (self.shared.pipeline as u64).saturating_mul(u64::from(BLOCK_LEN));
        let pieces = bytes.div_ceil(piece).clamp(1, MAX_SLOT_PIECES);
        usize::try_from(pieces).unwrap_or(1)
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
