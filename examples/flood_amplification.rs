//! Measures what one spoofed QUERY makes a flood network send its victim (issue 16, item 5):
//! datagrams and bytes reaching the victim, against the bytes the attacker sent.
//!
//!     cargo run --release --example flood_amplification
//!
//! Everything runs in this process on loopback: the peers are the library's `flood::peer::Peer`
//! on 127.0.0.1, each in a thread; the attacker sends from 127.0.0.8 a QUERY whose client field
//! names the victim, a socket on 127.0.0.9 (a QUERY needs no spoofed source: the victim is in
//! its payload). The victim counts what arrives until it has been quiet for 300 ms.
//!
//! Each row is run twice: "guarded" with the peers' defaults (`--ttl 3` unless the row says
//! otherwise, 20 ms duplicate window, 256 KiB/s per client address), and "unguarded", the
//! behaviour before the fix (every peer `--ttl 16`, which was the old hard cut, no duplicate
//! filter, no budget). The last rows send distinct queries for one second (a sustained attack,
//! which the duplicate filter cannot catch) and show the budget at work.

use std::collections::BTreeMap;
use std::net::{SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::flood::guard::{DEFAULT_CLIENT_RATE_KIB, DUPLICATE_WINDOW};
use bittorrent_sim::flood::keyvalues::ChunkStore;
use bittorrent_sim::flood::message::Message;
use bittorrent_sim::flood::peer::{MAX_TTL, Peer, PeerConfig};
use bittorrent_sim::flood::sample;

#[derive(Clone, Copy)]
struct Guard {
    /// `--ttl` of every peer.
    ttl: u16,
    window: Duration,
    rate: u64,
}

const UNGUARDED: Guard = Guard {
    ttl: MAX_TTL,
    window: Duration::ZERO,
    rate: 0,
};

fn guarded(ttl: u16) -> Guard {
    Guard {
        ttl,
        window: DUPLICATE_WINDOW,
        rate: DEFAULT_CLIENT_RATE_KIB * 1024,
    }
}

/// Peers `holdings[i]` with `links` (pairs of indices), started in threads.
struct Net {
    addrs: Vec<SocketAddrV4>,
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Net {
    fn start(holdings: &[Vec<u16>], links: &[(usize, usize)], guard: Guard) -> Net {
        // Ports free right now, all held at once so they are distinct.
        let probes: Vec<UdpSocket> = holdings
            .iter()
            .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind a probe"))
            .collect();
        let addrs: Vec<SocketAddrV4> = probes
            .iter()
            .map(|s| match s.local_addr() {
                Ok(std::net::SocketAddr::V4(a)) => a,
                other => panic!("{other:?}"),
            })
            .collect();
        drop(probes);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (i, held) in holdings.iter().enumerate() {
            let neighbours = links
                .iter()
                .filter_map(|&(a, b)| match (a == i, b == i) {
                    (true, _) => Some(addrs[b]),
                    (_, true) => Some(addrs[a]),
                    _ => None,
                })
                .collect();
            let chunks: BTreeMap<u16, Vec<u8>> = held
                .iter()
                .map(|id| (*id, sample::chunk_bytes(*id)))
                .collect();
            let config = PeerConfig {
                addr: addrs[i],
                neighbours,
                ttl: guard.ttl,
                client_rate: guard.rate,
                duplicate_window: guard.window,
                loss: None,
            };
            let mut peer = Peer::bind(config, ChunkStore::from_chunks(chunks)).expect("bind");
            let stop = Arc::clone(&stop);
            threads.push(thread::spawn(move || {
                let _ = peer.serve(&stop);
            }));
        }
        Net {
            addrs,
            stop,
            threads,
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Datagrams and bytes reaching `victim` until it is quiet for 300 ms (or 10 s have passed).
fn count(victim: &UdpSocket) -> (u64, u64) {
    victim
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let (mut datagrams, mut bytes) = (0u64, 0u64);
    let mut buffer = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match victim.recv_from(&mut buffer) {
            Ok((len, _)) => {
                datagrams += 1;
                bytes += len as u64;
            }
            Err(_) => break,
        }
    }
    (datagrams, bytes)
}

fn victim_addr(victim: &UdpSocket) -> SocketAddrV4 {
    match victim.local_addr() {
        Ok(std::net::SocketAddr::V4(a)) => a,
        other => panic!("{other:?}"),
    }
}

/// One QUERY (ids 1 to 10: 32 bytes) at `ttl` into peer `entry`.
fn one_query(net: &Net, entry: usize, ttl: u16) -> (u64, u64, u64) {
    let attacker = UdpSocket::bind("127.0.0.8:0").expect("attacker");
    let victim = UdpSocket::bind("127.0.0.9:0").expect("victim");
    let query = Message::Query {
        client: victim_addr(&victim),
        ttl,
        ids: (1..=10).collect(),
    };
    let bytes = query.encode().expect("encode");
    attacker.send_to(&bytes, net.addrs[entry]).expect("send");
    let (datagrams, received) = count(&victim);
    (bytes.len() as u64, datagrams, received)
}

/// Distinct queries (ids i, i+1, ... varying) at `ttl` into peer `entry` for one second.
fn sustained(net: &Net, entry: usize, ttl: u16) -> (u64, u64, u64) {
    let attacker = UdpSocket::bind("127.0.0.8:0").expect("attacker");
    let victim = UdpSocket::bind("127.0.0.9:0").expect("victim");
    let victim_at = victim_addr(&victim);
    let counter = thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        let (mut datagrams, mut bytes) = (0u64, 0u64);
        victim
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let start = Instant::now();
        while let Ok((len, _)) = victim.recv_from(&mut buffer) {
            datagrams += 1;
            bytes += len as u64;
            if start.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        (datagrams, bytes)
    });
    let mut sent = 0u64;
    let start = Instant::now();
    let mut i = 0u16;
    while start.elapsed() < Duration::from_secs(1) {
        i = i.wrapping_add(1);
        let query = Message::Query {
            client: victim_at,
            ttl,
            ids: vec![i % 10 + 1, 11 + i / 10],
        };
        let bytes = query.encode().expect("encode");
        if attacker.send_to(&bytes, net.addrs[entry]).is_ok() {
            sent += bytes.len() as u64;
        }
        // Paced to about 5 000 queries a second, which loopback and the peers absorb.
        thread::sleep(Duration::from_micros(200));
    }
    let (datagrams, received) = counter.join().expect("counter");
    (sent, datagrams, received)
}

/// GETs for every chunk of peer `entry` (a source address an attacker would spoof; here the
/// replies come back to the sender, which stands for the victim) for one second.
fn gets(net: &Net, entry: usize, ids: &[u16]) -> (u64, u64, u64) {
    let sender = UdpSocket::bind("127.0.0.9:0").expect("sender");
    let receiver = sender.try_clone().expect("clone");
    let counter = thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        let (mut datagrams, mut bytes) = (0u64, 0u64);
        receiver
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        while let Ok((len, _)) = receiver.recv_from(&mut buffer) {
            datagrams += 1;
            bytes += len as u64;
        }
        (datagrams, bytes)
    });
    let get = Message::Get { ids: ids.to_vec() }.encode().expect("encode");
    let mut sent = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if sender.send_to(&get, net.addrs[entry]).is_ok() {
            sent += get.len() as u64;
        }
        thread::sleep(Duration::from_millis(1));
    }
    let (datagrams, received) = counter.join().expect("counter");
    (sent, datagrams, received)
}

fn row(what: &str, guard: &str, (sent, datagrams, received): (u64, u64, u64)) {
    println!(
        "{what:<44} {guard:<10} sent {sent:>8} B  victim {datagrams:>6} datagrams {received:>9} B  x{:.1}",
        received as f64 / sent.max(1) as f64
    );
}

fn main() {
    let assignment: Vec<Vec<u16>> = (1..=5).map(|p| sample::holdings(p).to_vec()).collect();
    let assignment_links = [(0, 1), (0, 2), (1, 4), (2, 4), (3, 4)];
    let mesh: Vec<Vec<u16>> = (1..=4).map(|p| sample::holdings(p).to_vec()).collect();
    let mesh_links = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];

    // What, the peers' chunks, their links, the peers' --ttl, the query's ttl.
    type Case<'a> = (&'a str, &'a [Vec<u16>], &'a [(usize, usize)], u16, u16);
    let cases: [Case; 4] = [
        (
            "assignment topology, one query ttl 16",
            &assignment,
            &assignment_links,
            3,
            16,
        ),
        (
            "4-peer full mesh, one query ttl 10",
            &mesh,
            &mesh_links,
            3,
            10,
        ),
        (
            "4-peer full mesh, one query ttl 12",
            &mesh,
            &mesh_links,
            3,
            12,
        ),
        (
            "4-peer full mesh, peers --ttl 16, query 16",
            &mesh,
            &mesh_links,
            16,
            16,
        ),
    ];
    for (what, holdings, links, ttl, query_ttl) in cases {
        for (name, guard) in [("unguarded", UNGUARDED), ("guarded", guarded(ttl))] {
            let net = Net::start(holdings, links, guard);
            row(what, name, one_query(&net, 0, query_ttl));
            net.stop();
        }
    }
    for (name, guard) in [("unguarded", UNGUARDED), ("guarded", guarded(3))] {
        let net = Net::start(&assignment, &assignment_links, guard);
        row(
            "assignment topology, 1 s of distinct queries",
            name,
            sustained(&net, 0, 16),
        );
        net.stop();
    }
    for (name, guard) in [("unguarded", UNGUARDED), ("guarded", guarded(3))] {
        let net = Net::start(&assignment, &assignment_links, guard);
        row(
            "peer 1, 1 s of GET 5,6,7,8 every ms",
            name,
            gets(&net, 0, &[5, 6, 7, 8]),
        );
        net.stop();
    }
}
