//! The blocking socket flow made visible: at `debug` one download's connect, write, read and
//! close appear in order under its thread's name, and `--slow-motion` spaces sends out.

mod common;

use common::*;

/// `2026-11-21T13:02:11.204Z` -> milliseconds since midnight.
fn millis(line: &str) -> u64 {
    let time = line
        .split_whitespace()
        .next()
        .and_then(|t| t.split('T').nth(1))
        .expect("timestamp");
    let time = time.trim_end_matches('Z');
    let mut parts = time
        .split([':', '.'])
        .map(|p| p.parse::<u64>().expect("number"));
    let (h, m, s, ms) = (
        parts.next().expect("h"),
        parts.next().expect("m"),
        parts.next().expect("s"),
        parts.next().expect("ms"),
    );
    ((h * 60 + m) * 60 + s) * 1000 + ms
}

/// The thread name of a log line: `time LEVEL [thread] message`.
fn thread_of(line: &str) -> Option<&str> {
    let start = line.find(" [")? + 2;
    let end = start + line[start..].find("] ")?;
    Some(&line[start..end])
}

/// A tracker and a seed of a 3-piece file, for one leecher to download.
struct SmallSwarm {
    _tracker: Proc,
    addr: std::net::SocketAddr,
    _seed: Proc,
    seed_port: u16,
    torrent: String,
    data: Vec<u8>,
}

fn small_swarm(dir: &std::path::Path) -> SmallSwarm {
    let data = sample_bytes(2 * PIECE + 100, 8);
    let file = write_file(&dir.join("seed"), "s.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.join("s.torrent"))
        .to_string_lossy()
        .into_owned();
    let (tracker, addr) = tracker(dir, &[]);
    let seed_dir = dir.join("seed").to_string_lossy().into_owned();
    let (seed, seed_port) = peer(
        "seed",
        dir,
        addr,
        &[
            "--torrent",
            &torrent,
            "--dir",
            &seed_dir,
            "--min-peers",
            "1",
        ],
    );
    SmallSwarm {
        _tracker: tracker,
        addr,
        _seed: seed,
        seed_port,
        torrent,
        data,
    }
}

#[test]
fn debug_logs_show_one_downloads_blocking_calls_in_order_under_thread_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let swarm = small_swarm(dir.path());
    let (addr, seed_port, torrent, data) =
        (swarm.addr, swarm.seed_port, &swarm.torrent, &swarm.data);
    let leech_dir = dir.path().join("leech").to_string_lossy().into_owned();
    let extra = [
        "--torrent",
        torrent,
        "--dir",
        &leech_dir,
        "--min-peers",
        "1",
    ];
    let args = peer_args(0, addr, &[&extra[..], &FAST].concat());
    let leecher = Proc::start("leecher", dir.path(), &args, &[("RUST_LOG", "debug")]);
    leecher.wait_for("download complete");
    let seed_addr = format!("127.0.0.1:{seed_port}");
    leecher.wait_for(&format!("close connection to {seed_addr}"));
    assert!(std::fs::read(dir.path().join("leech/s.bin")).expect("copy") == *data);

    let lines = leecher.lines();
    for line in &lines {
        assert!(
            thread_of(line).is_some_and(|t| !t.is_empty() && t != "?"),
            "no thread name: {line}"
        );
    }
    // the outgoing connection thread's lines toward the seed, in order
    let download: Vec<&String> = lines
        .iter()
        .filter(|l| thread_of(l).is_some_and(|t| t.contains("-out-")) && l.contains(&seed_addr))
        .collect();
    let position = |needle: &str| {
        download
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {download:#?}"))
    };
    let connect = position("connect to");
    let write = position("write to");
    let read = position("read from");
    let close = position("close connection to");
    assert!(
        connect < write && write < read && read < close,
        "order: connect {connect}, write {write}, read {read}, close {close}"
    );
    assert!(
        download[write].contains("bytes"),
        "writes say how many bytes: {}",
        download[write]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("thread ") && l.contains("threads live")),
        "thread starts and ends are logged"
    );
}

#[test]
fn slow_motion_spaces_out_sends_and_changes_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let swarm = small_swarm(dir.path());
    let (addr, torrent, data) = (swarm.addr, &swarm.torrent, &swarm.data);
    let leech_dir = dir.path().join("leech").to_string_lossy().into_owned();
    let slow = [
        "--torrent",
        torrent,
        "--dir",
        &leech_dir,
        "--min-peers",
        "1",
        "--slow-motion",
        "150ms",
        "--ping-interval",
        "10s",
        "--report-interval",
        "10s",
    ];
    let (leecher, _) = peer("leecher", dir.path(), addr, &slow);
    leecher.wait_for("download complete");
    assert!(
        std::fs::read(dir.path().join("leech/s.bin")).expect("copy") == *data,
        "same outcome"
    );
    let holds = leecher.count("slow motion: holding");
    assert!(holds >= 4, "every send waits: {holds} waits");
    // consecutive sends of one connection thread are at least the delay apart
    let sends: Vec<(String, u64)> = leecher
        .lines()
        .iter()
        .filter(|l| l.contains(": send ") && thread_of(l).is_some_and(|t| t.contains("-out-")))
        .map(|l| (thread_of(l).expect("thread").to_string(), millis(l)))
        .collect();
    assert!(sends.len() >= 3, "{sends:?}");
    for pair in sends.windows(2).filter(|p| p[0].0 == p[1].0) {
        assert!(
            pair[1].1 - pair[0].1 >= 150,
            "sends {} ms apart: {sends:?}",
            pair[1].1 - pair[0].1
        );
    }
}
