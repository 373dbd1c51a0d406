//! What the table lists: the other peers of a swarm (`JOIN`, `LIST`), the swarms (`SWARMS`)
//! and everything (`STATUS`, the status page), each bounded in entries and in bytes.
//!
//! Bounds: a piece list longer than [`MAX_LISTED_PIECES_LEN`] is listed as `?` (the client
//! learns those pieces from the peer's bitfield); a `PEERS` or `SWARMS` reply stops before
//! [`MAX_REPLY_BYTES`], a `STATUS` reply before [`MAX_STATUS_BYTES`]. The most complete peers
//! and the busiest swarms come first, so what is left out is what matters least. No I/O: the
//! callers hold the table's lock only inside these functions.

use std::fmt::Write as _;

use super::{PeerKey, PeerRecord, PeerTable, Swarm};
use crate::pieces::PieceSet;
use crate::tracker::proto::{
    MAX_LISTED_PIECES_LEN, MAX_PEERS_PER_REPLY, MAX_REPLY_BYTES, MAX_STATUS_BYTES,
    MAX_SWARMS_PER_REPLY, PeerEntry, PeerStatus, SwarmEntry, SwarmStatus, printable,
};

/// Room for a reply's header line (`PEERS 200\n`, `STATUS 200\n`).
const HEADER_LEN: usize = 16;

/// A peer as replies list it, in a swarm of `count` pieces.
fn entry(p: &PeerRecord, count: u32) -> PeerEntry {
    let pieces = match &p.pieces {
        // An HTTP seed of a swarm without metainfo: every piece, however many (`-` of 0).
        None if p.seed => every_piece(count),
        // `?`: a client that announced over HTTP; its pieces are learned from itself.
        None => "?".to_string(),
        Some(set) => bounded_ranges(set).unwrap_or_else(|| "?".to_string()),
    };
    PeerEntry {
        ip: p.addr.ip(),
        port: p.addr.port(),
        pieces,
    }
}

/// The range list of all `count` pieces: `0-9`, `0`, or `-` when the count is not known (0).
fn every_piece(count: u32) -> String {
    match count {
        0 => "-".to_string(),
        1 => "0".to_string(),
        n => format!("0-{}", n - 1),
    }
}

/// The set as a range list (`0-3,7`), or `None` once it grows past [`MAX_LISTED_PIECES_LEN`]:
/// a scattered list costs no more than the cap to build, however many pieces there are.
fn bounded_ranges(set: &PieceSet) -> Option<String> {
    let mut out = String::new();
    let mut index = 0;
    while index < set.len() {
        if !set.contains(index) {
            index += 1;
            continue;
        }
        let start = index;
        while index + 1 < set.len() && set.contains(index + 1) {
            index += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        let _ = if start == index {
            write!(out, "{start}")
        } else {
            write!(out, "{start}-{index}")
        };
        if out.len() > MAX_LISTED_PIECES_LEN {
            return None;
        }
        index += 1;
    }
    Some(if out.is_empty() { "-".to_string() } else { out })
}

/// The swarm's peers other than `key`, the most complete first, at most
/// [`MAX_PEERS_PER_REPLY`] and [`MAX_REPLY_BYTES`].
pub(super) fn others(swarm: &Swarm, key: PeerKey) -> Vec<PeerEntry> {
    let count = swarm.metainfo.as_ref().map_or(0, |m| m.num_pieces);
    let held = |p: &PeerRecord| match &p.pieces {
        None if p.seed => count,
        pieces => pieces.as_ref().map_or(0, PieceSet::count),
    };
    // Each peer's count once, not once per comparison.
    let mut list: Vec<(u32, &PeerRecord)> = swarm
        .peers
        .iter()
        .filter(|(k, _)| **k != key)
        .map(|(_, p)| (held(p), p))
        .collect();
    let most_complete_first = |a: &(u32, &PeerRecord), b: &(u32, &PeerRecord)| {
        b.0.cmp(&a.0).then(a.1.addr.cmp(&b.1.addr))
    };
    // This runs under the table's lock, for every JOIN and LIST: in a swarm of thousands only
    // the first MAX_PEERS_PER_REPLY are listed, so they are selected (linear time) and only
    // they are sorted.
    if list.len() > MAX_PEERS_PER_REPLY {
        list.select_nth_unstable_by(MAX_PEERS_PER_REPLY, most_complete_first);
        list.truncate(MAX_PEERS_PER_REPLY);
    }
    list.sort_unstable_by(most_complete_first);
    let mut bytes = HEADER_LEN;
    list.into_iter()
        .map(|(_, p)| entry(p, count))
        .take_while(|e| {
            bytes += e.line_len();
            bytes <= MAX_REPLY_BYTES
        })
        .collect()
}

fn swarm_entry(hash: &crate::infohash::InfoHash, swarm: &Swarm, peers: usize) -> SwarmEntry {
    SwarmEntry {
        info_hash: *hash,
        pieces: swarm.metainfo.as_ref().map_or(0, |m| m.num_pieces),
        peers,
        name: swarm
            .metainfo
            .as_ref()
            .map_or_else(|| "-".to_string(), |m| printable(&m.name)),
    }
}

/// `SWARM <hash> <pieces> <peers> <name>\n`.
fn swarm_line_len(s: &SwarmEntry) -> usize {
    format!(
        "SWARM {} {} {} {}\n",
        s.info_hash, s.pieces, s.peers, s.name
    )
    .len()
}

impl PeerTable {
    /// The swarms known, busiest first (ties by info-hash), at most [`MAX_SWARMS_PER_REPLY`]
    /// and [`MAX_REPLY_BYTES`].
    pub fn swarms(&self) -> Vec<SwarmEntry> {
        let mut list: Vec<SwarmEntry> = self
            .lock()
            .iter()
            .map(|(hash, swarm)| swarm_entry(hash, swarm, swarm.peers.len()))
            .collect();
        list.sort_by(|a, b| b.peers.cmp(&a.peers).then(a.info_hash.cmp(&b.info_hash)));
        let mut bytes = HEADER_LEN;
        list.into_iter()
            .take(MAX_SWARMS_PER_REPLY)
            .take_while(|s| {
                bytes += swarm_line_len(s);
                bytes <= MAX_REPLY_BYTES
            })
            .collect()
    }

    /// Every swarm with every peer, its pieces, milliseconds since it was last heard of and
    /// whom it unchokes: the `STATUS` reply and the status page. Busiest swarms first, peers
    /// by address; at most [`MAX_SWARMS_PER_REPLY`] swarms of [`MAX_PEERS_PER_REPLY`] peers
    /// and [`MAX_STATUS_BYTES`] in all (a swarm's `SWARM` line counts the peers kept).
    pub fn status(&self) -> Vec<SwarmStatus> {
        let swarms = self.lock();
        let mut order: Vec<_> = swarms.iter().collect();
        order.sort_by(|(ha, a), (hb, b)| b.peers.len().cmp(&a.peers.len()).then(ha.cmp(hb)));
        let mut bytes = HEADER_LEN;
        let mut list = Vec::new();
        for (hash, swarm) in order.into_iter().take(MAX_SWARMS_PER_REPLY) {
            let head = swarm_entry(hash, swarm, MAX_PEERS_PER_REPLY);
            bytes += swarm_line_len(&head);
            if bytes > MAX_STATUS_BYTES {
                break;
            }
            let mut peers: Vec<&PeerRecord> = swarm.peers.values().collect();
            peers.sort_by_key(|p| p.addr);
            let mut kept = Vec::new();
            for p in peers.into_iter().take(MAX_PEERS_PER_REPLY) {
                let status = PeerStatus {
                    peer: entry(p, head.pieces),
                    seen_ms: p.last_seen.elapsed().as_millis() as u64,
                    unchoked: p.unchoked.clone(),
                };
                bytes += status.to_line().len() + 1;
                if bytes > MAX_STATUS_BYTES {
                    break;
                }
                kept.push(status);
            }
            let swarm = swarm_entry(hash, swarm, kept.len());
            list.push(SwarmStatus { swarm, peers: kept });
            if bytes > MAX_STATUS_BYTES {
                break;
            }
        }
        list
    }
}
