//! Mixing our tracker and peer with real BitTorrent software, over real sockets on loopback:
//!
//! - aria2 downloads from our peers, having found them through our tracker's HTTP announce;
//! - our peers find each other through opentracker (Debian's build, in whitelist mode);
//! - (swarms that libtorrent seeds, and scrapes, are in `interop_http_swarm.rs`);
//! - our tracker's HTTP side refuses a head that is not HTTP with a `400` and closes, refuses a
//!   bad announce or scrape with a bencoded `failure reason`, and goes on serving both
//!   protocols.
//!
//! Every child runs on a free port of 127.0.0.1, every wait polls against a deadline, and every
//! child is killed when its test ends, on failure too (its output is then printed). A missing
//! tool skips its test with a message on stderr, or fails it when `CI=true` (`have_tool`).

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::http_tracker::{AnnounceParams, AnnounceUrl, HttpTracker, parse_reply};
use bittorrent_sim::tracker::http::percent_encode;
use common::interop::*;
use common::tool::{Tool, utf8};
use common::*;

#[test]
fn aria2c_downloads_through_our_http_announce_from_our_peers() {
    if !have_tool("aria2c", &["--version"], "aria2") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, data) = interop_sample(dir);
    let (tracker, addr) = tracker(dir, &[]);
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &format!("http://{addr}/announce"), &torrent);

    // Three of our peers seed it, each from its own full copy, over our line protocol.
    let seeders: Vec<(Proc, u16)> = (1..=3)
        .map(|i| {
            let seed_dir = dir.join(format!("seed{i}"));
            write_file(&seed_dir, "sample.bin", &data);
            let (seeder, port) = peer(
                &format!("seeder{i}"),
                dir,
                addr,
                &[
                    "--torrent",
                    utf8(&torrent),
                    "--dir",
                    utf8(&seed_dir),
                    "--min-peers",
                    "1",
                ],
            );
            seeder.wait_for("46 of 46 pieces verify");
            (seeder, port)
        })
        .collect();

    // aria2 finds them only through the torrent's announce URL (`aria2`: no DHT, PEX or LPD,
    // every socket bound to 127.0.0.1, stopping if this test process dies); it stops once the
    // file is complete (--seed-time=0).
    let out = dir.join("aria2");
    std::fs::create_dir(&out).expect("mkdir");
    let listen = free_port();
    let args = ["--seed-time=0", "--dir", utf8(&out), utf8(&torrent)];
    let mut aria2 = aria2(dir, listen, &args);
    let download_started = Instant::now();
    let status = aria2.wait_exit(DOWNLOAD_DEADLINE);
    let took = download_started.elapsed();
    assert!(status.success(), "aria2c failed: {status}");

    let copy = std::fs::read(out.join("sample.bin")).expect("aria2's copy");
    assert!(copy == data, "aria2's copy differs from the original");
    // It announced over HTTP, and the bytes came from our peers' upload side.
    let announce = tracker.wait_line(
        |l| l.contains("received announce") && l.contains(&format!("from port {listen} ")),
        "received announce from aria2",
    );
    assert!(announce.contains(&metainfo.info_hash.short()), "{announce}");
    let served = seeders
        .iter()
        .filter(|(s, _)| s.count("handshake done, peer id A2-") > 0)
        .count();
    assert!(served >= 1, "no seeder shook hands with aria2");
    eprintln!(
        "aria2c downloaded 46 pieces from {served} of our seeders in {took:.2?} ({:.2?} in all)",
        started.elapsed()
    );
}

/// opentracker on 127.0.0.1, TCP only, allowing only `info_hash`; returns it and its port once
/// it answers announces for that swarm.
///
/// Debian builds opentracker in whitelist mode (`WANT_ACCESSLIST_WHITE`): a swarm not in the
/// `-w` file is refused ("Requested download is not authorized"). Run as root, it chroots
/// into `-d` and then runs as `nobody`, so the directory must be world-readable. With `-p`
/// alone it binds no UDP port (`-P`), so no UDP port can collide. The whitelist is read by a
/// thread after start-up, hence the probe announce.
fn opentracker(dir: &Path, info_hash: InfoHash) -> (Tool, u16) {
    let root = dir.join("opentracker");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("whitelist.txt"), format!("{info_hash}\n")).expect("whitelist");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let deadline = Instant::now() + DEADLINE;
    // The free port may be taken before opentracker binds it: it then exits, and we retry.
    for attempt in 1.. {
        let port = free_port();
        let port_arg = port.to_string();
        let mut tracker = Tool::start(
            &format!("opentracker-{attempt}"),
            "opentracker",
            &[
                "-i",
                "127.0.0.1",
                "-p",
                &port_arg,
                "-d",
                utf8(&root),
                "-w",
                "whitelist.txt",
            ],
            &root,
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let probe = HttpTracker {
            url: AnnounceUrl::parse(&format!("http://{addr}/announce")).expect("url"),
            addr,
            local_ip: None,
        };
        let mut params = AnnounceParams {
            info_hash,
            peer_id: *b"-PROBE-0000000000000",
            port: 1, // nobody listens there; the probe leaves below
            uploaded: 0,
            downloaded: 0,
            left: 0,
            event: None,
        };
        loop {
            if tracker.exited().is_some() {
                assert!(
                    attempt < 5 && Instant::now() < deadline,
                    "opentracker does not start:\n{}",
                    tracker.output()
                );
                break; // the port was taken: another one
            }
            // Listening, and the whitelist loaded (an unlisted swarm gets a failure reason).
            if TcpStream::connect(addr).is_ok() && probe.announce(&params).is_ok() {
                params.event = Some("stopped");
                probe.announce(&params).expect("probe leaves");
                return (tracker, port);
            }
            assert!(
                Instant::now() < deadline,
                "opentracker on {addr} did not answer announces for {info_hash}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    unreachable!()
}

#[test]
fn our_peer_completes_with_opentracker_as_its_tracker() {
    if !have_tool("opentracker", &["-h"], "opentracker") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, data) = interop_sample(dir);
    // The info-hash does not depend on the announce URL: whitelist it before the port is known.
    let info_hash = Metainfo::build(&file, PIECE_64K as u64, None)
        .expect("hash the sample")
        .info_hash;
    let (_opentracker, port) = opentracker(dir, info_hash);
    let url = format!("http://127.0.0.1:{port}/announce");
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &url, &torrent);
    assert_eq!(metainfo.info_hash, info_hash);

    let (seeder, seeder_port) = peer(
        "seeder",
        dir,
        &url,
        &[
            "--seed",
            utf8(&file),
            "--piece-length",
            "64KiB",
            "--min-peers",
            "1",
        ],
    );
    seeder.wait_for(&format!("swarm {info_hash} "));

    leech_and_check(dir, &url, &torrent, &data, seeder_port);
    eprintln!(
        "our leecher completed through opentracker in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn tracker_http_rejects_malformed_requests_and_keeps_serving() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (tracker, addr) = tracker(tmp.path(), &[]);
    let info_hash = [0xab; 20];
    let query = format!(
        "info_hash={}&peer_id={}&port=6881&uploaded=0&downloaded=0&left=0&compact=1",
        percent_encode(&info_hash),
        percent_encode(b"-XX0000-000000000000")
    );

    let oversized = |padding: usize| {
        format!(
            "GET /announce?{query} HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
            "a".repeat(padding)
        )
    };
    // Just over the cap, and far over it: the tracker stops reading at the cap, so the client
    // is still sending when the 400 goes out; it must get it all the same.
    let (over, far_over) = (oversized(8 * 1024), oversized(256 * 1024));
    let cases: [(&str, &[u8]); 3] = [
        ("garbage request line", b"GET garbage\r\n\r\n"),
        ("head over 8 KiB", over.as_bytes()),
        ("head of 256 KiB", far_over.as_bytes()),
    ];
    for (what, request) in cases {
        let reply = exchange(addr, request);
        assert!(
            reply.starts_with("HTTP/1.1 400 "),
            "{what}: expected a 400, got {reply:?}"
        );
        assert!(reply.contains("Connection: close"), "{what}: {reply:?}");
    }
    // A well-formed request with a bad query is refused the way clients show: status 200
    // and a bencoded `failure reason`.
    let close = "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let refusals = [
        (
            format!(
                "GET /announce?{} {close}",
                query.split_once('&').expect("pairs").1
            ),
            "bad announce: missing info_hash",
        ),
        (
            format!(
                "GET /announce?{} {close}",
                query.replace("port=6881", "port=0")
            ),
            "bad announce: `port` is not 1-65535",
        ),
        (
            format!("GET /scrape?info_hash=%01 {close}"),
            "bad scrape: `info_hash` is not 20 bytes",
        ),
    ];
    for (request, reason) in &refusals {
        let body = format!("d14:failure reason{}:{reason}e", reason.len());
        let reply = exchange(addr, request.as_bytes());
        assert!(reply.starts_with("HTTP/1.1 200 "), "{request}: {reply:?}");
        assert!(reply.ends_with(&body), "{request}: {reply:?}");
    }
    eventually("the tracker logging the six refusals", || {
        tracker.count("bad http request") == 3
            && tracker.count("bad announce") == 2
            && tracker.count("bad scrape") == 1
    });
    // None of them reached the table.
    assert_eq!(swarms(addr), ["SWARMS 0"]);

    // A valid announce (keep-alive off) still gets a bencoded reply.
    let reply = exchange(
        addr,
        format!("GET /announce?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply:?}");
    let parsed = parse_reply(reply.as_bytes()).expect("a bencoded announce reply");
    assert!(parsed.peers.is_empty());
    tracker.wait_for("received announce update");
    // A second client asking for dictionaries (`compact=0`) gets BEP 3's `peer id` too.
    let reply = exchange(
        addr,
        format!(
            "GET /announce?{} {close}",
            query
                .replace("port=6881", "port=6882")
                .replace("compact=1", "compact=0")
        )
        .as_bytes(),
    );
    assert!(
        reply.ends_with("5:peersld2:ip9:127.0.0.17:peer id20:-XX0000-0000000000004:porti6881eeee"),
        "{reply:?}"
    );
    // ... and the line protocol still answers, now knowing the announced swarm.
    let hash = InfoHash(info_hash);
    assert_eq!(
        swarms(addr),
        ["SWARMS 1".to_string(), format!("SWARM {hash} 0 2 -")]
    );
}
