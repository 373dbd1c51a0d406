//! Hostile input to the tracker: every class of malformed request line, the HTTP classes not
//! covered by `interop_trackers.rs` (`tracker_http_rejects_malformed_requests_and_keeps_serving`:
//! garbage request line, oversized heads, announce without info_hash), a flood of JOINs with
//! fake ports against the per-swarm cap, HTTP announces creating swarms against the swarm cap,
//! and a thousand silent connections. Each time the tracker answers as documented in
//! `PROTOCOL.md` and keeps serving everyone else.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bittorrent_sim::admission::MAX_PENDING;
use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::tracker_client::TrackerClient;
use common::*;

/// A tracker serving one 10-piece swarm; `extra` appended to its command line.
fn tracker_with_swarm(dir: &std::path::Path, extra: &[&str]) -> (Proc, SocketAddr, InfoHash) {
    let file = write_file(dir, "sample.bin", &sample_bytes(10 * PIECE, 5));
    let torrent = create_torrent(&file, PIECE, &dir.join("s.torrent"));
    let hash = Metainfo::from_file(&torrent).expect("torrent").info_hash;
    let torrent = torrent.to_string_lossy().into_owned();
    let mut args = vec!["--torrent", torrent.as_str()];
    args.extend_from_slice(extra);
    let (proc, addr) = tracker(dir, &args);
    (proc, addr, hash)
}

struct Line {
    reader: BufReader<TcpStream>,
}

impl Line {
    fn connect(addr: SocketAddr) -> Line {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
        Line {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// One reply: its first line, after reading the `PEERS n` lines that follow it.
    fn reply(&mut self) -> String {
        let mut first = String::new();
        self.reader.read_line(&mut first).expect("reply");
        if let Some(n) = first.strip_prefix("PEERS ") {
            for _ in 0..n.trim().parse::<usize>().expect("count") {
                self.reader.read_line(&mut String::new()).expect("peer");
            }
        }
        first.trim_end().to_string()
    }

    fn ask(&mut self, request: &str) -> String {
        self.send(format!("{request}\n").as_bytes());
        self.reply()
    }

    fn closed(&mut self) -> bool {
        matches!(self.reader.read(&mut [0u8; 16]), Ok(0) | Err(_))
    }
}

#[test]
fn every_malformed_line_class_gets_its_error_and_the_tracker_serves_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, hash) = tracker_with_swarm(dir.path(), &[]);
    let mut conn = Line::connect(addr);
    let cases = [
        ("FOO", "unknown request"),
        ("JOIN", "usage: JOIN"),
        (&format!("JOIN {hash} 7001"), "usage: JOIN"),
        (&format!("PING {hash} 7001 extra"), "usage: PING"),
        ("JOIN 0123 7001 -", "info-hash"),
        (
            "JOIN zz23456789abcdef0123456789abcdef01234567 7001 -",
            "info-hash",
        ),
        (&format!("JOIN {hash} 0 -"), "port"),
        (&format!("JOIN {hash} 70000 -"), "port"),
        (&format!("JOIN {hash} seven -"), "port"),
        (&format!("JOIN {hash} 7001 5-2"), "bad-request"),
        (&format!("JOIN {hash} 7001 0-99"), "does not exist"),
        (&format!("JOIN {hash} 7001 1,x"), "bad-request"),
        ("PUBLISH abc 10", "bad-request"),
    ];
    for (request, needle) in cases {
        let reply = conn.ask(request);
        assert!(reply.starts_with("ERR bad-request"), "{request}: {reply}");
        assert!(reply.contains(needle), "{request}: {reply}");
    }
    // After all of them the same connection still works.
    assert!(
        conn.ask(&format!("JOIN {hash} 7001 0-9"))
            .starts_with("PEERS 0")
    );

    // Binary junk and an overlong line are answered, then the connection is closed.
    let mut junk = Line::connect(addr);
    junk.send(&[0xff, 0xfe, 0x00, 0x9c, b'\n']);
    assert_eq!(junk.reply(), "ERR bad-request line is not utf-8 text");
    assert!(junk.closed());
    let mut long = Line::connect(addr);
    let mut line = vec![b'A'; 70_000];
    line.push(b'\n');
    long.send(&line);
    assert!(long.reply().starts_with("ERR too-long"));
    assert!(long.closed());

    // Others are served throughout.
    assert!(Line::connect(addr).ask("SWARMS").starts_with("SWARMS 1"));
    assert_eq!(conn.ask(&format!("PING {hash} 7001")), "PONG");
}

/// One HTTP request on its own connection; the whole response.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

fn announce(hash: &[u8; 20], port: &str) -> String {
    let encoded: String = hash.iter().map(|b| format!("%{b:02x}")).collect();
    format!(
        "GET /announce?info_hash={encoded}&peer_id=-XX0000-000000000000&port={port}\
         &uploaded=0&downloaded=0&left=0&compact=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
}

#[test]
fn http_classes_other_method_path_and_bad_port_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, hash) = tracker_with_swarm(dir.path(), &[]);
    // Only `GET ` opens HTTP; any other method is a line of the line protocol, refused as such.
    let post = Line::connect(addr).ask("POST /announce HTTP/1.1");
    assert!(
        post.starts_with("ERR bad-request unknown request"),
        "{post}"
    );
    let missing = "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert!(http(addr, missing).starts_with("HTTP/1.1 404 "));
    for port in ["0", "70000", "x"] {
        // Refused the way clients show it: status 200 and a bencoded `failure reason`.
        let reply = http(addr, &announce(hash.as_bytes(), port));
        assert!(
            reply.starts_with("HTTP/1.1 200 ") && reply.contains("failure reason"),
            "port {port}: {reply}"
        );
    }
    let reply = http(addr, &announce(hash.as_bytes(), "6881"));
    assert!(reply.starts_with("HTTP/1.1 200 ") && !reply.contains("failure"));
}

#[test]
fn a_join_flood_stops_at_the_per_swarm_cap_and_swarms_are_capped_too() {
    const CAP: u16 = 50;
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, hash) = tracker_with_swarm(
        dir.path(),
        &["--max-peers-per-swarm", "50", "--max-swarms", "2"],
    );
    let mut conn = Line::connect(addr);
    // Every JOIN written at once, then every reply read: a fast flood over one connection.
    let mut flood = String::new();
    for port in 10_000..10_000 + CAP + 1 {
        flood.push_str(&format!("JOIN {hash} {port} -\n"));
    }
    conn.send(flood.as_bytes());
    let replies: Vec<String> = (0..=CAP).map(|_| conn.reply()).collect();
    assert!(
        replies[..usize::from(CAP)]
            .iter()
            .all(|r| r.starts_with("PEERS "))
    );
    let last = &replies[usize::from(CAP)];
    assert!(last.starts_with("ERR full"), "{last}");
    // A listed peer still refreshes, and the connection stays open.
    assert!(
        conn.ask(&format!("JOIN {hash} 10000 0-9"))
            .starts_with("PEERS 49")
    );
    // Over HTTP a new peer gets a failure reason.
    let reply = http(addr, &announce(hash.as_bytes(), "6881"));
    assert!(reply.contains("failure reason"), "{reply}");
    // One more swarm fits (the cap is 2), the next is refused.
    assert!(!http(addr, &announce(&[1; 20], "6881")).contains("failure reason"));
    let reply = http(addr, &announce(&[2; 20], "6881"));
    assert!(
        reply.contains("failure reason") && reply.contains("2 swarms"),
        "{reply}"
    );
    assert!(conn.ask("SWARMS").starts_with("SWARMS 2"));
}

#[test]
fn a_thousand_silent_connections_do_not_keep_peers_from_the_tracker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tracker, addr, hash) = tracker_with_swarm(dir.path(), &["--max-connections", "4"]);
    let threads_before = tracker.status_field("Threads").expect("threads");
    let silent: Vec<TcpStream> = (0..1000)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(10)).ok())
        .collect();
    assert!(silent.len() >= 990);
    let started = Instant::now();
    let client = TrackerClient {
        tracker: addr,
        local_ip: None,
    };
    client.join(hash, 7001, "0-9").expect("join answered");
    let took = started.elapsed();
    let threads = tracker.status_field("Threads").expect("threads");
    let rss = tracker.status_field("VmRSS").expect("rss");
    eprintln!(
        "JOIN answered in {took:.2?} behind {} silent connections; threads {threads_before} -> \
         {threads}, VmRSS {rss} KiB",
        silent.len()
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(threads <= threads_before + 4 + MAX_PENDING as u64 + 1);
}

#[test]
fn a_client_trickling_its_first_request_does_not_keep_others_from_the_tracker() {
    // A client sending its first request a byte every few milliseconds holds only its own
    // connection thread: the accept thread keeps accepting, and others are answered meanwhile.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, _hash) = tracker_with_swarm(dir.path(), &[]);
    let (answered_tx, answered_rx) = std::sync::mpsc::channel::<()>();
    let trickle = std::thread::spawn(move || {
        let mut slow = TcpStream::connect(addr).expect("connect");
        // Nothing at first, so the tracker's look finds nothing; then a byte at a time.
        std::thread::sleep(Duration::from_millis(5));
        let mut sent = 0;
        for byte in b"GET /".iter().chain([b'a'; 395].iter()) {
            if answered_rx.try_recv().is_ok() || slow.write_all(&[*byte]).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        sent
    });
    std::thread::sleep(Duration::from_millis(50));
    let reply = Line::connect(addr).ask("SWARMS");
    answered_tx.send(()).ok();
    let sent = trickle.join().expect("trickle");
    eprintln!("SWARMS answered after the trickler sent {sent} bytes");
    assert!(reply.starts_with("SWARMS 1"), "{reply}");
    assert!(sent < 400, "answered only once the trickler stopped");
}

/// A one-file torrent named `name` with `pieces` pieces of 16 bytes, and its info-hash. Built
/// by hand so that names our own `create` refuses can be sent.
fn raw_torrent(name: &[u8], pieces: usize) -> (Vec<u8>, InfoHash) {
    let mut info = format!("d6:lengthi{}e4:name{}:", pieces * 16, name.len()).into_bytes();
    info.extend_from_slice(name);
    info.extend_from_slice(format!("12:piece lengthi16e6:pieces{}:", pieces * 20).as_bytes());
    info.extend(std::iter::repeat_n(7u8, pieces * 20));
    info.push(b'e');
    let hash = InfoHash(bittorrent_sim::infohash::sha1(&info));
    let mut torrent = b"d4:info".to_vec();
    torrent.extend_from_slice(&info);
    torrent.push(b'e');
    (torrent, hash)
}

fn publish(conn: &mut Line, torrent: &[u8], hash: InfoHash) -> String {
    conn.send(format!("PUBLISH {hash} {}\n", torrent.len()).as_bytes());
    conn.send(torrent);
    conn.send(b"\n");
    conn.reply()
}

#[test]
fn another_socket_cannot_report_or_leave_for_a_peer_that_joined_with_a_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, hash) = tracker_with_swarm(dir.path(), &[]);
    let mut seed = Line::connect(addr);
    assert!(
        seed.ask(&format!("JOIN {hash} 7001 0-9 key=seedSecret42"))
            .starts_with("PEERS 0")
    );
    // The attacker, on its own connection, names the seed's port.
    let mut attacker = Line::connect(addr);
    for request in [
        format!("REPORT {hash} 7001 -"),
        format!("LEAVE {hash} 7001"),
        format!("PING {hash} 7001 key=guessedKey1"),
        format!("JOIN {hash} 7001 - key=attackerKey"),
    ] {
        let reply = attacker.ask(&request);
        assert!(reply.starts_with("ERR wrong-key "), "{request}: {reply}");
    }
    let mut list = Line::connect(addr);
    list.send(format!("LIST {hash} 7002\n").as_bytes());
    let mut lines = String::new();
    for _ in 0..2 {
        list.reader.read_line(&mut lines).expect("list");
    }
    assert_eq!(
        lines, "PEERS 1\nPEER 127.0.0.1 7001 0-9\n",
        "the seed is intact"
    );
    // The owner, with its key, still does everything.
    assert_eq!(
        seed.ask(&format!(
            "REPORT {hash} 7001 0-9 key=seedSecret42 unchoked=7002"
        )),
        "OK 10 pieces recorded"
    );
    assert_eq!(
        seed.ask(&format!("LEAVE {hash} 7001 key=seedSecret42")),
        "OK left"
    );
    // A peer that joined without a key keeps the old form.
    assert!(
        attacker
            .ask(&format!("JOIN {hash} 7003 -"))
            .starts_with("PEERS ")
    );
    assert_eq!(attacker.ask(&format!("LEAVE {hash} 7003")), "OK left");
}

#[test]
fn names_with_control_characters_are_refused_and_never_break_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_tracker, addr, _) = tracker_with_swarm(dir.path(), &[]);
    let mut conn = Line::connect(addr);
    for name in [
        &b"x\nSWARM 0000000000000000000000000000000000000000 1 99 forged"[..],
        b"\x1b]0;pwned\x07\x1b[2Jclass.bin",
        b"tab\there",
    ] {
        let (torrent, hash) = raw_torrent(name, 1);
        let reply = publish(&mut conn, &torrent, hash);
        assert!(
            reply.starts_with("ERR bad-metainfo ") && reply.contains("control character"),
            "{reply}"
        );
    }
    let mut swarms = Line::connect(addr);
    swarms.send(b"SWARMS\n");
    let mut text = String::new();
    for _ in 0..2 {
        swarms.reader.read_line(&mut text).expect("swarms");
    }
    assert!(text.starts_with("SWARMS 1\nSWARM "), "{text}");
    assert!(text.ends_with(" sample.bin\n"), "{text}");
}

#[test]
fn publish_beyond_the_metainfo_budget_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The served torrent is ~300 bytes; the budget leaves room for one 20-piece torrent more.
    let (_tracker, addr, _) = tracker_with_swarm(dir.path(), &["--metainfo-budget", "1KiB"]);
    let mut conn = Line::connect(addr);
    let (first, first_hash) = raw_torrent(b"a.bin", 20);
    assert_eq!(publish(&mut conn, &first, first_hash), "OK published a.bin");
    let (second, second_hash) = raw_torrent(b"b.bin", 20);
    let reply = publish(&mut conn, &second, second_hash);
    assert!(
        reply.starts_with("ERR full the tracker's metainfo budget is spent"),
        "{reply}"
    );
    assert!(
        conn.ask("SWARMS").starts_with("SWARMS 2"),
        "the connection serves on"
    );
}
