//! Unit tests of `peer/tracker_client.rs`.

use super::*;

fn swarm(byte: u8, pieces: u32, peers: usize) -> SwarmEntry {
    SwarmEntry {
        info_hash: InfoHash([byte; 20]),
        pieces,
        peers,
        name: format!("s{byte}"),
    }
}

#[test]
fn a_bare_peer_joins_the_swarm_with_the_most_peers_and_refuses_a_tie() {
    assert_eq!(choose_swarm(&[]), Ok(None));
    // Swarms without metainfo (created by an HTTP announce) are never chosen.
    assert_eq!(choose_swarm(&[swarm(1, 0, 9)]), Ok(None));
    let one = [swarm(1, 0, 9), swarm(2, 10, 0)];
    assert_eq!(
        choose_swarm(&one).map(|s| s.map(|s| s.pieces)),
        Ok(Some(10))
    );
    // Before: "the tracker knows 2 swarms; choose one with --info-hash", an exit.
    let class = [swarm(3, 10, 1), swarm(4, 10, 5)];
    let chosen = choose_swarm(&class).expect("the busiest wins");
    assert_eq!(chosen.map(|s| s.info_hash), Some(InfoHash([4; 20])));
    let tie = [swarm(5, 10, 2), swarm(6, 10, 2), swarm(7, 10, 1)];
    let why = choose_swarm(&tie).expect_err("a tie");
    assert!(why.starts_with("the tracker knows 3 swarms and none has the most peers"));
    assert!(
        why.contains("--info-hash") && why.contains(" s6 (2 peers)"),
        "{why}"
    );
}

#[test]
fn the_key_drawn_at_join_is_remembered_for_that_peer_only() {
    let client = TrackerClient {
        tracker: "127.0.0.1:9".parse().expect("addr"),
        local_ip: None,
    };
    let hash = InfoHash([42; 20]);
    assert!(client.joined_secret(hash, 7001).is_none(), "no JOIN yet");
    let first = client.secret(hash, 7001);
    assert_eq!(client.joined_secret(hash, 7001), Some(first.clone()));
    assert_eq!(client.secret(hash, 7001), first, "a rejoin keeps the key");
    assert_ne!(
        client.secret(hash, 7002),
        first,
        "another port draws its own"
    );
    assert!(
        Secret::parse(first.as_str()).is_some(),
        "the tracker accepts it"
    );
}
