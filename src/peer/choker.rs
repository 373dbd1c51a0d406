//! The choker: which remote peers we upload to (BEP 3's choking; Cohen, "Incentives Build
//! Robustness in BitTorrent", 2003).
//!
//! Pure policy over plain data, like the piece picker: no sockets, no clock, no global random
//! generator. The engine feeds it what the connections measured (bytes each way, interest,
//! whether the remote chokes us) with the time of the measurement, and applies what it returns
//! by sending `choke` and `unchoke` over the connections. Randomness comes in as an argument so
//! tests can seed it.
//!
//! The decisions, with `--choking tit-for-tat` (the default):
//!
//! 1. Every `--rechoke-interval` (p, 10 s) a *leeching* peer keeps `--unchoke-slots` (k, 4)
//!    *preferred neighbours*: the interested remotes that sent us the most bytes over the last
//!    interval only (not since the connection opened), ties broken at random with the partners
//!    of the previous decision first. A remote that snubs us (it unchokes us and holds what we want but
//!    sent no block for [`SNUB_TIMEOUT`]) is not a partner: it gets no preferred slot, only the
//!    optimistic one.
//! 2. A *seeding* peer (complete) has nothing to receive, so bytes received cannot rank anyone.
//!    It unchokes in turn (round robin, libtorrent's default seed choker): the slots go to the
//!    interested remotes that have waited longest since they last held one. Ranking by how fast
//!    they take our uploads would hand the seed to the fastest downloaders for good, free riders
//!    included; round robin spreads the seed's pieces over the whole swarm, which is what a
//!    seed is for.
//! 3. Every `--optimistic-interval` (m, 30 s) one more interested, choked remote is unchoked at
//!    random (the *optimistic unchoke*), remotes connected since the previous rotation weighted
//!    three times, so newcomers get a first piece to trade and better partners are found. An
//!    optimistic unchoke that ranks among the best at a rechoke becomes preferred, and the
//!    optimistic slot moves on at once.
//! 4. Between rechokes a remote that becomes interested is unchoked at once if a preferred slot
//!    is free, and one that loses interest is choked, freeing its slot: at most k + 1 remotes
//!    are unchoked at any moment.
//!
//! `--choking unchoke-all` is the seed's simplified protocol: every interested remote is
//! unchoked at once and never choked again. `--free-ride` unchokes nobody, ever: a teaching
//! device for the incentives experiment (`bench/incentives.sh`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;

pub use crate::defaults::SNUB_TIMEOUT;
/// Newly connected remotes are this many times as likely to get the optimistic slot (Cohen).
pub const NEWCOMER_WEIGHT: u32 = 3;

/// `--choking`: how upload slots are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Preferred neighbours by bytes received, plus one optimistic unchoke.
    TitForTat,
    /// Every interested remote is unchoked (the seed's simplified protocol).
    UnchokeAll,
}

/// The choker's settings, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub policy: Policy,
    /// `--unchoke-slots`: preferred neighbours (k).
    pub slots: usize,
    /// `--optimistic-interval`: how long an optimistic unchoke lasts (m).
    pub optimistic_interval: Duration,
    /// `--free-ride`: never unchoke anyone.
    pub free_ride: bool,
    /// See [`SNUB_TIMEOUT`]; a setting so tests and demos can shorten it.
    pub snub_timeout: Duration,
}

/// What the engine measured of one connection, at a rechoke.
#[derive(Debug, Clone, Copy)]
pub struct Observed<K> {
    pub id: K,
    pub addr: SocketAddr,
    /// The remote is interested in our pieces.
    pub interested: bool,
    /// Bytes of blocks received from the remote since the connection opened.
    pub received: u64,
    /// Bytes of blocks sent to the remote since the connection opened.
    pub sent: u64,
    /// The remote chokes us.
    pub choking_us: bool,
    /// The remote holds a piece we lack.
    pub has_wanted: bool,
}

/// A preferred neighbour and the rate that earned its slot, in bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked<K> {
    pub id: K,
    pub addr: SocketAddr,
    pub rate: u64,
}

/// What one rechoke decided. The engine sends `choke` to `choke` and `unchoke` to `unchoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<K> {
    /// The preferred neighbours, best first (empty with unchoke-all or free ride).
    pub preferred: Vec<Ranked<K>>,
    /// A remote given the optimistic slot at this rechoke (a new rotation), if any.
    pub new_optimistic: Option<(K, SocketAddr)>,
    /// Remotes that began snubbing us at this rechoke.
    pub snubbed: Vec<SocketAddr>,
    pub unchoke: Vec<K>,
    pub choke: Vec<K>,
}

/// What the choker remembers of one remote between rechokes.
struct Remote {
    addr: SocketAddr,
    interested: bool,
    /// Counters at the previous rechoke, to measure the last interval only.
    received_before: u64,
    sent_before: u64,
    connected: Instant,
    /// When the remote started to unchoke us, hold what we want and send nothing.
    quiet_since: Option<Instant>,
    snubbed: bool,
    /// When it last held a slot (round robin while seeding).
    last_unchoked: Option<Instant>,
}

/// The choker of one peer.
pub struct Choker<K> {
    settings: Settings,
    remotes: HashMap<K, Remote>,
    unchoked: HashSet<K>,
    /// The preferred neighbours of the last decision (ties keep them).
    preferred: HashSet<K>,
    optimistic: Option<K>,
    last_rotation: Option<Instant>,
    last_rechoke: Option<Instant>,
}

impl<K: Copy + Eq + Hash + Ord + fmt::Debug> Choker<K> {
    pub fn new(settings: Settings) -> Choker<K> {
        Choker {
            settings,
            remotes: HashMap::new(),
            unchoked: HashSet::new(),
            preferred: HashSet::new(),
            optimistic: None,
            last_rotation: None,
            last_rechoke: None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The remotes unchoked now.
    pub fn unchoked(&self) -> impl Iterator<Item = (K, SocketAddr)> + '_ {
        self.unchoked.iter().map(|id| (*id, self.remotes[id].addr))
    }

    /// The remote holding the optimistic slot, if any.
    pub fn optimistic(&self) -> Option<K> {
        self.optimistic
    }

    /// A connection finished its handshake.
    pub fn connected(&mut self, id: K, addr: SocketAddr, now: Instant) {
        self.remotes.insert(
            id,
            Remote {
                addr,
                interested: false,
                received_before: 0,
                sent_before: 0,
                connected: now,
                quiet_since: None,
                snubbed: false,
                last_unchoked: None,
            },
        );
    }

    /// A connection closed: its slot is free from the next decision on.
    pub fn disconnected(&mut self, id: K) {
        self.remotes.remove(&id);
        self.unchoked.remove(&id);
        self.preferred.remove(&id);
        if self.optimistic == Some(id) {
            self.optimistic = None;
        }
    }

    /// The remote said `interested` (true) or `not interested` (false). Returns `Some(true)`
    /// to unchoke it now, `Some(false)` to choke it now, `None` to change nothing.
    pub fn interest(&mut self, id: K, interested: bool, now: Instant) -> Option<bool> {
        let remote = self.remotes.get_mut(&id)?;
        remote.interested = interested;
        if self.settings.free_ride {
            return None;
        }
        let unchoked = self.unchoked.contains(&id);
        if !interested {
            // Unchoke-all never chokes; otherwise the slot goes back to the pool.
            if unchoked && self.settings.policy == Policy::TitForTat {
                self.unchoked.remove(&id);
                if self.optimistic == Some(id) {
                    self.optimistic = None;
                }
                return Some(false);
            }
            return None;
        }
        let free = match self.settings.policy {
            Policy::UnchokeAll => true,
            Policy::TitForTat => self.preferred_count() < self.settings.slots,
        };
        if unchoked || !free {
            return None;
        }
        if let Some(remote) = self.remotes.get_mut(&id) {
            remote.last_unchoked = Some(now);
        }
        self.unchoked.insert(id);
        Some(true)
    }

    /// Unchoked remotes other than the optimistic one.
    fn preferred_count(&self) -> usize {
        let optimistic = self.optimistic.filter(|id| self.unchoked.contains(id));
        self.unchoked.len() - usize::from(optimistic.is_some())
    }

    /// The periodic decision (every `--rechoke-interval`). `seeding`: we hold every piece.
    /// `observed` lists every open connection; remotes it omits are left as they are.
    pub fn rechoke<R: Rng + ?Sized>(
        &mut self,
        now: Instant,
        seeding: bool,
        observed: &[Observed<K>],
        rng: &mut R,
    ) -> Decision<K> {
        let elapsed = self
            .last_rechoke
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        self.last_rechoke = Some(now);
        let snubbed = self.measure(now, observed);
        // Per remote: bytes over the last interval (received while leeching, sent while
        // seeding), then the counters move on.
        let mut rates: HashMap<K, u64> = HashMap::new();
        for seen in observed {
            if let Some(remote) = self.remotes.get_mut(&seen.id) {
                let bytes = if seeding {
                    seen.sent.saturating_sub(remote.sent_before)
                } else {
                    seen.received.saturating_sub(remote.received_before)
                };
                rates.insert(seen.id, per_second(bytes, elapsed));
                remote.received_before = seen.received;
                remote.sent_before = seen.sent;
            }
        }
        let wanted: HashSet<K> = match (self.settings.free_ride, self.settings.policy) {
            (true, _) => {
                self.optimistic = None;
                HashSet::new()
            }
            (false, Policy::UnchokeAll) => self.interested().collect(),
            (false, Policy::TitForTat) => {
                // A finished optimistic term frees its holder to compete for a preferred slot.
                let previous = match self.optimistic_due(now) {
                    true => self.optimistic.take(),
                    false => None,
                };
                let preferred = if seeding {
                    self.round_robin(rng)
                } else {
                    self.fastest(&rates, rng)
                };
                // An optimistic unchoke that earned a preferred slot is promoted, and the
                // optimistic slot goes to someone else.
                if self.optimistic.is_some_and(|id| preferred.contains(&id)) {
                    self.optimistic = None;
                }
                let new_optimistic = match self.optimistic {
                    Some(_) => None,
                    None => self.choose_optimistic(now, &preferred, previous, rng),
                };
                let mut wanted: HashSet<K> = preferred.iter().copied().collect();
                wanted.extend(self.optimistic);
                return self.apply(now, wanted, preferred, &rates, new_optimistic, snubbed);
            }
        };
        self.apply(now, wanted, Vec::new(), &rates, None, snubbed)
    }

    /// Updates interest and snubbing from `observed`; returns who began snubbing us now.
    fn measure(&mut self, now: Instant, observed: &[Observed<K>]) -> Vec<SocketAddr> {
        let mut began = Vec::new();
        for seen in observed {
            let Some(remote) = self.remotes.get_mut(&seen.id) else {
                continue;
            };
            remote.interested = seen.interested;
            remote.addr = seen.addr;
            let got_block = seen.received > remote.received_before;
            if seen.choking_us || !seen.has_wanted || got_block {
                remote.quiet_since = None;
                remote.snubbed = false;
                continue;
            }
            let since = *remote.quiet_since.get_or_insert(now);
            let snubbed = now.saturating_duration_since(since) >= self.settings.snub_timeout;
            if snubbed && !remote.snubbed {
                began.push(remote.addr);
            }
            remote.snubbed = snubbed;
        }
        began
    }

    fn interested(&self) -> impl Iterator<Item = K> + '_ {
        self.remotes
            .iter()
            .filter(|(_, r)| r.interested)
            .map(|(id, _)| *id)
    }

    /// Turns the wanted set into choke and unchoke messages and remembers it.
    fn apply(
        &mut self,
        now: Instant,
        wanted: HashSet<K>,
        preferred: Vec<K>,
        rates: &HashMap<K, u64>,
        new_optimistic: Option<(K, SocketAddr)>,
        snubbed: Vec<SocketAddr>,
    ) -> Decision<K> {
        let mut unchoke: Vec<K> = wanted.difference(&self.unchoked).copied().collect();
        let mut choke: Vec<K> = self.unchoked.difference(&wanted).copied().collect();
        unchoke.sort();
        choke.sort();
        for id in &wanted {
            if let Some(remote) = self.remotes.get_mut(id) {
                remote.last_unchoked = Some(now);
            }
        }
        self.unchoked = wanted;
        self.preferred = preferred.iter().copied().collect();
        let preferred = preferred
            .into_iter()
            .map(|id| Ranked {
                id,
                addr: self.remotes[&id].addr,
                rate: rates.get(&id).copied().unwrap_or(0),
            })
            .collect();
        Decision {
            preferred,
            new_optimistic,
            snubbed,
            unchoke,
            choke,
        }
    }
}

/// `bytes` over `elapsed`, per second (the bytes themselves when no time has passed).
fn per_second(bytes: u64, elapsed: Duration) -> u64 {
    let millis = elapsed.as_millis();
    if millis == 0 {
        return bytes;
    }
    u64::try_from(u128::from(bytes) * 1000 / millis).unwrap_or(u64::MAX)
}

/// `127.0.0.1:7002 (812 KiB/s), 127.0.0.1:7004 (640 KiB/s)`, the words of the log line.
pub struct RankedList<'a, K>(pub &'a [Ranked<K>]);

impl<K> fmt::Display for RankedList<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, ranked) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} ({} KiB/s)", ranked.addr, ranked.rate / 1024)?;
        }
        Ok(())
    }
}

mod select;

#[cfg(test)]
mod tests;
