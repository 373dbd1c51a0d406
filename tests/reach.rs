//! Reaching peers (issues 15.1, 15.3, 16.3): a complete peer keeps asking the tracker for the
//! list and connects to a leecher that joined after it, without that leecher ever dialling (a
//! client that cannot reach us still gets data); and a listed peer whose port is dead is
//! dialled with exponential back-off (1 s, 2 s, 4 s ...), not every second.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use bittorrent_sim::peer::tracker_client::TrackerClient;
use bittorrent_sim::pieces::PieceSet;
use bittorrent_sim::wire::Message;
use common::fake::FakeConn;
use common::*;

/// Registers a peer listening on `port` that holds `ranges` (`-`: nothing).
fn join_as(tracker: SocketAddr, s: &Sample, port: u16, ranges: &str) {
    TrackerClient {
        tracker,
        local_ip: None,
    }
    .join(s.meta.info_hash, port, ranges)
    .expect("join");
}

#[test]
fn a_complete_peer_connects_to_a_leecher_that_joined_later_and_serves_it() {
    let s = sample(3 * PIECE, 11, PIECE, "seed", "s.torrent");
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // the seed starts alone: the tracker lists nobody
    let (seed, _) = s.seed("seed", addr, &["--round-interval", "1s"]);
    seed.wait_for("joined swarm");
    // a leecher that never dials: only its listening socket, registered with the tracker
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let leecher = listener.local_addr().expect("addr");
    join_as(addr, &s, leecher.port(), "-");
    let mut remote = FakeConn::accept(&listener, s.meta.info_hash);
    seed.wait_for(&format!("{leecher} lacks pieces we hold; connecting to it"));
    seed.wait_for(&format!("{leecher}: connected"));
    // and the data flows over the connection the seed opened
    remote.recv_until(|m| matches!(m, Message::Bitfield(_)));
    remote.send(&Message::Interested);
    remote.recv_until(|m| *m == Message::Unchoke);
    remote.send(&Message::Request {
        index: 1,
        begin: 0,
        length: PIECE as u32,
    });
    let got = remote.recv_until(|m| matches!(m, Message::Piece { .. }));
    let Some(Message::Piece { index, block, .. }) = got.last() else {
        panic!("no piece: {got:?}");
    };
    assert_eq!(*index, 1);
    assert!(*block == s.data[PIECE..2 * PIECE], "the block differs");
}

#[test]
fn a_listed_peer_on_a_dead_port_is_dialled_with_exponential_back_off() {
    let s = sample(2 * PIECE, 12, PIECE, "seed", "s.torrent");
    let torrent = s.torrent.to_string_lossy().into_owned();
    let (_tracker, addr) = tracker(s.dir.path(), &["--torrent", &torrent]);
    // a port nobody listens on, listed as holding every piece
    let dead = free_port();
    let all = PieceSet::full(s.meta.num_pieces()).to_ranges();
    join_as(addr, &s, dead, &all);
    let (leecher, _) = s.peer("leech", addr, &["--round-interval", "0"]);
    let failed = format!("127.0.0.1:{dead}: connection closed (cannot connect");
    // T = 8 s: attempts at 0, 1, 3 and 7 s with back-off (log2(8) + 1 = 4), ~8 at a flat 1 s
    let window = Duration::from_secs(8);
    let start = Instant::now();
    eventually("a first attempt", || leecher.count(&failed) >= 1);
    while start.elapsed() < window {
        assert!(
            leecher.count(&failed) <= 5,
            "{} attempts in {:?}",
            leecher.count(&failed),
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let attempts = leecher.count(&failed);
    assert!(
        (3..=5).contains(&attempts),
        "{attempts} attempts in {window:?}"
    );
    assert!(
        leecher.count("next attempt in 4s") == 1,
        "one log line per back-off step"
    );
}
