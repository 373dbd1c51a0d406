//! The end of a scenario run on the terminal: one line per peer (group, starting pieces, when
//! it completed, whether its copy is identical) and the verdict. Prints; decides nothing the
//! caller did not measure.

use std::path::Path;

use super::ScenarioError;
use super::parse::Scenario;
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
    if bad == 0 {
        println!("PASS: every staying peer holds an identical copy");
        Ok(())
    } else {
        println!("FAIL: {bad} staying peers lack an identical copy");
        Err(ScenarioError::Failed(format!(
            "{bad} staying peers lack an identical copy ({outcome})"
        )))
    }
}
