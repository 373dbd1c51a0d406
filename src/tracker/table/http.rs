//! What HTTP clients do to the table: a BEP 3 announce (add, refresh or remove the client,
//! count seeds and completions) and a BEP 48 scrape (read the counts). No I/O; the lock is
//! held only inside each method, and a scrape copies three counts per swarm asked for (at
//! most `MAX_SCRAPE_HASHES`).

use std::net::SocketAddr;
use std::time::Instant;

use super::{AnnounceOutcome, PeerRecord, PeerTable, TableError, check_key, is_seed};
use crate::infohash::InfoHash;
use crate::pieces::PieceSet;
use crate::tracker::http::{Announce, Event, ListedPeer, ScrapeCounts};

impl PeerTable {
    /// An HTTP announce from the client listening at `addr`: adds, refreshes or (on `stopped`)
    /// removes it, and returns up to `numwant` other peers. A swarm the tracker has no
    /// metainfo for is created (as opentracker does). `left=0` or `event=completed` marks a
    /// seed (with metainfo, its pieces are then all known); a listed client that becomes one,
    /// or `event=completed`, counts a completion.
    pub fn announce(
        &self,
        announce: &Announce,
        addr: SocketAddr,
    ) -> Result<AnnounceOutcome, TableError> {
        let (info_hash, left, numwant) = (&announce.info_hash, announce.left, announce.numwant);
        let stopped = announce.event == Event::Stopped;
        let key = self.key(addr);
        let mut swarms = self.lock();
        if stopped && !swarms.contains_key(info_hash) {
            return Ok(AnnounceOutcome {
                peers: Vec::new(),
                complete: 0,
                incomplete: 0,
            });
        }
        self.room_for_swarm(&swarms, info_hash)?;
        let swarm = swarms.entry(*info_hash).or_default();
        if let Some(old) = swarm.peers.get(&key).filter(|p| p.key.is_some()) {
            // An HTTP client cannot give our key: it may not replace nor remove a keyed peer.
            check_key(old, None, addr)?;
        }
        if stopped {
            swarm.remove(&key);
        } else {
            self.room_for_peer(swarm, key)?;
            let seed = left == Some(0) || announce.event == Event::Completed;
            let pieces = match &swarm.metainfo {
                Some(m) if seed => Some(PieceSet::full(m.num_pieces)),
                _ => None,
            };
            let record = PeerRecord {
                addr,
                pieces,
                last_seen: Instant::now(),
                alive_since_cleanup: true,
                via_http: true,
                key: None,
                unchoked: None,
                peer_id: Some(announce.peer_id),
                seed,
            };
            let was = swarm.peers.get(&key).map(is_seed);
            // A seed that just arrived is not a completion, unless it says so.
            if seed && was != Some(true) && (was.is_some() || announce.event == Event::Completed) {
                swarm.downloaded += 1;
            }
            swarm.insert(key, record);
        }
        let complete = swarm.seeds;
        let peers = swarm
            .peers
            .iter()
            .filter(|(k, _)| **k != key)
            .map(|(_, p)| ListedPeer {
                addr: p.addr,
                peer_id: p.peer_id,
            })
            .take(numwant)
            .collect();
        Ok(AnnounceOutcome {
            peers,
            complete,
            incomplete: swarm.peers.len() - complete,
        })
    }

    /// The counts of each swarm of `hashes` the tracker knows (an announce created it or its
    /// metainfo was published); unknown ones are left out.
    pub fn scrape(&self, hashes: &[InfoHash]) -> Vec<(InfoHash, ScrapeCounts)> {
        let swarms = self.lock();
        hashes
            .iter()
            .filter_map(|hash| {
                let swarm = swarms.get(hash)?;
                let counts = ScrapeCounts {
                    complete: swarm.seeds,
                    incomplete: swarm.peers.len() - swarm.seeds,
                    downloaded: swarm.downloaded,
                };
                Some((*hash, counts))
            })
            .collect()
    }
}
