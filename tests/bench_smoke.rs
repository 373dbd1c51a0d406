//! Smoke runs of the benchmark scripts under `bench/` at a tiny size, so that a change which
//! breaks a script (its flags, its parsing of our logs, the reference's driver) fails here and
//! not on the day someone runs the real benchmark.
//!
//! The scripts measure the debug binary (`BTSIM_BIN`) in a temporary work directory
//! (`BENCH_WORK`); nothing here asserts a time or a speed: only that every scenario ran to the
//! end, every copy was identical (the scripts check with `cmp` and fail otherwise) and the table
//! has its rows.

mod common;

use std::path::Path;
use std::process::Command;

use common::have_tool;

/// Runs `bench/SCRIPT ARGS...` against the debug binary; returns its standard output.
fn run_bench(script: &str, args: &[&str]) -> String {
    let work = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("bench").join(script))
        .args(args)
        .env("BTSIM_BIN", env!("CARGO_BIN_EXE_bittorrent-sim"))
        .env("BENCH_WORK", work.path())
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The table row starting with `| NAME` and its cells.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("| {name}")))
        .unwrap_or_else(|| panic!("no row `{name}` in:\n{table}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

/// A cell's leading number (`0.42s (...)` -> 0.42).
fn number(cell: &str) -> f64 {
    let text: String = cell
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    text.parse()
        .unwrap_or_else(|_| panic!("no number in `{cell}`"))
}

#[test]
fn swarm_bench_runs_every_scenario_against_libtorrent() {
    if !have_tool(
        "/usr/bin/python3",
        &["-c", "import libtorrent"],
        "python3-libtorrent",
    ) {
        return;
    }
    let out = run_bench("swarm.sh", &["--size", "2", "--runs", "1", "--no-link"]);
    for (scenario, reference) in [
        ("single", "libtorrent  "),
        ("single", "libtorrent hp-seed"),
        ("swarm ", "libtorrent (1->4)"),
        ("swarm ", "libtorrent hp-seed"),
    ] {
        let cells = row(&out, &format!("{scenario} | {reference}"));
        assert_eq!(cells.len(), 6, "{cells:?}");
        assert!(number(cells[2]) > 0.0, "ours: {cells:?}");
        assert!(number(cells[3]) > 0.0, "reference: {cells:?}");
        assert!(number(cells[4]) > 0.0, "ratio: {cells:?}");
    }
}

#[test]
fn memory_bench_reports_peak_rss_of_seed_and_leech() {
    if !have_tool(
        "/usr/bin/python3",
        &["-c", "import libtorrent"],
        "python3-libtorrent",
    ) {
        return;
    }
    let out = run_bench("memory.sh", &["--size", "4", "--runs", "1"]);
    for role in ["seed ", "leech"] {
        let cells = row(&out, role);
        assert_eq!(cells.len(), 5, "{cells:?}");
        // A live process is at least a few hundred KiB resident; zero would mean no measurement.
        assert!(number(cells[1]) >= 0.5, "ours: {cells:?}");
        assert!(number(cells[2]) >= 0.5, "libtorrent: {cells:?}");
    }
}
