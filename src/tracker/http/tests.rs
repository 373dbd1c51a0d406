//! Golden tests for the HTTP announce and scrape: literal requests as real clients send them,
//! literal bencoded replies, and rejection of malformed or oversized requests.

use super::*;
use crate::testutil::XorShift;
use std::io::Cursor;
use std::net::SocketAddr;

const QUERY: &str = "info_hash=%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg&peer_id=-lt2080-abcdefghijkl&port=6881&uploaded=0&downloaded=10&left=1000&event=started&numwant=30&compact=1&key=7&supportcrypto=1";

#[test]
fn a_libtorrent_style_announce_parses() {
    let announce = parse_announce(QUERY).expect("valid");
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&[
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
        0xef, 0x01, 0x23, 0x45, 0x67,
    ]);
    assert_eq!(
        announce,
        Announce {
            info_hash: InfoHash(hash),
            peer_id: *b"-lt2080-abcdefghijkl",
            port: 6881,
            uploaded: 0,
            downloaded: 10,
            left: Some(1000),
            event: Event::Started,
            numwant: 30,
            compact: true,
        }
    );
}

#[test]
fn malformed_queries_are_refused_with_a_reason() {
    let hash = "info_hash=%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg";
    let cases = [
        (
            "peer_id=-lt2080-abcdefghijkl&port=1".to_string(),
            "missing info_hash",
        ),
        (format!("{hash}&port=1"), "missing peer_id"),
        (
            format!("{hash}&peer_id=-lt2080-abcdefghijkl"),
            "missing port",
        ),
        (
            format!("{hash}&peer_id=short&port=1"),
            "`peer_id` is not 20 bytes",
        ),
        (
            "info_hash=%01%02&peer_id=-lt2080-abcdefghijkl&port=1".to_string(),
            "`info_hash` is not 20 bytes",
        ),
        (
            format!("{hash}&peer_id=-lt2080-abcdefghijkl&port=0"),
            "`port` is not 1-65535",
        ),
        (
            format!("{hash}&peer_id=-lt2080-abcdefghijkl&port=70000"),
            "`port` is not 1-65535",
        ),
        (
            format!("{hash}&peer_id=-lt2080-abcdefghijkl&port=1&left=-5"),
            "`left` is not a number",
        ),
        (
            format!("{hash}&peer_id=-lt2080-abcdefghijkl&port=1&event=paused"),
            "`event` is not started, completed or stopped",
        ),
        (format!("{hash}&peer_id=%zz&port=1"), "bad %-escape"),
    ];
    for (query, why) in cases {
        match parse_announce(&query) {
            Err(HttpError::Malformed(text)) => assert_eq!(text, why, "{query}"),
            other => panic!("{query} gave {other:?}"),
        }
    }
}

#[test]
fn compact_reply_golden_bytes() {
    // Compact entries never carry the peer id, whether it is known or not.
    let peers = [
        ListedPeer {
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            peer_id: Some(*b"-lt2080-abcdefghijkl"),
        },
        SocketAddr::from(([10, 0, 0, 2], 0x1b59)).into(),
    ];
    let mut expected = b"d".to_vec();
    expected.extend_from_slice(b"8:completei1e"); // seeds
    expected.extend_from_slice(b"10:incompletei1e"); // leechers
    expected.extend_from_slice(b"8:intervali60e");
    expected.extend_from_slice(b"12:min intervali30e");
    expected.extend_from_slice(b"5:peers12:"); // 2 peers x 6 bytes
    expected.extend_from_slice(&[127, 0, 0, 1, 0x1b, 0x59]); // 127.0.0.1:7001
    expected.extend_from_slice(&[10, 0, 0, 2, 0x1b, 0x59]); // 10.0.0.2:7001
    expected.extend_from_slice(b"e");
    assert_eq!(announce_reply(60, 1, 1, &peers, true), expected);
}

#[test]
fn dictionary_reply_golden_bytes() {
    // BEP 3's list of dictionaries: `peer id` for a client that announced one (keys sorted:
    // `ip` < `peer id` < `port`), none for a line-protocol peer.
    let peers = [
        ListedPeer {
            addr: SocketAddr::from(([127, 0, 0, 1], 6881)),
            peer_id: Some(*b"-lt2080-abcdefghijkl"),
        },
        SocketAddr::from(([127, 0, 0, 1], 7001)).into(),
    ];
    let mut expected = b"d8:completei0e10:incompletei1e8:intervali60e12:min intervali30e".to_vec();
    expected.extend_from_slice(b"5:peersl"); // the list
    expected.extend_from_slice(b"d2:ip9:127.0.0.1"); // first peer: ip
    expected.extend_from_slice(b"7:peer id20:-lt2080-abcdefghijkl"); // its 20-byte id
    expected.extend_from_slice(b"4:porti6881ee"); // port, end of its dictionary
    expected.extend_from_slice(b"d2:ip9:127.0.0.14:porti7001ee"); // line-protocol peer: no id
    expected.extend_from_slice(b"e"); // end of the list
    expected.extend_from_slice(b"e"); // end of the reply
    assert_eq!(
        String::from_utf8_lossy(&announce_reply(60, 0, 1, &peers, false)),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn scrape_reply_golden_bytes() {
    let (a, b) = (InfoHash([0xaa; 20]), InfoHash([0x01; 20]));
    let counts = |complete, incomplete, downloaded| ScrapeCounts {
        complete,
        incomplete,
        downloaded,
    };
    let mut expected = b"d5:files".to_vec(); // { "files": {
    expected.extend_from_slice(b"d20:"); //     the first hash: 0x01..., sorted before 0xaa...
    expected.extend_from_slice(&[0x01; 20]);
    expected.extend_from_slice(b"d8:completei2e10:downloadedi5e10:incompletei1ee");
    expected.extend_from_slice(b"20:");
    expected.extend_from_slice(&[0xaa; 20]);
    expected.extend_from_slice(b"d8:completei0e10:downloadedi0e10:incompletei3ee");
    expected.extend_from_slice(b"e"); //   end of files
    expected.extend_from_slice(b"e"); // end of the reply
    let reply = scrape_reply(&[(a, counts(0, 3, 0)), (b, counts(2, 1, 5))]);
    assert_eq!(reply, expected);
    // No known swarm: an empty `files` dictionary.
    assert_eq!(scrape_reply(&[]), b"d5:filesdee".to_vec());
}

#[test]
fn scrape_queries_name_one_to_max_info_hashes() {
    let hash = "%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg";
    let one = parse_scrape(&format!("info_hash={hash}")).expect("one");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0[..4], [0x01, 0x23, 0x45, 0x67]);
    // Several, a duplicate kept once, other keys ignored (as Transmission sends them).
    let two = parse_scrape(&format!(
        "info_hash={hash}&peer_id=x&info_hash={}&info_hash={hash}",
        "b".repeat(20)
    ))
    .expect("two");
    assert_eq!(two, vec![one[0], InfoHash([b'b'; 20])]);
    let many: Vec<String> = (0..=MAX_SCRAPE_HASHES)
        .map(|i| format!("info_hash={}", percent_encode(&[i as u8; 20])))
        .collect();
    let cases = [
        ("".to_string(), "at least one info_hash"),
        (
            "info_hash=%01%02".to_string(),
            "`info_hash` is not 20 bytes",
        ),
        ("info_hash=%zz".to_string(), "bad %-escape"),
        (many.join("&"), "at most 64 info_hash"),
    ];
    for (query, why) in cases {
        match parse_scrape(&query) {
            Err(HttpError::Malformed(text)) => assert!(text.contains(why), "{query}: {text}"),
            other => panic!("{query} gave {other:?}"),
        }
    }
    assert_eq!(
        parse_scrape(&many[..MAX_SCRAPE_HASHES].join("&"))
            .expect("the cap fits")
            .len(),
        MAX_SCRAPE_HASHES
    );
}

#[test]
fn the_scrape_url_is_derived_from_the_announce_url_as_bep_48_says() {
    let cases = [
        (
            "http://127.0.0.1:6969/announce",
            Some("http://127.0.0.1:6969/scrape"),
        ),
        (
            "http://t.example/x/announce.php?k=1",
            Some("http://t.example/x/scrape.php?k=1"),
        ),
        (
            "http://t.example/announce?a=/b",
            Some("http://t.example/scrape?a=/b"),
        ),
        ("http://t.example/a", None),
        ("http://t.example/announce/x", None),
        ("http://t.example/x%064announce", None),
    ];
    for (announce, scrape) in cases {
        assert_eq!(scrape_url(announce).as_deref(), scrape, "{announce}");
    }
}

#[test]
fn failure_and_response_golden_bytes() {
    assert_eq!(
        failure_reply("bad port"),
        b"d14:failure reason8:bad porte".to_vec()
    );
    assert_eq!(
        response(400, "text/plain", b"no", false),
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno".to_vec()
    );
}

#[test]
fn request_heads_parse_and_keep_alive_follows_the_version() {
    let mut input = Cursor::new(
        b"GET /announce?x=1 HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.0\r\n\r\n".to_vec(),
    );
    let first = read_request(&mut input).expect("first");
    assert_eq!(
        (
            first.method.as_str(),
            first.path(),
            first.query(),
            first.keep_alive
        ),
        ("GET", "/announce", "x=1", true)
    );
    let second = read_request(&mut input).expect("second");
    assert_eq!((second.path(), second.keep_alive), ("/", false));
    assert!(matches!(read_request(&mut input), Err(HttpError::Closed)));
    let mut close = Cursor::new(b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec());
    assert!(!read_request(&mut close).expect("head").keep_alive);
}

#[test]
fn malformed_and_oversized_heads_are_refused() {
    for bad in [
        &b"GET /announce\r\n\r\n"[..],
        b"GET announce HTTP/1.1\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x",
        b"\xff\xfe / HTTP/1.1\r\n\r\n",
    ] {
        assert!(
            matches!(
                read_request(&mut Cursor::new(bad.to_vec())),
                Err(HttpError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    let mut huge = b"GET /".to_vec();
    huge.extend(std::iter::repeat_n(b'a', MAX_HEAD_LEN));
    huge.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    assert!(matches!(
        read_request(&mut Cursor::new(huge)),
        Err(HttpError::TooLong)
    ));
}

#[test]
fn percent_encoding_round_trips_every_byte() {
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(percent_decode(&percent_encode(&all)).expect("decode"), all);
    assert_eq!(percent_encode(b"a b/~"), "a%20b%2F~");
}

/// An accepted announce printed back as a query: it must parse to the same announce.
fn reprinted(a: &Announce) -> String {
    let event = match a.event {
        Event::Update => "",
        other => other.as_str(),
    };
    let mut query = format!(
        "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&event={event}&numwant={}&compact={}",
        percent_encode(&a.info_hash.0),
        percent_encode(&a.peer_id),
        a.port,
        a.uploaded,
        a.downloaded,
        a.numwant,
        u8::from(a.compact),
    );
    if let Some(left) = a.left {
        query.push_str(&format!("&left={left}"));
    }
    query
}

#[test]
fn garbage_requests_never_panic_and_anything_parsed_round_trips() {
    const ALPHABET: &[u8] = b"GET /announce?HTTP/1.01 \r\n:%+=&_0123456789abcdefABCDEF";
    let seeds = [
        format!("GET /announce?{QUERY} HTTP/1.1\r\nHost: 127.0.0.1:6969\r\n\r\n").into_bytes(),
        format!("GET /announce?{QUERY} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").into_bytes(),
        b"GET /scrape HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
        QUERY.as_bytes().to_vec(),
        b"info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&event=&left=0"
            .to_vec(),
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut heads, mut announces) = (0, 0);
    for round in 0..20_000 {
        let input: Vec<u8> = if round % 2 == 0 {
            // Random bytes, mostly from HTTP's and the query's alphabet.
            (0..rng.below(120))
                .map(|_| match rng.below(4) {
                    0 => rng.next() as u8,
                    _ => ALPHABET[rng.below(ALPHABET.len())],
                })
                .collect()
        } else {
            // Valid requests and queries with a few bytes changed, inserted, removed or cut off.
            let seed = seeds[rng.below(seeds.len())].clone();
            rng.mutate(seed, ALPHABET)
        };

        // Request heads, as many as a keep-alive connection would carry.
        let mut stream = Cursor::new(&input[..]);
        let mut queries = Vec::new();
        while let Ok(request) = read_request(&mut stream) {
            heads += 1;
            assert!(request.target.starts_with('/'));
            assert!(!request.target.contains([' ', '\n']));
            queries.push(request.query().to_string());
        }
        // The whole input as a query too.
        queries.push(String::from_utf8_lossy(&input).into_owned());
        for query in &queries {
            if let Ok(announce) = parse_announce(query) {
                announces += 1;
                assert!(announce.port != 0 && announce.numwant <= MAX_NUMWANT);
                let again = parse_announce(&reprinted(&announce)).expect("reprinted announce");
                assert_eq!(again, announce, "from {query:?}");
            }
            if let Ok(hashes) = parse_scrape(query) {
                assert!((1..=MAX_SCRAPE_HASHES).contains(&hashes.len()));
                let printed: Vec<String> = hashes
                    .iter()
                    .map(|h| format!("info_hash={}", percent_encode(&h.0)))
                    .collect();
                assert_eq!(parse_scrape(&printed.join("&")).ok(), Some(hashes));
            }
            if let Ok(bytes) = percent_decode(query) {
                assert!(bytes.len() <= query.len());
                assert_eq!(
                    percent_decode(&percent_encode(&bytes)).expect("encoded"),
                    bytes
                );
            }
        }
    }
    // The test means little if everything was refused.
    assert!(heads > 1000, "only {heads} request heads read");
    assert!(announces > 500, "only {announces} announces parsed");
}
