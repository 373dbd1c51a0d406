//! The assignment's test topology on loopback with the real binary: five peers (links 1-2, 1-3,
//! 2-5, 3-5, 4-5, the sample chunks) and two clients at once.

mod flood_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use bittorrent_sim::flood::sample;
use flood_support::{Proc, count_lines, free_udp_ports, start_peer};

/// The peer (1 to 5) listening on `port`, given the ports in peer order.
fn peer_of(port: u16, ports: &[u16]) -> u8 {
    let index = ports.iter().position(|p| *p == port);
    index.map_or(0, |i| i as u8 + 1)
}

/// Checks one client's output log: the chunks received (each from a peer that holds it, each
/// byte-identical to its source), then the not-found lines. Returns the peers that served.
fn check_log(
    dir: &Path,
    client_ip: &str,
    ports: &[u16],
    got: &[u16],
    absent: &[u16],
) -> BTreeSet<u8> {
    let text = fs::read_to_string(dir.join(format!("output-{client_ip}.log"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(text.ends_with('\n'), "{text:?}");
    assert_eq!(lines.len(), got.len() + absent.len(), "{text}");
    let mut received = BTreeSet::new();
    let mut servers = BTreeSet::new();
    for line in &lines[..got.len()] {
        let (addr, id) = line.split_once(" - ").unwrap();
        let id: u16 = id.parse().unwrap();
        let (ip, port) = addr.split_once(':').unwrap();
        assert_eq!(ip, "127.0.0.1", "{line}");
        let peer = peer_of(port.parse().unwrap(), ports);
        assert!(
            sample::holdings(peer).contains(&id),
            "{line}: peer {peer} does not hold {id}"
        );
        let copy = dir.join(format!("chunks-{client_ip}/BigBuckBunny_{id}.m4s"));
        let source = dir.join(format!("BigBuckBunny_{id}.m4s"));
        assert_eq!(
            fs::read(copy).unwrap(),
            fs::read(source).unwrap(),
            "chunk {id}"
        );
        received.insert(id);
        servers.insert(peer);
    }
    assert_eq!(
        received,
        got.iter().copied().collect::<BTreeSet<_>>(),
        "{text}"
    );
    let not_found: Vec<String> = absent
        .iter()
        .map(|id| format!("0.0.0.0:0 - {id}"))
        .collect();
    assert_eq!(lines[got.len()..], not_found, "{text}");
    servers
}

#[test]
fn assignment_topology_two_clients_get_what_the_flood_finds() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let status = std::process::Command::new(flood_support::BIN)
        .args(["flood", "sample"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");

    let ports = free_udp_ports(5);
    let port = |peer: u8| ports[usize::from(peer) - 1];
    let peers: Vec<Proc> = (1..=5u8)
        .map(|n| {
            let neighbours: Vec<u16> = sample::neighbours(n).into_iter().map(port).collect();
            let kv = sample::key_values_name(n);
            start_peer(&format!("peer{n}"), dir, port(n), &kv, &neighbours, &[])
        })
        .collect();

    let client = |name: &str, contact: u8, ids: &str, bind: &str, timeout: &str| {
        let args = [
            "flood",
            "client",
            &format!("127.0.0.1:{}", port(contact)),
            ids,
            "--bind",
            bind,
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.extend(["--timeout", timeout, "--seed", "1"].map(String::from));
        Proc::start(name, dir, &args)
    };
    let mut client1 = client("client1", 1, "5,6,7", "127.0.0.6", "4s");
    let mut client2 = client("client2", 4, "1,3,4,5,9", "127.0.0.7", "2s");
    assert!(
        client1.wait_exit(Duration::from_secs(20)).success(),
        "{}",
        client1.log_text()
    );
    assert!(
        client2.wait_exit(Duration::from_secs(20)).success(),
        "{}",
        client2.log_text()
    );

    let servers1 = check_log(dir, "127.0.0.6", &ports, &[5, 6, 7], &[]);
    check_log(dir, "127.0.0.7", &ports, &[1, 3, 5, 9], &[4]);
    // Client 1 finished as soon as its chunks were in, and spread them over several holders.
    assert!(
        client1.log_text().contains("all 3 chunks in"),
        "{}",
        client1.log_text()
    );
    assert!(servers1.len() >= 2, "chunks 5,6,7 all from {servers1:?}");

    // One GET per chunk: never a second one, from either client.
    for (client, ids) in [(&client1, &[5u16, 6, 7][..]), (&client2, &[1, 3, 5, 9][..])] {
        let log = client.log_text();
        for id in ids {
            let sent = count_lines(&log, &[&format!("send get ids=[{id}] to ")]);
            assert_eq!(
                sent, 1,
                "{} sent {sent} GET for chunk {id}:\n{log}",
                client.name
            );
        }
        assert_eq!(count_lines(&log, &["send get"]), ids.len(), "{log}");
        assert_eq!(count_lines(&log, &["resend get"]), 0, "{log}");
    }
    let peer_gets: usize = peers
        .iter()
        .map(|p| count_lines(&p.log_text(), &["recv get"]))
        .sum();
    assert_eq!(peer_gets, 7, "the peers received 7 GETs in all");
}
