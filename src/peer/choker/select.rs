//! How the choker picks: the preferred neighbours of a leeching peer (the fastest of the last
//! interval), a seed's turns (round robin), and the optimistic unchoke (at random, newcomers
//! weighted). Pure choices over the choker's memory; `choker.rs` decides when to make them and
//! turns them into choke and unchoke messages.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::Instant;

use rand::Rng;
use rand::RngExt;

use super::{Choker, NEWCOMER_WEIGHT};

impl<K: Copy + Eq + Hash + Ord + fmt::Debug> Choker<K> {
    /// Remotes that may hold a preferred slot: interested and not snubbing us. Sorted so that
    /// random tie-breaks are repeatable.
    pub(super) fn candidates(&self) -> Vec<K> {
        let mut ids: Vec<K> = self
            .remotes
            .iter()
            .filter(|(_, r)| r.interested && !r.snubbed)
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    /// Leeching: the `slots` candidates that sent us the most over the last interval.
    pub(super) fn fastest<R: Rng + ?Sized>(&self, rates: &HashMap<K, u64>, rng: &mut R) -> Vec<K> {
        let mut ranked: Vec<(u64, bool, u64, K)> = self
            .candidates()
            .into_iter()
            .map(|id| {
                let rate = rates.get(&id).copied().unwrap_or(0);
                (rate, self.preferred.contains(&id), rng.random::<u64>(), id)
            })
            .collect();
        // Fastest first; among equals, the partners of the last decision, then at random.
        ranked.sort_by_key(|&(rate, partner, tie, _)| std::cmp::Reverse((rate, partner, tie)));
        ranked
            .into_iter()
            .take(self.settings.slots)
            .map(|(.., id)| id)
            .collect()
    }

    /// Seeding: the `slots` candidates that have waited longest since they last held a slot.
    pub(super) fn round_robin<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<K> {
        let mut ranked: Vec<(Option<Instant>, u64, K)> = self
            .candidates()
            .into_iter()
            .map(|id| (self.remotes[&id].last_unchoked, rng.random::<u64>(), id))
            .collect();
        // `None` (never unchoked) sorts first: the longest wait of all.
        ranked.sort();
        ranked
            .into_iter()
            .take(self.settings.slots)
            .map(|(.., id)| id)
            .collect()
    }

    /// Whether the optimistic slot is free or its term is over.
    pub(super) fn optimistic_due(&self, now: Instant) -> bool {
        let holder_wants = self
            .optimistic
            .is_some_and(|id| self.remotes.get(&id).is_some_and(|r| r.interested));
        let term_over = self.last_rotation.is_none_or(|at| {
            now.saturating_duration_since(at) >= self.settings.optimistic_interval
        });
        !holder_wants || term_over
    }

    /// Gives the optimistic slot to a random interested remote outside `preferred`,
    /// remotes connected since the previous rotation weighted [`NEWCOMER_WEIGHT`] times. The
    /// `previous` holder is passed over when anyone else qualifies, so the slot rotates.
    pub(super) fn choose_optimistic<R: Rng + ?Sized>(
        &mut self,
        now: Instant,
        preferred: &[K],
        previous: Option<K>,
        rng: &mut R,
    ) -> Option<(K, SocketAddr)> {
        let previous_rotation = self.last_rotation;
        let mut pool: Vec<(K, u32)> = self
            .remotes
            .iter()
            .filter(|(id, r)| r.interested && !preferred.contains(id))
            .map(|(id, r)| {
                let newcomer = previous_rotation.is_none_or(|at| r.connected >= at);
                (*id, if newcomer { NEWCOMER_WEIGHT } else { 1 })
            })
            .collect();
        pool.sort();
        if pool.iter().any(|(id, _)| Some(*id) != previous) {
            pool.retain(|(id, _)| Some(*id) != previous);
        }
        let chosen = weighted_choice(&pool, rng)?;
        self.optimistic = Some(chosen);
        self.last_rotation = Some(now);
        Some((chosen, self.remotes[&chosen].addr))
    }
}

/// One entry of `pool` at random, each as likely as its weight.
fn weighted_choice<K: Copy, R: Rng + ?Sized>(pool: &[(K, u32)], rng: &mut R) -> Option<K> {
    let total: u32 = pool.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut ticket = rng.random_range(0..total);
    for (id, weight) in pool {
        if ticket < *weight {
            return Some(*id);
        }
        ticket -= weight;
    }
    None
}
