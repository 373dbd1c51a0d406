//! Ctrl+C or SIGTERM on a peer (issue 17, item 8): the peer sends `LEAVE`, logs
//! `leaving the swarm: ...`, and exits with 128 + the signal's number; the tracker drops it at
//! once, long before its clean-up (an hour away here) could have.

mod common;

use common::{FAST, sample, tracker};

fn leaves_on(signal: &str, status: i32) {
    let s = sample(4 * common::PIECE, 17, common::PIECE, "seed", "s.torrent");
    let (tracker, addr) = tracker(s.dir.path(), &["--cleanup-interval", "1h"]);
    let (mut seed, seed_addr) = s.seed("seed", addr, &FAST);
    tracker.wait_for(&format!(
        "received JOIN {} {}",
        s.meta.info_hash,
        seed_addr.port()
    ));
    seed.wait_for("sent PING"); // the join is done: the task loop runs
    seed.signal(signal);
    assert_eq!(
        seed.wait_exit(),
        Some(status),
        "exit status after SIG{signal}"
    );
    let leaving = seed.wait_for("leaving the swarm: ");
    assert!(
        leaving.contains(&format!("SIG{signal} received")),
        "{leaving}"
    );
    seed.wait_for("sent LEAVE");
    tracker.wait_for(&format!(
        "received LEAVE {} {}",
        s.meta.info_hash,
        seed_addr.port()
    ));
    tracker.wait_for("sent OK left");
    assert_eq!(tracker.count("clean-up: dropped"), 0);
}

#[test]
fn sigterm_makes_a_peer_leave_the_swarm() {
    leaves_on("TERM", 143);
}

#[test]
fn ctrl_c_makes_a_peer_leave_the_swarm() {
    leaves_on("INT", 130);
}
