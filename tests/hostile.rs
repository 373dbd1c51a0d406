//! Hostile remotes against our peer: garbage instead of a handshake, another swarm's
//! info-hash, a flood of `have` messages (out-of-range ones included), a slowloris handshake,
//! and thousands of silent connections while an honest leecher downloads. Our peer must stay
//! up, bounded in threads and memory, and keep serving honest peers.
//!
//! Unknown ids, 4 GiB frames, bad bitfields and bad requests are in `wire_behaviour.rs`; a
//! peer serving wrong data in `swarm.rs`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::admission::MAX_PENDING;
use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::wire::Message;
use common::fake::{FakeConn, handshake_bytes};
use common::*;

/// Two 16 KiB blocks per piece.
const PIECE_32K: usize = 2 * PIECE;

/// A sample file of `pieces` pieces of 32 KiB, the original in `DIR/seed`, and its torrent.
fn setup(pieces: usize) -> Sample {
    sample(pieces * PIECE_32K - 77, 7, PIECE_32K, "seed", "s.torrent")
}

/// An honest remote still gets a block from `addr`.
fn still_serves(addr: SocketAddr, hash: InfoHash) {
    let mut honest = FakeConn::connect(addr, hash);
    honest.send(&Message::Interested);
    honest.recv_until(|m| *m == Message::Unchoke);
    honest.send(&Message::Request {
        index: 0,
        begin: 0,
        length: 16384,
    });
    honest.recv_until(|m| matches!(m, Message::Piece { .. }));
}

#[test]
fn garbage_and_a_wrong_info_hash_close_only_that_connection() {
    let s = setup(2);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // Garbage that does not start like a plain handshake may be the start of an encrypted
    // (MSE) one: the seed waits for the rest of a 96-byte public key until the handshake
    // deadline, shortened here.
    let (seeder, seeder_addr) = s.peer("seed", addr, &["--handshake-timeout", "1s"]);
    // 68 bytes of garbage where the handshake belongs
    let mut garbage = TcpStream::connect(seeder_addr).expect("connect");
    garbage.write_all(&sample_bytes(68, 3)).expect("send");
    garbage.set_read_timeout(Some(DEADLINE)).expect("timeout");
    assert_eq!(garbage.read(&mut [0u8; 64]).unwrap_or(0), 0, "closed");
    // a well-formed handshake for another swarm
    let mut other = TcpStream::connect(seeder_addr).expect("connect");
    other
        .write_all(&handshake_bytes(InfoHash([0x5a; 20])))
        .expect("send");
    other.set_read_timeout(Some(DEADLINE)).expect("timeout");
    assert_eq!(
        other.read(&mut [0u8; 68]).unwrap_or(0),
        0,
        "closed, no handshake"
    );
    seeder.wait_for("handshake names another swarm");
    still_serves(seeder_addr, s.meta.info_hash);
}

#[test]
fn a_flood_of_haves_out_of_range_ones_included_is_absorbed() {
    let s = setup(4);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (seeder, seeder_addr) = s.peer("seed", addr, &[]);
    let rss_before = seeder.status_field("VmRSS").expect("rss");
    let mut flood = FakeConn::connect(seeder_addr, s.meta.info_hash);
    let mut bytes = Vec::with_capacity(100_000 * 9);
    for i in 0u32..100_000 {
        // in range, just past the end, and far past it
        let index = match i % 3 {
            0 => i % 4,
            1 => 4,
            _ => u32::MAX - i,
        };
        Message::Have { index }
            .write_to(&mut bytes)
            .expect("encode");
    }
    let started = Instant::now();
    flood.send_raw(&bytes);
    // The same connection is still served afterwards: out-of-range haves are ignored.
    flood.send(&Message::Interested);
    flood.recv_until(|m| *m == Message::Unchoke);
    flood.send(&Message::Request {
        index: 3,
        begin: 0,
        length: 16384,
    });
    flood.recv_until(|m| matches!(m, Message::Piece { index: 3, .. }));
    let rss_after = seeder.status_field("VmRSS").expect("rss");
    eprintln!(
        "100000 haves absorbed in {:.2?}; VmRSS {rss_before} -> {rss_after} KiB",
        started.elapsed()
    );
    assert!(
        rss_after < rss_before + 32 * 1024,
        "{rss_before} -> {rss_after}"
    );
    assert_eq!(seeder.count("panicked"), 0);
    still_serves(seeder_addr, s.meta.info_hash);
}

#[test]
fn a_slowloris_handshake_is_cut_at_the_handshake_deadline() {
    let s = setup(2);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seeder, seeder_addr) = s.peer("seed", addr, &["--handshake-timeout", "500ms"]);
    let mut slow = TcpStream::connect(seeder_addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_millis(1)))
        .expect("timeout");
    let started = Instant::now();
    let handshake = handshake_bytes(s.meta.info_hash);
    let mut sent = 0;
    // One byte every 50 ms: each read of the peer gets a byte well within any per-read timeout,
    // but the whole handshake would take 3.4 s.
    loop {
        if sent < handshake.len() && slow.write_all(&handshake[sent..=sent]).is_err() {
            break;
        }
        sent += 1;
        match slow.read(&mut [0u8; 68]) {
            Ok(0) => break,
            Ok(_) => panic!("the peer answered a handshake that never completed"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        assert!(started.elapsed() < DEADLINE, "never closed");
        thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    eprintln!("slowloris closed after {took:.2?}, {sent} of 68 bytes sent");
    assert!(sent < handshake.len(), "closed only after {sent} bytes");
    assert!(took < Duration::from_secs(3), "{took:?}");
    still_serves(seeder_addr, s.meta.info_hash);
}

/// Samples the peak of a /proc/PID/status field while running.
struct Peak {
    stop: Arc<AtomicBool>,
    threads: Arc<AtomicU64>,
    rss: Arc<AtomicU64>,
}

impl Peak {
    fn watch(pid: u32) -> Peak {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = Arc::new(AtomicU64::new(0));
        let rss = Arc::new(AtomicU64::new(0));
        let (s, t, r) = (Arc::clone(&stop), Arc::clone(&threads), Arc::clone(&rss));
        thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                    return;
                };
                for line in text.lines() {
                    let value = || line.split_whitespace().nth(1)?.parse::<u64>().ok();
                    if line.starts_with("Threads:") {
                        t.fetch_max(value().unwrap_or(0), Ordering::Relaxed);
                    } else if line.starts_with("VmRSS:") {
                        r.fetch_max(value().unwrap_or(0), Ordering::Relaxed);
                    }
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        Peak { stop, threads, rss }
    }
}

impl Drop for Peak {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Opens `count` connections to `addr` from 8 threads; they send nothing.
fn silent_connections(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let handles: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                (0..count / 8)
                    .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(10)).ok())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("attacker thread"))
        .collect()
}

#[test]
fn two_thousand_silent_connections_do_not_starve_an_honest_leecher() {
    const CAP: u64 = 8;
    let s = setup(64);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (seeder, seeder_addr) = s.peer("seed", addr, &["--max-connections", "8"]);
    let threads_before = seeder.status_field("Threads").expect("threads");
    let rss_before = seeder.status_field("VmRSS").expect("rss");
    let peak = Peak::watch(seeder.pid());
    let started = Instant::now();
    let attackers = silent_connections(seeder_addr, 2000);
    let connected = attackers.len();
    eprintln!(
        "{connected} silent connections open after {:.2?}",
        started.elapsed()
    );
    assert!(connected >= 1900, "only {connected} connected");
    // More keep coming while the honest leecher downloads.
    let more = Arc::new(AtomicBool::new(true));
    let keep_on = Arc::clone(&more);
    let trickle = thread::spawn(move || {
        let mut held = Vec::new();
        while keep_on.load(Ordering::Relaxed) && held.len() < 2000 {
            if let Ok(c) = TcpStream::connect_timeout(&seeder_addr, Duration::from_secs(1)) {
                held.push(c);
            }
            thread::sleep(Duration::from_millis(5));
        }
        held.len()
    });
    let leech_started = Instant::now();
    let (leecher, _) = s.peer("leecher", addr, &["--parallel", "4"]);
    leecher.wait_for("download complete");
    let leech_took = leech_started.elapsed();
    more.store(false, Ordering::Relaxed);
    let trickled = trickle.join().expect("trickle");
    assert_eq!(s.copy("leecher"), s.data);
    let (max_threads, max_rss) = (
        peak.threads.load(Ordering::Relaxed),
        peak.rss.load(Ordering::Relaxed),
    );
    drop(peak);
    eprintln!(
        "honest leecher complete in {leech_took:.2?} under {connected}+{trickled} silent \
         connections; seeder threads {threads_before} -> peak {max_threads} \
         (cap {CAP} + {MAX_PENDING} pending), VmRSS {rss_before} -> peak {max_rss} KiB"
    );
    // Connection threads never exceed the cap: a slot is reused only once its thread has been
    // joined. What `/proc` may show beyond it: the kernel lets `pthread_join` return a moment
    // before it stops counting the joined thread, so under a few hundred evictions a second a
    // joined thread and its successor overlap now and then (peaks of 27 to 29 seen here, on a
    // 2-core machine running other tests). Without the cap this would be ~2000.
    assert!(
        max_threads <= threads_before + CAP + MAX_PENDING as u64 + 6,
        "{max_threads} threads"
    );
    assert!(max_rss < rss_before + 64 * 1024, "VmRSS {max_rss} KiB");
    assert!(leech_took < Duration::from_secs(15), "{leech_took:?}");
    assert_eq!(seeder.count("panicked"), 0);
    drop(attackers);
    still_serves(seeder_addr, s.meta.info_hash);
}
