//! Wireshark reads our wire format: a small swarm (tracker, seed, two leechers) runs on loopback
//! while `tshark` captures the peers' ports, then Wireshark's BitTorrent dissector decodes the
//! capture. Every message type a download uses must show up, decoded with the lengths BEP 3
//! gives it, and the dissector must report nothing malformed.
//!
//! The peers listen on fixed free ports so the capture filter (`tcp port P or ...`, loopback
//! only) and the "Decode As" rules (`-d tcp.port==P,bittorrent`) can name them up front: tracker
//! traffic is not captured. (Wireshark's `bittorrent_tcp` heuristic would also spot our
//! connections by their handshakes; the rules make the decoding independent of it.)
//!
//! Wireshark's dissector rarely calls a BitTorrent frame malformed: a message whose length does
//! not fit its id is shown as "Continuation data" instead (and framing is lost from there on),
//! so that counts as a failure too, as do expert infos at error level and truncated frames.
//!
//! A missing `tshark`, or one that may not capture (no root or CAP_NET_RAW), skips the test with
//! a message, or fails it when `CI=true`.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// Enough pieces that the second leecher, picking a random holder for each piece, fetches from
/// the first leecher too (it would miss it with probability 2^-PIECES).
const PIECES: usize = 24;
const POLL: Duration = Duration::from_millis(20);

/// BEP 3 message ids, and what a download must show of each.
const CHOKE: u8 = 0;
const UNCHOKE: u8 = 1;
const INTERESTED: u8 = 2;
const NOT_INTERESTED: u8 = 3;
const HAVE: u8 = 4;
const BITFIELD: u8 = 5;
const REQUEST: u8 = 6;
const PIECE_MSG: u8 = 7;
const CANCEL: u8 = 8;
/// BEP 10: the extension handshake carries each side's listening port.
const EXTENDED: u8 = 20;
const EXPECTED: [(u8, &str); 6] = [
    (BITFIELD, "bitfield"),
    (INTERESTED, "interested"),
    (UNCHOKE, "unchoke"),
    (REQUEST, "request"),
    (PIECE_MSG, "piece"),
    (HAVE, "have"),
];

#[path = "wireshark/tshark.rs"]
mod tshark;

use tshark::{Capture, dissect, may_run, summary};

#[test]
fn tshark_decodes_a_swarm_run_without_malformed_packets() {
    if !have_tool("tshark", &["-v"], "tshark") {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_bytes(PIECES * PIECE - 1000, 7);
    let file = write_file(&dir.path().join("orig"), "sample.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.path().join("sample.torrent"));

    // the port of the test's marker connection (see `Capture`), then the peers' fixed ports
    let marker_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let marker_port = marker_listener.local_addr().expect("addr").port();
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() < 3 {
        let port = free_port();
        if port != marker_port && !ports.contains(&port) {
            ports.push(port);
        }
    }
    let (seed_port, first_port, second_port) = (ports[0], ports[1], ports[2]);

    let pcap = dir.path().join("swarm.pcapng");
    let mut capture = Capture::start(&ports, marker_listener, &pcap);
    if !may_run(&capture) {
        return;
    }
    let capture = capture.as_mut().expect("capturing");

    let (_tracker, addr) = tracker(dir.path(), &[]);
    let start_peer = |name: &str, port: u16, peer_dir: &Path| -> Proc {
        let extra = [
            "--torrent",
            torrent.to_str().expect("utf-8"),
            "--dir",
            peer_dir.to_str().expect("utf-8"),
            "--min-peers",
            "1",
            "--parallel",
            "2",
        ];
        let args = peer_args(port, addr, &[&extra[..], &FAST].concat());
        let proc = Proc::start(name, dir.path(), &args, &[]);
        proc.wait_for("joined swarm");
        proc
    };
    let seed_dir = dir.path().join("seed");
    write_file(&seed_dir, "sample.bin", &data);
    let _seed = start_peer("seed", seed_port, &seed_dir);
    let first_dir = dir.path().join("first");
    let first = start_peer("first", first_port, &first_dir);
    first.wait_for("download complete");
    // the second leecher starts once the first is complete: it picks a random holder for each
    // piece, so it fetches from the first leecher too (only from the seed: odds 2^-PIECES)
    let second_dir = dir.path().join("second");
    let second = start_peer("second", second_port, &second_dir);
    second.wait_for("download complete");
    for peer_dir in [&first_dir, &second_dir] {
        assert!(
            std::fs::read(peer_dir.join("sample.bin")).is_ok_and(|copy| copy == data),
            "{} holds a different copy",
            peer_dir.display()
        );
    }
    let sources: Vec<String> = verified_pieces(&second)
        .into_iter()
        .map(|(_, from)| from)
        .collect();
    assert!(
        sources.contains(&format!("127.0.0.1:{first_port}")),
        "the second leecher fetched nothing from the first: {sources:?}"
    );

    // every packet of the run is in the file once this marker is
    capture
        .sync("swarm complete")
        .expect("tshark still capturing");
    capture.stop();
    let captured = started.elapsed();

    let peer_ports = [seed_port, first_port, second_port];
    let frames = dissect(&pcap, &peer_ports);
    let bad: Vec<u64> = frames
        .iter()
        .filter(|f| f.malformed || f.truncated || f.continuation || !f.errors.is_empty())
        .map(|f| f.number)
        .collect();
    assert!(
        bad.is_empty(),
        "Wireshark reports malformed or truncated packets, expert errors or continuation data \
         in frames {bad:?}:\n{}\nexpert errors: {:?}",
        summary(
            &pcap,
            &peer_ports,
            "_ws.malformed || _ws.short || _ws.expert.severity >= error \
             || bittorrent.continuous_data"
        ),
        frames
            .iter()
            .flat_map(|f| f.errors.iter().map(move |e| (f.number, e)))
            .collect::<Vec<_>>()
    );

    let handshakes: usize = frames.iter().map(|f| f.handshakes).sum();
    let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
    let mut block_bytes = 0u64;
    let bitfield_len = PIECES.div_ceil(8) as u32;
    for frame in &frames {
        for &(id, len) in &frame.messages {
            *counts.entry(id).or_default() += 1;
            let expected = match id {
                CHOKE | UNCHOKE | INTERESTED | NOT_INTERESTED => Some(1),
                HAVE => Some(5),
                BITFIELD => Some(1 + bitfield_len),
                REQUEST | CANCEL => Some(13),
                PIECE_MSG => {
                    assert!(
                        len > 9 && len <= 9 + PIECE as u32,
                        "frame {}: piece of length {len}",
                        frame.number
                    );
                    block_bytes += u64::from(len - 9);
                    None
                }
                EXTENDED => {
                    // BEP 10's extension handshake: id, extended id 0, a bencoded dictionary.
                    assert!(len > 2, "frame {}: extended of length {len}", frame.number);
                    None
                }
                other => panic!("frame {}: message id {other}", frame.number),
            };
            if let Some(expected) = expected {
                assert_eq!(
                    len, expected,
                    "frame {}: message {id} has length {len}",
                    frame.number
                );
            }
        }
        for bitfield in &frame.bitfields {
            let hex = bitfield.replace(':', "");
            assert_eq!(
                hex.len(),
                2 * bitfield_len as usize,
                "frame {}: bitfield {bitfield}",
                frame.number
            );
        }
        for &index in &frame.piece_indices {
            assert!(
                (index as usize) < PIECES,
                "frame {}: piece index {index}",
                frame.number
            );
        }
        for &length in &frame.block_lengths {
            assert!(
                length > 0 && length as usize <= PIECE,
                "frame {}: block length {length}",
                frame.number
            );
        }
    }
    let keep_alives: usize = frames.iter().map(|f| f.keep_alives).sum();
    eprintln!(
        "{} frames: {handshakes} handshakes, messages by id {counts:?}, {keep_alives} \
         keep-alives, {block_bytes} block bytes (capture {captured:?}, total {:?})",
        frames.len(),
        started.elapsed()
    );

    // each connection (leecher to seed, twice, and second to first) opens with two handshakes
    assert!(handshakes >= 6, "{handshakes} handshakes decoded");
    for (id, name) in EXPECTED {
        assert!(
            counts.get(&id).is_some_and(|&n| n > 0),
            "no {name} message (id {id}) decoded; by id: {counts:?}"
        );
    }
    assert!(
        block_bytes >= 2 * data.len() as u64,
        "{block_bytes} bytes of blocks decoded for two downloads of {} bytes",
        data.len()
    );
}
