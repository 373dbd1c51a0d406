//! Golden tests for the tracker's line protocol: literal lines as a student would type them.

use super::*;
use crate::testutil::XorShift;
use std::io::{BufReader, Cursor};

const HASH: &str = "0123456789abcdef0123456789abcdef01234567";

fn hash() -> InfoHash {
    HASH.parse().expect("valid hash")
}

use crate::testutil::OneByte;

#[test]
fn requests_parse_from_golden_lines() {
    let cases = [
        (
            format!("JOIN {HASH} 7001 0-3,5"),
            Request::Join {
                info_hash: hash(),
                port: 7001,
                pieces: "0-3,5".into(),
                key: None,
                numwant: None,
            },
        ),
        (
            format!("ping {HASH} 7001"),
            Request::Ping {
                info_hash: hash(),
                port: 7001,
                key: None,
            },
        ),
        (
            format!("REPORT {HASH} 7002 -"),
            Request::Report {
                info_hash: hash(),
                port: 7002,
                pieces: "-".into(),
                key: None,
                unchoked: None,
            },
        ),
        (
            format!("LIST {HASH} 7003"),
            Request::List {
                info_hash: hash(),
                port: 7003,
                numwant: None,
            },
        ),
        (
            format!("LEAVE {HASH} 7003"),
            Request::Leave {
                info_hash: hash(),
                port: 7003,
                key: None,
            },
        ),
        ("SWARMS".to_string(), Request::Swarms),
        ("status".to_string(), Request::Status),
        (
            format!("METAINFO {HASH}"),
            Request::Metainfo { info_hash: hash() },
        ),
        (
            format!("PUBLISH {HASH} 312"),
            Request::Publish {
                info_hash: hash(),
                length: 312,
            },
        ),
        ("quit".to_string(), Request::Quit),
    ];
    for (line, request) in cases {
        assert_eq!(Request::parse(&line).expect(&line), request);
        if !line.starts_with(|c: char| c.is_lowercase()) {
            assert_eq!(request.to_line(), line);
        }
    }
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let cases = [
        ("", "empty line"),
        ("FETCH", "unknown request `FETCH` (try HELP)"),
        ("PING", "usage: PING <info-hash> <port> [key=SECRET]"),
        (
            &format!("PING {HASH} 0") as &str,
            "`0` is not a port (1-65535)",
        ),
        (
            &format!("PING {HASH} 70000"),
            "`70000` is not a port (1-65535)",
        ),
        ("PING abc 7001", "`abc` is not an info-hash (40 hex digits)"),
        (&format!("PUBLISH {HASH} -1"), "`-1` is not a length"),
        (
            &format!("JOIN {HASH} 7001"),
            "usage: JOIN <info-hash> <port> <pieces> [key=SECRET] [numwant=N]",
        ),
    ];
    for (line, why) in cases {
        match Request::parse(line) {
            Err(ProtoError::Bad(text)) => assert_eq!(text, why, "{line:?}"),
            other => panic!("{line:?} gave {other:?}"),
        }
    }
}

#[test]
fn replies_write_the_golden_lines() {
    let peers = Reply::Peers(vec![
        PeerEntry {
            ip: "127.0.0.1".parse().expect("ip"),
            port: 7002,
            pieces: "0-9".into(),
        },
        PeerEntry {
            ip: "10.0.0.3".parse().expect("ip"),
            port: 7003,
            pieces: "-".into(),
        },
    ]);
    let swarms = Reply::Swarms(vec![SwarmEntry {
        info_hash: hash(),
        pieces: 40,
        peers: 3,
        name: "sample file.bin".into(),
    }]);
    let cases: Vec<(Reply, &[u8])> = vec![
        (Reply::Ok("joined".into()), b"OK joined\n"),
        (Reply::Pong, b"PONG\n"),
        (Reply::Bye, b"BYE\n"),
        (
            Reply::error(ErrorCode::UnknownPeer, "port 7001 is not in the swarm"),
            b"ERR unknown-peer port 7001 is not in the swarm\n",
        ),
        (
            peers,
            b"PEERS 2\nPEER 127.0.0.1 7002 0-9\nPEER 10.0.0.3 7003 -\n",
        ),
        (
            swarms,
            b"SWARMS 1\nSWARM 0123456789abcdef0123456789abcdef01234567 40 3 sample file.bin\n",
        ),
        (
            Reply::Metainfo(b"d1:ai1ee".to_vec()),
            b"METAINFO 8\nd1:ai1ee\n",
        ),
    ];
    for (reply, bytes) in cases {
        let mut out = Vec::new();
        reply.write_to(&mut out).expect("write");
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(bytes)
        );
        // and back, one byte at a time
        let mut reader = BufReader::with_capacity(1, OneByte(bytes));
        assert_eq!(Reply::read_from(&mut reader).expect("read"), reply);
    }
}

#[test]
fn lines_are_capped_and_crlf_is_accepted() {
    let mut input = Cursor::new(b"PONG\r\nnext\n".to_vec());
    assert_eq!(read_line(&mut input).expect("line"), "PONG");
    assert_eq!(read_line(&mut input).expect("line"), "next");
    assert!(matches!(read_line(&mut input), Err(ProtoError::Closed)));

    let long = vec![b'A'; MAX_LINE_LEN + 10];
    let mut input = BufReader::new(Cursor::new(long));
    assert!(matches!(read_line(&mut input), Err(ProtoError::TooLong)));

    let mut input = Cursor::new(b"\xff\xfe\n".to_vec());
    assert!(matches!(read_line(&mut input), Err(ProtoError::NotText)));
}

#[test]
fn reply_counts_over_the_cap_are_refused() {
    let mut input = Cursor::new(b"PEERS 100000\n".to_vec());
    assert!(Reply::read_from(&mut input).is_err());
    let mut input = Cursor::new(b"METAINFO 99999999999\n".to_vec());
    assert!(Reply::read_from(&mut input).is_err());
}

/// Valid request and reply lines for the garbage test to mutate.
fn seed_lines() -> Vec<String> {
    [
        format!("JOIN {HASH} 7001 0-3,5\n"),
        format!("ping {HASH} 7001\r\n"),
        format!("REPORT {HASH} 7002 -\n"),
        format!("LIST {HASH} 7001\n"),
        format!("LEAVE {HASH} 7001\n"),
        format!("METAINFO {HASH}\n"),
        format!("PUBLISH {HASH} 12\n"),
        "SWARMS\nSTATUS\nHELP\nQUIT\n".to_string(),
        "OK joined\nPONG\nBYE\n".to_string(),
        "ERR unknown-swarm no such swarm\n".to_string(),
        "PEERS 2\nPEER 127.0.0.1 7001 0-3\nPEER ::1 7002 ?\n".to_string(),
        format!("SWARMS 1\nSWARM {HASH} 12 2 file.bin\n"),
        format!("STATUS 1\nSWARM {HASH} 12 1 a name\nPEER 127.0.0.1 7001 - 1500\n"),
        "METAINFO 4\ni42e\n".to_string(),
    ]
    .to_vec()
}

/// Whether a reply holds a text field ending in `\r`: `read_line` drops a `\r` before the
/// newline (CRLF tolerance), so such a field cannot survive a write and a read. That is the one
/// lossy case; every other accepted reply must come back unchanged.
fn has_trailing_cr(reply: &Reply) -> bool {
    match reply {
        Reply::Ok(text) | Reply::Err { message: text, .. } => text.ends_with('\r'),
        Reply::Peers(peers) => peers.iter().any(|p| p.pieces.ends_with('\r')),
        Reply::Swarms(swarms) => swarms.iter().any(|s| s.name.ends_with('\r')),
        Reply::Status(swarms) => swarms.iter().any(|s| s.swarm.name.ends_with('\r')),
        _ => false,
    }
}

#[test]
fn garbage_lines_never_panic_and_anything_parsed_round_trips() {
    const ALPHABET: &[u8] = b"JOINPEERSWARMSTATUSOKERR 0123456789abcdef-,.:?\r\n";
    let seeds = seed_lines();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let (mut requests, mut replies) = (0, 0);
    for round in 0..20_000 {
        let input: Vec<u8> = if round % 2 == 0 {
            // Random bytes, mostly from the protocol's alphabet.
            (0..rng.below(80))
                .map(|_| match rng.below(4) {
                    0 => rng.next() as u8,
                    _ => ALPHABET[rng.below(ALPHABET.len())],
                })
                .collect()
        } else {
            // Valid lines with a few bytes changed, inserted, removed or cut off.
            let seed = seeds[rng.below(seeds.len())].clone().into_bytes();
            rng.mutate(seed, ALPHABET)
        };

        // Requests, line by line: whatever parses prints back to a line that parses the same.
        let mut lines = Cursor::new(&input[..]);
        while let Ok(line) = read_line(&mut lines) {
            assert!(!line.contains('\n') && line.len() < MAX_LINE_LEN);
            if let Ok(request) = Request::parse(&line) {
                requests += 1;
                let again = Request::parse(&request.to_line()).expect("printed request parses");
                assert_eq!(again, request, "from {line:?}");
                let _ = (request.name(), request.trace_fields());
            }
        }

        // Replies: whatever is read writes back to bytes that read the same.
        let mut stream = Cursor::new(&input[..]);
        while let Ok(reply) = Reply::read_from(&mut stream) {
            replies += 1;
            let _ = (reply.name(), reply.summary(), reply.trace_fields());
            if has_trailing_cr(&reply) {
                continue;
            }
            let mut bytes = Vec::new();
            reply.write_to(&mut bytes).expect("write to a Vec");
            let again = Reply::read_from(&mut Cursor::new(&bytes[..])).expect("written reply");
            assert_eq!(again, reply, "from {:?}", String::from_utf8_lossy(&input));
        }
    }
    // The test means little if everything was refused.
    assert!(requests > 1000, "only {requests} requests parsed");
    assert!(replies > 1000, "only {replies} replies read");
}

mod optional;
