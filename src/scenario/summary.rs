//! The end of a scenario run on the terminal: one line per peer (group, starting pieces, when
//! it completed, whether its copy is identical) and the verdict. Prints; decides nothing the
//! caller did not measure.

use std::path::Path;

use super::ScenarioError;
use super::parse::{Expect, Scenario};
use super::plan::PlannedPeer;
use super::timeline::Timeline;

/// Prints one line per peer and the verdict.
pub fn print(
    scenario: &Scenario,
    peers: &[PlannedPeer],
    verdicts: &[Option<bool>],
    timeline: &Timeline,
    outcome: &str,
    dir: &Path,
) -> Result<(), ScenarioError> {
    println!(
        "\n{:<16} {:<10} {:>6} {:>12}  copy",
        "peer", "group", "start", "complete at"
    );
    for (i, p) in peers.iter().enumerate() {
        let at = match timeline.completed(i) {
            Some(t) => format!("{t:.2}s"),
            None if p.start.is_complete() => "at start".into(),
            None => "-".into(),
        };
        let copy = match verdicts[i] {
            Some(true) => "identical",
            Some(false) => "MISSING OR DIFFERENT",
            None => "(left; not expected)",
        };
        println!(
            "{:<16} {:<10} {:>6} {:>12}  {copy}",
            p.name,
            scenario.groups[p.group].name,
            p.start.count(),
            at
        );
    }
    let bad = verdicts.iter().filter(|v| **v == Some(false)).count();
    println!(
        "\n{outcome} after {:.1}s; wrote events.csv, pieces-over-time.svg, availability.svg, completion.svg, diagram.svg in {}",
        timeline.end,
        dir.display()
    );
    match (scenario.expect, bad) {
        (Expect::Complete, 0) => {
            println!("PASS: every staying peer holds an identical copy");
            Ok(())
        }
        (Expect::Complete, _) => {
            println!("FAIL: {bad} staying peers lack an identical copy");
            Err(ScenarioError::Failed(format!(
                "{bad} staying peers lack an identical copy ({outcome})"
            )))
        }
        (Expect::Incomplete, 0) => {
            println!(
                "FAIL: expected the swarm not to finish (expect: incomplete), but every staying peer holds an identical copy"
            );
            Err(ScenarioError::Failed(
                "every staying peer completed, against `expect: incomplete`".into(),
            ))
        }
        (Expect::Incomplete, _) => {
            println!(
                "PASS: as expected (expect: incomplete), {bad} staying peers lack an identical copy: the swarm could not finish"
            );
            Ok(())
        }
    }
}
