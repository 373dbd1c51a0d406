//! The peer table and real clients' HTTP announces: seeds counted without metainfo,
//! completions counted once, the peer id in replies.

use super::*;

#[test]
fn http_seeds_count_without_metainfo_and_completions_are_counted_once() {
    let table = PeerTable::new(Identity::Port);
    let hash = metainfo().info_hash;
    let local = |port| at([127, 0, 0, 1], port);
    let counts = |table: &PeerTable| {
        let files = table.scrape(&[hash, InfoHash([9; 20])]);
        assert_eq!(files.len(), 1, "the unknown swarm is left out");
        let c = files[0].1;
        (c.complete, c.incomplete, c.downloaded)
    };
    let announced = |port, left, event| {
        let outcome = http_announce(&table, &hash, local(port), left, event).expect("announce");
        (outcome.complete, outcome.incomplete)
    };
    // A swarm started by HTTP announces: no metainfo at the tracker.
    assert_eq!(announced(6881, Some(100), Event::Started), (0, 1));
    // A seed that arrives is a seed, not a completion.
    assert_eq!(announced(6882, Some(0), Event::Started), (1, 1));
    assert_eq!(counts(&table), (1, 1, 0));
    // The leecher finishes: one completion, however often it announces afterwards.
    assert_eq!(announced(6881, Some(0), Event::Completed), (2, 0));
    assert_eq!(announced(6881, Some(0), Event::Update), (2, 0));
    assert_eq!(counts(&table), (2, 0, 1));
    // `event=completed` from a client the tracker had not listed (it restarted) counts too.
    assert_eq!(announced(6883, Some(0), Event::Completed), (3, 0));
    // No `left`: not taken for a seed.
    assert_eq!(announced(6884, None, Event::Update), (3, 1));
    assert_eq!(counts(&table), (3, 1, 2));
    // STATUS: the seeds hold every piece of a swarm whose piece count is unknown (`-` of 0
    // pieces, drawn as complete), the client without `left` is `?`.
    let status = table.status();
    let pieces: Vec<(u16, &str)> = status[0]
        .peers
        .iter()
        .map(|p| (p.peer.port, p.peer.pieces.as_str()))
        .collect();
    assert_eq!(pieces, [(6881, "-"), (6882, "-"), (6883, "-"), (6884, "?")]);
    let view = crate::status::SwarmView::from_status(&status[0]);
    let done: Vec<Option<u32>> = view
        .peers
        .iter()
        .map(|p| p.pieces.as_ref().map(PieceSet::percent))
        .collect();
    assert_eq!(done, [Some(100), Some(100), Some(100), None]);
    // Once the metainfo is published, the same seeds list every piece.
    table.publish(metainfo()).expect("publish");
    let listed = table.snapshot(&hash, local(7009)).expect("list");
    let seeds = listed.iter().filter(|p| p.pieces == "0-1").count();
    assert_eq!((seeds, listed.len()), (3, 4));
    // A stopped seed leaves the counts; the completions stay.
    assert_eq!(announced(6882, Some(0), Event::Stopped), (2, 1));
    assert_eq!(counts(&table), (2, 1, 2));
}

#[test]
fn a_line_protocol_peer_that_becomes_complete_counts_one_completion() {
    let (table, hash) = published(Identity::Port);
    let peer = at([127, 0, 0, 1], 7001);
    table.register(&hash, peer, "0", None).expect("join");
    assert_eq!(table.scrape(&[hash])[0].1.downloaded, 0);
    table
        .report(&hash, peer, "0-1", None, None)
        .expect("report");
    table.report(&hash, peer, "0-1", None, None).expect("again");
    let counts = table.scrape(&[hash])[0].1;
    assert_eq!(
        (counts.complete, counts.incomplete, counts.downloaded),
        (1, 0, 1)
    );
    // A seed that joins complete is no completion.
    table
        .register(&hash, at([127, 0, 0, 1], 7002), "0-1", None)
        .expect("join");
    assert_eq!(table.scrape(&[hash])[0].1.downloaded, 1);
}

#[test]
fn announce_replies_carry_the_peer_id_of_http_clients_only() {
    let (table, hash) = published(Identity::Port);
    table
        .register(&hash, at([127, 0, 0, 1], 7001), "0-1", None)
        .expect("join");
    http_announce(
        &table,
        &hash,
        at([127, 0, 0, 1], 6881),
        Some(5),
        Event::Started,
    )
    .expect("first client");
    let outcome = http_announce(
        &table,
        &hash,
        at([127, 0, 0, 1], 6882),
        None,
        Event::Started,
    )
    .expect("second client");
    let mut ids: Vec<(u16, Option<[u8; 20]>)> = outcome
        .peers
        .iter()
        .map(|p| (p.addr.port(), p.peer_id))
        .collect();
    ids.sort();
    assert_eq!(ids, [(6881, Some([b'p'; 20])), (7001, None)]);
}
