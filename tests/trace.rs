//! `--trace FILE`: every line of a real run's traces is one JSON object of the documented
//! shape, and each message type carries its key fields.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::*;
use serde_json::Value;

/// Every line of a trace, parsed; panics on a line that is not the documented object.
fn read_trace(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("trace written");
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}: {line}", path.display(), n + 1));
            for key in [
                "time", "process", "remote", "protocol", "dir", "type", "fields",
            ] {
                assert!(
                    value.get(key).is_some(),
                    "{}:{}: no `{key}`: {line}",
                    path.display(),
                    n + 1
                );
            }
            assert!(
                value["time"].as_f64().is_some_and(|t| t > 1.6e9),
                "time is epoch seconds: {line}"
            );
            assert!(
                matches!(value["dir"].as_str(), Some("send" | "recv")),
                "{line}"
            );
            assert!(value["fields"].is_object(), "{line}");
            assert!(
                value["remote"]
                    .as_str()
                    .is_some_and(|r| r.parse::<std::net::SocketAddr>().is_ok()),
                "{line}"
            );
            value
        })
        .collect()
}

/// The field names each message type must carry.
fn required_fields() -> HashMap<&'static str, &'static [&'static str]> {
    HashMap::from([
        ("JOIN", &["info_hash", "port", "pieces"][..]),
        ("PING", &["info_hash", "port"][..]),
        ("REPORT", &["info_hash", "port", "pieces"][..]),
        ("LIST", &["info_hash", "port"][..]),
        ("PUBLISH", &["info_hash", "length"][..]),
        ("PEERS", &["count"][..]),
        ("handshake", &["info_hash", "peer_id"][..]),
        ("bitfield", &["pieces"][..]),
        ("have", &["index"][..]),
        ("request", &["index", "begin", "length"][..]),
        ("piece", &["index", "begin", "length"][..]),
        ("HELLO", &["ids"][..]),
        ("QUERY", &["client", "ttl", "ids"][..]),
        ("CHUNKS_INFO", &["ids"][..]),
        ("GET", &["ids"][..]),
        ("RESPONSE", &["id", "size"][..]),
    ])
}

fn check_fields(lines: &[Value]) -> HashSet<String> {
    let required = required_fields();
    let mut seen = HashSet::new();
    for line in lines {
        let kind = line["type"].as_str().expect("type is a string");
        if let Some(fields) = required.get(kind) {
            for field in *fields {
                assert!(
                    line["fields"].get(*field).is_some(),
                    "{kind} without `{field}`: {line}"
                );
            }
        }
        seen.insert(kind.to_string());
    }
    seen
}

#[test]
fn a_swarm_runs_traces_parse_and_carry_each_types_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_bytes(5 * PIECE + 10, 3);
    let file = write_file(&dir.path().join("seed"), "f.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.path().join("f.torrent"));
    let t = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (tracker_trace, seed_trace, leech_trace) =
        (t("tracker.jsonl"), t("seed.jsonl"), t("leech.jsonl"));
    let (_tracker, addr) = tracker(dir.path(), &["--trace", &tracker_trace]);
    let common = |d: &str, trace: &str| {
        vec![
            "--torrent".to_string(),
            torrent.to_string_lossy().into_owned(),
            "--dir".into(),
            t(d),
            "--min-peers".into(),
            "1".into(),
            "--trace".into(),
            trace.to_string(),
        ]
    };
    let seed_args = common("seed", &seed_trace);
    let leech_args = common("leech", &leech_trace);
    let (_seed, _) = peer(
        "seed",
        dir.path(),
        addr,
        &seed_args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (leecher, _) = peer(
        "leecher",
        dir.path(),
        addr,
        &leech_args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    leecher.wait_for("download complete");
    eventually("the leecher's trace shows its pieces", || {
        std::fs::read_to_string(&leech_trace)
            .is_ok_and(|t| t.matches("\"type\":\"piece\"").count() >= 6)
    });

    let tracker_lines = read_trace(Path::new(&tracker_trace));
    let seed_lines = read_trace(Path::new(&seed_trace));
    let leech_lines = read_trace(Path::new(&leech_trace));
    assert!(tracker_lines.iter().all(|l| l["process"] == "tracker"));
    assert!(leech_lines.iter().all(|l| {
        l["process"]
            .as_str()
            .is_some_and(|p| p.starts_with("peer-"))
    }));
    let mut seen = check_fields(&tracker_lines);
    seen.extend(check_fields(&seed_lines));
    seen.extend(check_fields(&leech_lines));
    for kind in [
        "JOIN",
        "PEERS",
        "PUBLISH",
        "handshake",
        "bitfield",
        "interested",
        "unchoke",
        "request",
        "piece",
    ] {
        assert!(seen.contains(kind), "no {kind} in the traces: {seen:?}");
    }
    // no payload bytes: the longest line stays short
    for path in [&tracker_trace, &seed_trace, &leech_trace] {
        let longest = std::fs::read_to_string(path)
            .expect("trace")
            .lines()
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest < 400, "{path}: a line of {longest} bytes");
    }
    // a message sent by one side is received by the other, same type
    let sent_requests = leech_lines
        .iter()
        .filter(|l| l["type"] == "request" && l["dir"] == "send")
        .count();
    let received_requests = seed_lines
        .iter()
        .filter(|l| l["type"] == "request" && l["dir"] == "recv")
        .count();
    assert_eq!(sent_requests, received_requests);
}

#[test]
fn flood_traces_parse_and_carry_each_types_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(BIN)
        .args(["flood", "sample"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("flood sample");
    assert!(status.success());
    let p1 = format!("127.0.0.1:{}", free_udp_port());
    let p2 = format!("127.0.0.1:{}", free_udp_port());
    let kv = |n: u32| {
        dir.path()
            .join(format!("key-values-files_peer{n}"))
            .to_string_lossy()
            .into_owned()
    };
    let peer_trace = dir.path().join("p1.jsonl").to_string_lossy().into_owned();
    let client_trace = dir.path().join("c.jsonl").to_string_lossy().into_owned();
    let _p1 = Proc::start(
        "p1",
        dir.path(),
        &["flood", "peer", &p1, &kv(1), &p2, "--trace", &peer_trace],
        &[],
    );
    let _p2 = Proc::start("p2", dir.path(), &["flood", "peer", &p2, &kv(2), &p1], &[]);
    _p1.wait_for("listening");
    _p2.wait_for("listening");
    let mut client = Proc::start(
        "client",
        dir.path(),
        &[
            "flood",
            "client",
            &p1,
            "1,5",
            "--bind",
            "127.0.0.9",
            "--timeout",
            "2s",
            "--trace",
            &client_trace,
        ],
        &[],
    );
    assert_eq!(client.wait_exit(), Some(0));
    let mut seen = check_fields(&read_trace(Path::new(&peer_trace)));
    seen.extend(check_fields(&read_trace(Path::new(&client_trace))));
    for kind in ["HELLO", "QUERY", "CHUNKS_INFO", "GET", "RESPONSE"] {
        assert!(
            seen.contains(kind),
            "no {kind} in the flood traces: {seen:?}"
        );
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
