//! Bad command lines and unreachable hosts: one clear line on stderr, a distinct exit code,
//! never a panic. Also unusable paths (a `--dir` under a regular file, a directory given as
//! `--torrent`), a port in use and an unreachable tracker.

mod common;

use std::process::{Command, Stdio};

use common::*;

fn run(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        // Scripts' behaviour: a refused tracker is an immediate exit, not a countdown.
        .env("BTSIM_TRACKER_WAIT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn errors_are_one_line_with_a_distinct_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corrupt = write_file(dir.path(), "corrupt.torrent", b"d8:announce");
    let corrupt = corrupt.to_str().expect("utf-8");
    let unused = free_port().to_string();
    let unreachable = format!("127.0.0.1:{unused}");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["create", "missing.bin"], 66, "missing.bin"),
        (
            vec![
                "peer",
                "--port",
                "0",
                "--tracker",
                &unreachable,
                "--torrent",
                "missing.torrent",
            ],
            66,
            "missing.torrent",
        ),
        (
            vec![
                "peer",
                "--port",
                "0",
                "--tracker",
                &unreachable,
                "--torrent",
                corrupt,
            ],
            65,
            "corrupt.torrent",
        ),
        (
            vec![
                "peer",
                "--port",
                "0",
                "--tracker",
                &unreachable,
                "--tracker-wait",
                "0",
            ],
            69,
            "refused",
        ),
        (vec!["peer", "--port", "0"], 2, "--tracker"),
        (
            vec!["peer", "--port", "0", "--tracker", "no-such-host.invalid:1"],
            2,
            "no-such-host.invalid",
        ),
        (
            vec![
                "peer",
                "--port",
                "7001",
                "--tracker",
                "x:1",
                "--ping-interval",
                "10",
            ],
            2,
            "needs a unit",
        ),
        (
            vec!["create", "missing.bin", "--piece-length", "16384"],
            2,
            "a bare number is ambiguous",
        ),
        (
            vec!["tracker", "--port", "0", "--metainfo-budget", "16k"],
            2,
            "B, KiB, MiB or GiB",
        ),
        (
            vec!["tracker", "--torrent", corrupt, "--port", "0"],
            65,
            "corrupt.torrent",
        ),
    ];
    for (args, code, needle) in cases {
        let (got, stderr) = run(&args, dir.path());
        assert_eq!(got, code, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let (code, stderr) = run(
        &["tracker", "--bind", "127.0.0.1", "--port", &port],
        dir.path(),
    );
    assert_eq!(code, 75, "{stderr}");
    assert!(
        stderr.contains("cannot listen on") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_tracker_with_several_swarms_asks_which_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write_file(dir.path(), "a.bin", &sample_bytes(5000, 1));
    let b = write_file(dir.path(), "b.bin", &sample_bytes(5000, 2));
    let ta = create_torrent(&a, PIECE, &dir.path().join("a.torrent"));
    let tb = create_torrent(&b, PIECE, &dir.path().join("b.torrent"));
    let (_tracker, addr) = tracker(
        dir.path(),
        &[
            "--torrent",
            ta.to_str().expect("utf-8"),
            "--torrent",
            tb.to_str().expect("utf-8"),
        ],
    );
    let (code, stderr) = run(
        &["peer", "--port", "0", "--tracker", &addr.to_string()],
        dir.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("knows 2 swarms") && stderr.contains("a.bin") && stderr.contains("b.bin"),
        "{stderr}"
    );
}

#[test]
fn unusable_directories_files_ports_and_trackers_are_one_line_errors() {
    // Run as root, permissions are no obstacle: a path under a regular file is, for anyone.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_file(dir.path(), "f.bin", &sample_bytes(50_000, 3));
    let torrent = create_torrent(&file, PIECE, &dir.path().join("f.torrent"));
    let torrent = torrent.to_str().expect("utf-8");
    let (_tracker, addr) = tracker(dir.path(), &["--torrent", torrent]);
    let addr = addr.to_string();
    let a_dir = dir.path().to_str().expect("utf-8");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().expect("addr").port().to_string();
    let closed = format!("127.0.0.1:{}", free_port());
    let base = ["peer", "--bind", "127.0.0.1", "--tracker"];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // --dir that cannot be created: under a regular file
        (
            [
                &base[..],
                &[
                    &addr,
                    "--port",
                    "0",
                    "--torrent",
                    torrent,
                    "--dir",
                    "f.bin/sub",
                ],
            ]
            .concat(),
            73,
            "f.bin/sub",
        ),
        // --torrent that cannot be read as a file: a directory
        (
            [&base[..], &[&addr, "--port", "0", "--torrent", a_dir]].concat(),
            74,
            "Is a directory",
        ),
        (
            vec!["tracker", "--port", "0", "--torrent", a_dir],
            74,
            "Is a directory",
        ),
        // a port in use
        (
            [
                &base[..],
                &[&addr, "--port", &taken, "--torrent", torrent, "--dir", "d1"],
            ]
            .concat(),
            75,
            "cannot listen on",
        ),
        // an unreachable tracker, with everything else in order
        (
            [
                &base[..],
                &[&closed, "--port", "0", "--torrent", torrent, "--dir", "d2"],
            ]
            .concat(),
            69,
            &closed,
        ),
    ];
    for (args, code, needle) in cases {
        let (got, stderr) = run(&args, dir.path());
        assert_eq!(got, code, "{args:?}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("bittorrent-sim: error"))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(errors[0].contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("backtrace"), "{stderr}");
    }
}
