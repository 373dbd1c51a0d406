//! Start-up errors of `flood peer` and `flood client`: clear messages, no panic, non-zero exit;
//! and the key-values quirks found in the wild accepted by the real binary.

mod flood_support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use bittorrent_sim::cli::ExitStatus;
use bittorrent_sim::flood::keyvalues;
use flood_support::{BIN, Proc, free_udp_ports};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_missing_or_oversized_chunk_file_stops_the_peer_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = format!("127.0.0.1:{}", free_udp_ports(1)[0]);

    fs::write(d.join("kv_missing"), "5: BigBuckBunny_5.m4s\n").unwrap();
    let out = run(d, &["flood", "peer", &port, "kv_missing"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("BigBuckBunny_5.m4s: file not found"),
        "{}",
        stderr(&out)
    );
    let error = keyvalues::load(&d.join("kv_missing")).unwrap_err();
    assert_eq!(error.exit_code(), 66);

    fs::write(d.join("BigBuckBunny_6.m4s"), vec![0u8; 1025]).unwrap();
    fs::write(d.join("kv_big"), "6: BigBuckBunny_6.m4s\n").unwrap();
    let out = run(d, &["flood", "peer", &port, "kv_big"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("chunk 6 is 1025 bytes, a chunk holds at most 1024"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        keyvalues::load(&d.join("kv_big")).unwrap_err().exit_code(),
        65
    );

    fs::write(
        d.join("kv_bad"),
        "5: BigBuckBunny_5.m4s\nfive BigBuckBunny_5.m4s\n",
    )
    .unwrap();
    let out = run(d, &["flood", "peer", &port, "kv_bad"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("kv_bad:2: expected `<id>: <name>`"),
        "{}",
        stderr(&out)
    );

    let out = run(d, &["flood", "peer", &port, "no_such_file"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no_such_file: file not found"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn key_values_files_from_the_wild_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("data")).unwrap();
    fs::write(d.join("data/BigBuckBunny_1.m4s"), b"one").unwrap();
    fs::write(d.join("BigBuckBunny_2.m4s"), vec![7u8; 1024]).unwrap();
    fs::create_dir(d.join("kv")).unwrap();
    // Trailing spaces, CRLF, a path, a bare name found in the current directory, no final newline.
    fs::write(
        d.join("kv/peer"),
        "1: data/BigBuckBunny_1.m4s   \r\n2: BigBuckBunny_2.m4s  ",
    )
    .unwrap();
    let port = free_udp_ports(1)[0];
    let args = ["flood", "peer", &format!("127.0.0.1:{port}"), "kv/peer"].map(String::from);
    // Run from `d`: neither name exists beside kv/peer, so both resolve against the current
    // directory.
    let peer = Proc::start("peer", d, &args);
    peer.wait_for_log("holding chunks [1,2]", Duration::from_secs(10));
}

#[test]
fn bad_client_arguments_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["flood", "client", "127.0.0.1:5001", "5,x"][..],
        &["flood", "client", "127.0.0.1:5001", ""],
        &["flood", "client", "[::1]:5001", "5"],
        &["flood", "client", "127.0.0.1:5001", "5", "--timeout", "5"],
        &[
            "flood",
            "client",
            "127.0.0.1:5001",
            "5",
            "--drop-outgoing",
            "2",
        ],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no log was written"
    );
}
