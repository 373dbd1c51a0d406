//! Loss: with `--drop-outgoing 0.3` on every peer and on the client, retransmission still brings
//! every available chunk in.

mod flood_support;

use std::fs;
use std::time::Duration;

use flood_support::{
    Proc, chain_neighbours, chunk, count_lines, free_udp_ports, start_peer, write_peer_data,
};

#[test]
fn with_30_percent_of_datagrams_dropped_everywhere_every_chunk_still_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // A chain p1-p2-p3: chunk 6 is two hops from the contact, so a lost QUERY or CHUNKS_INFO
    // must be made up for by a resent HELLO.
    let ports = free_udp_ports(3);
    let holdings: [&[u16]; 3] = [&[1, 2, 3], &[4, 5], &[6]];
    let mut peers: Vec<Proc> = Vec::new();
    for i in 0..3 {
        let kv = format!("kv{i}");
        write_peer_data(dir, &kv, holdings[i]);
        let neighbours = chain_neighbours(i, &ports);
        let seed = (11 + i).to_string();
        let loss = ["--drop-outgoing", "0.3", "--drop-seed", &seed];
        peers.push(start_peer(
            &format!("p{}", i + 1),
            dir,
            ports[i],
            &kv,
            &neighbours,
            &loss,
        ));
    }

    let args = [
        "flood",
        "client",
        &format!("127.0.0.1:{}", ports[0]),
        "1,2,3,4,5,6",
        "--bind",
        "127.0.0.6",
        "--timeout",
        "8s",
        "--gather",
        "20ms",
        "--retry-interval",
        "30ms",
        "--retries",
        "40",
        "--drop-outgoing",
        "0.3",
        "--drop-seed",
        "5",
    ];
    let mut client = Proc::start("client", dir, &args.map(String::from));
    assert!(
        client.wait_exit(Duration::from_secs(20)).success(),
        "{}",
        client.log_text()
    );

    let log = fs::read_to_string(dir.join("output-127.0.0.6.log")).unwrap();
    let trace = client.log_text();
    assert_eq!(log.lines().count(), 6, "{log}\n{trace}");
    assert!(!log.contains("0.0.0.0:0"), "{log}\n{trace}");
    for id in 1..=6u16 {
        let copy = dir.join(format!("chunks-127.0.0.6/BigBuckBunny_{id}.m4s"));
        assert_eq!(fs::read(copy).unwrap(), chunk(id), "chunk {id}");
    }
    // The loss was real and retransmission made up for it.
    assert!(
        count_lines(&trace, &["drop ", "(--drop-outgoing)"]) > 0,
        "{trace}"
    );
    let peer_drops: usize = peers
        .iter()
        .map(|p| count_lines(&p.log_text(), &["drop "]))
        .sum();
    assert!(peer_drops > 0, "the peers dropped nothing");
    assert!(count_lines(&trace, &["resend "]) > 0, "{trace}");
}
