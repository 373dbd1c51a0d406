//! The lab (`lab/lab.sh`): hosts as network namespaces behind a switch namespace, 20 ms delay
//! (+/- 5 ms) and 1 % loss on every host's egress, a 100 Mbit/s rate limit.
//!
//! * A tracker (`--remote`) and 8 peers on 9 hosts: every peer completes with a byte-identical
//!   copy, and the tracker (asked `SWARMS`, then `LIST <info-hash> 1`) lists the 8 peers each
//!   under its own 10.99.0.x address.
//! * The flood assignment's topology on 7 hosts: both clients' logs are what the assignment
//!   expects.
//! * Ctrl+C (SIGINT) in the middle of a run tears everything down.
//!
//! Every run must leave nothing behind: no namespace named with its prefix, no process of it
//! (each carries `BTLAB_RUN=<prefix>` in its environment), and while it runs the machine's own
//! namespace never gets a 10.99.0.x address or route nor one of the lab's links.
//!
//! Needs root and network namespaces. Without them (not root, or a CI sandbox that forbids
//! `ip netns add`) each test says loudly on stderr that it is skipped and passes: the lab cannot
//! be built there, which is a fact about the machine, not a bug. `lab.sh check` decides.
//! The runs go one at a time: two cores shared by three labs would only make each slower.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One lab at a time (see the module doc).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
const POLL: Duration = Duration::from_millis(200);

#[path = "lab/harness.rs"]
mod harness;

use harness::*;

/// The links of the issue: 20 ms delay, 5 ms jitter, 1 % loss, 100 Mbit/s.
const LINKS: [&str; 8] = [
    "--delay", "20ms", "--jitter", "5ms", "--loss", "1%", "--rate", "100mbit",
];

#[test]
fn tracker_and_8_peers_on_9_namespaced_hosts_with_delay_and_loss_all_complete() {
    let prefix = prefix("s");
    if !lab_available(&prefix) {
        return;
    }
    let mut args = vec!["swarm", "--hosts", "9"];
    args.extend(LINKS);
    args.extend([
        "--file-size",
        "2MiB",
        "--piece-length",
        "64KiB",
        "--ping-interval",
        "1s",
        "--report-interval",
        "1s",
        "--timeout",
        "60s",
    ]);
    let started = Instant::now();
    let (run, out) = Run::passing(&prefix, &args);

    // Every copy is the original, byte for byte.
    let work = run.work();
    let original = fs::read(work.join("seed/lab-file.bin")).expect("original");
    assert_eq!(original.len(), 2 << 20);
    for host in 3..=9 {
        let copy = fs::read(work.join(format!("h{host}/lab-file.bin")))
            .unwrap_or_else(|e| panic!("host {host} has no copy: {e}"));
        assert!(
            copy == original,
            "host {host}'s copy differs from the original"
        );
        let log = fs::read_to_string(work.join(format!("logs/h{host}.log"))).expect("log");
        assert!(
            log.contains("download complete: ") && log.contains("lab-file.bin verified"),
            "host {host} never logged its completion"
        );
    }

    // The tracker's LIST reply (printed by lab.sh): 8 peers, each under its own address.
    let peers: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PEER "))
        .map(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            (words[0].to_owned(), words[1].to_owned())
        })
        .collect();
    let addresses: BTreeSet<&str> = peers.iter().map(|(ip, _)| ip.as_str()).collect();
    let expected: BTreeSet<String> = (2..=9).map(|i| format!("10.99.0.{i}")).collect();
    assert_eq!(
        peers.len(),
        8,
        "the tracker should list 8 peers:\n{}",
        tail(&out)
    );
    assert_eq!(
        addresses,
        expected.iter().map(String::as_str).collect(),
        "{}",
        tail(&out)
    );
    assert!(out.contains("PEERS 8"), "{}", tail(&out));

    // The delay is on the links: a TCP connect plus one request is two round trips of
    // 2 x (20 ms +/- 5 ms), so at least 60 ms.
    let probe: u64 = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("== host 2 -> tracker: TCP connect + one request = ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no round-trip probe in the output:\n{}", tail(&out)));
    assert!(
        probe >= 60,
        "2 round trips took {probe} ms: is the delay applied?"
    );

    // The summary names every host with its time to completion and bytes uploaded.
    for host in 2..=9 {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("h{host} "))
                    && l.contains(&format!("10.99.0.{host}"))),
            "the summary lacks host {host}:\n{}",
            tail(&out)
        );
    }
    eprintln!("swarm lab run took {:?}", started.elapsed());
}

/// Checks a client's log as the assignment expects: each `ip:port - id` line names the host
/// of a peer holding that chunk (peer n is 10.99.0.n:500n), the received chunk equals its
/// source, the ids received are `want`, and `absent` ends the log as `0.0.0.0:0 - id`.
fn check_client_log(flood: &Path, client_ip: &str, want: &[u32], absent: Option<u32>) {
    let holds: [&[u32]; 5] = [&[5, 6, 7, 8], &[1, 2], &[3, 6, 7, 8], &[6, 7, 8], &[9, 10]];
    let name = format!("output-{client_ip}.log");
    let log = fs::read_to_string(flood.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut got = Vec::new();
    let mut missing = Vec::new();
    for line in log.lines() {
        let (addr, id) = line
            .split_once(" - ")
            .unwrap_or_else(|| panic!("{name}: bad line {line:?}"));
        let id: u32 = id
            .parse()
            .unwrap_or_else(|_| panic!("{name}: bad id in {line:?}"));
        if addr == "0.0.0.0:0" {
            missing.push(id);
            continue;
        }
        let (ip, port) = addr.split_once(':').expect("ip:port");
        let peer: usize = ip
            .strip_prefix("10.99.0.")
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=5).contains(n))
            .unwrap_or_else(|| panic!("{name}: {addr} is no peer's host"));
        assert_eq!(port, format!("500{peer}"), "{name}: {line}");
        assert!(
            holds[peer - 1].contains(&id),
            "{name}: peer {peer} does not hold {id}"
        );
        let chunk = format!("BigBuckBunny_{id}.m4s");
        assert_eq!(
            fs::read(flood.join(format!("chunks-{client_ip}")).join(&chunk)).expect("chunk"),
            fs::read(flood.join(&chunk)).expect("source chunk"),
            "{name}: chunk {id} differs from its source"
        );
        got.push(id);
    }
    got.sort_unstable();
    assert_eq!(got, want, "{name}: chunks received\n{log}");
    assert_eq!(
        missing,
        absent.into_iter().collect::<Vec<_>>(),
        "{name}\n{log}"
    );
    if let Some(id) = absent {
        assert_eq!(
            log.lines().last(),
            Some(format!("0.0.0.0:0 - {id}").as_str())
        );
    }
}

#[test]
fn flood_topology_on_7_namespaced_hosts_gives_the_assignments_client_logs() {
    let prefix = prefix("f");
    if !lab_available(&prefix) {
        return;
    }
    let mut args = vec!["flood"];
    args.extend(LINKS);
    args.extend(["--client-timeout", "5s", "--timeout", "60s"]);
    let started = Instant::now();
    let (run, out) = Run::passing(&prefix, &args);

    let flood = run.work().join("flood");
    check_client_log(&flood, "10.99.0.6", &[5, 6, 7], None);
    check_client_log(&flood, "10.99.0.7", &[1, 3, 5, 9], Some(4));
    // The summary prints both logs.
    assert!(out.contains("output-10.99.0.6.log") && out.contains("0.0.0.0:0 - 4"));
    eprintln!("flood lab run took {:?}", started.elapsed());
}

#[test]
fn ctrl_c_in_the_middle_of_a_run_leaves_nothing_behind() {
    let prefix = prefix("i");
    if !lab_available(&prefix) {
        return;
    }
    // Big and slow enough (16 MiB at 4 Mbit/s: half a minute) to be interrupted mid-download.
    let mut run = Run::start(
        &prefix,
        &[
            "swarm",
            "--hosts",
            "4",
            "--file-size",
            "16MiB",
            "--rate",
            "4mbit",
            "--timeout",
            "120s",
        ],
    );
    let until = Instant::now() + Duration::from_secs(60);
    while !run.output().contains("== waiting for") {
        assert!(
            run.child.try_wait().expect("try_wait").is_none(),
            "lab.sh ended early:\n{}",
            tail(&run.output())
        );
        assert!(
            Instant::now() < until,
            "the lab never got going:\n{}",
            tail(&run.output())
        );
        std::thread::sleep(POLL);
    }
    assert_eq!(namespaces_of(&prefix).len(), 5, "a switch and 4 hosts");
    assert!(processes_of(&prefix).len() >= 4, "tracker and 3 peers");
    signal(run.child.id(), "INT");
    let status = run.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{}", tail(&run.output()));
    assert!(run.output().contains("lab: interrupted"));
    run.assert_nothing_left();
}
