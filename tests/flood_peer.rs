//! The real peer binary against raw test sockets playing client and neighbours: the exact bytes
//! it answers and floods, the TTL rule, and malformed datagrams ignored without harm.
//!
//! A negative check ("N1 got no query") needs no sleep: after the datagram under test, N1 sends
//! the peer a GET; the peer handles datagrams in order on one loop, so if a query had been sent
//! to N1 it would arrive before the RESPONSE. N1's next datagram must therefore be that RESPONSE.

mod flood_support;

use std::net::{SocketAddr, UdpSocket};

use flood_support::{
    Proc, count_lines, free_udp_ports, port, recv, response, socket, start_peer, write_peer_data,
};

struct Net {
    peer: Proc,
    peer_addr: SocketAddr,
    client: UdpSocket,
    n1: UdpSocket,
    n2: UdpSocket,
    _dir: tempfile::TempDir,
}

/// A peer holding chunks 1 and 2, whose neighbours are the test sockets `n1` and `n2`.
fn start() -> Net {
    let dir = tempfile::tempdir().unwrap();
    write_peer_data(dir.path(), "kv", &[1, 2]);
    let (client, n1, n2) = (socket(), socket(), socket());
    let peer_port = free_udp_ports(1)[0];
    let peer = start_peer(
        "peer",
        dir.path(),
        peer_port,
        "kv",
        &[port(&n1), port(&n2)],
        &[],
    );
    let peer_addr = SocketAddr::from(([127, 0, 0, 1], peer_port));
    Net {
        peer,
        peer_addr,
        client,
        n1,
        n2,
        _dir: dir,
    }
}

/// Asserts the next datagram on `socket` is the RESPONSE to a marker GET for chunk 1, i.e. that
/// nothing else was sent to it before.
fn assert_nothing_else_came(net: &Net, socket: &UdpSocket) {
    socket.send_to(&[0, 4, 0, 1, 0, 1], net.peer_addr).unwrap(); // GET count 1, id 1
    let (bytes, _) = recv(socket);
    assert_eq!(
        bytes[..4],
        [0, 5, 0, 1],
        "expected only the marker RESPONSE, got {bytes:02x?}"
    );
}

#[test]
fn hello_gets_chunks_info_and_floods_a_ttl_3_query_to_every_neighbour() {
    let net = start();
    #[rustfmt::skip]
    let hello = [0, 1, /* count */ 0, 3, /* ids */ 0, 1, 0, 2, 0, 3];
    net.client.send_to(&hello, net.peer_addr).unwrap();

    let (info, from) = recv(&net.client);
    assert_eq!(from, net.peer_addr);
    #[rustfmt::skip]
    assert_eq!(info, [0, 3, /* count */ 0, 2, /* ids held */ 0, 1, 0, 2]);

    let [hi, lo] = port(&net.client).to_be_bytes();
    #[rustfmt::skip]
    let query = [
        0, 2,           // QUERY
        127, 0, 0, 1,   // the client's IP, as recv_from saw it
        hi, lo,         // the client's port
        0, 3,           // ttl 3
        0, 3,           // count
        0, 1, 0, 2, 0, 3,
    ];
    for neighbour in [&net.n1, &net.n2] {
        let (bytes, from) = recv(neighbour);
        assert_eq!((bytes.as_slice(), from), (&query[..], net.peer_addr));
    }
}

#[test]
fn a_query_is_answered_to_its_client_and_forwarded_with_ttl_minus_one_except_to_its_sender() {
    let net = start();
    let [hi, lo] = port(&net.client).to_be_bytes();
    #[rustfmt::skip]
    let query = [0, 2, 127, 0, 0, 1, hi, lo, /* ttl */ 0, 2, /* count */ 0, 2, 0, 9, 0, 2];
    net.n1.send_to(&query, net.peer_addr).unwrap();

    let (info, _) = recv(&net.client);
    assert_eq!(
        info,
        [0, 3, 0, 1, 0, 2],
        "CHUNKS_INFO for chunk 2 straight to the client"
    );
    let (forwarded, _) = recv(&net.n2);
    #[rustfmt::skip]
    assert_eq!(forwarded, [0, 2, 127, 0, 0, 1, hi, lo, /* ttl */ 0, 1, 0, 2, 0, 9, 0, 2]);
    assert_nothing_else_came(&net, &net.n1);

    // At ttl 1 the query is answered but goes no further. (Other ids, so it is a new question:
    // the same one again would be a duplicate, see flood_storm.rs.)
    let mut last = query;
    last[9] = 1;
    last[13] = 8;
    net.n1.send_to(&last, net.peer_addr).unwrap();
    let (info, _) = recv(&net.client);
    assert_eq!(info, [0, 3, 0, 1, 0, 2]);
    assert_nothing_else_came(&net, &net.n2);
    assert_nothing_else_came(&net, &net.n1);
}

#[test]
fn get_is_answered_with_one_response_per_chunk_held() {
    let net = start();
    net.client
        .send_to(&[0, 4, 0, 3, 0, 2, 0, 7, 0, 1], net.peer_addr)
        .unwrap(); // GET 2, 7, 1
    assert_eq!(recv(&net.client).0, response(2));
    assert_eq!(recv(&net.client).0, response(1));
    assert_nothing_else_came(&net, &net.client);
    let log = net.peer.log_text();
    assert_eq!(
        count_lines(&log, &["send response id=2 size=502 to "]),
        1,
        "{log}"
    );
}

#[test]
fn malformed_datagrams_are_logged_and_ignored() {
    let mut net = start();
    let oversized = vec![0u8; 2000];
    let garbage: [&[u8]; 8] = [
        &[],                          // empty
        &[0],                         // half a type
        &[0, 1, 0, 2, 0, 1],          // HELLO count 2 with one id
        &[0, 9, 0, 0],                // unknown type
        &[0, 2, 127, 0, 0, 1, 0, 80], // QUERY cut short
        &[0, 5, 0, 1, 0xff, 0xff],    // RESPONSE of 65535 bytes
        &[0, 4, 0, 1, 0, 1, 0, 2],    // GET with a stray id
        &oversized,
    ];
    for datagram in garbage {
        net.client.send_to(datagram, net.peer_addr).unwrap();
    }
    // Datagrams a peer does not take: logged and ignored too.
    net.client
        .send_to(&[0, 3, 0, 1, 0, 1], net.peer_addr)
        .unwrap(); // CHUNKS_INFO
    net.client
        .send_to(&[0, 5, 0, 1, 0, 1, 0xaa], net.peer_addr)
        .unwrap(); // RESPONSE

    assert_nothing_else_came(&net, &net.client);
    assert!(net.peer.is_running());
    let log = net.peer.log_text();
    assert_eq!(
        count_lines(&log, &["ignore malformed datagram from 127.0.0.1:"]),
        8,
        "{log}"
    );
    assert_eq!(count_lines(&log, &["(2000 bytes): oversized"]), 1, "{log}");
    assert_eq!(count_lines(&log, &["peers do not take it"]), 2, "{log}");
}

#[test]
fn many_clients_at_once_are_all_served() {
    let net = start();
    let clients: Vec<UdpSocket> = (0..20).map(|_| socket()).collect();
    // Every client's HELLO and GET are in flight together before any answer is read.
    for client in &clients {
        client.send_to(&[0, 1, 0, 1, 0, 2], net.peer_addr).unwrap(); // HELLO 2
        client.send_to(&[0, 4, 0, 1, 0, 1], net.peer_addr).unwrap(); // GET 1
    }
    for client in &clients {
        assert_eq!(recv(client).0, [0, 3, 0, 1, 0, 2]);
        assert_eq!(recv(client).0, response(1));
    }
    // And each HELLO was flooded to both neighbours.
    for neighbour in [&net.n1, &net.n2] {
        for _ in &clients {
            assert_eq!(recv(neighbour).0[..2], [0, 2]);
        }
    }
}
