//! Golden tests of the optional `key=value` fields (PROTOCOL.md 1.1) and of the byte bounds
//! on replies.

use super::*;

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
