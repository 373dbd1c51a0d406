//! `--upload-rate` and `--download-rate` end to end: a limited seed (or leecher) moves F bytes
//! in no less than F/R minus one burst, and the copy is byte-identical. Only lower bounds: how
//! fast a loaded machine goes is not asserted. Bad rates are refused by clap.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bittorrent_sim::ratelimit::TokenBucket;
use common::*;

/// 256 KiB at 128 KiB/s: 2 s, less the 32 KiB burst.
const SIZE: usize = 16 * PIECE;
const RATE: u64 = 128 * 1024;

/// Runs a seed and one leecher (with `--exit-when-complete`), the given extra options on each;
/// returns the leecher's time from start to exit and checks its copy.
fn transfer(seed_extra: &[&str], leech_extra: &[&str]) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_bytes(SIZE, 77);
    let file = write_file(&dir.path().join("seed"), "sample.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.path().join("sample.torrent"));
    let torrent = torrent.to_str().expect("utf-8");
    let (_tracker, addr) = tracker(dir.path(), &[]);
    let seed_dir = dir.path().join("seed");
    let mut seed_args = vec![
        "--torrent",
        torrent,
        "--dir",
        seed_dir.to_str().expect("utf-8"),
        "--min-peers",
        "1",
    ];
    seed_args.extend_from_slice(seed_extra);
    let (_seed, _) = peer("seed", dir.path(), addr, &seed_args);
    let leech_dir = dir.path().join("leech");
    let mut leech_args = vec![
        "--torrent",
        torrent,
        "--dir",
        leech_dir.to_str().expect("utf-8"),
        "--min-peers",
        "1",
        "--parallel",
        "4",
        "--exit-when-complete",
    ];
    leech_args.extend_from_slice(leech_extra);
    let started = Instant::now();
    let (mut leech, _) = peer("leech", dir.path(), addr, &leech_args);
    assert_eq!(leech.wait_exit(), Some(0));
    let took = started.elapsed();
    assert!(
        std::fs::read(leech_dir.join("sample.bin")).unwrap_or_default() == data,
        "the copy differs"
    );
    took
}

/// (F - free bytes) / R: the bucket's burst goes through at once, and so, on the download
/// side, does what one read takes in before it is charged (the frame reader's 64 KiB).
fn lower_bound(free: u64) -> Duration {
    let burst = TokenBucket::default_burst(RATE);
    Duration::from_secs_f64((SIZE as u64 - burst - free) as f64 / RATE as f64)
}

#[test]
fn a_seed_with_an_upload_rate_takes_at_least_size_over_rate() {
    let took = transfer(&["--upload-rate", "128KiB/s"], &[]);
    assert!(
        took >= lower_bound(0),
        "{SIZE} bytes at {RATE} B/s took only {took:?}"
    );
}

#[test]
fn a_leecher_with_a_download_rate_takes_at_least_size_over_rate() {
    let took = transfer(&[], &["--download-rate", &RATE.to_string()]);
    assert!(
        took >= lower_bound(64 * 1024),
        "{SIZE} bytes at {RATE} B/s took only {took:?}"
    );
}

#[test]
fn bad_rates_are_refused_with_a_usage_error() {
    for (flag, value) in [
        ("--upload-rate", "fast"),
        ("--download-rate", "1..5MiB/s"),
        ("--upload-rate", "10Mbit/s"),
    ] {
        let out = Command::new(BIN)
            .args([
                "peer",
                "--port",
                "0",
                "--tracker",
                "127.0.0.1:1",
                flag,
                value,
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("500KiB/s"),
            "{flag} {value}: {stderr}"
        );
    }
}

#[test]
fn the_p2p_bench_script_runs_at_a_tiny_size() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("tempdir");
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut child = Command::new("bash")
        .arg(root.join("bench/p2p.sh"))
        .args([
            "--peers", "2", "--runs", "1", "--size", "1MiB", "--piece", "16KiB",
        ])
        .args(["--seed-rate", "4MiB/s", "--peer-rate", "2MiB/s"])
        .args(["--download-rate", "8MiB/s"])
        .env("BTSIM_BIN", BIN)
        .env("BENCH_WORK", work.path())
        // Outside the ephemeral range, away from a bench/p2p.sh run at its default 19000.
        .env(
            "BTSIM_BENCH_PORT",
            (21_000 + (std::process::id() % 150) * 50).to_string(),
        )
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("run bench/p2p.sh");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = String::from_utf8_lossy(&std::fs::read(log.path()).expect("read log")).into_owned();
    assert!(status.success(), "bench/p2p.sh failed:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("|  2 |") || l.starts_with("| 2 |")),
        "no row for N=2:\n{out}"
    );
}
