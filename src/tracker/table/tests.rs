//! Unit tests of the peer table: swarms, identity, clean-up and caps.

use super::*;

/// A two-piece torrent: `d4:infod6:lengthi20e4:name1:x12:piece lengthi16e6:pieces40:...ee`.
fn metainfo() -> Metainfo {
    let mut bytes = b"d4:infod6:lengthi20e4:name1:x12:piece lengthi16e6:pieces40:".to_vec();
    bytes.extend_from_slice(&[7u8; 40]);
    bytes.extend_from_slice(b"ee");
    Metainfo::from_bytes(&bytes).expect("valid torrent")
}

/// A table with that torrent published, and its info-hash.
fn published(identity: Identity) -> (PeerTable, InfoHash) {
    let table = PeerTable::new(identity);
    let hash = metainfo().info_hash;
    table.publish(metainfo()).expect("publish");
    (table, hash)
}

fn at(ip: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::from((ip, port))
}

#[test]
fn new_peers_and_swarms_beyond_the_caps_are_refused_listed_ones_refresh() {
    let table = PeerTable::new(Identity::Port).with_limits(2, 1);
    table.publish(metainfo()).expect("first swarm fits");
    let hash = metainfo().info_hash;
    for port in [7001, 7002] {
        table
            .register(&hash, at([127, 0, 0, 1], port), "-", None)
            .expect("fits");
    }
    let full = table.register(&hash, at([127, 0, 0, 1], 7003), "-", None);
    assert_eq!(full.expect_err("full").code, ErrorCode::Full);
    assert!(
        table
            .register(&hash, at([127, 0, 0, 1], 7001), "0", None)
            .is_ok()
    );
    let other = InfoHash([9; 20]);
    let refused = table.announce(&other, at([127, 0, 0, 1], 7004), None, false, 50);
    assert_eq!(refused.expect_err("full").code, ErrorCode::Full);
    // A stopped announce for an unknown swarm creates nothing.
    assert!(
        table
            .announce(&other, at([127, 0, 0, 1], 7004), None, true, 50)
            .is_ok()
    );
    assert_eq!(table.swarms().len(), 1);
}

#[test]
fn joining_an_unknown_swarm_is_refused_until_its_metainfo_is_published() {
    let table = PeerTable::new(Identity::Port);
    let m = metainfo();
    let hash = m.info_hash;
    let refused = table
        .register(&hash, at([127, 0, 0, 1], 7001), "-", None)
        .expect_err("unknown");
    assert_eq!(refused.code, ErrorCode::UnknownSwarm);
    assert_eq!(table.publish(m.clone()), Ok(true));
    assert_eq!(table.publish(m), Ok(false));
    assert_eq!(
        table.register(&hash, at([127, 0, 0, 1], 7001), "0-1", None),
        Ok(vec![])
    );
    let others = table
        .register(&hash, at([127, 0, 0, 1], 7002), "-", None)
        .expect("joined");
    assert_eq!(
        others,
        vec![PeerEntry {
            ip: [127, 0, 0, 1].into(),
            port: 7001,
            pieces: "0-1".into()
        }]
    );
    assert_eq!(
        table
            .report(&hash, at([127, 0, 0, 1], 7002), "9", None, None)
            .expect_err("bad")
            .code,
        ErrorCode::BadRequest
    );
}

#[test]
fn clean_up_drops_peers_silent_since_the_previous_clean_up() {
    let (table, hash) = published(Identity::Port);
    table
        .register(&hash, at([127, 0, 0, 1], 7001), "-", None)
        .expect("join");
    table
        .register(&hash, at([127, 0, 0, 1], 7002), "-", None)
        .expect("join");
    assert!(
        table.remove_stale().is_empty(),
        "both showed life since start"
    );
    table
        .ping(&hash, at([127, 0, 0, 1], 7001), None)
        .expect("ping");
    let removed = table.remove_stale();
    assert_eq!(
        removed,
        vec![Removed {
            info_hash: hash,
            addr: at([127, 0, 0, 1], 7002)
        }]
    );
    assert_eq!(
        table
            .ping(&hash, at([127, 0, 0, 1], 7002), None)
            .expect_err("gone")
            .code,
        ErrorCode::UnknownPeer
    );
}

#[test]
fn identity_is_the_port_in_development_mode_and_ip_plus_port_in_remote_mode() {
    for (identity, expected) in [(Identity::Port, 1), (Identity::IpAndPort, 2)] {
        let (table, hash) = published(identity);
        table
            .register(&hash, at([127, 0, 0, 2], 7001), "-", None)
            .expect("join");
        table
            .register(&hash, at([127, 0, 0, 3], 7001), "0", None)
            .expect("join");
        let listed: usize = table
            .status()
            .iter()
            .filter(|s| s.swarm.info_hash == hash)
            .map(|s| s.peers.len())
            .sum();
        assert_eq!(listed, expected, "{identity:?}");
    }
}

#[test]
fn the_seed_count_follows_every_change_to_the_swarm() {
    let (table, hash) = published(Identity::Port);
    let local = |port| at([127, 0, 0, 1], port);
    let seeds = |table: &PeerTable| {
        let outcome = table
            .announce(&hash, local(9000), Some(1), false, 50)
            .expect("announce");
        (outcome.complete, outcome.incomplete)
    };
    table
        .register(&hash, local(7001), "0-1", None)
        .expect("join");
    table.register(&hash, local(7002), "0", None).expect("join");
    // 7001 is a seed; 7002 and the announcing 9000 are not.
    assert_eq!(seeds(&table), (1, 2));
    table
        .report(&hash, local(7002), "0-1", None, None)
        .expect("report");
    assert_eq!(seeds(&table), (2, 1));
    // Re-joining with fewer pieces replaces the record.
    table
        .register(&hash, local(7001), "1", None)
        .expect("rejoin");
    assert_eq!(seeds(&table), (1, 2));
    // An HTTP seed (left=0), then it stops.
    table
        .announce(&hash, local(7003), Some(0), false, 50)
        .expect("seed announces");
    assert_eq!(seeds(&table), (2, 2));
    table
        .announce(&hash, local(7003), Some(0), true, 50)
        .expect("seed stops");
    assert_eq!(seeds(&table), (1, 2));
    assert_eq!(table.leave(&hash, local(7002), None), Ok(true));
    assert_eq!(seeds(&table), (0, 2));
    // The clean-up drops the ones that did not show life: all of them, after two rounds.
    table
        .report(&hash, local(7001), "0-1", None, None)
        .expect("report");
    table.remove_stale();
    table.remove_stale();
    assert_eq!(seeds(&table), (0, 1));
}
