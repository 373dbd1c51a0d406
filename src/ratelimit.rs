//! Rate limits (`--upload-rate`, `--download-rate`): a token bucket that says how long to wait
//! before moving `n` more bytes.
//!
//! What it does: [`TokenBucket`] is pure arithmetic over an injected clock (a [`Duration`]
//! since some origin), so tests give it times and compare the waits it returns. Tokens are
//! bytes; they refill at `rate` bytes per second up to `burst`. [`TokenBucket::take`] always
//! charges the bytes, even when the bucket runs into debt, and returns how long the caller must
//! wait before sending them: the bytes are reserved, so callers that share a bucket are served in
//! the order they asked and the long-run rate is exactly `rate`.
//!
//! [`Limiter`] wraps one bucket in a `Mutex` with a real clock, so every connection of a peer
//! process shares one bucket per direction. The lock is held only for the arithmetic.
//!
//! On the download side a block is charged after it is read, so beyond the burst one socket
//! read's worth (the frame reader's 64 KiB buffer) may also arrive before the first wait.
//!
//! What it does not: no sockets, no sleeping, no threads. A connection asks for the wait, lets
//! go of the lock, and decides itself how to wait (it keeps reading, sending keep-alives and
//! serving other work meanwhile: `peer/connection.rs`).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The smallest burst: two 16 KiB blocks, so a whole block is never split into waits.
pub const MIN_BURST: u64 = 32 * 1024;
const NANOS: i128 = 1_000_000_000;

/// A token bucket on an injected clock. Tokens are kept in byte-nanoseconds (bytes times 10^9)
/// so refills and waits are exact integers.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    burst: u64,
    /// Bytes x 10^9; negative while bytes already granted are not yet paid for.
    tokens: i128,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket: `rate` bytes per second (at least 1), at most `burst` bytes at once.
    pub fn new(rate: u64, burst: u64) -> TokenBucket {
        let burst = burst.max(1);
        TokenBucket {
            rate: rate.max(1),
            burst,
            tokens: i128::from(burst) * NANOS,
            last: Duration::ZERO,
        }
    }

    /// The default burst for `rate`: a tenth of a second's worth, at least [`MIN_BURST`].
    pub fn default_burst(rate: u64) -> u64 {
        (rate / 10).max(MIN_BURST)
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Charges `n` bytes at time `now`; returns how long to wait before sending them (zero when
    /// the bucket held enough). A `now` earlier than a previous one counts as that one.
    pub fn take(&mut self, n: u64, now: Duration) -> Duration {
        if now > self.last {
            let elapsed = (now - self.last).as_nanos() as i128;
            let cap = i128::from(self.burst) * NANOS;
            self.tokens = (self.tokens + elapsed * i128::from(self.rate)).min(cap);
            self.last = now;
        }
        self.tokens -= i128::from(n) * NANOS;
        if self.tokens >= 0 {
            return Duration::ZERO;
        }
        let deficit = -self.tokens;
        let rate = i128::from(self.rate);
        let nanos = (deficit + rate - 1) / rate; // round up: never early
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// One bucket shared by every connection of a process, on the real clock.
#[derive(Debug)]
pub struct Limiter {
    origin: Instant,
    bucket: Mutex<TokenBucket>,
}

impl Limiter {
    /// `None` for a rate of 0 (unlimited).
    pub fn new(rate: u64) -> Option<Limiter> {
        (rate > 0).then(|| Limiter {
            origin: Instant::now(),
            bucket: Mutex::new(TokenBucket::new(rate, TokenBucket::default_burst(rate))),
        })
    }

    /// Charges `n` bytes now; returns how long to wait before they may go. The lock is let go
    /// before this returns, so the caller never waits holding it.
    pub fn take(&self, n: u64) -> Duration {
        let now = self.origin.elapsed();
        self.bucket
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(n, now)
    }

    pub fn rate(&self) -> u64 {
        self.bucket
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_bucket_lets_a_burst_through_then_charges_the_rate() {
        // 1000 bytes/s, burst 500.
        let mut bucket = TokenBucket::new(1000, 500);
        let golden = [
            // (time, bytes, wait)
            (0, 300, 0),   // 200 left
            (0, 200, 0),   // empty
            (0, 100, 100), // 100 in debt: 0.1 s
            (100, 100, 100),
            (1000, 100, 0), // refilled to 500 (capped), 400 left
            (1000, 400, 0),
            (1000, 1000, 1000), // a take larger than the burst is still allowed, paid in time
            (1500, 0, 500),
        ];
        for (at, bytes, wait) in golden {
            assert_eq!(
                bucket.take(bytes, ms(at)),
                ms(wait),
                "take({bytes}) at {at} ms"
            );
        }
    }

    #[test]
    fn waits_add_up_to_the_rate_for_several_takers() {
        // Two connections sharing a bucket, each taking 16 KiB blocks as soon as allowed.
        let mut bucket = TokenBucket::new(64 * 1024, 16 * 1024);
        let mut now = Duration::ZERO;
        let mut sent = 0u64;
        for _ in 0..64 {
            let wait = bucket.take(16 * 1024, now);
            now += wait;
            sent += 16 * 1024;
        }
        // 64 blocks = 1 MiB at 64 KiB/s: 16 s, minus the one block the full bucket held.
        assert_eq!(sent, 1 << 20);
        assert_eq!(now, Duration::from_secs(15) + ms(750));
    }

    #[test]
    fn the_clock_going_backwards_is_ignored_and_waits_round_up() {
        let mut bucket = TokenBucket::new(3, 1);
        assert_eq!(bucket.take(1, ms(1000)), Duration::ZERO);
        assert_eq!(bucket.take(1, ms(500)), Duration::from_nanos(333_333_334));
    }

    #[test]
    fn the_default_burst_is_a_tenth_of_a_second_but_at_least_two_blocks() {
        assert_eq!(TokenBucket::default_burst(1000), MIN_BURST);
        assert_eq!(TokenBucket::default_burst(10 << 20), 1 << 20);
    }

    #[test]
    fn a_zero_rate_is_unlimited() {
        assert!(Limiter::new(0).is_none());
        let limiter = Limiter::new(1 << 20).expect("limited");
        assert_eq!(limiter.take(1000), Duration::ZERO);
        assert_eq!(limiter.rate(), 1 << 20);
    }
}
