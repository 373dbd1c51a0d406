//! Smoke test of `bench/tracker.sh` at a tiny size: it runs (with the debug binary, no release
//! build), exits 0 and prints the table rows of both wrk modes, and of the load scenario when
//! the load generator example has been built (a full `cargo test` builds it). No timing is
//! asserted. Skipped, with a message on stderr, when `wrk` or `opentracker` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn installed(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: {program} not installed (apt-get install {program})");
    }
    found
}

/// `target/debug/examples/tracker_load`, next to this test's `deps` directory, if built.
fn load_generator() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir.join("examples").join("tracker_load");
    path.is_file().then_some(path)
}

#[test]
fn bench_tracker_runs_at_a_tiny_size_and_prints_both_modes() {
    if !installed("wrk") || !installed("opentracker") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let load = load_generator();
    let port_base = 21000 + std::process::id() % 4000;
    let mut command = Command::new(root.join("bench/tracker.sh"));
    command
        .args([
            "--duration",
            "1",
            "--runs",
            "1",
            "--connections",
            "8",
            "--peers",
            "200",
        ])
        .args([
            "--load-steps",
            "200",
            "--load-seconds",
            "20",
            "--timer-scale",
            "0.1",
        ])
        .args(["--port-base", &port_base.to_string()])
        .env("BTSIM_BIN", env!("CARGO_BIN_EXE_bittorrent-sim"));
    match &load {
        Some(path) => command.env("BTSIM_LOAD_BIN", path),
        None => command.env_remove("BTSIM_LOAD_BIN"),
    };
    let output = command.output().expect("run bench/tracker.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench/tracker.sh failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for mode in ["keep-alive", "close"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {mode} | ")))
            .unwrap_or_else(|| panic!("no table row for {mode}:\n{stdout}"));
        // mode, ours, opentracker, ratio, two latencies, two error columns
        assert_eq!(row.matches('|').count(), 9, "{row}");
        let ours_errors = row.split('|').nth(7).unwrap_or("").trim();
        assert_eq!(ours_errors, "0", "wrk counted errors against ours: {row}");
    }
    eprintln!("{stdout}");
    if load.is_some() {
        assert!(
            stdout.lines().any(|l| l.starts_with("|    200 |")),
            "no load row:\n{stdout}"
        );
    } else {
        eprintln!("load scenario not checked: examples/tracker_load is not built");
    }
}
