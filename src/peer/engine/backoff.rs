//! Back-off from peers whose connections keep failing: refused, unreachable, a bad handshake,
//! or closed before anything useful came through. Each failure in a row doubles the rest
//! before the next attempt ([`BACKOFF_FIRST`], 2x, 4x ... capped at [`BACKOFF_MAX`]); a
//! connection that brought data (a bitfield, a `have`, a piece) wipes the slate.
//!
//! Per address (the listening address the tracker lists: only outgoing connections have one).
//! Pure bookkeeping with a clock passed in; no sockets. One log line per step.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use log::info;

pub use crate::defaults::{BACKOFF_FIRST, BACKOFF_MAX};

/// One address's failures in a row, and when it may be tried again.
#[derive(Debug, Clone, Copy)]
struct Step {
    failures: u32,
    until: Instant,
}

/// The addresses resting after failed connections.
#[derive(Debug, Default)]
pub struct Backoff {
    peers: HashMap<SocketAddr, Step>,
}

/// The rest after `failures` failures in a row: 1 s, 2 s, 4 s ... at most [`BACKOFF_MAX`].
pub fn delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_FIRST
        .saturating_mul(1 << doublings)
        .min(BACKOFF_MAX)
}

impl Backoff {
    /// A connection to `addr` failed (`why`): it rests one step longer than last time.
    pub fn failed(&mut self, addr: SocketAddr, why: &str, now: Instant) -> Duration {
        // Forget the long-past failures of addresses nobody listed again (bounded memory).
        if self.peers.len() > 1024 {
            self.peers.retain(|_, s| s.until + BACKOFF_MAX > now);
        }
        let step = self.peers.entry(addr).or_insert(Step {
            failures: 0,
            until: now,
        });
        step.failures += 1;
        let rest = delay(step.failures);
        step.until = now + rest;
        info!(
            "{addr}: connection failed ({why}), {} in a row; next attempt in {}s",
            step.failures,
            rest.as_secs()
        );
        rest
    }

    /// A connection to `addr` brought data: its failures are forgotten.
    pub fn succeeded(&mut self, addr: SocketAddr) {
        if self.peers.remove(&addr).is_some_and(|s| s.failures > 1) {
            info!("{addr}: connection works again; back-off reset");
        }
    }

    /// Whether `addr` must not be connected to yet.
    pub fn is_resting(&self, addr: SocketAddr, now: Instant) -> bool {
        self.peers.get(&addr).is_some_and(|s| s.until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 7001))
    }

    #[test]
    fn the_rest_doubles_with_each_failure_up_to_the_cap() {
        let steps: Vec<u64> = (1..=9).map(|n| delay(n).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn a_failed_address_rests_and_a_success_resets_it() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        assert!(!b.is_resting(addr(), t0));
        assert_eq!(b.failed(addr(), "refused", t0), Duration::from_secs(1));
        assert!(b.is_resting(addr(), t0 + Duration::from_millis(999)));
        assert!(!b.is_resting(addr(), t0 + Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(b.failed(addr(), "refused", t1), Duration::from_secs(2));
        assert!(b.is_resting(addr(), t1 + Duration::from_millis(1999)));
        b.succeeded(addr());
        assert!(!b.is_resting(addr(), t1));
        assert_eq!(b.failed(addr(), "refused", t1), Duration::from_secs(1));
    }
}
