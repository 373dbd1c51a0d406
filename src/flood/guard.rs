//! A flood peer's two defences against reflection and storms, as pure bookkeeping over times
//! given by the caller (no sockets, no clock of its own, so the tests drive time):
//!
//! * [`SeenQueries`]: the queries seen lately, keyed on the client's address and port and the
//!   asked ids. A copy seen again within the window (`--duplicate-window`, default
//!   [`DUPLICATE_WINDOW`]) is a duplicate of the same flood
//!   (another path through the overlay) and is dropped, unless it carries a higher TTL than any
//!   copy seen, in which case it is forwarded but not answered again, so the filter never
//!   shortens a flood's reach. After the window the same question counts as new: that is a
//!   client resending after a loss, and it must be answered. The window is shorter than any
//!   sane client retransmission (ours defaults to 1 s; the loss test resends every 30 ms).
//! * [`ClientBudget`]: a token bucket per client IPv4 address, in bytes: every datagram a peer
//!   sends because of a client (CHUNKS_INFO and RESPONSE to it, QUERY flooded on its behalf)
//!   costs its size plus [`DATAGRAM_OVERHEAD`]. An empty bucket means the datagram is not sent.
//!
//! What it does not do: authenticate anyone (the protocol carries no secret; a spoofed source
//! address is indistinguishable from a real one), or change a byte on the wire. Both tables are
//! bounded ([`SEEN_CAPACITY`], [`BUDGET_CAPACITY`] entries), so a stream of distinct spoofed
//! queries or addresses costs memory once, not without end.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

/// How long a query stays "seen" by default: copies of one flood arrive within microseconds to a few
/// milliseconds of each other on a LAN, a client's resend comes a retransmission interval later.
pub const DUPLICATE_WINDOW: Duration = Duration::from_millis(20);
/// Most queries remembered at once; the oldest is forgotten first.
pub const SEEN_CAPACITY: usize = 4096;
/// Most client addresses with a bucket at once.
pub const BUDGET_CAPACITY: usize = 4096;
/// IPv4 and UDP headers: what a datagram costs on the wire beyond its payload.
pub const DATAGRAM_OVERHEAD: u64 = 28;
pub use crate::defaults::CLIENT_RATE_KIB as DEFAULT_CLIENT_RATE_KIB;
/// A bucket holds this many seconds of its rate: a client fetching a whole batch of chunks at
/// once (512 chunks of 1 KiB at most per GET) is served without waiting.
pub const BURST_SECONDS: u64 = 4;

/// What to do with a QUERY (or HELLO) just received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// First copy (or a resend after the window): answer it and flood it.
    New,
    /// A copy with a higher TTL than any seen within the window: flood it, do not answer again.
    ForwardOnly,
    /// A duplicate: neither answer nor flood.
    Duplicate,
}

struct Seen {
    first: Instant,
    best_ttl: u16,
}

/// The queries seen within the window.
pub struct SeenQueries {
    window: Duration,
    /// Keyed hashing (random per process), so a sender cannot craft colliding keys.
    hasher: RandomState,
    entries: HashMap<(SocketAddrV4, u64), Seen>,
    /// Keys in the order first seen, to expire and evict the oldest.
    order: VecDeque<(Instant, (SocketAddrV4, u64))>,
    capacity: usize,
}

impl SeenQueries {
    /// Remembers each question for `window`, at most [`SEEN_CAPACITY`] at once.
    pub fn new(window: Duration) -> Self {
        Self::with_capacity(window, SEEN_CAPACITY)
    }

    pub fn with_capacity(window: Duration, capacity: usize) -> Self {
        SeenQueries {
            window,
            hasher: RandomState::new(),
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records a copy of the question `(client, ids)` arriving with `ttl` at `now`.
    pub fn check(&mut self, client: SocketAddrV4, ids: &[u16], ttl: u16, now: Instant) -> Verdict {
        self.expire(now);
        let key = (client, self.hasher.hash_one(ids));
        if let Some(seen) = self.entries.get_mut(&key) {
            if ttl > seen.best_ttl {
                seen.best_ttl = ttl;
                return Verdict::ForwardOnly;
            }
            return Verdict::Duplicate;
        }
        if self.entries.len() >= self.capacity
            && let Some((_, oldest)) = self.order.pop_front()
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(
            key,
            Seen {
                first: now,
                best_ttl: ttl,
            },
        );
        self.order.push_back((now, key));
        Verdict::New
    }

    /// Forgets what was first seen a window or more before `now`.
    fn expire(&mut self, now: Instant) {
        while let Some((first, key)) = self.order.front().copied() {
            if now.saturating_duration_since(first) < self.window {
                break;
            }
            self.order.pop_front();
            if self.entries.get(&key).is_some_and(|s| s.first == first) {
                self.entries.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

struct Bucket {
    tokens: u64,
    updated: Instant,
    /// Datagrams refused since the bucket last ran dry (reported when it recovers).
    refused: u64,
}

/// What [`ClientBudget::spend`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Send it.
    Allowed,
    /// Send it; the client had been over budget and `refused` datagrams were not sent meanwhile.
    Recovered { refused: u64 },
    /// Do not send it; the first refusal since the bucket was last able to pay (log it).
    FirstRefused,
    /// Do not send it; refused again (already logged).
    Refused,
}

/// A token bucket of bytes per client IPv4 address.
pub struct ClientBudget {
    /// Bytes per second; 0 means unlimited.
    rate: u64,
    burst: u64,
    buckets: HashMap<Ipv4Addr, Bucket>,
    capacity: usize,
}

impl ClientBudget {
    /// `rate` bytes per second per address (0: no limit), a burst of [`BURST_SECONDS`] of it.
    pub fn new(rate: u64) -> Self {
        Self::with_capacity(rate, BUDGET_CAPACITY)
    }

    pub fn with_capacity(rate: u64, capacity: usize) -> Self {
        ClientBudget {
            rate,
            burst: rate.saturating_mul(BURST_SECONDS),
            buckets: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Pays for a datagram of `payload` bytes sent because of `client`, at `now`.
    pub fn spend(&mut self, client: Ipv4Addr, payload: usize, now: Instant) -> Spend {
        if self.rate == 0 {
            return Spend::Allowed;
        }
        if !self.buckets.contains_key(&client) && self.buckets.len() >= self.capacity {
            self.make_room(now);
        }
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
            refused: 0,
        });
        let elapsed = now.saturating_duration_since(bucket.updated);
        let earned = (elapsed.as_micros().min(u128::from(u64::MAX / rate.max(1))) as u64)
            .saturating_mul(rate)
            / 1_000_000;
        if earned > 0 {
            bucket.tokens = bucket.tokens.saturating_add(earned).min(burst);
            bucket.updated = now;
        }
        let cost = payload as u64 + DATAGRAM_OVERHEAD;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            if bucket.refused > 0 {
                let refused = std::mem::take(&mut bucket.refused);
                return Spend::Recovered { refused };
            }
            return Spend::Allowed;
        }
        bucket.refused += 1;
        if bucket.refused == 1 {
            Spend::FirstRefused
        } else {
            Spend::Refused
        }
    }

    /// Forgets buckets that have refilled (nothing owed: forgetting them changes nothing), and
    /// if none has, the one idle longest.
    fn make_room(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets.retain(|_, b| {
            let idle = now.saturating_duration_since(b.updated).as_secs_f64();
            (b.tokens as f64 + idle * rate as f64) < burst as f64
        });
        if self.buckets.len() >= self.capacity
            && let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.updated)
                .map(|(ip, _)| *ip)
        {
            self.buckets.remove(&oldest);
        }
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 7), port)
    }

    #[test]
    fn a_copy_within_the_window_is_a_duplicate_and_a_resend_after_it_is_new() {
        let mut seen = SeenQueries::new(DUPLICATE_WINDOW);
        let t0 = Instant::now();
        assert_eq!(seen.check(client(1), &[5, 6], 3, t0), Verdict::New);
        let soon = t0 + Duration::from_millis(2);
        assert_eq!(seen.check(client(1), &[5, 6], 3, soon), Verdict::Duplicate);
        assert_eq!(seen.check(client(1), &[5, 6], 2, soon), Verdict::Duplicate);
        // Another port, other ids: other questions.
        assert_eq!(seen.check(client(2), &[5, 6], 3, soon), Verdict::New);
        assert_eq!(seen.check(client(1), &[5], 3, soon), Verdict::New);
        // A copy that came a shorter way carries more TTL: flooded on, not answered again.
        assert_eq!(
            seen.check(client(1), &[5, 6], 4, soon),
            Verdict::ForwardOnly
        );
        assert_eq!(seen.check(client(1), &[5, 6], 4, soon), Verdict::Duplicate);
        // The client resends after its retransmission interval: answered again.
        let resend = t0 + DUPLICATE_WINDOW;
        assert_eq!(seen.check(client(1), &[5, 6], 3, resend), Verdict::New);
    }

    #[test]
    fn the_table_stays_within_its_capacity_forgetting_the_oldest() {
        let mut seen = SeenQueries::with_capacity(DUPLICATE_WINDOW, 3);
        let t0 = Instant::now();
        for id in 0..10u16 {
            assert_eq!(seen.check(client(1), &[id], 3, t0), Verdict::New);
            assert!(seen.len() <= 3);
        }
        assert_eq!(seen.check(client(1), &[9], 3, t0), Verdict::Duplicate);
        assert_eq!(seen.check(client(1), &[0], 3, t0), Verdict::New);
        seen.check(client(1), &[99], 3, t0 + DUPLICATE_WINDOW);
        assert_eq!(seen.len(), 1, "everything older than the window expired");
    }

    #[test]
    fn a_bucket_pays_its_burst_then_its_rate_and_reports_the_refusals() {
        let ip = Ipv4Addr::new(10, 0, 0, 7);
        let mut budget = ClientBudget::new(1000); // 1000 B/s, 4000 B burst
        let t0 = Instant::now();
        // 40 datagrams of 72 + 28 = 100 bytes fit the burst, the 41st does not.
        for _ in 0..40 {
            assert_eq!(budget.spend(ip, 72, t0), Spend::Allowed);
        }
        assert_eq!(budget.spend(ip, 72, t0), Spend::FirstRefused);
        assert_eq!(budget.spend(ip, 72, t0), Spend::Refused);
        // Another address has its own bucket.
        assert_eq!(budget.spend(Ipv4Addr::LOCALHOST, 72, t0), Spend::Allowed);
        // 100 ms later 100 bytes were earned: one more datagram.
        let later = t0 + Duration::from_millis(100);
        assert_eq!(budget.spend(ip, 72, later), Spend::Recovered { refused: 2 });
        assert_eq!(budget.spend(ip, 72, later), Spend::FirstRefused);
        // Unlimited.
        let mut free = ClientBudget::new(0);
        for _ in 0..10_000 {
            assert_eq!(free.spend(ip, 1024, t0), Spend::Allowed);
        }
    }

    #[test]
    fn buckets_are_bounded_and_a_refilled_one_is_forgotten_first() {
        let mut budget = ClientBudget::with_capacity(1000, 2);
        let t0 = Instant::now();
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        budget.spend(a, 3900, t0); // a owes
        budget.spend(b, 10, t0);
        let later = t0 + Duration::from_millis(100); // b has refilled, a has not
        budget.spend(Ipv4Addr::new(10, 0, 0, 3), 10, later);
        assert_eq!(budget.len(), 2);
        // a still owes: its bucket was kept.
        assert_eq!(budget.spend(a, 500, later), Spend::FirstRefused);
    }
}
