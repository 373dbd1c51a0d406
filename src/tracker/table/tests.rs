//! Unit tests of the peer table: swarms, identity, clean-up and caps.

use super::*;
use crate::metainfo::Metainfo;
use crate::tracker::http::{Announce, Event};
use crate::tracker::proto::{
    MAX_PEERS_PER_REPLY, MAX_REPLY_BYTES, MAX_STATUS_BYTES, Reply, Request, Unchoked,
};

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

/// An HTTP announce to `table` from `addr`, as `parse_announce` would give it.
fn http_announce(
    table: &PeerTable,
    info_hash: &InfoHash,
    addr: SocketAddr,
    left: Option<u64>,
    event: Event,
) -> Result<AnnounceOutcome, TableError> {
    let announce = Announce {
        info_hash: *info_hash,
        peer_id: [b'p'; 20],
        port: addr.port(),
        uploaded: 0,
        downloaded: 0,
        left,
        event,
        numwant: 50,
        compact: true,
    };
    table.announce(&announce, addr)
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
    let refused = http_announce(
        &table,
        &other,
        at([127, 0, 0, 1], 7004),
        None,
        Event::Update,
    );
    assert_eq!(refused.expect_err("full").code, ErrorCode::Full);
    // A stopped announce for an unknown swarm creates nothing.
    assert!(
        http_announce(
            &table,
            &other,
            at([127, 0, 0, 1], 7004),
            None,
            Event::Stopped
        )
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
        let outcome =
            http_announce(table, &hash, local(9000), Some(1), Event::Update).expect("announce");
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
    http_announce(&table, &hash, local(7003), Some(0), Event::Update).expect("seed announces");
    assert_eq!(seeds(&table), (2, 2));
    http_announce(&table, &hash, local(7003), Some(0), Event::Stopped).expect("seed stops");
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

fn secret(text: &str) -> Secret {
    Secret::parse(text).expect("valid secret")
}

#[test]
fn a_peer_that_joined_with_a_key_is_spoken_for_only_with_that_key() {
    let (table, hash) = published(Identity::Port);
    let seed = at([127, 0, 0, 1], 7001);
    let mine = secret("seedSecret1");
    let other = secret("attacker99");
    table
        .register(&hash, seed, "0-1", Some(&mine))
        .expect("join");
    // Another socket naming the seed's port, without the key or with another one.
    for key in [None, Some(&other)] {
        let refused = table
            .report(&hash, seed, "-", key, None)
            .expect_err("report");
        assert_eq!(refused.code, ErrorCode::WrongKey);
        assert_eq!(
            table.leave(&hash, seed, key).expect_err("leave").code,
            ErrorCode::WrongKey
        );
        assert_eq!(
            table.ping(&hash, seed, key).expect_err("ping").code,
            ErrorCode::WrongKey
        );
        assert_eq!(
            table
                .register(&hash, seed, "-", key)
                .expect_err("join")
                .code,
            ErrorCode::WrongKey
        );
        // Nor over HTTP, which cannot carry our key.
        let announce = http_announce(&table, &hash, seed, Some(0), Event::Stopped);
        assert_eq!(announce.expect_err("stopped").code, ErrorCode::WrongKey);
    }
    assert_eq!(table.swarms()[0].peers, 1, "the seed is still listed");
    let listed = table
        .snapshot(&hash, at([127, 0, 0, 1], 7009))
        .expect("list");
    assert_eq!(listed[0].pieces, "0-1", "with all its pieces");
    // With the key, everything works.
    table.ping(&hash, seed, Some(&mine)).expect("ping");
    assert_eq!(table.report(&hash, seed, "1", Some(&mine), None), Ok(1));
    assert_eq!(table.leave(&hash, seed, Some(&mine)), Ok(true));
    // A peer that joined without a key keeps the old, open form.
    let old = at([127, 0, 0, 1], 7002);
    table.register(&hash, old, "-", None).expect("join");
    assert_eq!(table.report(&hash, old, "0", None, None), Ok(1));
    assert_eq!(table.leave(&hash, old, None), Ok(true));
}

#[test]
fn stored_metainfo_counts_against_the_budget() {
    let m = metainfo();
    let size = m.as_bytes().len();
    let table = PeerTable::new(Identity::Port).with_metainfo_budget(size + size / 2);
    assert_eq!(table.publish(m.clone()), Ok(true));
    assert_eq!(
        table.publish(m),
        Ok(false),
        "the same swarm again costs nothing"
    );
    let mut bytes = b"d4:infod6:lengthi20e4:name1:y12:piece lengthi16e6:pieces40:".to_vec();
    bytes.extend_from_slice(&[8u8; 40]);
    bytes.extend_from_slice(b"ee");
    let second = Metainfo::from_bytes(&bytes).expect("valid torrent");
    let refused = table.publish(second).expect_err("over the budget");
    assert_eq!(refused.code, ErrorCode::Full);
    assert!(refused.message.contains("metainfo budget"), "{refused}");
    assert_eq!(table.swarms().len(), 1);
}

#[test]
fn a_report_with_an_unchoke_set_shows_in_status_and_a_plain_report_keeps_it() {
    let (table, hash) = published(Identity::Port);
    let peer = at([127, 0, 0, 1], 7001);
    table.register(&hash, peer, "0", None).expect("join");
    let set = vec![Unchoked::Port(7002), Unchoked::Port(7004)];
    table
        .report(&hash, peer, "0-1", None, Some(set.clone()))
        .expect("report");
    table
        .report(&hash, peer, "0-1", None, None)
        .expect("report");
    let status = table.status();
    assert_eq!(status[0].peers[0].unchoked, Some(set));
    assert!(
        status[0].peers[0]
            .to_line()
            .ends_with(" unchoked=7002,7004"),
        "{}",
        status[0].peers[0].to_line()
    );
}

mod http;
mod listing;
