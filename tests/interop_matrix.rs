//! Smoke run of `scripts/interop-matrix.sh`, tiny and fast: aria2 and libtorrent, cells A
//! (A1, A3) and B, a 64 KiB file. The script builds its own network namespaces (real clients
//! ignore several peers on 127.0.0.0/8), runs each cell with a deadline, compares the copies
//! with `cmp`, and prints a Markdown table; this test asserts every cell says `ok`.
//!
//! It does not run the whole matrix (seven clients, minutes): that is `scripts/interop-matrix.sh`
//! by hand, its table kept in docs/interop.md. Not root, no `ip netns`, no aria2c or no
//! python3-libtorrent: a loud SKIPPED banner, and the test returns.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

fn skipped(why: &str) {
    eprintln!("\n{0}\nSKIPPED: {why}\n{0}", "=".repeat(78));
}

fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn aria2_and_libtorrent_cells_a_and_b_are_ok() {
    if !works("aria2c", &["--version"]) {
        return skipped("aria2c not installed (apt-get install aria2)");
    }
    if !works("/usr/bin/python3", &["-c", "import libtorrent"]) {
        return skipped("python3-libtorrent not installed (apt-get install python3-libtorrent)");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temporary directory");
    // The script's own deadlines (30 s a cell, then `timeout`) bound the run.
    let run = Command::new("bash")
        .arg(root.join("scripts/interop-matrix.sh"))
        .args(["--clients", "aria2,libtorrent", "--cells", "A,B"])
        .args(["--size", "64KiB", "--timeout", "30", "--bin", BIN, "--out"])
        .arg(out.path())
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/interop-matrix.sh");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    if run.status.code() == Some(77) {
        // The script printed why (not root, no network namespaces).
        return skipped(
            stdout
                .lines()
                .find(|l| l.starts_with("SKIPPED"))
                .unwrap_or(&stdout),
        );
    }
    let logs = || {
        let mut text = String::new();
        for cell in ["A1", "A3", "B"] {
            for client in ["aria2", "libtorrent"] {
                let log = out.path().join(client).join(cell).join("cell.log");
                let body = std::fs::read_to_string(&log).unwrap_or_default();
                text += &format!("--- {client}/{cell}/cell.log\n{body}");
            }
        }
        text
    };
    assert!(
        run.status.success(),
        "the matrix failed ({}):\n{stdout}\n{stderr}\n{}",
        run.status,
        logs()
    );
    let table = std::fs::read_to_string(out.path().join("matrix.md")).expect("OUT/matrix.md");
    assert!(table.starts_with("| client | A1 | A3 | B |"), "{table}");
    for client in ["aria2", "libtorrent"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {client} ")))
            .unwrap_or_else(|| panic!("no row for {client}:\n{table}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // "", "aria2 1.36.0", A1, A3, B, ""
        assert_eq!(cells.len(), 6, "{row}");
        for cell in &cells[2..5] {
            assert!(cell.starts_with("ok "), "{client}: {row}\n{}", logs());
        }
    }
    // Every cell left its logs: ours, the tracker's and the client's.
    for file in ["tracker.log", "our1.log", "cell.log"] {
        assert!(out.path().join("aria2/A1").join(file).exists(), "{file}");
    }
    assert!(
        out.path()
            .join("libtorrent/B/client/libtorrent.log")
            .exists()
    );
}
