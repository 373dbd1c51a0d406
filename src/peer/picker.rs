//! Rarest-first piece selection ([`pick_spread`], the one the engine calls): from what the
//! holders hold, count the holders of each missing piece, take the rarest (ties broken at
//! random), and give it to the least loaded of its holders (ties broken at random).
//! [`Strategy::Random`] (`peer --picker random`) ignores the counts instead: any missing piece
//! some usable holder has, in random order, so a class can compare the two.
//!
//! A limit per holder (`--per-peer`): a piece whose holders are all busy with that many of our
//! fetches goes to the next rarest piece instead, so with rate-limited peers every holder's
//! upload is kept busy rather than one queue growing long (a peer that fetches everything from
//! the seed leaves the other peers' uploads idle).
//!
//! Pure policy over plain data; no sockets, no clock. The randomness comes in as an argument so
//! tests can seed it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::net::SocketAddr;

use rand::Rng;
use rand::RngExt;
#[cfg(test)]
use rand::seq::IndexedRandom;

use crate::pieces::PieceSet;

/// Which missing piece comes first (`peer --picker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The piece the fewest usable holders have (BitTorrent's rarest first).
    #[default]
    Rarest,
    /// Any piece some usable holder has, at random.
    Random,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Rarest => "rarest",
            Strategy::Random => "random",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Strategy, String> {
        match text.trim() {
            "rarest" => Ok(Strategy::Rarest),
            "random" => Ok(Strategy::Random),
            other => Err(format!("`{other}` is not a picker: rarest or random")),
        }
    }
}

/// A peer from the tracker's list, with the pieces it reported.
#[derive(Debug, Clone)]
pub struct Holder {
    pub addr: SocketAddr,
    pub pieces: PieceSet,
}

/// One piece to fetch, and from whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub index: u32,
    pub from: SocketAddr,
}

/// What the picker must steer around.
#[derive(Debug, Default)]
pub struct Avoid {
    /// Pieces being fetched right now.
    pub in_flight: HashSet<u32>,
    /// Holders that already failed a given piece (it is fetched from another if one exists).
    pub failed: HashMap<u32, HashSet<SocketAddr>>,
    /// Holders never used again (they sent data that failed its hash twice).
    pub banned: HashSet<SocketAddr>,
}

/// How many of the usable holders have each piece of `wanted`.
fn availability(wanted: &PieceSet, holders: &[Holder], avoid: &Avoid) -> Vec<(u32, usize)> {
    let usable: Vec<&PieceSet> = holders
        .iter()
        .filter(|h| !avoid.banned.contains(&h.addr))
        .map(|h| &h.pieces)
        .collect();
    // A bit per piece rather than a hash lookup per wanted piece: rounds run after every
    // completed piece, each over every missing piece.
    let mut in_flight = PieceSet::empty(wanted.len());
    for &index in &avoid.in_flight {
        in_flight.insert(index);
    }
    wanted
        .iter()
        .filter(|&index| !in_flight.contains(index))
        .map(|index| (index, usable.iter().filter(|p| p.contains(index)).count()))
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// The held pieces of `wanted` in rarest-first order, as a min-heap keyed (holders, random
/// tie-breaker, index): building it is linear and each piece taken costs a logarithm, where
/// sorting every candidate would cost `n log n` each round, and a round usually takes a few
/// pieces out of thousands. With [`Strategy::Random`] every count weighs the same, so the
/// random key alone orders them.
fn rarest_first<R: Rng + ?Sized>(
    wanted: &PieceSet,
    holders: &[Holder],
    avoid: &Avoid,
    strategy: Strategy,
    rng: &mut R,
) -> BinaryHeap<Reverse<(usize, u64, u32)>> {
    availability(wanted, holders, avoid)
        .into_iter()
        .map(|(index, count)| {
            let weight = match strategy {
                Strategy::Rarest => count,
                Strategy::Random => 0,
            };
            Reverse((weight, rng.random::<u64>(), index))
        })
        .collect::<Vec<_>>()
        .into()
}

/// Chooses up to `slots` pieces among `wanted`, rarest first, each with a random holder and
/// no limit per holder: the seed's picker, kept for the tests that check rarest-first order
/// on its own ([`pick_spread`] is what the engine uses).
#[cfg(test)]
fn pick<R: Rng + ?Sized>(
    wanted: &PieceSet,
    holders: &[Holder],
    avoid: &Avoid,
    slots: usize,
    rng: &mut R,
) -> Vec<Pick> {
    // Rarest first; a random key breaks ties so equally rare pieces spread over the swarm.
    let mut candidates = rarest_first(wanted, holders, avoid, Strategy::Rarest, rng);
    std::iter::from_fn(|| candidates.pop())
        .take(slots)
        .filter_map(|Reverse((_, _, index))| {
            let usable: Vec<SocketAddr> = holders
                .iter()
                .filter(|h| !avoid.banned.contains(&h.addr) && h.pieces.contains(index))
                .map(|h| h.addr)
                .collect();
            let failed = avoid.failed.get(&index);
            let fresh: Vec<SocketAddr> = usable
                .iter()
                .copied()
                .filter(|addr| failed.is_none_or(|f| !f.contains(addr)))
                .collect();
            // Every holder failed this piece once: try them again rather than never.
            let pool = if fresh.is_empty() { &usable } else { &fresh };
            pool.choose(rng).map(|&from| Pick { index, from })
        })
        .collect()
}

/// Chooses up to `slots` pieces among `wanted`, rarest first (or at random, by `strategy`).
/// Each holder serves at most
/// `per_holder` fetches at once, counting the `load` it already has; among the holders of a
/// piece, the least loaded wins (ties at random). Pieces whose holders are all full are
/// skipped.
// The engine's one call site names each argument; a struct for them would only move the list.
#[allow(clippy::too_many_arguments)]
pub fn pick_spread<R: Rng + ?Sized>(
    wanted: &PieceSet,
    holders: &[Holder],
    avoid: &Avoid,
    slots: usize,
    per_holder: usize,
    load: &mut HashMap<SocketAddr, usize>,
    strategy: Strategy,
    rng: &mut R,
) -> Vec<Pick> {
    let mut candidates = rarest_first(wanted, holders, avoid, strategy, rng);
    let mut picks = Vec::new();
    while picks.len() < slots {
        let Some(Reverse((_, _, index))) = candidates.pop() else {
            break;
        };
        let failed = avoid.failed.get(&index);
        let usable = |h: &&Holder| !avoid.banned.contains(&h.addr) && h.pieces.contains(index);
        let fresh = |h: &&Holder| failed.is_none_or(|f| !f.contains(&h.addr));
        let any_fresh = holders.iter().filter(usable).any(|h| fresh(&h));
        let free: Vec<(usize, u64, SocketAddr)> = holders
            .iter()
            .filter(usable)
            .filter(|h| !any_fresh || fresh(h))
            .map(|h| (load.get(&h.addr).copied().unwrap_or(0), h.addr))
            .filter(|(busy, _)| *busy < per_holder)
            .map(|(busy, addr)| (busy, rng.random::<u64>(), addr))
            .collect();
        if let Some(&(_, _, from)) = free.iter().min() {
            *load.entry(from).or_default() += 1;
            picks.push(Pick { index, from });
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn holder(port: u16, ranges: &str) -> Holder {
        Holder {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            pieces: PieceSet::from_ranges(ranges, 6).expect("ranges"),
        }
    }

    #[test]
    fn the_rarest_missing_piece_comes_first() {
        // piece 4 is held by one peer, pieces 0-3 by three, piece 5 by two
        let holders = [holder(1, "0-4"), holder(2, "0-3,5"), holder(3, "0-3,5")];
        let wanted = PieceSet::full(6);
        for seed in 0..20 {
            let picks = pick(
                &wanted,
                &holders,
                &Avoid::default(),
                2,
                &mut StdRng::seed_from_u64(seed),
            );
            assert_eq!(
                picks[0],
                Pick {
                    index: 4,
                    from: holders[0].addr
                }
            );
            assert_eq!(picks[1].index, 5);
            assert_ne!(picks[1].from, holders[0].addr);
        }
    }

    #[test]
    fn ties_and_holders_are_chosen_at_random() {
        let holders = [holder(1, "0-5"), holder(2, "0-5")];
        let wanted = PieceSet::full(6);
        let mut first_pieces = HashSet::new();
        let mut sources = HashSet::new();
        for seed in 0..50 {
            let picks = pick(
                &wanted,
                &holders,
                &Avoid::default(),
                1,
                &mut StdRng::seed_from_u64(seed),
            );
            first_pieces.insert(picks[0].index);
            sources.insert(picks[0].from);
        }
        assert!(
            first_pieces.len() > 3,
            "ties always broken the same way: {first_pieces:?}"
        );
        assert_eq!(sources.len(), 2);
    }

    #[test]
    fn in_flight_banned_and_failed_holders_are_avoided() {
        let holders = [holder(1, "0-5"), holder(2, "0-2"), holder(3, "0")];
        let wanted = PieceSet::from_ranges("0-2", 6).expect("ranges");
        let mut avoid = Avoid::default();
        avoid.in_flight.insert(1);
        avoid.banned.insert(holders[2].addr);
        avoid.failed.insert(0, HashSet::from([holders[0].addr]));
        let mut rng = StdRng::seed_from_u64(7);
        let picks = pick(&wanted, &holders, &avoid, 5, &mut rng);
        let indices: Vec<u32> = picks.iter().map(|p| p.index).collect();
        assert!(!indices.contains(&1));
        assert_eq!(
            picks.iter().find(|p| p.index == 0).map(|p| p.from),
            Some(holders[1].addr)
        );
        assert!(picks.iter().all(|p| p.from != holders[2].addr));
    }

    /// `pick_spread` with 10 slots, at most 2 per holder, nothing to avoid.
    fn spread(
        wanted: &PieceSet,
        holders: &[Holder],
        load: &mut HashMap<SocketAddr, usize>,
        seed: u64,
    ) -> Vec<Pick> {
        let mut rng = StdRng::seed_from_u64(seed);
        pick_spread(
            wanted,
            holders,
            &Avoid::default(),
            10,
            2,
            load,
            Strategy::Rarest,
            &mut rng,
        )
    }

    #[test]
    fn random_ignores_rarity_but_not_holdings() {
        // Piece 4 is held by one peer, 0-3 by three; piece 5 by nobody.
        let holders = [holder(1, "0-4"), holder(2, "0-3"), holder(3, "0-3")];
        let wanted = PieceSet::full(6);
        let first = |strategy: Strategy, seed: u64| {
            let picks = pick_spread(
                &wanted,
                &holders,
                &Avoid::default(),
                1,
                usize::MAX,
                &mut HashMap::new(),
                strategy,
                &mut StdRng::seed_from_u64(seed),
            );
            picks[0].index
        };
        let random: HashSet<u32> = (0..40).map(|seed| first(Strategy::Random, seed)).collect();
        assert!(random.len() >= 4, "random picks follow rarity: {random:?}");
        assert!(!random.contains(&5), "picked a piece nobody holds");
        assert!((0..40).all(|seed| first(Strategy::Rarest, seed) == 4));
        assert_eq!("random".parse(), Ok(Strategy::Random));
        assert!("fastest".parse::<Strategy>().is_err());
    }

    #[test]
    fn spread_picks_fill_every_holder_up_to_its_limit_rarest_first() {
        // The seed (1) holds everything; peer 2 holds 0-2. Pieces 3-5 are rarer.
        let holders = [holder(1, "0-5"), holder(2, "0-2")];
        let wanted = PieceSet::full(6);
        for seed in 0..20 {
            let mut load = HashMap::new();
            let picks = spread(&wanted, &holders, &mut load, seed);
            assert_eq!(picks.len(), 4, "two from each holder");
            let from_seed: Vec<u32> = picks
                .iter()
                .filter(|p| p.from == holders[0].addr)
                .map(|p| p.index)
                .collect();
            assert!(from_seed.iter().all(|i| *i >= 3), "{from_seed:?}");
            assert_eq!(load[&holders[1].addr], 2);
        }
        // A holder already at its limit gets nothing more.
        let mut load = HashMap::from([(holders[0].addr, 2)]);
        let picks = spread(&wanted, &holders, &mut load, 1);
        assert!(picks.iter().all(|p| p.from == holders[1].addr));
        assert_eq!(picks.len(), 2);
    }

    #[test]
    fn a_piece_nobody_holds_is_not_picked() {
        let holders = [holder(1, "0")];
        let wanted = PieceSet::from_ranges("1-5", 6).expect("ranges");
        assert!(
            pick(
                &wanted,
                &holders,
                &Avoid::default(),
                3,
                &mut StdRng::seed_from_u64(1)
            )
            .is_empty()
        );
    }
}
