//! How our peer behaves on the wire toward a remote that the test drives by hand: it waits
//! for unchoke and stops asking when choked, asks for aligned 16 KiB blocks, keeps idle
//! connections alive, serves requests in order and honours cancel, drops remotes that send
//! unknown or oversized frames, and in the endgame asks a second holder.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use bittorrent_sim::peer::tracker_client::TrackerClient;
use bittorrent_sim::pieces::PieceSet;
use bittorrent_sim::wire::Message;
use common::fake::FakeConn;
use common::*;

/// Not a multiple of 16 KiB: the last block of every piece is short.
const ODD_PIECE: usize = 40_000;

/// A sample file of `pieces` pieces, the original in `DIR/seed`, and its torrent.
fn setup(pieces: usize) -> Sample {
    sample(pieces * ODD_PIECE - 123, 42, ODD_PIECE, "seed", "s.torrent")
}

/// Registers a fake holder of every piece with the tracker.
fn join_fake(tracker_addr: SocketAddr, s: &Sample, port: u16) {
    let all = PieceSet::full(s.meta.num_pieces()).to_ranges();
    TrackerClient {
        tracker: tracker_addr,
        local_ip: None,
    }
    .join(s.meta.info_hash, port, &all)
    .expect("fake joins");
}

#[test]
fn our_leecher_waits_for_unchoke_stops_when_choked_and_asks_aligned_blocks() {
    let s = setup(4);
    let (_tracker, addr) = tracker(
        s.dir.path(),
        &["--torrent", s.torrent.to_str().expect("utf-8")],
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    join_fake(addr, &s, listener.local_addr().expect("addr").port());
    let (leecher, _) = s.peer("leech", addr, &["--round-interval", "0", "--parallel", "4"]);

    let mut remote = FakeConn::accept(&listener, s.meta.info_hash);
    remote.send(&Message::Bitfield(
        PieceSet::full(s.meta.num_pieces()).to_bitfield(),
    ));
    remote.recv_until(|m| *m == Message::Interested);
    // choked: no request may come
    while let Some(m) = remote
        .recv_within(Duration::from_millis(300))
        .expect("open")
    {
        assert!(
            !matches!(m, Message::Request { .. }),
            "request while choked: {m:?}"
        );
    }
    remote.send(&Message::Unchoke);
    let mut served = 0;
    let mut choked_at: Option<Instant> = None;
    let until = Instant::now() + DEADLINE;
    while leecher.count("download complete") == 0 {
        assert!(Instant::now() < until, "leecher did not complete");
        // Once complete, the leecher closes its connection to us (a seed), possibly before
        // its "download complete" line reaches the log: then only that line is awaited.
        let Ok(received) = remote.recv_within(Duration::from_millis(50)) else {
            leecher.wait_for("download complete");
            break;
        };
        let Some(message) = received else {
            if choked_at.is_some_and(|t| t.elapsed() > Duration::from_millis(400)) {
                choked_at = None;
                remote.send(&Message::Unchoke);
            }
            continue;
        };
        if let Message::Request {
            index,
            begin,
            length,
        } = message
        {
            if let Some(t) = choked_at {
                // requests sent before our choke arrived are allowed a short grace
                assert!(
                    t.elapsed() < Duration::from_millis(150),
                    "request {index}/{begin} while choked"
                );
                continue;
            }
            let piece_len = s.meta.piece_len(index);
            assert_eq!(begin % 16384, 0, "unaligned request");
            assert_eq!(
                length,
                16384.min(piece_len - begin),
                "request of {length} bytes at {begin}"
            );
            remote.send(&Message::Piece {
                index,
                begin,
                block: s.block(index, begin, length),
            });
            served += 1;
            if served == 3 {
                remote.send(&Message::Choke);
                choked_at = Some(Instant::now());
            }
        }
    }
    assert!(s.copy("leech") == s.data);
    assert!(
        served >= s.meta.num_pieces() as usize * 3,
        "served {served} blocks"
    );
}

#[test]
fn an_idle_connection_gets_keep_alives() {
    let s = setup(2);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seeder, seeder_addr) = s.peer("seed", addr, &["--keepalive", "200ms"]);
    let mut remote = FakeConn::connect(seeder_addr, s.meta.info_hash);
    let got = remote.recv_until(|m| *m == Message::KeepAlive);
    assert!(
        matches!(got.first(), Some(Message::Bitfield(_))),
        "bitfield comes first: {got:?}"
    );
}

#[test]
fn requests_are_served_in_order_and_a_cancelled_one_is_not_sent() {
    let s = setup(3);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seeder, seeder_addr) = s.peer("seed", addr, &[]);
    let mut remote = FakeConn::connect(seeder_addr, s.meta.info_hash);
    remote.send(&Message::Interested);
    remote.recv_until(|m| *m == Message::Unchoke);
    let mut requests = Vec::new();
    for index in 0..3u32 {
        for begin in [0u32, 16384, 32768] {
            requests.push((index, begin, 16384.min(s.meta.piece_len(index) - begin)));
        }
    }
    // every request, then a cancel of the last one, in one write
    let mut burst = Vec::new();
    for &(index, begin, length) in &requests {
        Message::Request {
            index,
            begin,
            length,
        }
        .write_to(&mut burst)
        .expect("encode");
    }
    let (ci, cb, cl) = *requests.last().expect("requests");
    Message::Cancel {
        index: ci,
        begin: cb,
        length: cl,
    }
    .write_to(&mut burst)
    .expect("encode");
    remote.send_raw(&burst);
    let mut got = Vec::new();
    while got.len() < requests.len() - 1 {
        match remote.recv_within(DEADLINE).expect("open") {
            Some(Message::Piece {
                index,
                begin,
                block,
            }) => {
                assert!(
                    block == s.block(index, begin, block.len() as u32),
                    "wrong bytes"
                );
                got.push((index, begin, block.len() as u32));
            }
            Some(_) => {}
            None => panic!("blocks missing: got {got:?}"),
        }
    }
    assert_eq!(
        got,
        requests[..requests.len() - 1].to_vec(),
        "served out of order"
    );
    while let Some(m) = remote
        .recv_within(Duration::from_millis(300))
        .expect("open")
    {
        assert!(
            !matches!(m, Message::Piece { .. }),
            "the cancelled block was sent: {m:?}"
        );
    }
}

#[test]
fn unknown_ids_oversized_frames_and_bad_requests_end_only_that_connection() {
    let s = setup(2);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (seeder_proc, seeder_addr) = s.peer("seed", addr, &[]);
    let bad_frames: Vec<Vec<u8>> = vec![
        vec![0, 0, 0, 1, 20],            // extension message, never announced
        vec![0, 0, 0, 3, 9, 0x1a, 0xe1], // DHT port, never announced
        vec![0xff, 0xff, 0xff, 0xff],    // a 4 GiB frame
        vec![0, 0, 0, 2, 5, 0xff],       // bitfield for 2 pieces with its 6 spare bits set
    ];
    for frame in bad_frames {
        let mut remote = FakeConn::connect(seeder_addr, s.meta.info_hash);
        remote.send_raw(&frame);
        remote.expect_closed();
    }
    for (index, begin, length) in [(0u32, 0u32, 32768u32), (0, 39_000, 16384), (9, 0, 16384)] {
        let mut remote = FakeConn::connect(seeder_addr, s.meta.info_hash);
        remote.send(&Message::Interested);
        remote.recv_until(|m| *m == Message::Unchoke);
        remote.send(&Message::Request {
            index,
            begin,
            length,
        });
        remote.expect_closed();
    }
    // an honest remote is still served
    let mut honest = FakeConn::connect(seeder_addr, s.meta.info_hash);
    honest.send(&Message::Interested);
    honest.recv_until(|m| *m == Message::Unchoke);
    honest.send(&Message::Request {
        index: 1,
        begin: 0,
        length: 16384,
    });
    let got = honest.recv_until(|m| matches!(m, Message::Piece { .. }));
    assert!(
        matches!(got.last(), Some(Message::Piece { index: 1, begin: 0, block }) if *block == s.block(1, 0, 16384))
    );
    // each bad remote's close is logged by its own thread, maybe after we saw the socket close
    eventually(
        "the seeder logs closing each of the 7 bad connections",
        || seeder_proc.count("closing connection") >= 7,
    );
}

#[test]
fn the_endgame_asks_a_second_holder_and_cancels_the_slow_one() {
    let s = setup(2);
    let (_tracker, addr) = tracker(
        s.dir.path(),
        &["--torrent", s.torrent.to_str().expect("utf-8")],
    );
    // a holder that takes requests and never answers them
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    join_fake(addr, &s, listener.local_addr().expect("addr").port());
    let (leecher, _) = s.peer(
        "leech",
        addr,
        &["--parallel", "2", "--round-interval", "50ms"],
    );
    let mut slow = FakeConn::accept(&listener, s.meta.info_hash);
    slow.send(&Message::Bitfield(PieceSet::full(2).to_bitfield()));
    slow.recv_until(|m| *m == Message::Interested);
    slow.send(&Message::Unchoke);
    slow.recv_until(|m| matches!(m, Message::Request { .. }));
    // now a real seeder joins: the leecher's next round is an endgame
    let (_seeder, _) = s.peer("seed", addr, &[]);
    leecher.wait_for("download complete");
    assert!(s.copy("leech") == s.data);
    assert!(leecher.count("endgame: piece") >= 1);
    slow.recv_until(|m| matches!(m, Message::Cancel { .. }));
}
