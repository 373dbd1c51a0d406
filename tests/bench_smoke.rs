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
    let out = run_bench("swarm.sh", &["--size", "2MiB", "--runs", "1", "--no-link"]);
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
    let out = run_bench("memory.sh", &["--size", "4MiB", "--runs", "1"]);
    for role in ["seed ", "leech"] {
        let cells = row(&out, role);
        assert_eq!(cells.len(), 5, "{cells:?}");
        // A live process is at least a few hundred KiB resident; zero would mean no measurement.
        assert!(number(cells[1]) >= 0.5, "ours: {cells:?}");
        assert!(number(cells[2]) >= 0.5, "libtorrent: {cells:?}");
    }
}

#[test]
fn incentives_bench_prints_every_class_and_writes_csv_and_charts() {
    let work = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("bench/incentives.sh"))
        .args(["--leechers", "3", "--free-riders", "1", "--runs", "1"])
        .args(["--size", "1MiB", "--piece", "16KiB"])
        .args(["--seed-rate", "2MiB/s"])
        .args(["--rates", "1MiB/s,2MiB/s,4MiB/s", "--timeout", "90"])
        .args(["--rechoke", "200ms", "--optimistic", "600ms"])
        .env("BTSIM_BIN", env!("CARGO_BIN_EXE_bittorrent-sim"))
        .env("BENCH_WORK", work.path())
        // Outside the ephemeral range, away from bench runs at their defaults (19000-19999).
        .env(
            "BTSIM_BENCH_PORT",
            (24_000 + (std::process::id() % 150) * 50).to_string(),
        )
        .output()
        .expect("run bash");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "incentives.sh failed:\n{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for class in ["4MiB/s", "2MiB/s", "1MiB/s", "free rider"] {
        let cells = row(&out, class);
        assert_eq!(cells.len(), 5, "{cells:?}");
        assert_eq!(cells[1], "1 x 1", "{cells:?}");
        assert!(number(cells[2]) > 0.0, "unchoke-all: {cells:?}");
        assert!(number(cells[3]) > 0.0, "tit-for-tat: {cells:?}");
    }
    let dir = work.path().join("incentives");
    let csv = std::fs::read_to_string(dir.join("incentives.csv")).expect("the CSV");
    // A header and one row per peer (3 leechers + 1 free rider) and choker.
    assert_eq!(csv.lines().count(), 1 + 2 * 4, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",yes")), "{csv}");
    for chart in [
        "incentives.svg",
        "unchoke-unchoke-all.svg",
        "unchoke-tit-for-tat.svg",
    ] {
        let svg = std::fs::read_to_string(dir.join(chart)).expect(chart);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{chart}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{chart}");
    }
}

/// Every size option of the scripts goes through scripts/lib/size.sh: a bare number is refused
/// (exit 2) with a message naming the option and the accepted forms, before anything is built
/// or started.
#[test]
fn every_script_refuses_a_size_without_its_unit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases: [(&str, &[&str]); 9] = [
        ("bench/swarm.sh", &["--size", "4"]),
        ("bench/memory.sh", &["--size", "4"]),
        ("bench/p2p.sh", &["--size", "4"]),
        ("bench/p2p.sh", &["--piece", "16384"]),
        ("bench/incentives.sh", &["--size", "4"]),
        ("bench/tiny.sh", &["--size", "100000"]),
        ("bench/tiny.sh", &["--pieces", "3"]),
        ("test.sh", &["--headless", "--no-build", "--size", "4"]),
        ("lab/lab.sh", &["swarm", "--file-size", "4"]),
    ];
    let work = tempfile::tempdir().expect("tempdir");
    for (script, args) in cases {
        let output = Command::new("bash")
            .arg(root.join(script))
            .args(args)
            .env("BTSIM_BIN", "/nonexistent/bittorrent-sim")
            .env("BENCH_WORK", work.path())
            .env("CI", "true")
            .output()
            .expect("run bash");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{script} {args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{} {}",
                args[args.len() - 2],
                args[args.len() - 1]
            )) && stderr.contains("a bare number is ambiguous")
                && stderr.contains("B, KiB, MiB or GiB"),
            "{script} {args:?}: {stderr}"
        );
    }
}
