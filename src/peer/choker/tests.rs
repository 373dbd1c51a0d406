//! The choker's decisions on an injected clock and a seeded random generator: no sockets, no
//! sleeping.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

const P: Duration = Duration::from_secs(10);
const M: Duration = Duration::from_secs(30);

fn settings(slots: usize) -> Settings {
    Settings {
        policy: Policy::TitForTat,
        slots,
        optimistic_interval: M,
        free_ride: false,
        snub_timeout: SNUB_TIMEOUT,
    }
}

fn addr(id: u64) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7000 + id as u16))
}

/// A remote as the engine would report it: interested, unchoking us, nothing wanted.
fn seen(id: u64, received: u64, sent: u64) -> Observed<u64> {
    Observed {
        id,
        addr: addr(id),
        interested: true,
        received,
        sent,
        choking_us: false,
        has_wanted: false,
    }
}

/// A choker with remotes `1..=n` connected at `t0` and interested.
fn choker(slots: usize, n: u64, t0: Instant) -> Choker<u64> {
    let mut c = Choker::new(settings(slots));
    for id in 1..=n {
        c.connected(id, addr(id), t0);
        c.interest(id, true, t0);
    }
    c
}

fn unchoked(c: &Choker<u64>) -> Vec<u64> {
    let mut ids: Vec<u64> = c.unchoked().map(|(id, _)| id).collect();
    ids.sort();
    ids
}

fn preferred(d: &Decision<u64>) -> Vec<u64> {
    d.preferred.iter().map(|r| r.id).collect()
}

#[test]
fn the_fastest_of_the_last_interval_win_not_the_fastest_since_the_start() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(1);
    let mut c = choker(2, 4, t0);
    // Interval 1: remote 1 sends 10 MB, remotes 2 and 3 a little, 4 nothing.
    let first = [
        seen(1, 10_000_000, 0),
        seen(2, 300_000, 0),
        seen(3, 200_000, 0),
        seen(4, 0, 0),
    ];
    c.rechoke(t0, false, &first, &mut rng);
    let d = c.rechoke(t0 + P, false, &first, &mut rng);
    // No bytes in the second interval: the counters moved on, so everyone ties at 0.
    assert!(d.preferred.iter().all(|r| r.rate == 0), "{d:?}");
    // Interval 3: remote 1 stops; 3 and 4 send the most of this interval.
    let third = [
        seen(1, 10_000_000, 0),
        seen(2, 310_000, 0),
        seen(3, 500_000, 0),
        seen(4, 400_000, 0),
    ];
    // The optimistic slot went to 3 or 4 at the first rechoke (1 and 2 were preferred).
    let optimistic = c.optimistic();
    assert!(matches!(optimistic, Some(3 | 4)), "{optimistic:?}");
    let d = c.rechoke(t0 + 2 * P, false, &third, &mut rng);
    assert_eq!(
        preferred(&d),
        vec![4, 3],
        "by bytes of the last interval only"
    );
    assert_eq!(d.preferred[0].rate, 40_000, "400 000 bytes over 10 s");
    assert_eq!(d.preferred[1].rate, 30_000);
    assert_eq!(
        RankedList(&d.preferred).to_string(),
        "127.0.0.1:7004 (39 KiB/s), 127.0.0.1:7003 (29 KiB/s)"
    );
    // The optimistic unchoke earned a preferred slot: promoted, and the slot moved on.
    let (next, _) = d.new_optimistic.expect("a new optimistic unchoke");
    assert!(matches!(next, 1 | 2), "{next}");
    assert_eq!(unchoked(&c).len(), 3, "two preferred and one optimistic");
}

#[test]
fn ties_keep_the_remotes_already_unchoked() {
    let t0 = Instant::now();
    let mut c = choker(2, 5, t0);
    let all: Vec<_> = (1..=5).map(|id| seen(id, 0, 0)).collect();
    let first = c.rechoke(t0, false, &all, &mut StdRng::seed_from_u64(7));
    let kept = preferred(&first);
    assert_eq!(kept.len(), 2);
    // Whatever the random tie-break says later, equals already unchoked stay.
    for seed in 0..20 {
        let d = c.rechoke(t0 + P, false, &all, &mut StdRng::seed_from_u64(seed));
        let mut now = preferred(&d);
        now.sort();
        let mut before = kept.clone();
        before.sort();
        assert_eq!(now, before, "seed {seed}");
    }
}

#[test]
fn an_uninterested_remote_is_never_unchoked() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(3);
    let mut c = choker(4, 3, t0);
    let mut fast_but_uninterested = seen(2, 50_000_000, 0);
    fast_but_uninterested.interested = false;
    let observed = [seen(1, 0, 0), fast_but_uninterested, seen(3, 0, 0)];
    for round in 0..6 {
        c.rechoke(t0 + P * round, false, &observed, &mut rng);
        assert!(!unchoked(&c).contains(&2), "round {round}");
    }
    assert_eq!(unchoked(&c), vec![1, 3]);
    assert_eq!(c.interest(2, false, t0), None);
}

#[test]
fn the_optimistic_slot_rotates_every_interval() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(11);
    // One preferred slot, six remotes: the other five share the optimistic slot.
    let mut c = choker(1, 6, t0);
    let mut observed: Vec<_> = (1..=6).map(|id| seen(id, 0, 0)).collect();
    let mut holders = Vec::new();
    for round in 0..12u32 {
        // Remote 1 is clearly the best partner throughout.
        observed[0].received += 1_000_000;
        let now = t0 + P * round;
        let d = c.rechoke(now, false, &observed, &mut rng);
        assert_eq!(preferred(&d), vec![1]);
        assert!(unchoked(&c).len() <= 2, "slots + 1");
        let holder = c.optimistic().expect("someone holds the optimistic slot");
        assert_ne!(holder, 1);
        // A new holder only when m has passed: every third rechoke at p = 10 s, m = 30 s.
        assert_eq!(d.new_optimistic.is_some(), round % 3 == 0, "round {round}");
        if let Some((id, at)) = d.new_optimistic {
            assert_eq!(at, addr(id));
            if let Some(&last) = holders.last() {
                assert_ne!(id, last, "the slot moves on");
            }
            holders.push(id);
        }
    }
    assert_eq!(holders.len(), 4);
}

#[test]
fn newcomers_are_three_times_as_likely_to_be_optimistically_unchoked() {
    let t0 = Instant::now();
    let (mut newcomer, trials) = (0, 4000);
    for seed in 0..trials {
        let mut rng = StdRng::seed_from_u64(seed);
        // Slot 1 goes to remote 1 (the fastest); the first rotation happens with 1 and 2.
        let mut c = choker(1, 2, t0);
        c.rechoke(t0, false, &[seen(1, 5_000, 0), seen(2, 0, 0)], &mut rng);
        // Remote 3 arrived before that first rotation (at t0), remote 4 after it.
        let later = t0 + M;
        c.connected(3, addr(3), t0 - Duration::from_secs(1));
        c.connected(4, addr(4), t0 + Duration::from_secs(5));
        c.interest(3, true, later);
        c.interest(4, true, later);
        let observed = [
            seen(1, 10_000, 0),
            seen(2, 0, 0),
            seen(3, 0, 0),
            seen(4, 0, 0),
        ];
        let d = c.rechoke(later, false, &observed, &mut rng);
        // Remote 2 held the slot and is passed over; 3 weighs 1, 4 weighs 3.
        match d.new_optimistic.map(|(id, _)| id) {
            Some(4) => newcomer += 1,
            Some(3) => {}
            other => panic!("seed {seed}: {other:?}"),
        }
    }
    let share = f64::from(newcomer) / trials as f64;
    assert!(
        (0.72..0.78).contains(&share),
        "newcomer share {share}, expected 3/4"
    );
}

#[test]
fn a_seed_unchokes_in_turn() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(5);
    let mut c = choker(2, 6, t0);
    let mut observed: Vec<_> = (1..=6).map(|id| seen(id, 0, 0)).collect();
    let mut served = std::collections::BTreeMap::new();
    for round in 0..6u32 {
        // The lowest ids take our uploads fastest: a rate-based seed would keep them.
        for (i, o) in observed.iter_mut().enumerate() {
            o.sent += 1_000_000 / (i as u64 + 1);
        }
        c.rechoke(t0 + P * round, true, &observed, &mut rng);
        let now = unchoked(&c);
        assert!(now.len() <= 3, "slots + 1: {now:?}");
        for id in now {
            *served.entry(id).or_insert(0) += 1;
        }
    }
    // Six rechokes of three slots: every one of the six interested remotes had its turns,
    // none kept a slot throughout, and the two fastest takers did not keep the seed.
    assert_eq!(served.len(), 6, "{served:?}");
    assert!(served.values().all(|&n| (2..6).contains(&n)), "{served:?}");
    assert!(served[&1] + served[&2] <= 9, "{served:?}");
}

#[test]
fn a_free_rider_unchokes_nobody() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(9);
    let mut c = choker(4, 0, t0);
    c.settings.free_ride = true;
    for id in 1..=3 {
        c.connected(id, addr(id), t0);
        assert_eq!(c.interest(id, true, t0), None, "not even a free slot");
    }
    for round in 0..5 {
        let observed: Vec<_> = (1..=3).map(|id| seen(id, 1_000_000 * round, 0)).collect();
        let d = c.rechoke(t0 + P * round as u32, false, &observed, &mut rng);
        assert!(d.unchoke.is_empty() && d.preferred.is_empty() && d.new_optimistic.is_none());
    }
    assert!(unchoked(&c).is_empty());
}

#[test]
fn a_remote_that_snubs_us_loses_its_preferred_slot() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(2);
    let mut c = choker(1, 3, t0);
    // Remote 1 unchokes us and holds what we want; it sent a block, then nothing.
    let mut snubber = seen(1, 1_000, 0);
    snubber.has_wanted = true;
    let mut observed = vec![snubber, seen(2, 0, 0), seen(3, 0, 0)];
    let d = c.rechoke(t0, false, &observed, &mut rng);
    assert_eq!(preferred(&d), vec![1]);
    let mut at = t0;
    let mut began = Vec::new();
    while at < t0 + SNUB_TIMEOUT + P {
        at += P;
        // Remote 1 stays preferred on the tie (already unchoked) until it counts as snubbing.
        let d = c.rechoke(at, false, &observed, &mut rng);
        began.extend(d.snubbed.iter().copied());
    }
    assert_eq!(began, vec![addr(1)], "one line when snubbing starts");
    assert!(!c.preferred_ids().contains(&1));
    // A block arrives: it is a partner again.
    observed[0].received += 16_384;
    let d = c.rechoke(at + P, false, &observed, &mut rng);
    assert_eq!(preferred(&d), vec![1]);
    // A remote that chokes us, or has nothing we want, is never snubbing us.
    let mut choker_of_us = seen(2, 0, 0);
    choker_of_us.has_wanted = true;
    choker_of_us.choking_us = true;
    observed[1] = choker_of_us;
    for round in 2..12 {
        let d = c.rechoke(at + P * round, false, &observed, &mut rng);
        assert!(!d.snubbed.contains(&addr(2)));
    }
}

#[test]
fn interest_between_rechokes_uses_free_slots_only() {
    let t0 = Instant::now();
    let mut c: Choker<u64> = Choker::new(settings(2));
    for id in 1..=4 {
        c.connected(id, addr(id), t0);
    }
    assert_eq!(
        c.interest(1, true, t0),
        Some(true),
        "a free slot: unchoke now"
    );
    assert_eq!(c.interest(2, true, t0), Some(true));
    assert_eq!(c.interest(3, true, t0), None, "full: wait for the rechoke");
    assert_eq!(
        c.interest(1, false, t0),
        Some(false),
        "losing interest frees the slot"
    );
    assert_eq!(c.interest(4, true, t0), Some(true), "took 1's slot");
    assert_eq!(unchoked(&c), vec![2, 4]);
    c.disconnected(2);
    assert_eq!(unchoked(&c), vec![4]);
}

#[test]
fn unchoke_all_unchokes_every_interested_remote_and_never_chokes() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(4);
    let mut c: Choker<u64> = Choker::new(Settings {
        policy: Policy::UnchokeAll,
        ..settings(1)
    });
    for id in 1..=6 {
        c.connected(id, addr(id), t0);
        assert_eq!(c.interest(id, true, t0), Some(true));
    }
    assert_eq!(
        c.interest(3, false, t0),
        None,
        "not interested: stays unchoked"
    );
    let observed: Vec<_> = (1..=6).map(|id| seen(id, id * 1000, 0)).collect();
    let d = c.rechoke(t0 + P, false, &observed, &mut rng);
    assert!(d.choke.is_empty() && d.preferred.is_empty());
    assert_eq!(unchoked(&c), vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn never_more_than_slots_plus_one_unchoked() {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(99);
    let mut c: Choker<u64> = Choker::new(settings(3));
    let mut observed: Vec<Observed<u64>> = Vec::new();
    for step in 0..400u64 {
        let now = t0 + Duration::from_millis(2500 * step);
        let id = rand::RngExt::random_range(&mut rng, 1..=12u64);
        match step % 4 {
            0 if !observed.iter().any(|o| o.id == id) => {
                c.connected(id, addr(id), now);
                observed.push(seen(id, 0, 0));
            }
            1 => {
                let wants = rand::RngExt::random_bool(&mut rng, 0.7);
                c.interest(id, wants, now);
                if let Some(o) = observed.iter_mut().find(|o| o.id == id) {
                    o.interested = wants;
                }
            }
            2 if step % 12 == 2 => {
                c.disconnected(id);
                observed.retain(|o| o.id != id);
            }
            _ => {
                for o in &mut observed {
                    o.received += rand::RngExt::random_range(&mut rng, 0..100_000u64);
                }
                let seeding = step % 40 >= 30;
                c.rechoke(now, seeding, &observed, &mut rng);
            }
        }
        let open: Vec<u64> = observed.iter().map(|o| o.id).collect();
        let now_unchoked = unchoked(&c);
        assert!(now_unchoked.len() <= 4, "step {step}: {now_unchoked:?}");
        assert!(now_unchoked.iter().all(|id| open.contains(id)));
    }
}

impl Choker<u64> {
    /// The unchoked remotes other than the optimistic one.
    fn preferred_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .unchoked
            .iter()
            .copied()
            .filter(|id| Some(*id) != self.optimistic)
            .collect();
        ids.sort();
        ids
    }
}
