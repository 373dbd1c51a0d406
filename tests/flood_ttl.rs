//! TTL: in a chain A-B-C-D-E, a query entering at A reaches exactly B, C and D.

mod flood_support;

use std::fs;
use std::time::Duration;

use flood_support::{
    Proc, chain_neighbours, count_lines, free_udp_ports, start_peer, write_peer_data,
};

#[test]
fn a_query_entering_a_chain_of_five_reaches_exactly_the_next_three() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let ports = free_udp_ports(5);
    let names = ["a", "b", "c", "d", "e"];
    // Peer i holds chunk i+1; its neighbours are the peers before and after it.
    let peers: Vec<Proc> = (0..5)
        .map(|i| {
            let kv = format!("kv_{}", names[i]);
            write_peer_data(dir, &kv, &[i as u16 + 1]);
            let neighbours = chain_neighbours(i, &ports);
            start_peer(names[i], dir, ports[i], &kv, &neighbours, &[])
        })
        .collect();

    let args = [
        "flood",
        "client",
        &format!("127.0.0.1:{}", ports[0]),
        "2,3,4,5",
        "--bind",
        "127.0.0.6",
        "--timeout",
        "1500ms",
        "--retry-interval",
        "500ms",
        "--retries",
        "1",
    ];
    let mut client = Proc::start("client", dir, &args.map(String::from));
    assert!(
        client.wait_exit(Duration::from_secs(15)).success(),
        "{}",
        client.log_text()
    );

    let log = fs::read_to_string(dir.join("output-127.0.0.6.log")).unwrap();
    let mut lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.pop(), Some("0.0.0.0:0 - 5"), "{log}");
    lines.sort_unstable();
    let mut expected: Vec<String> = (1..4)
        .map(|i| format!("127.0.0.1:{} - {}", ports[i], i + 1))
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "{log}");

    // The client's address as it announced it; every query carries it unchanged.
    let client_log = client.log_text();
    let me = client_log
        .split_once("client 127.0.0.6:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(|port| format!("client=127.0.0.6:{port}"))
        .unwrap();
    let [a, b, c, d, e] = &peers[..] else {
        unreachable!()
    };
    let hellos = count_lines(&a.log_text(), &["recv hello"]);
    assert!(hellos >= 1);
    // Every HELLO (first and resent) floods once down the chain: B at ttl 3, C at 2, D at 1.
    for (peer, ttl) in [(b, 3), (c, 2), (d, 1)] {
        let log = peer.log_text();
        let reached = count_lines(&log, &["recv query", &me, &format!("ttl={ttl} ")]);
        assert_eq!(reached, hellos, "{} at ttl {ttl}:\n{log}", peer.name);
        assert_eq!(
            count_lines(&log, &["recv query"]),
            hellos,
            "{}:\n{log}",
            peer.name
        );
    }
    for peer in [a, e] {
        let log = peer.log_text();
        assert_eq!(
            count_lines(&log, &["recv query"]),
            0,
            "{} was reached:\n{log}",
            peer.name
        );
    }
    assert_eq!(
        count_lines(&d.log_text(), &["send query"]),
        0,
        "d forwards nothing"
    );
    assert_eq!(count_lines(&b.log_text(), &["send query", "ttl=2"]), hellos);
}
