//! The tracker's peer table: per swarm (info-hash), its metainfo and the peers that take part,
//! with the pieces each holds and whether it has shown life since the last clean-up.
//!
//! Bounded against floods: a swarm holds at most `max_peers` peers ([`MAX_PEERS_PER_SWARM`],
//! `--max-peers-per-swarm`) and the table at most `max_swarms` swarms ([`MAX_SWARMS`],
//! `--max-swarms`; an HTTP announce creates a swarm for any info-hash). A *new* peer or swarm
//! beyond a cap is refused with `ERR full` (an HTTP `failure reason`); peers already listed
//! keep refreshing. The clean-up frees room: it drops silent peers, then swarms left with
//! neither peers nor metainfo.
//!
//! Bounded in memory too: stored metainfo counts against a tracker-wide byte budget
//! (`--metainfo-budget`, [`METAINFO_BUDGET`]); a swarm keeps only the `.torrent` bytes, its
//! name and its piece count (the hashes are not parsed and kept a second time); a peer keeps a
//! bitset of its pieces (bounded by the torrent's piece count), an optional secret
//! ([`Secret`], at most 64 bytes) and an optional unchoke set (at most [`MAX_UNCHOKED`]).
//! Replies are bounded in bytes (`table/listing.rs`).
//!
//! Identity (PROTOCOL.md 1.3): a peer that joined with `key=` must give the same key with its
//! `PING`, `REPORT`, `LEAVE` and `JOIN` again, or is refused with `ERR wrong-key`.
//!
//! One `Mutex<HashMap>` behind intention-revealing methods. Every method takes the lock,
//! changes or copies what it needs and lets go before returning: callers write to sockets
//! with a snapshot, never under the lock. No I/O here.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::infohash::InfoHash;
use crate::pieces::PieceSet;
use crate::tracker::http::ListedPeer;
#[cfg(doc)]
use crate::tracker::proto::MAX_UNCHOKED;
use crate::tracker::proto::{ErrorCode, PeerEntry, Secret, Unchoked};

pub use crate::defaults::{MAX_PEERS_PER_SWARM, MAX_SWARMS};
/// The default budget, in bytes, of all the metainfo the tracker stores (`--metainfo-budget`).
pub const METAINFO_BUDGET: usize = 64 * 1024 * 1024;

/// How peers are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Development mode: everything runs on one host, the listening port names a peer.
    Port,
    /// `--remote`: source IP of the connection plus listening port.
    IpAndPort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PeerKey {
    ip: Option<IpAddr>,
    port: u16,
}

#[derive(Debug)]
struct PeerRecord {
    addr: SocketAddr,
    /// `None` for a client that announced over HTTP and is not a seed: its pieces are learned
    /// from the peer itself (bitfield and have), not from the tracker.
    pieces: Option<PieceSet>,
    last_seen: Instant,
    alive_since_cleanup: bool,
    /// Announced over HTTP: it re-announces every `interval`, it does not ping.
    via_http: bool,
    /// The secret given at `JOIN`: later requests for this peer must carry it.
    key: Option<Secret>,
    /// Whom it said it unchokes, in its last `REPORT` that said so.
    unchoked: Option<Vec<Unchoked>>,
    /// An HTTP client's peer id, for `compact=0` replies.
    peer_id: Option<[u8; 20]>,
    /// An HTTP client that announced `left=0` or `event=completed`: a seed even when the
    /// tracker has no metainfo to know its pieces by.
    seed: bool,
}

/// What an HTTP announce gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceOutcome {
    pub peers: Vec<ListedPeer>,
    /// Seeds (peers known to hold every piece) and the others.
    pub complete: usize,
    pub incomplete: usize,
}

#[derive(Default)]
struct Swarm {
    metainfo: Option<Published>,
    peers: HashMap<PeerKey, PeerRecord>,
    /// How many of `peers` are seeds, kept up to date by every change to `peers` (so an
    /// announce does not count them one by one under the lock).
    seeds: usize,
    /// Completions seen (scrape's `downloaded`): `event=completed`, or a listed peer that
    /// became a seed.
    downloaded: u64,
}

fn is_seed(peer: &PeerRecord) -> bool {
    peer.seed || peer.pieces.as_ref().is_some_and(PieceSet::is_complete)
}

impl Swarm {
    fn insert(&mut self, key: PeerKey, record: PeerRecord) {
        self.seeds += usize::from(is_seed(&record));
        if let Some(old) = self.peers.insert(key, record) {
            self.seeds -= usize::from(is_seed(&old));
        }
    }

    fn remove(&mut self, key: &PeerKey) -> bool {
        let Some(old) = self.peers.remove(key) else {
            return false;
        };
        self.seeds -= usize::from(is_seed(&old));
        true
    }
}

/// A refusal, ready to be sent as an `ERR` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub code: ErrorCode,
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.message)
    }
}

fn refuse(code: ErrorCode, message: String) -> TableError {
    TableError { code, message }
}

/// What a clean-up removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub info_hash: InfoHash,
    pub addr: SocketAddr,
}

/// The table. Cheap to share: wrap it in an `Arc`.
pub struct PeerTable {
    identity: Identity,
    /// HTTP clients silent this long are dropped (they announce, they do not ping).
    http_expiry: Duration,
    max_peers: usize,
    max_swarms: usize,
    metainfo_budget: usize,
    swarms: Mutex<HashMap<InfoHash, Swarm>>,
}

impl PeerTable {
    pub fn new(identity: Identity) -> PeerTable {
        PeerTable::with_http_expiry(identity, crate::defaults::HTTP_EXPIRY)
    }

    pub fn with_http_expiry(identity: Identity, http_expiry: Duration) -> PeerTable {
        PeerTable {
            identity,
            http_expiry,
            max_peers: MAX_PEERS_PER_SWARM,
            max_swarms: MAX_SWARMS,
            metainfo_budget: METAINFO_BUDGET,
            swarms: Mutex::new(HashMap::new()),
        }
    }

    /// The same table with other caps on peers per swarm and on swarms.
    pub fn with_limits(self, max_peers: usize, max_swarms: usize) -> PeerTable {
        PeerTable {
            max_peers: max_peers.max(1),
            max_swarms: max_swarms.max(1),
            ..self
        }
    }

    /// The same table with another budget for stored metainfo, in bytes.
    pub fn with_metainfo_budget(self, bytes: usize) -> PeerTable {
        PeerTable {
            metainfo_budget: bytes,
            ..self
        }
    }

    /// Refuses a new swarm when the table holds `max_swarms` already.
    fn room_for_swarm(
        &self,
        swarms: &HashMap<InfoHash, Swarm>,
        info_hash: &InfoHash,
    ) -> Result<(), TableError> {
        if swarms.contains_key(info_hash) || swarms.len() < self.max_swarms {
            return Ok(());
        }
        Err(refuse(
            ErrorCode::Full,
            format!("the tracker serves {} swarms already", self.max_swarms),
        ))
    }

    /// Refuses a new peer when the swarm holds `max_peers` already.
    fn room_for_peer(&self, swarm: &Swarm, key: PeerKey) -> Result<(), TableError> {
        if swarm.peers.contains_key(&key) || swarm.peers.len() < self.max_peers {
            return Ok(());
        }
        Err(refuse(
            ErrorCode::Full,
            format!("the swarm has {} peers already", self.max_peers),
        ))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<InfoHash, Swarm>> {
        // A panic elsewhere cannot leave the map half-changed (no method panics between
        // writes), so a poisoned lock is still sound to use.
        self.swarms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn key(&self, addr: SocketAddr) -> PeerKey {
        match self.identity {
            Identity::Port => PeerKey {
                ip: None,
                port: addr.port(),
            },
            Identity::IpAndPort => PeerKey {
                ip: Some(addr.ip()),
                port: addr.port(),
            },
        }
    }

    /// Adds (or refreshes) the peer listening at `addr` with the pieces in `ranges`, and returns
    /// the other peers of the swarm. A peer listed with a key is refreshed only with that key;
    /// `key` becomes the peer's key.
    pub fn register(
        &self,
        info_hash: &InfoHash,
        addr: SocketAddr,
        ranges: &str,
        key: Option<&Secret>,
    ) -> Result<Vec<PeerEntry>, TableError> {
        let key_of = self.key(addr);
        let mut swarms = self.lock();
        let swarm = known_swarm(&mut swarms, info_hash)?;
        let pieces = parse_pieces(swarm, ranges)?;
        if let Some(old) = swarm.peers.get(&key_of) {
            check_key(old, key, addr)?;
        }
        self.room_for_peer(swarm, key_of)?;
        swarm.insert(
            key_of,
            PeerRecord {
                addr,
                pieces: Some(pieces),
                last_seen: Instant::now(),
                alive_since_cleanup: true,
                via_http: false,
                key: key.cloned(),
                unchoked: None,
                peer_id: None,
                seed: false,
            },
        );
        Ok(listing::others(swarm, key_of))
    }

    /// Records a ping.
    pub fn ping(
        &self,
        info_hash: &InfoHash,
        addr: SocketAddr,
        key: Option<&Secret>,
    ) -> Result<(), TableError> {
        let key_of = self.key(addr);
        let mut swarms = self.lock();
        let peer = known_peer(&mut swarms, info_hash, key_of)?;
        check_key(peer, key, addr)?;
        peer.addr = addr;
        peer.last_seen = Instant::now();
        peer.alive_since_cleanup = true;
        Ok(())
    }

    /// Replaces the peer's piece list with a new report, and its unchoke set when given.
    /// Returns how many pieces it holds.
    pub fn report(
        &self,
        info_hash: &InfoHash,
        addr: SocketAddr,
        ranges: &str,
        key: Option<&Secret>,
        unchoked: Option<Vec<Unchoked>>,
    ) -> Result<u32, TableError> {
        let key_of = self.key(addr);
        let mut swarms = self.lock();
        let swarm = known_swarm(&mut swarms, info_hash)?;
        let pieces = parse_pieces(swarm, ranges)?;
        let Swarm {
            peers,
            seeds,
            downloaded,
            ..
        } = swarm;
        let peer = peers.get_mut(&key_of).ok_or_else(|| unknown_peer(addr))?;
        check_key(peer, key, addr)?;
        peer.addr = addr;
        let held = pieces.count();
        let was_seed = is_seed(peer);
        peer.pieces = Some(pieces);
        peer.seed = false; // its report says which pieces it holds
        let now_seed = is_seed(peer);
        *seeds = *seeds - usize::from(was_seed) + usize::from(now_seed);
        *downloaded += u64::from(now_seed && !was_seed);
        if unchoked.is_some() {
            peer.unchoked = unchoked;
        }
        peer.last_seen = Instant::now();
        peer.alive_since_cleanup = true;
        Ok(held)
    }

    /// The other peers of the swarm, as the peer at `addr` should see them.
    pub fn snapshot(
        &self,
        info_hash: &InfoHash,
        addr: SocketAddr,
    ) -> Result<Vec<PeerEntry>, TableError> {
        let key = self.key(addr);
        let mut swarms = self.lock();
        let swarm = known_swarm(&mut swarms, info_hash)?;
        Ok(listing::others(swarm, key))
    }

    /// Removes the peer at `addr`. Returns whether it was there; refused when it joined with
    /// a key and `key` is not that key.
    pub fn leave(
        &self,
        info_hash: &InfoHash,
        addr: SocketAddr,
        key: Option<&Secret>,
    ) -> Result<bool, TableError> {
        let key_of = self.key(addr);
        let mut swarms = self.lock();
        let Some(swarm) = swarms.get_mut(info_hash) else {
            return Ok(false);
        };
        if let Some(peer) = swarm.peers.get(&key_of) {
            check_key(peer, key, addr)?;
        }
        Ok(swarm.remove(&key_of))
    }

    /// Drops every peer that showed no life since the previous call, and clears the flag of
    /// the others. HTTP clients are dropped when silent for the HTTP expiry instead.
    pub fn remove_stale(&self) -> Vec<Removed> {
        let mut removed = Vec::new();
        let http_expiry = self.http_expiry;
        let mut swarms = self.lock();
        for (info_hash, swarm) in swarms.iter_mut() {
            let Swarm { peers, seeds, .. } = swarm;
            peers.retain(|_, peer| {
                let pinged = std::mem::replace(&mut peer.alive_since_cleanup, false);
                let keep = if peer.via_http {
                    peer.last_seen.elapsed() < http_expiry
                } else {
                    pinged
                };
                if !keep {
                    *seeds -= usize::from(is_seed(peer));
                    removed.push(Removed {
                        info_hash: *info_hash,
                        addr: peer.addr,
                    });
                }
                keep
            });
        }
        // Swarms an HTTP announce created, now empty, free their place.
        swarms.retain(|_, s| s.metainfo.is_some() || !s.peers.is_empty());
        removed
    }
}

fn known_swarm<'a>(
    swarms: &'a mut HashMap<InfoHash, Swarm>,
    info_hash: &InfoHash,
) -> Result<&'a mut Swarm, TableError> {
    swarms
        .get_mut(info_hash)
        .filter(|s| s.metainfo.is_some())
        .ok_or_else(|| {
            refuse(
                ErrorCode::UnknownSwarm,
                format!("swarm {info_hash} is unknown: PUBLISH its metainfo first"),
            )
        })
}

fn known_peer<'a>(
    swarms: &'a mut HashMap<InfoHash, Swarm>,
    info_hash: &InfoHash,
    key: PeerKey,
) -> Result<&'a mut PeerRecord, TableError> {
    let swarm = known_swarm(swarms, info_hash)?;
    let port = key.port;
    swarm.peers.get_mut(&key).ok_or_else(|| {
        refuse(
            ErrorCode::UnknownPeer,
            format!("peer on port {port} is not in the swarm: JOIN first"),
        )
    })
}

fn unknown_peer(addr: SocketAddr) -> TableError {
    refuse(
        ErrorCode::UnknownPeer,
        format!("peer {addr} is not in the swarm: JOIN first"),
    )
}

fn parse_pieces(swarm: &Swarm, ranges: &str) -> Result<PieceSet, TableError> {
    let count = swarm.metainfo.as_ref().map_or(0, |m| m.num_pieces);
    PieceSet::from_ranges(ranges, count).map_err(|e| refuse(ErrorCode::BadRequest, e.to_string()))
}

/// Refuses a request for a peer that joined with a key, unless it carries that key.
fn check_key(
    peer: &PeerRecord,
    given: Option<&Secret>,
    addr: SocketAddr,
) -> Result<(), TableError> {
    match &peer.key {
        Some(key) if Some(key) != given => Err(refuse(
            ErrorCode::WrongKey,
            format!(
                "peer {addr} joined with a key: this request must carry the same key= (a missing or different key is refused)"
            ),
        )),
        _ => Ok(()),
    }
}

mod answer;
mod http;
mod listing;
mod published;
use published::Published;
#[cfg(test)]
mod tests;
