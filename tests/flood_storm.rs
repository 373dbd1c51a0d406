//! Reflection and storms (issue 16, item 5): the real peer binary against raw test sockets
//! playing neighbours, a client, an attacker and its victim. A received TTL is cut to the peer's
//! own `--ttl`, a duplicate query is neither answered nor flooded, and one client address can
//! make a peer send only its byte budget. Every datagram stays the assignment's.
//!
//! The duplicate tests run the peers with a long `--duplicate-window` so a loaded machine
//! cannot stretch one flood past the window; the default (20 ms) is measured by
//! `examples/flood_amplification.rs` (RELIABILITY.md).

mod flood_support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use flood_support::{
    Proc, count_lines, free_udp_ports, poll_until, port, recv, response, socket, start_peer,
    write_peer_data,
};

/// A QUERY datagram, field by field.
fn query(client: &UdpSocket, ttl: u16, ids: &[u16]) -> Vec<u8> {
    let mut bytes = vec![0, 2, 127, 0, 0, 1];
    bytes.extend(port(client).to_be_bytes());
    bytes.extend(ttl.to_be_bytes());
    bytes.extend((ids.len() as u16).to_be_bytes());
    for id in ids {
        bytes.extend(id.to_be_bytes());
    }
    bytes
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Every datagram that reaches `socket` until it has been quiet for `quiet`.
fn drain(socket: &UdpSocket, quiet: Duration) -> Vec<Vec<u8>> {
    socket.set_read_timeout(Some(quiet)).unwrap();
    let mut got = Vec::new();
    let mut buffer = [0u8; 2048];
    while let Ok((len, _)) = socket.recv_from(&mut buffer) {
        got.push(buffer[..len].to_vec());
        assert!(got.len() < 100_000, "a storm");
    }
    got
}

/// A peer holding chunks 1 and 2 with the test sockets `n1`, `n2` as neighbours.
fn peer_with(
    dir: &std::path::Path,
    n1: &UdpSocket,
    n2: &UdpSocket,
    extra: &[&str],
) -> (Proc, SocketAddr) {
    write_peer_data(dir, "kv", &[1, 2]);
    let peer_port = free_udp_ports(1)[0];
    let peer = start_peer("peer", dir, peer_port, "kv", &[port(n1), port(n2)], extra);
    (peer, addr(peer_port))
}

#[test]
fn a_received_ttl_is_cut_to_the_peers_own_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let (client, n1, n2) = (socket(), socket(), socket());
    let (peer, peer_addr) = peer_with(dir.path(), &n1, &n2, &["--ttl", "4"]);
    n1.send_to(&query(&client, 16, &[2]), peer_addr).unwrap();
    assert_eq!(recv(&client).0, [0, 3, 0, 1, 0, 2]);
    // Forwarded as if it had entered this network with its limit: 4 - 1 = 3, not 15.
    assert_eq!(recv(&n2).0, query(&client, 3, &[2]));
    assert_eq!(
        count_lines(&peer.log_text(), &["has ttl 16: cut to 4"]),
        1,
        "{}",
        peer.log_text()
    );
}

#[test]
fn a_duplicate_query_is_neither_answered_nor_forwarded_but_a_higher_ttl_is_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let (client, n1, n2) = (socket(), socket(), socket());
    let window = ["--duplicate-window", "60s"];
    let (peer, peer_addr) = peer_with(dir.path(), &n1, &n2, &window);
    // The same question reaches the peer over two paths: through n1 at ttl 2, through n2 at 1.
    n1.send_to(&query(&client, 2, &[2, 9]), peer_addr).unwrap();
    n2.send_to(&query(&client, 1, &[2, 9]), peer_addr).unwrap();
    // Then, from n2 again, a copy that took a shorter path (ttl 3): flooded on (to n1), since
    // the first copies' ttl would not have reached as far, but not answered a second time.
    n2.send_to(&query(&client, 3, &[2, 9]), peer_addr).unwrap();
    assert_eq!(recv(&n2).0, query(&client, 1, &[2, 9]));
    assert_eq!(recv(&n1).0, query(&client, 2, &[2, 9]));
    // A marker: the peer handles datagrams in order, so anything more for the client would
    // arrive before this RESPONSE.
    client.send_to(&[0, 4, 0, 1, 0, 1], peer_addr).unwrap();
    assert_eq!(recv(&client).0, [0, 3, 0, 1, 0, 2], "one CHUNKS_INFO");
    assert_eq!(recv(&client).0, response(1), "and no second one");
    for neighbour in [&n1, &n2] {
        neighbour.send_to(&[0, 4, 0, 1, 0, 1], peer_addr).unwrap();
        assert_eq!(recv(neighbour).0, response(1), "no other query forwarded");
    }
    let log = peer.log_text();
    assert_eq!(count_lines(&log, &["ignore duplicate query"]), 1, "{log}");

    // A repeated HELLO within the window is a duplicate too; another client's is not.
    let other = socket();
    for from in [&client, &client, &other] {
        from.send_to(&[0, 1, 0, 1, 0, 1], peer_addr).unwrap();
    }
    assert_eq!(recv(&client).0, [0, 3, 0, 1, 0, 1]);
    assert_eq!(recv(&other).0, [0, 3, 0, 1, 0, 1]);
    client.send_to(&[0, 4, 0, 1, 0, 2], peer_addr).unwrap();
    assert_eq!(
        recv(&client).0,
        response(2),
        "the repeated hello got nothing"
    );
    assert!(poll_until(Duration::from_secs(5), || {
        count_lines(&peer.log_text(), &["ignore repeated hello"]) == 1
    }));
}

#[test]
fn one_query_into_a_full_mesh_at_ttl_16_reaches_the_victim_once_per_holder() {
    // Four peers, each a neighbour of the other three, each holding one chunk, all with the
    // highest --ttl so the clamp cannot help: only the duplicate filter stops the storm.
    // Before it, one such query made the mesh send the victim thousands of CHUNKS_INFO.
    let dir = tempfile::tempdir().unwrap();
    let ports = free_udp_ports(4);
    let peers: Vec<Proc> = (0..4)
        .map(|i| {
            let kv = format!("kv{i}");
            write_peer_data(dir.path(), &kv, &[i as u16 + 1]);
            let others: Vec<u16> = ports.iter().copied().filter(|p| *p != ports[i]).collect();
            let options = ["--ttl", "16", "--duplicate-window", "60s"];
            start_peer(
                &format!("p{i}"),
                dir.path(),
                ports[i],
                &kv,
                &others,
                &options,
            )
        })
        .collect();
    let (attacker, victim) = (socket(), socket());
    attacker
        .send_to(&query(&victim, 16, &[1, 2, 3, 4]), addr(ports[0]))
        .unwrap();
    // Wait until every peer has heard the query, then for the victim to go quiet.
    assert!(poll_until(Duration::from_secs(10), || {
        peers
            .iter()
            .all(|p| count_lines(&p.log_text(), &["recv query"]) >= 1)
    }));
    let got = drain(&victim, Duration::from_millis(500));
    let mut chunks: Vec<Vec<u8>> = got.clone();
    chunks.sort();
    let expected: Vec<Vec<u8>> = (1..=4u8).map(|id| vec![0, 3, 0, 1, 0, id]).collect();
    assert_eq!(chunks, expected, "one CHUNKS_INFO per holder");
    // Each peer floods the question once, plus once more for each copy that arrives with a
    // higher ttl than any before (a copy overtaken by a shorter path): 1 + 3 + 3 x 2 = 10 when
    // copies arrive in hop order, a few more when scheduling reorders them (12 to 14 seen);
    // without the filter, thousands.
    let queries: usize = peers
        .iter()
        .map(|p| count_lines(&p.log_text(), &["recv query"]))
        .sum();
    assert!(queries < 40, "{queries} queries in the mesh");
}

#[test]
fn a_client_address_over_its_budget_gets_nothing_more_while_another_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, n2) = (socket(), socket());
    // 1 KiB/s, a 4 KiB burst: a RESPONSE of chunk 1 (508 bytes + 28 of headers) costs 536, so
    // seven fit the burst.
    let (peer, peer_addr) = peer_with(dir.path(), &n1, &n2, &["--client-rate", "1"]);
    let greedy = socket();
    for _ in 0..20 {
        greedy.send_to(&[0, 4, 0, 1, 0, 1], peer_addr).unwrap();
    }
    let got = drain(&greedy, Duration::from_millis(500));
    assert_eq!(got.len(), 7, "the burst, then nothing");
    assert!(got.iter().all(|d| *d == response(1)));
    // Another address has a budget of its own.
    let other = UdpSocket::bind("127.0.0.2:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    other.send_to(&[0, 4, 0, 1, 0, 1], peer_addr).unwrap();
    assert_eq!(recv(&other).0, response(1));
    let log = peer.log_text();
    assert_eq!(
        count_lines(&log, &["client 127.0.0.1 over its budget of 1024 B/s"]),
        1,
        "one warning, not one per refused datagram:\n{log}"
    );
}
