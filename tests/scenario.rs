//! `bittorrent-sim scenario` end to end: the quick profiles of three shipped scenarios run to
//! PASS (exit 0) with their run directory complete: the churn run's events.csv shows the crash
//! and the rejoin, every chart is well-formed SVG with a line per series, and a scenario that
//! cannot finish fails with exit 1 at its deadline.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scenario FILE --quick --run-dir DIR` (its own deadline bounds the run).
fn run(file: &Path, dir: &Path) -> Output {
    Command::new(BIN)
        .arg("scenario")
        .arg(file)
        .arg("--quick")
        .arg("--run-dir")
        .arg(dir)
        .output()
        .expect("run the scenario")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every chart parses as XML, is an <svg>, and has at least `lines` data paths.
fn check_charts(dir: &Path) {
    for (name, lines) in [
        ("pieces-over-time.svg", 2),
        ("availability.svg", 2),
        ("completion.svg", 1),
        ("diagram.svg", 0),
    ] {
        let svg = fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
        let series = doc
            .descendants()
            .filter(|n| n.has_tag_name("path") && n.children().any(|c| c.has_tag_name("title")))
            .count();
        assert!(series >= lines, "{name}: {series} series");
    }
}

fn passes(name: &str) -> (PathBuf, String, tempfile::TempDir) {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join(name);
    let output = run(&root().join(format!("scenarios/{name}.scenario")), &dir);
    let out = text(&output);
    assert!(output.status.success(), "{name} failed:\n{out}");
    assert!(out.contains("PASS"), "{out}");
    check_charts(&dir);
    (dir, out, work)
}

#[test]
fn churn_quick_passes_and_its_csv_shows_crash_and_rejoin() {
    let (dir, _, _work) = passes("churn");
    let csv = fs::read_to_string(dir.join("events.csv")).expect("events.csv");
    assert!(csv.starts_with("time_s,peer,group,event,piece\n"), "{csv}");
    for churner in ["churners-1", "churners-2"] {
        let events: Vec<&str> = csv
            .lines()
            .filter(|l| l.split(',').nth(1) == Some(churner))
            .map(|l| l.split(',').nth(3).unwrap_or(""))
            .filter(|e| *e != "piece")
            .collect();
        assert_eq!(
            events,
            ["joined", "crashed", "rejoined", "completed"],
            "{churner}:\n{csv}"
        );
    }
    // Two runs of a churner, two trace files.
    assert!(dir.join("traces/churners-1-2.jsonl").exists());
}

#[test]
fn seed_split_and_late_joiner_quick_pass() {
    let (dir, out, _work) = passes("seed-split");
    let csv = fs::read_to_string(dir.join("events.csv")).expect("events.csv");
    // peer1 holds 60%, peer2 40% of 16 pieces: each fetches exactly the other's share.
    let pieces = |peer: &str| {
        csv.lines()
            .filter(|l| {
                l.starts_with(|c: char| c.is_ascii_digit())
                    && l.contains(&format!(",{peer},"))
                    && l.contains(",piece,")
            })
            .count()
    };
    assert_eq!((pieces("peer1"), pieces("peer2")), (6, 10), "{csv}");
    assert!(out.contains("others-2"), "{out}");
    passes("late-joiner");
}

#[test]
fn a_swarm_without_the_whole_file_fails_at_its_deadline() {
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("broken.scenario");
    fs::write(
        &file,
        "# Observe: nobody holds the last piece.\nfile: 64KiB\npiece-length: 16KiB\ndeadline: 3s\n\
         [group half]\nstart: 0-2\n[group leech]\n",
    )
    .expect("write");
    let output = run(&file, &work.path().join("run"));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("FAIL"), "{}", text(&output));
    check_charts(&work.path().join("run"));
}
