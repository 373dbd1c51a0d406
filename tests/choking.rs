//! Tit-for-tat end to end: a seed and six leechers with two unchoke slots, short intervals and
//! upload caps, one of them a free rider. From the traces: no peer ever unchokes more than
//! slots + 1 remotes at once, unchokes rotate, and the free rider never unchokes anyone; every
//! copy, the free rider's included, ends identical. And the choker's decisions reach the log in
//! the words a class grades.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

const SLOTS: usize = 2;

/// The choker's options of this test: two slots, decisions every 300 ms, an optimistic
/// unchoke every 900 ms.
const CHOKING: [&str; 6] = [
    "--unchoke-slots",
    "2",
    "--rechoke-interval",
    "300ms",
    "--optimistic-interval",
    "900ms",
];

/// One sent `choke`, `unchoke` or `close` of a trace, in order: (remote, kind).
fn choke_records(trace: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(trace).expect("trace");
    text.lines()
        .filter_map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("json line");
            let kind = record["type"].as_str()?;
            let sent = record["dir"] == "send" && record["protocol"] == "bittorrent";
            let counted = matches!(kind, "choke" | "unchoke" | "close");
            let remote = record["remote"].as_str()?.to_string();
            (sent && counted).then(|| (remote, kind.to_string()))
        })
        .collect()
}

/// Replays a peer's trace: the most remotes unchoked at once, and every remote ever unchoked.
fn replay(trace: &Path) -> (usize, BTreeSet<String>) {
    let mut unchoked = BTreeSet::new();
    let mut ever = BTreeSet::new();
    let mut most = 0;
    for (remote, kind) in choke_records(trace) {
        if kind == "unchoke" {
            unchoked.insert(remote.clone());
            ever.insert(remote);
        } else {
            unchoked.remove(&remote);
        }
        most = most.max(unchoked.len());
    }
    (most, ever)
}

#[test]
fn tit_for_tat_keeps_slots_plus_one_rotates_and_a_free_rider_still_completes() {
    // 48 pieces of 16 KiB, uploads capped so a run lasts many rechoke intervals.
    let s = sample(48 * PIECE - 100, 14, PIECE, "orig", "sample.torrent");
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let trace = |name: &str| s.dir.path().join(format!("{name}.jsonl"));
    let with = |name: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = CHOKING.iter().map(|a| a.to_string()).collect();
        args.extend(["--trace".into(), trace(name).to_string_lossy().into_owned()]);
        args.extend(["--connect-to-all".into(), "--parallel".into(), "4".into()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let seed_args = with("seed", &["--upload-rate", "160KiB/s"]);
    let seed_refs: Vec<&str> = seed_args.iter().map(String::as_str).collect();
    let (seed, _) = s.seed("seed", addr, &seed_refs);
    let names = ["l1", "l2", "l3", "l4", "l5", "rider"];
    let leechers: BTreeMap<&str, Proc> = names
        .iter()
        .map(|&name| {
            let mut extra = vec!["--upload-rate", "96KiB/s"];
            if name == "rider" {
                extra.push("--free-ride");
            }
            let args = with(name, &extra);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            (name, s.peer(name, addr, &refs).0)
        })
        .collect();
    for (name, proc) in &leechers {
        proc.wait_for("download complete");
        assert!(s.copy(name) == s.data, "{name}'s copy differs");
    }
    // The decisions, in the words of the log.
    seed.wait_for("choking: tit-for-tat, 2 preferred neighbours every 300ms");
    seed.wait_for("preferred neighbours now 127.0.0.1:");
    seed.wait_for("optimistic unchoke 127.0.0.1:");
    leechers["rider"].wait_for("free riding (--free-ride)");
    // From the traces.
    let mut rotated = 0;
    for name in names.iter().copied().chain(["seed"]) {
        let (most, ever) = replay(&trace(name));
        assert!(
            most <= SLOTS + 1,
            "{name} unchoked {most} remotes at once (slots {SLOTS} + 1)"
        );
        if name == "rider" {
            assert!(ever.is_empty(), "the free rider unchoked {ever:?}");
        } else if ever.len() > SLOTS + 1 {
            rotated += 1;
        }
    }
    let (_, seed_ever) = replay(&trace("seed"));
    assert!(
        seed_ever.len() > SLOTS + 1,
        "the seed's slots never rotated: it unchoked only {seed_ever:?}"
    );
    assert!(rotated >= 2, "only {rotated} peers rotated their unchokes");
}

#[test]
fn unchoke_all_serves_every_interested_remote_at_once() {
    let s = sample(8 * PIECE, 15, PIECE, "orig", "sample.torrent");
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let seed_trace = s.dir.path().join("seed.jsonl");
    let seed_trace_arg = seed_trace.to_string_lossy().into_owned();
    let seed_args = [
        "--choking",
        "unchoke-all",
        "--unchoke-slots",
        "1",
        "--upload-rate",
        "64KiB/s",
        "--trace",
        &seed_trace_arg,
    ];
    let (seed, _) = s.seed("seed", addr, &seed_args);
    let leechers: Vec<Proc> = ["a", "b", "c"]
        .iter()
        .map(|name| s.peer(name, addr, &["--choking", "unchoke-all"]).0)
        .collect();
    for leecher in &leechers {
        leecher.wait_for("download complete");
    }
    seed.wait_for("choking: unchoke-all");
    // One slot means nothing under unchoke-all: three leechers were served at once.
    let (most, _) = replay(&seed_trace);
    assert!(most >= 2, "the seed unchoked at most {most} at once");
    assert_eq!(seed.count("preferred neighbours"), 0);
}
