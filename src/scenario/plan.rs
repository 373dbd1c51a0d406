//! From a parsed [`Scenario`] to the peers to run and what happens to them when: each group
//! becomes `count` peers named `GROUP-N`, each with its starting pieces drawn, and the timed
//! actions (join, leave, crash, rejoin) in time order. Pure: no process, no clock, no file.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::parse::{Group, Scenario, Start};
use crate::pieces::PieceSet;

/// One peer of the scenario.
#[derive(Debug, Clone)]
pub struct PlannedPeer {
    pub name: String,
    /// Index into `Scenario::groups`.
    pub group: usize,
    pub start: PieceSet,
    /// Whether it should end with the whole file.
    pub stays: bool,
}

/// What the runner does to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Join,
    /// SIGTERM.
    Leave,
    /// SIGKILL.
    Crash,
    Rejoin,
}

impl Action {
    /// The word of `events.csv`.
    pub fn word(self) -> &'static str {
        match self {
            Action::Join => "joined",
            Action::Leave => "left",
            Action::Crash => "crashed",
            Action::Rejoin => "rejoined",
        }
    }
}

/// A timed action on peer `peer` (an index into the planned peers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    pub peer: usize,
    pub action: Action,
}

/// The starting pieces of peer `ordinal` of a group, of `n` pieces. `Random` is seeded by the
/// group and the ordinal, so a scenario replays the same way.
pub fn start_pieces(
    start: &Start,
    n: u32,
    group: usize,
    ordinal: usize,
) -> Result<PieceSet, String> {
    let share = |pct: u32| ((u64::from(n) * u64::from(pct) + 50) / 100) as u32;
    let mut set = PieceSet::empty(n);
    match start {
        Start::None => {}
        Start::All => set = PieceSet::full(n),
        Start::Ranges(text) => {
            set = PieceSet::from_ranges(text, n).map_err(|e| format!("start `{text}`: {e}"))?;
        }
        Start::First(pct) => (0..share(*pct)).for_each(|i| {
            set.insert(i);
        }),
        Start::Last(pct) => (share(100 - pct)..n).for_each(|i| {
            set.insert(i);
        }),
        Start::Random(pct) => {
            let mut all: Vec<u32> = (0..n).collect();
            let seed = (group as u64) << 32 | ordinal as u64;
            all.shuffle(&mut StdRng::seed_from_u64(seed));
            for &i in &all[..share(*pct) as usize] {
                set.insert(i);
            }
        }
    }
    Ok(set)
}

/// The peers and the time-ordered steps of `scenario`, for a file of `n` pieces.
pub fn plan(scenario: &Scenario, n: u32) -> Result<(Vec<PlannedPeer>, Vec<Step>), String> {
    let mut peers = Vec::new();
    let mut steps = Vec::new();
    for (gi, group) in scenario.groups.iter().enumerate() {
        for ordinal in 0..group.count {
            let index = peers.len();
            peers.push(PlannedPeer {
                name: peer_name(group, ordinal),
                group: gi,
                start: start_pieces(&group.start, n, gi, ordinal)
                    .map_err(|e| format!("group `{}`: {e}", group.name))?,
                stays: group.stays(),
            });
            let mut add = |at: Option<Duration>, action| {
                if let Some(at) = at {
                    steps.push(Step {
                        at,
                        peer: index,
                        action,
                    });
                }
            };
            add(Some(group.join), Action::Join);
            add(group.leave, Action::Leave);
            add(group.crash, Action::Crash);
            add(group.rejoin, Action::Rejoin);
        }
    }
    // Stable: a peer's own steps keep their order when two fall at the same time.
    steps.sort_by_key(|s| s.at);
    Ok((peers, steps))
}

fn peer_name(group: &Group, ordinal: usize) -> String {
    if group.count == 1 {
        group.name.clone()
    } else {
        format!("{}-{}", group.name, ordinal + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse::parse;

    #[test]
    fn the_seed_split_covers_every_piece_once() {
        let first = start_pieces(&Start::First(60), 17, 0, 0).expect("first");
        let last = start_pieces(&Start::Last(40), 17, 1, 0).expect("last");
        assert_eq!(first.count() + last.count(), 17);
        assert!((0..17).all(|i| first.contains(i) != last.contains(i)));
        assert!(first.contains(0) && last.contains(16));
    }

    #[test]
    fn random_starts_differ_per_peer_and_replay_the_same() {
        let a = start_pieces(&Start::Random(50), 40, 0, 0).expect("a");
        let b = start_pieces(&Start::Random(50), 40, 0, 1).expect("b");
        assert_eq!(a.count(), 20);
        assert_ne!(a.to_ranges(), b.to_ranges());
        assert_eq!(
            a,
            start_pieces(&Start::Random(50), 40, 0, 0).expect("again")
        );
        assert!(start_pieces(&Start::Ranges("0-50".into()), 10, 0, 0).is_err());
    }

    #[test]
    fn steps_come_in_time_order_with_names_per_group() {
        let text =
            "[group seed]\nstart: all\n[group c]\ncount: 2\ncrash: 2s\nrejoin: 3s\njoin: 1s\n";
        let scenario = parse(text, "x", false).expect("parse");
        let (peers, steps) = plan(&scenario, 8).expect("plan");
        let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["seed", "c-1", "c-2"]);
        let seen: Vec<(u64, usize, Action)> = steps
            .iter()
            .map(|s| (s.at.as_secs(), s.peer, s.action))
            .collect();
        assert_eq!(
            seen,
            [
                (0, 0, Action::Join),
                (1, 1, Action::Join),
                (1, 2, Action::Join),
                (2, 1, Action::Crash),
                (2, 2, Action::Crash),
                (3, 1, Action::Rejoin),
                (3, 2, Action::Rejoin),
            ]
        );
        assert!(peers[0].start.is_complete() && peers[1].start.is_empty());
    }
}
