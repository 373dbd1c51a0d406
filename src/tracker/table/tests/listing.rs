//! What LIST names in big swarms: bounded in bytes however scattered the piece lists, and the
//! most complete peers first.

use super::*;

/// A table with a torrent of `pieces` one-byte pieces published, and its info-hash.
fn big_swarm(pieces: usize) -> (PeerTable, InfoHash) {
    let mut info = format!(
        "d6:lengthi{pieces}e4:name3:big12:piece lengthi1e6:pieces{}:",
        pieces * 20
    )
    .into_bytes();
    info.extend(std::iter::repeat_n(3u8, pieces * 20));
    info.extend_from_slice(b"e");
    let mut bytes = b"d4:info".to_vec();
    bytes.extend_from_slice(&info);
    bytes.extend_from_slice(b"e");
    let m = Metainfo::from_bytes(&bytes).expect("valid torrent");
    let hash = m.info_hash;
    let table = PeerTable::new(Identity::Port);
    table.publish(m).expect("publish");
    (table, hash)
}

#[test]
fn two_hundred_fifty_scattered_fake_joins_do_not_make_a_huge_list() {
    // A 10 000-piece torrent: every fake peer claims every other piece (the longest range
    // list there is, ~24 KiB each). Before the byte bounds a LIST was 200 such lines (~5 MB).
    let pieces = 10_000;
    let (table, hash) = big_swarm(pieces);
    let scattered: Vec<String> = (0..pieces).step_by(2).map(|i| i.to_string()).collect();
    let scattered = scattered.join(",");
    for port in 0..250u16 {
        table
            .register(&hash, at([127, 0, 0, 1], 20_000 + port), &scattered, None)
            .expect("join");
    }
    table
        .register(&hash, at([127, 0, 0, 1], 7001), "0-9999", None)
        .expect("seed");
    let mut written = Vec::new();
    let list = table.answer(
        Request::parse(&format!("LIST {hash} 7000")).expect("list"),
        at([127, 0, 0, 1], 50_000),
    );
    list.write_to(&mut written).expect("write");
    assert!(written.len() <= MAX_REPLY_BYTES, "{} bytes", written.len());
    let Reply::Peers(peers) = list else {
        panic!("{list:?}")
    };
    assert_eq!(peers[0].pieces, "0-9999", "the seed comes first");
    assert_eq!(
        peers[1].pieces, "?",
        "scattered lists are left to the bitfield"
    );
    assert_eq!(peers.len(), MAX_PEERS_PER_REPLY);
    // numwant= asks for fewer.
    let few = table.answer(
        Request::parse(&format!("LIST {hash} 7000 numwant=3")).expect("list"),
        at([127, 0, 0, 1], 50_000),
    );
    assert!(
        matches!(few, Reply::Peers(ref p) if p.len() == 3),
        "{few:?}"
    );
    // STATUS stays under its own bound too.
    let mut written = Vec::new();
    Reply::Status(table.status())
        .write_to(&mut written)
        .expect("write");
    assert!(written.len() <= MAX_STATUS_BYTES, "{} bytes", written.len());
}

#[test]
fn a_list_of_a_big_swarm_is_its_most_complete_peers_in_order() {
    // 500 peers of a 300-piece torrent holding 1 to 300 pieces (many ties): LIST names the
    // 200 most complete, most complete first, ties by address, exactly as sorting all 500.
    let pieces = 300usize;
    let (table, hash) = big_swarm(pieces);
    let mut everyone = Vec::new();
    for i in 0..500u16 {
        let held = (usize::from(i) * 7919) % pieces + 1;
        let addr = at([127, 0, 0, 1], 20_000 + i);
        table
            .register(&hash, addr, &format!("0-{}", held - 1), None)
            .expect("join");
        everyone.push((held, addr));
    }
    everyone.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let want: Vec<u16> = everyone.iter().take(200).map(|(_, a)| a.port()).collect();
    let list = table.answer(
        Request::parse(&format!("LIST {hash} 7000")).expect("list"),
        at([127, 0, 0, 1], 50_000),
    );
    let Reply::Peers(peers) = list else {
        panic!("{list:?}")
    };
    let got: Vec<u16> = peers.iter().map(|p| p.port).collect();
    assert_eq!(got, want);
    assert_eq!(peers[0].pieces, "0-299");
}
