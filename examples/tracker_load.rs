//! Load generator for `bench/tracker.sh`: K simulated peers speaking our line protocol to one
//! tracker at the peers' timers, to find how many peers one tracker sustains.
//!
//!     cargo build --release --example tracker_load
//!     target/release/examples/tracker_load --tracker 127.0.0.1:6000 --peers 5000
//!
//! What it does, like real peers (`src/peer/tracker_client.rs`: one short TCP connection per
//! request, connect / write the line / read the reply / close):
//!
//! 1. publishes `--swarms` small swarms (metainfo built from files in a temporary directory);
//! 2. joins the K peers (peer i in swarm i mod S, port 10000 + i / S), spread over one ping
//!    interval;
//! 3. for `--seconds`, sends each peer's `PING` every `--ping-ms`, `REPORT` every
//!    `--report-ms` and `LIST` every `--list-ms` (defaults 10 s, 20 s, 30 s: the peers'
//!    defaults), each timer's first firing spread uniformly over its interval;
//! 4. asks `SWARMS` how many peers the tracker lists, which must be K (a peer dropped by the
//!    clean-up, 15 s by default, would be missing, and its next `PING` gets `unknown-peer`).
//!
//! Requests are sent by `--threads` threads (peer i belongs to thread i mod T), each from one
//! of `--sources` loopback addresses (127.0.0.2, 127.0.0.3, ...) so that the sockets left in
//! TIME_WAIT spread over several address pairs. The last line is machine-readable:
//!
//!     LOAD peers=K swarms=S seconds=D requests=N failed=F unknown_peer=U listed=L
//!          p50_us=.. p90_us=.. p99_us=.. max_us=.. late_p99_ms=.. late_max_ms=.. sustained=yes|no
//!
//! `late` is how far behind its timer a request started (the generator's own lag): a large
//! value means the tracker (or this generator) could not keep up. `sustained=yes` when every
//! request was answered without error, the tracker lists all K peers, and the p99 lag stayed
//! under one second. Only loopback addresses are accepted as the tracker.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::tracker_client::{ClientError, TrackerClient};
use bittorrent_sim::tracker::proto::ErrorCode;

const PIECES: u64 = 64;
const PIECE_LEN: u64 = 1024;

struct Options {
    tracker: SocketAddr,
    peers: usize,
    swarms: usize,
    seconds: u64,
    ping: Duration,
    report: Duration,
    list: Duration,
    threads: usize,
    sources: u8,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: tracker_load --tracker 127.0.0.1:PORT --peers K [--swarms S] [--seconds D] \
         [--ping-ms MS] [--report-ms MS] [--list-ms MS] [--threads T] [--sources N]"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Options> {
    let mut o = Options {
        tracker: SocketAddr::from(([127, 0, 0, 1], 6000)),
        peers: 1000,
        swarms: 0,
        seconds: 35,
        ping: Duration::from_secs(10),
        report: Duration::from_secs(20),
        list: Duration::from_secs(30),
        threads: 64,
        sources: 16,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.chunks(2);
    for pair in &mut it {
        let [key, value] = pair else { return None };
        let ms = |v: &str| v.parse().ok().map(Duration::from_millis);
        match key.as_str() {
            "--tracker" => o.tracker = value.parse().ok()?,
            "--peers" => o.peers = value.parse().ok()?,
            "--swarms" => o.swarms = value.parse().ok()?,
            "--seconds" => o.seconds = value.parse().ok()?,
            "--ping-ms" => o.ping = ms(value)?,
            "--report-ms" => o.report = ms(value)?,
            "--list-ms" => o.list = ms(value)?,
            "--threads" => o.threads = value.parse().ok()?,
            "--sources" => o.sources = value.parse().ok()?,
            _ => return None,
        }
    }
    if o.swarms == 0 {
        // 2500 peers per swarm at most: half the tracker's default cap per swarm.
        o.swarms = o.peers.div_ceil(2500).max(1);
    }
    let sane = o.tracker.ip().is_loopback()
        && o.peers > 0
        && o.peers / o.swarms < 50_000
        && o.threads > 0
        && o.sources > 0
        && o.sources < 250
        && !o.ping.is_zero()
        && !o.report.is_zero()
        && !o.list.is_zero();
    sane.then_some(o)
}

/// Publishes swarm `s`: a file of [`PIECES`] pieces whose bytes depend on `s`.
fn publish(client: &TrackerClient, dir: &std::path::Path, s: usize) -> Result<InfoHash, String> {
    let path = dir.join(format!("swarm-{s}.bin"));
    let mut data = Vec::with_capacity((PIECES * PIECE_LEN) as usize);
    let mut x = (s as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..PIECES * PIECE_LEN {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.push(x as u8);
    }
    std::fs::write(&path, &data).map_err(|e| format!("{}: {e}", path.display()))?;
    let metainfo = Metainfo::build(&path, PIECE_LEN, None).map_err(|e| e.to_string())?;
    client
        .publish(&metainfo)
        .map_err(|e| format!("publish: {e}"))?;
    Ok(metainfo.info_hash)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Join,
    Ping,
    Report,
    List,
}

/// What one thread measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    late_ms: Vec<u64>,
    failed: u64,
    unknown_peer: u64,
    first_error: Option<String>,
}

/// The requests of the peers `first, first + step, ...` until `end`.
fn run_thread(
    o: Arc<Options>,
    hashes: Arc<Vec<InfoHash>>,
    first: usize,
    step: usize,
    start: Instant,
    end: Instant,
) -> Tally {
    let source = IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        0,
        2 + (first % o.sources as usize) as u8,
    ));
    let client = TrackerClient {
        tracker: o.tracker,
        local_ip: Some(source),
    };
    let k = o.peers as u32;
    let spread = |interval: Duration, i: usize| interval * (i as u32) / k;
    let mut events = BinaryHeap::new();
    for i in (first..o.peers).step_by(step) {
        // Join first (spread over one ping interval); the timers start one interval later.
        let join = start + spread(o.ping, i);
        events.push(Reverse((join, i, Kind::Join)));
        events.push(Reverse((join + o.ping, i, Kind::Ping)));
        events.push(Reverse((join + spread(o.report, i), i, Kind::Report)));
        events.push(Reverse((join + spread(o.list, i), i, Kind::List)));
    }
    let mut tally = Tally::default();
    while let Some(Reverse((when, i, kind))) = events.pop() {
        if when >= end {
            continue;
        }
        let now = Instant::now();
        if when > now {
            thread::sleep(when - now);
        }
        let late = Instant::now().saturating_duration_since(when);
        let hash = hashes[i % hashes.len()];
        let port = 10_000 + (i / hashes.len()) as u16;
        let sent = Instant::now();
        let result = match kind {
            Kind::Join => client.join(hash, port, "0-9").map(drop),
            Kind::Ping => client.ping(hash, port),
            Kind::Report => client.report(hash, port, "0-9"),
            Kind::List => client.list(hash, port).map(drop),
        };
        tally.latencies_us.push(sent.elapsed().as_micros() as u64);
        tally.late_ms.push(late.as_millis() as u64);
        if let Err(e) = result {
            tally.failed += 1;
            if matches!(
                e,
                ClientError::Refused {
                    code: ErrorCode::UnknownPeer,
                    ..
                }
            ) {
                tally.unknown_peer += 1;
            }
            tally
                .first_error
                .get_or_insert_with(|| format!("peer {i} {}: {e}", name(kind)));
        }
        let every = match kind {
            Kind::Join => continue,
            Kind::Ping => o.ping,
            Kind::Report => o.report,
            Kind::List => o.list,
        };
        events.push(Reverse((when + every, i, kind)));
    }
    tally
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Join => "JOIN",
        Kind::Ping => "PING",
        Kind::Report => "REPORT",
        Kind::List => "LIST",
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn main() -> ExitCode {
    let Some(o) = parse_args() else {
        return usage();
    };
    let o = Arc::new(o);
    let dir: PathBuf = std::env::temp_dir().join(format!("tracker-load-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let admin = TrackerClient {
        tracker: o.tracker,
        local_ip: None,
    };
    let mut hashes = Vec::new();
    for s in 0..o.swarms {
        match publish(&admin, &dir, s) {
            Ok(hash) => hashes.push(hash),
            Err(e) => {
                eprintln!("error: swarm {s}: {e}");
                let _ = std::fs::remove_dir_all(&dir);
                return ExitCode::FAILURE;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let hashes = Arc::new(hashes);
    eprintln!(
        "tracker_load: {} peers in {} swarms, {} s, ping/report/list every {:?}/{:?}/{:?}, {} threads",
        o.peers, o.swarms, o.seconds, o.ping, o.report, o.list, o.threads
    );
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + Duration::from_secs(o.seconds);
    let workers: Vec<_> = (0..o.threads.min(o.peers))
        .map(|t| {
            let (o, hashes) = (Arc::clone(&o), Arc::clone(&hashes));
            let step = o.threads;
            thread::spawn(move || run_thread(o, hashes, t, step, start, end))
        })
        .collect();
    let mut all = Tally::default();
    for worker in workers {
        let Ok(t) = worker.join() else {
            eprintln!("error: a load thread panicked");
            return ExitCode::FAILURE;
        };
        all.latencies_us.extend(t.latencies_us);
        all.late_ms.extend(t.late_ms);
        all.failed += t.failed;
        all.unknown_peer += t.unknown_peer;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let listed: usize = match admin.swarms() {
        Ok(list) => list
            .iter()
            .filter(|s| hashes.contains(&s.info_hash))
            .map(|s| s.peers)
            .sum(),
        Err(e) => {
            eprintln!("error: SWARMS: {e}");
            0
        }
    };
    if let Some(e) = &all.first_error {
        eprintln!("first error: {e}");
    }
    all.latencies_us.sort_unstable();
    all.late_ms.sort_unstable();
    let late_p99 = percentile(&all.late_ms, 99.0);
    let sustained = all.failed == 0 && listed == o.peers && late_p99 < 1000;
    println!(
        "LOAD peers={} swarms={} seconds={} requests={} failed={} unknown_peer={} listed={} \
         p50_us={} p90_us={} p99_us={} max_us={} late_p99_ms={} late_max_ms={} sustained={}",
        o.peers,
        o.swarms,
        o.seconds,
        all.latencies_us.len(),
        all.failed,
        all.unknown_peer,
        listed,
        percentile(&all.latencies_us, 50.0),
        percentile(&all.latencies_us, 90.0),
        percentile(&all.latencies_us, 99.0),
        all.latencies_us.last().copied().unwrap_or(0),
        late_p99,
        all.late_ms.last().copied().unwrap_or(0),
        if sustained { "yes" } else { "no" }
    );
    ExitCode::SUCCESS
}
