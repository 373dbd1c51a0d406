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

#[test]
fn optional_fields_parse_from_golden_lines_and_print_back() {
    let secret = Secret::parse("s3cretKey42").expect("valid secret");
    let cases = [
        (
            format!("JOIN {HASH} 7001 0-3 key=s3cretKey42 numwant=20"),
            Request::Join {
                info_hash: hash(),
                port: 7001,
                pieces: "0-3".into(),
                key: Some(secret.clone()),
                numwant: Some(20),
            },
        ),
        (
            format!("REPORT {HASH} 7001 0-9 key=s3cretKey42 unchoked=7002,7004"),
            Request::Report {
                info_hash: hash(),
                port: 7001,
                pieces: "0-9".into(),
                key: Some(secret.clone()),
                unchoked: Some(vec![Unchoked::Port(7002), Unchoked::Port(7004)]),
            },
        ),
        (
            format!("REPORT {HASH} 7001 - unchoked=10.0.0.2:6881,[::1]:7000"),
            Request::Report {
                info_hash: hash(),
                port: 7001,
                pieces: "-".into(),
                key: None,
                unchoked: Some(vec![
                    Unchoked::Addr("10.0.0.2:6881".parse().expect("addr")),
                    Unchoked::Addr("[::1]:7000".parse().expect("addr")),
                ]),
            },
        ),
        (
            format!("REPORT {HASH} 7001 - unchoked=-"),
            Request::Report {
                info_hash: hash(),
                port: 7001,
                pieces: "-".into(),
                key: None,
                unchoked: Some(Vec::new()),
            },
        ),
        (
            format!("LIST {HASH} 7001 numwant=5"),
            Request::List {
                info_hash: hash(),
                port: 7001,
                numwant: Some(5),
            },
        ),
        (
            format!("LEAVE {HASH} 7001 key=s3cretKey42"),
            Request::Leave {
                info_hash: hash(),
                port: 7001,
                key: Some(secret),
            },
        ),
    ];
    for (line, request) in cases {
        assert_eq!(Request::parse(&line).expect(&line), request);
        assert_eq!(request.to_line(), line);
    }
    // Unknown keys are ignored (a newer peer talking to this tracker), keys are
    // case-insensitive, and options may follow any request.
    assert_eq!(
        Request::parse(&format!("PING {HASH} 7001 Color=blue future_field=1")).expect("ping"),
        Request::Ping {
            info_hash: hash(),
            port: 7001,
            key: None,
        }
    );
    assert_eq!(
        Request::parse("SWARMS numwant=3").expect("swarms"),
        Request::Swarms
    );
    // Logs never show the secret.
    let join = Request::parse(&format!("JOIN {HASH} 7001 - key=s3cretKey42")).expect("join");
    assert!(
        !join.to_log_line().contains("s3cret"),
        "{}",
        join.to_log_line()
    );
    assert!(!format!("{join:?}").contains("s3cret"));
}

#[test]
fn malformed_optional_fields_are_refused_with_a_reason() {
    let long = "x".repeat(MAX_OPTION_VALUE_LEN + 1);
    let many: Vec<String> = (0..=MAX_OPTIONS).map(|i| format!("k{i}=1")).collect();
    let cases = [
        (
            format!("PING {HASH} 7001 key=abc key=abc"),
            "option `key` given twice".to_string(),
        ),
        (
            format!("PING {HASH} 7001 KEY=abcdefgh key=abcdefgh"),
            "option `key` given twice".to_string(),
        ),
        (
            format!("PING {HASH} 7001 key=short"),
            "option `key=short` is not 8 to 64 letters and digits".to_string(),
        ),
        (
            format!("PING {HASH} 7001 key="),
            "option `key` needs a value of 1 to 1024 printable characters".to_string(),
        ),
        (
            format!("PING {HASH} 7001 x={long}"),
            "option `x` needs a value of 1 to 1024 printable characters".to_string(),
        ),
        (
            format!("PING {HASH} 7001 =v"),
            "`` is not an option key (a letter, then letters, digits, - or _, at most 16)"
                .to_string(),
        ),
        (
            format!("PING {HASH} 7001 9x=v"),
            "`9x` is not an option key (a letter, then letters, digits, - or _, at most 16)"
                .to_string(),
        ),
        (
            format!("PING {HASH} 7001 a=1 stray"),
            "`stray` is not an option (key=value)".to_string(),
        ),
        (
            format!("PING {HASH} 7001 {}", many.join(" ")),
            format!(
                "{} options is over the cap of {MAX_OPTIONS}",
                MAX_OPTIONS + 1
            ),
        ),
        (
            format!("LIST {HASH} 7001 numwant=lots"),
            "option `numwant=lots` is not a number of peers".to_string(),
        ),
        (
            format!("REPORT {HASH} 7001 - unchoked=7002,,7003"),
            "option `unchoked=7002,,7003` is not `-` or at most 64 ports or ip:port addresses"
                .to_string(),
        ),
        (
            format!("REPORT {HASH} 7001 - unchoked={}", vec!["7"; 65].join(",")),
            format!(
                "option `unchoked={}` is not `-` or at most 64 ports or ip:port addresses",
                truncate(&vec!["7"; 65].join(","))
            ),
        ),
        (
            format!("PING {HASH} key=abcdefgh"),
            "usage: PING <info-hash> <port> [key=SECRET]".to_string(),
        ),
    ];
    for (line, why) in cases {
        match Request::parse(&line) {
            Err(ProtoError::Bad(text)) => assert_eq!(text, why, "{line:?}"),
            other => panic!("{line:?} gave {other:?}"),
        }
    }
}

#[test]
fn status_peer_lines_carry_the_unchoke_set_and_replies_are_bounded_in_bytes() {
    let text = format!(
        "STATUS 1\nSWARM {HASH} 10 2 demo.bin\nPEER 127.0.0.1 7001 0-9 1312 unchoked=7002\nPEER 127.0.0.1 7002 0-3 1208 later=1\n"
    );
    let reply = Reply::read_from(&mut Cursor::new(text.as_bytes())).expect("status");
    let Reply::Status(swarms) = &reply else {
        panic!("{reply:?}");
    };
    assert_eq!(
        swarms[0].peers[0].unchoked,
        Some(vec![Unchoked::Port(7002)])
    );
    assert_eq!(swarms[0].peers[1].unchoked, None, "unknown option ignored");
    let mut written = Vec::new();
    reply.write_to(&mut written).expect("write");
    assert_eq!(
        String::from_utf8(written).expect("text"),
        text.replace(" later=1", "")
    );
    // A PEERS reply over MAX_REPLY_BYTES is refused by the reader.
    let line = format!("PEER 127.0.0.1 7001 {}\n", "1,".repeat(400) + "1");
    let huge = format!("PEERS 200\n{}", line.repeat(200));
    match Reply::read_from(&mut Cursor::new(huge.as_bytes())) {
        Err(ProtoError::Bad(why)) => assert_eq!(why, "reply longer than 65536 bytes"),
        other => panic!("{other:?}"),
    }
    // A name with a newline never breaks a SWARMS line.
    let swarms = Reply::Swarms(vec![SwarmEntry {
        info_hash: hash(),
        pieces: 1,
        peers: 0,
        name: "x\nSWARM forged".into(),
    }]);
    let mut written = Vec::new();
    swarms.write_to(&mut written).expect("write");
    assert_eq!(
        String::from_utf8(written).expect("text"),
        format!("SWARMS 1\nSWARM {HASH} 1 0 x\\u{{a}}SWARM forged\n")
    );
}
