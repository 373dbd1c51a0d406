//! A peer started before its tracker (issue 17, item 9): it retries with a countdown for
//! `--tracker-wait` and joins once the tracker is up; `--tracker-wait 0` exits 69 at once, and
//! a wait that runs out exits 69 too, both with the hint `is the tracker running at ...?`.

mod common;

use std::process::Command;

use common::{BIN, FAST, Proc, peer_args, restartable_port, sample};

#[test]
fn without_a_wait_a_refused_tracker_is_exit_69_at_once_with_a_hint() {
    let port = restartable_port();
    let s = sample(2 * common::PIECE, 9, common::PIECE, "seed", "s.torrent");
    let extra = s.peer_args("p", &["--tracker-wait", "0"]);
    let out = Command::new(BIN)
        .args(peer_args(0, format!("127.0.0.1:{port}"), &extra))
        .output()
        .expect("run the peer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains(&format!("is the tracker running at 127.0.0.1:{port}?")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("retrying"),
        "no wait was asked for: {stderr}"
    );
}

#[test]
fn a_wait_that_runs_out_ends_with_the_hint() {
    let port = restartable_port();
    let s = sample(2 * common::PIECE, 9, common::PIECE, "seed", "s.torrent");
    let extra = s.peer_args("p", &["--tracker-wait", "1s"]);
    let args = peer_args(0, format!("127.0.0.1:{port}"), &extra);
    let mut peer = Proc::start("peer", s.dir.path(), &args, &[]);
    let countdown = peer.wait_for("refused the connection; retrying in ");
    assert!(
        countdown.contains(&format!("tracker 127.0.0.1:{port} refused"))
            && countdown.contains("s left)"),
        "{countdown}"
    );
    assert_eq!(peer.wait_exit(), Some(69));
    peer.wait_for(&format!("is the tracker running at 127.0.0.1:{port}?"));
}

#[test]
fn a_peer_started_before_its_tracker_joins_once_it_is_up() {
    let port = restartable_port();
    let s = sample(4 * common::PIECE, 9, common::PIECE, "seed", "s.torrent");
    s.fill("seed", s.all());
    let extra = s.peer_args("seed", &[&FAST[..], &["--tracker-wait", "60s"]].concat());
    let args = peer_args(0, format!("127.0.0.1:{port}"), &extra);
    let peer = Proc::start("peer", s.dir.path(), &args, &[]);
    peer.wait_for("refused the connection; retrying in 2s");
    let port_arg = port.to_string();
    let tracker_args = ["tracker", "--port", &port_arg, "--bind", "127.0.0.1"];
    let tracker = Proc::start("tracker", s.dir.path(), &tracker_args, &[]);
    tracker.wait_for("tracker listening on ");
    peer.wait_for("joined swarm");
    tracker.wait_for("received JOIN");
}
