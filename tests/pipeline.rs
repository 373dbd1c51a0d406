//! The request pipeline across pieces (issues 15.2 and 16.8): pieces of one byte complete, and
//! however small the pieces, one connection never has more than `--pipeline` requests in
//! flight, but does have several (it fills the pipeline across pieces rather than asking one
//! one-byte piece at a time). No speed is asserted here: `bench/tiny.sh` measures it.

mod common;

use std::collections::HashMap;

use common::*;

/// The largest number of requests outstanding on any one connection in a trace file:
/// requests sent, minus pieces received and cancels sent, per (local, remote) pair.
fn max_outstanding(trace: &str) -> usize {
    let mut outstanding: HashMap<(String, String), i64> = HashMap::new();
    let mut max = 0;
    for line in trace.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON trace line");
        if v["protocol"] != "bittorrent" {
            continue;
        }
        let key = (v["local"].to_string(), v["remote"].to_string());
        let delta = match (v["dir"].as_str(), v["type"].as_str()) {
            (Some("send"), Some("request")) => 1,
            (Some("recv"), Some("piece")) | (Some("send"), Some("cancel")) => -1,
            (Some("recv"), Some("choke")) => {
                outstanding.insert(key, 0);
                continue;
            }
            _ => continue,
        };
        let n = outstanding.entry(key).or_default();
        *n += delta;
        max = max.max(*n);
    }
    usize::try_from(max).unwrap_or(0)
}

#[test]
fn one_byte_pieces_complete_and_the_pipeline_is_never_overfull() {
    const PIPELINE: usize = 16;
    let s = sample(3000, 7, 1, "seed", "one.torrent");
    assert_eq!(s.meta.num_pieces(), 3000);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seed, _) = s.seed("seed", addr, &[]);
    let trace = s.dir.path().join("leech.jsonl");
    let trace_arg = trace.to_string_lossy().into_owned();
    let (leecher, _) = s.peer(
        "leech",
        addr,
        &[
            "--round-interval",
            "0",
            "--pipeline",
            &PIPELINE.to_string(),
            "--trace",
            &trace_arg,
        ],
    );
    leecher.wait_for("download complete");
    assert!(s.copy("leech") == s.data, "the copy differs");
    let mut seen = 0;
    eventually("the trace holds every piece received", || {
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        seen = text.matches("\"type\":\"piece\"").count();
        seen >= 3000
    });
    let text = std::fs::read_to_string(&trace).expect("trace");
    let max = max_outstanding(&text);
    assert!(
        max <= PIPELINE,
        "{max} requests outstanding at once, over --pipeline {PIPELINE}"
    );
    assert!(
        max > 1,
        "one request at a time: the pipeline was not filled across pieces"
    );
}

#[test]
fn the_trace_count_sees_an_overfull_pipeline() {
    // the checker itself: three requests, one piece back, a cancel
    let line = |dir: &str, kind: &str| {
        format!(
            "{{\"time\":1.0,\"process\":\"p\",\"local\":\"127.0.0.1:1\",\"remote\":\"127.0.0.1:2\",\"protocol\":\"bittorrent\",\"dir\":\"{dir}\",\"type\":\"{kind}\"}}"
        )
    };
    let trace = [
        line("send", "request"),
        line("send", "request"),
        line("recv", "piece"),
        line("send", "request"),
        line("send", "request"),
        line("send", "cancel"),
    ]
    .join("\n");
    assert_eq!(max_outstanding(&trace), 3);
}
