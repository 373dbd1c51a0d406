//! The tracker swarm end to end: a real tracker and real peers on loopback, with millisecond
//! timers: peers find each other through the tracker, exchange pieces and end with identical
//! copies; the tracker's list follows joins, leaves, kills and restarts.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::peer::tracker_client::TrackerClient;
use bittorrent_sim::tracker::proto::PeerEntry;
use common::*;

/// Everyone the tracker lists (asked as port 1, which no test peer uses).
fn listed(tracker: SocketAddr, info_hash: InfoHash) -> Vec<PeerEntry> {
    TrackerClient {
        tracker,
        local_ip: None,
    }
    .list(info_hash, 1)
    .unwrap_or_default()
}

/// A sample file of `pieces` pieces of [`PIECE`] bytes (the last one shorter) and its torrent.
fn swarm(pieces: usize) -> Sample {
    sample(
        pieces * PIECE - 1000,
        pieces as u64,
        PIECE,
        "orig",
        "sample.torrent",
    )
}

#[test]
fn four_peers_of_the_seeds_split_scenario_end_with_identical_copies() {
    let s = swarm(20);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // peer 1 holds most pieces, peer 2 the rest, peers 3 and 4 nothing
    s.fill("p1", 0..14);
    s.fill("p2", 14..20);
    let dirs = ["p1", "p2", "p3", "p4"];
    let peers: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            peer(
                &format!("peer{}", i + 1),
                s.dir.path(),
                addr,
                &s.peer_args(dir, &["--parallel", "2"]),
            )
            .0
        })
        .collect();
    for (peer, dir) in peers.iter().zip(dirs) {
        peer.wait_for("download complete");
        assert!(
            s.copy(dir) == s.data,
            "{} holds a different copy",
            peer.name
        );
    }
    // peers 1 and 2 fetched exactly what they lacked
    let fetched: Vec<u32> = verified_pieces(&peers[0])
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let mut sorted = fetched.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (14..20).collect::<Vec<u32>>());
}

#[test]
fn the_design_cards_command_line_shares_a_file() {
    // a seeder with --seed FILE, and peers started with nothing but --port and --tracker, each in
    // its own working directory (timers shortened through the environment)
    let s = swarm(12);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let tracker_arg = addr.to_string();
    let fast = [
        ("BTSIM_PING_INTERVAL", "100ms"),
        ("BTSIM_REPORT_INTERVAL", "100ms"),
        ("BTSIM_ROUND_INTERVAL", "20ms"),
    ];
    let seed_file = s.dir.path().join("orig/sample.bin");
    // Ports below the ephemeral range: the seeder's many short tracker connections cannot hold
    // one of them as their source port when a peer starts listening on it.
    let mut ports: Vec<String> = Vec::new();
    while ports.len() < 4 {
        let port = restartable_port().to_string();
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    let seed_port = ports.remove(0);
    let seeder = Proc::start(
        "seeder",
        s.dir.path(),
        &[
            "peer",
            "--port",
            &seed_port,
            "--tracker",
            &tracker_arg,
            "--seed",
            seed_file.to_str().expect("utf-8"),
        ],
        &fast,
    );
    seeder.wait_for("joined swarm");
    let peers: Vec<Proc> = ports
        .iter()
        .map(|port| {
            let cwd = s.dir.path().join(format!("cwd-{port}"));
            std::fs::create_dir_all(&cwd).expect("mkdir");
            Proc::start(
                &format!("peer-{port}"),
                &cwd,
                &["peer", "--port", port, "--tracker", &tracker_arg],
                &fast,
            )
        })
        .collect();
    for (peer, port) in peers.iter().zip(&ports) {
        peer.wait_for("download complete");
        let copy = s.copy(&format!("cwd-{port}/peer-{port}"));
        assert!(copy == s.data, "{} holds a different copy", peer.name);
    }
}

#[test]
fn the_rarest_piece_is_fetched_first() {
    let s = swarm(8);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // piece 5 is held by one peer, every other piece by two
    // (the default --min-peers 2: the leecher's first round sees both holders)
    s.fill("holder-a", 0..8);
    s.fill("holder-b", (0..8).filter(|&i| i != 5));
    let root = s.dir.path();
    let (_a, _) = peer("holder-a", root, addr, &s.peer_args("holder-a", &[]));
    let (_b, _) = peer("holder-b", root, addr, &s.peer_args("holder-b", &[]));
    let (leecher, _) = peer(
        "leecher",
        root,
        addr,
        &s.peer_args("l", &["--parallel", "1"]),
    );
    leecher.wait_for("download complete");
    let order = verified_pieces(&leecher);
    assert_eq!(
        order.first().map(|(i, _)| *i),
        Some(5),
        "fetch order {order:?}"
    );
    assert!(
        leecher
            .lines()
            .iter()
            .any(|l| l.contains("rarest missing piece 5 (1 holders)"))
    );
}

#[test]
fn a_half_filled_directory_fetches_only_the_missing_pieces() {
    let s = swarm(10);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seed, _) = s.seed("seed", addr, &[]);
    s.fill("half", [0, 2, 4, 6, 8]);
    let (half, _) = s.peer("half", addr, &[]);
    assert!(
        half.lines()
            .iter()
            .any(|l| l.contains(": 5 of 10 pieces verify"))
    );
    half.wait_for("download complete");
    let mut fetched: Vec<u32> = verified_pieces(&half).into_iter().map(|(i, _)| i).collect();
    fetched.sort_unstable();
    assert_eq!(fetched, vec![1, 3, 5, 7, 9]);
    assert!(s.copy("half") == s.data);
}

#[test]
fn a_killed_peer_leaves_the_list_and_downloads_go_on_from_others() {
    let s = swarm(60);
    let (_tracker, addr) = tracker(s.dir.path(), &["--cleanup-interval", "300ms"]);
    s.fill("seed-1", s.all());
    s.fill("seed-2", s.all());
    let root = s.dir.path();
    let (mut first, first_port) = peer("seed-1", root, addr, &s.peer_args("seed-1", &[]));
    let (_second, _) = peer("seed-2", root, addr, &s.peer_args("seed-2", &[]));
    let (leecher, _) = s.peer("leecher", addr, &["--round-interval", "40ms"]);
    eventually("a few pieces downloaded", || {
        verified_pieces(&leecher).len() >= 5
    });
    first.kill();
    eventually("the killed peer dropped from the list", || {
        !listed(addr, s.meta.info_hash)
            .iter()
            .any(|p| p.port == first_port)
    });
    leecher.wait_for("download complete");
    assert!(s.copy("leecher") == s.data);
    let killed_at = verified_pieces(&leecher).len();
    assert!(killed_at >= 5);
}

#[test]
fn a_restarted_tracker_gets_its_table_back_and_complete_peers_keep_reporting() {
    let s = swarm(6);
    let port = restartable_port();
    let port_arg = port.to_string();
    let tracker_args = ["tracker", "--port", &port_arg, "--bind", "127.0.0.1"];
    let mut first = Proc::start("tracker-1", s.dir.path(), &tracker_args, &[]);
    first.wait_for("tracker listening on");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (_seed, seed_addr) = s.seed("seed", addr, &[]);
    let (leecher, leecher_addr) = s.peer("leecher", addr, &[]);
    leecher.wait_for("download complete");
    let reports_at_completion = leecher.count("sent REPORT");
    eventually("the complete peer reports again", || {
        leecher.count("sent REPORT") >= reports_at_completion + 3
    });

    first.kill();
    let second = Proc::start("tracker-2", s.dir.path(), &tracker_args, &[]);
    second.wait_for("tracker listening on");
    eventually("both peers back in the table with all their pieces", || {
        let peers = listed(addr, s.meta.info_hash);
        [seed_addr, leecher_addr].iter().all(|a| {
            peers
                .iter()
                .any(|p| p.port == a.port() && p.pieces == "0-5")
        })
    });
    assert!(
        second.count("learned swarm") >= 1,
        "the metainfo was published again"
    );
}

#[test]
fn a_piece_served_with_wrong_bytes_is_rejected_banned_and_fetched_again() {
    let s = swarm(4);
    let torrent = s.torrent.to_str().expect("utf-8");
    let (_tracker, addr) = tracker(s.dir.path(), &["--torrent", torrent]);
    let liar = liar::start(s.meta.info_hash, 4);
    liar::join(addr, s.meta.info_hash, liar.port, "0-3");
    let (leecher, _) = s.peer("leecher", addr, &[]);
    leecher.wait_for("failed its sha-1 check");
    leecher.wait_for("banned after 2 pieces");
    let (_seed, _) = s.seed("seed", addr, &[]);
    leecher.wait_for("download complete");
    assert!(s.copy("leecher") == s.data);
    let liar_addr = format!("127.0.0.1:{}", liar.port);
    assert!(
        verified_pieces(&leecher)
            .iter()
            .all(|(_, from)| *from != liar_addr)
    );
    assert!(liar.served() >= 2);
}

#[test]
fn remote_mode_tells_peers_apart_by_address_development_mode_by_port() {
    for (remote, expected) in [(true, 2), (false, 1)] {
        let s = swarm(2);
        let extra: &[&str] = if remote { &["--remote"] } else { &[] };
        let (_tracker, addr) = {
            let mut args = vec!["tracker", "--port", "0", "--bind", "0.0.0.0"];
            args.extend_from_slice(extra);
            let proc = Proc::start("tracker", s.dir.path(), &args, &[]);
            let port = port_after(
                &proc.wait_for("tracker listening on "),
                "tracker listening on ",
            );
            (proc, SocketAddr::from(([127, 0, 0, 1], port)))
        };
        let port = free_port().to_string();
        let seed = s.dir.path().join("orig/sample.bin");
        let tracker_arg = addr.to_string();
        let start = |ip: &str, until: &str| {
            let args = [
                "peer",
                "--port",
                &port,
                "--bind",
                ip,
                "--tracker",
                &tracker_arg,
                "--piece-length",
                "16KiB",
                "--seed",
                seed.to_str().expect("utf-8"),
            ];
            let proc = Proc::start(ip, s.dir.path(), &args, &[]);
            proc.wait_for(until);
            proc
        };
        let _a = start("127.0.0.2", "joined swarm");
        // In development mode the second is the same peer (same port), and takes the first
        // one's place: it seeds the same file, so it holds the key kept beside it
        // (`.bittorrent-sim-key`, PROTOCOL.md 1.3), as a restarted peer would.
        let _b = start("127.0.0.3", "joined swarm");
        let peers = listed(addr, s.meta.info_hash);
        assert_eq!(peers.len(), expected, "remote={remote}: {peers:?}");
        if remote {
            let mut ips: Vec<String> = peers.iter().map(|p| p.ip.to_string()).collect();
            ips.sort();
            assert_eq!(ips, ["127.0.0.2", "127.0.0.3"]);
        }
    }
}

/// A peer that claims every piece and serves garbage.
mod liar {
    use std::io::{BufReader, BufWriter, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bittorrent_sim::infohash::InfoHash;
    use bittorrent_sim::peer::tracker_client::TrackerClient;
    use bittorrent_sim::pieces::PieceSet;
    use bittorrent_sim::wire::{Handshake, Message};

    pub struct Liar {
        pub port: u16,
        served: Arc<AtomicUsize>,
    }

    impl Liar {
        pub fn served(&self) -> usize {
            self.served.load(Ordering::SeqCst)
        }
    }

    pub fn start(info_hash: InfoHash, pieces: u32) -> Liar {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let served = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&served);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let count = Arc::clone(&count);
                std::thread::spawn(move || -> Option<()> {
                    let mut reader = BufReader::new(&stream);
                    let mut writer = BufWriter::new(&stream);
                    Handshake::read_from(&mut reader).ok()?;
                    Handshake::new(info_hash, *b"-LIAR00-000000000000")
                        .write_to(&mut writer)
                        .ok()?;
                    Message::Bitfield(PieceSet::full(pieces).to_bitfield())
                        .write_to(&mut writer)
                        .ok()?;
                    writer.flush().ok()?;
                    loop {
                        match Message::read_from(&mut reader).ok()? {
                            Message::Interested => Message::Unchoke.write_to(&mut writer).ok()?,
                            Message::Request {
                                index,
                                begin,
                                length,
                            } => {
                                let block = vec![0xee; length as usize];
                                Message::Piece {
                                    index,
                                    begin,
                                    block,
                                }
                                .write_to(&mut writer)
                                .ok()?;
                                if begin == 0 {
                                    count.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            _ => {}
                        }
                        writer.flush().ok()?;
                    }
                });
            }
        });
        Liar { port, served }
    }

    /// Registers the liar with the tracker through the line protocol, claiming `ranges`.
    pub fn join(tracker: SocketAddr, info_hash: InfoHash, port: u16, ranges: &str) {
        TrackerClient {
            tracker,
            local_ip: None,
        }
        .join(info_hash, port, ranges)
        .expect("liar joins");
    }
}

#[test]
fn a_torrent_made_by_mktorrent_is_shared() {
    if !have_tool("mktorrent", &["-h"], "mktorrent") {
        return;
    }
    let s = swarm(6);
    let torrent = s.dir.path().join("mk.torrent");
    let status = std::process::Command::new("mktorrent")
        .args(["-l", "15", "-a", "http://127.0.0.1:1/announce", "-o"])
        .arg(&torrent)
        .arg(s.dir.path().join("orig/sample.bin"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run mktorrent");
    assert!(status.success());
    let torrent_arg = torrent.to_str().expect("utf-8");
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let seed_dir = s.fill("seed", s.all());
    let leech_dir = s.dir_of("leech");
    let with = |dir: &Path| {
        let dir = dir.to_str().expect("utf-8");
        ["--torrent", torrent_arg, "--dir", dir, "--min-peers", "1"].map(String::from)
    };
    let (_seed, _) = peer("seed", s.dir.path(), addr, &with(&seed_dir));
    let (leecher, _) = peer("leecher", s.dir.path(), addr, &with(&leech_dir));
    leecher.wait_for("download complete");
    assert!(s.copy("leech") == s.data);
}

#[test]
fn a_killed_peer_restarted_on_its_port_and_directory_is_still_the_peer_the_tracker_knows() {
    let s = swarm(4);
    // A clean-up far away: the old record is still there when the peer comes back.
    let (_tracker, addr) = tracker(s.dir.path(), &["--cleanup-interval", "1h"]);
    s.fill("p1", s.all());
    let port = restartable_port().to_string();
    let args = s.peer_args("p1", &["--port", &port]);
    let start = || {
        let mut full = peer_args(0, addr, &FAST);
        // `--port` again, later on the line: the last one given wins.
        full.extend(args.iter().cloned());
        Proc::start("p1", s.dir.path(), &full, &[])
    };
    let mut first = start();
    first.wait_for("joined swarm");
    first.kill(); // SIGKILL: no LEAVE
    let second = start();
    second.wait_for("joined swarm");
    assert_eq!(second.count("wrong-key"), 0);
    assert!(s.dir_of("p1").join(".bittorrent-sim-key").exists());
}
