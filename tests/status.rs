//! The teaching views of a running swarm: `bittorrent-sim status` in the terminal and the
//! tracker's status page, rendered by headless Chromium.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use common::*;

/// A tracker with a complete seed and a half-filled peer; returns them and the tracker.
fn swarm(dir: &std::path::Path) -> (Vec<Proc>, SocketAddr) {
    let data = sample_bytes(8 * PIECE, 5);
    let file = write_file(&dir.join("seed"), "demo.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.join("demo.torrent"));
    write_file(&dir.join("half"), "demo.bin", &partial(&data, PIECE, 0..4));
    let (tracker, addr) = tracker(dir, &["--torrent", torrent.to_str().expect("utf-8")]);
    let mut procs = vec![tracker];
    for name in ["seed", "half"] {
        let d = dir.join(name).to_string_lossy().into_owned();
        // a round interval of one hour: the half peer stays half, so the map is stable
        let args = [
            "--torrent",
            torrent.to_str().expect("utf-8"),
            "--dir",
            &d,
            "--round-interval",
            "1h",
        ];
        procs.push(peer(name, dir, addr, &args).0);
    }
    (procs, addr)
}

#[test]
fn status_prints_a_row_per_peer_and_the_availability() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_procs, addr) = swarm(dir.path());
    let out = Command::new(BIN)
        .args(["status", "--tracker", &addr.to_string()])
        .output()
        .expect("status");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("demo.bin: 8 pieces, 2 peers"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("100%") && l.split_whitespace().any(|w| w == "########")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("50%") && l.ends_with("####....")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  holders per piece") && l.ends_with("22221111")),
        "{text}"
    );
    assert!(
        text.contains("rarest: piece(s) 4-7 held by 1 peer(s)"),
        "{text}"
    );
}

#[test]
fn the_status_page_is_served_on_the_tracker_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_procs, addr) = swarm(dir.path());
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("read");
    assert!(
        page.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/html"),
        "{page}"
    );
    assert!(page.contains("demo.bin") && page.contains("held by 1 peer(s)"));
}

#[test]
fn headless_chromium_renders_the_status_page() {
    if !have_tool("chromium", &["--version"], "chromium") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_procs, addr) = swarm(dir.path());
    let url = format!("http://{addr}/");
    let profile = dir.path().join("profile");
    let shot = dir.path().join("status.png");
    let chromium = |extra: &[&str]| {
        let mut command = Command::new("chromium");
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
            ])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let dom = chromium(&["--dump-dom"])
        .output()
        .expect("chromium --dump-dom");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("demo.bin") && dom.contains("127.0.0.1:"),
        "rendered DOM: {dom}"
    );
    assert!(
        dom.matches("class=\"c a1\"").count() == 4,
        "pieces 4-7 rarest: {dom}"
    );
    let status = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1100,500",
    ])
    .stdout(Stdio::null())
    .status()
    .expect("chromium --screenshot");
    assert!(status.success());
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000,
        "a real picture: {} bytes",
        png.len()
    );
}

#[test]
fn the_unchoke_set_of_a_report_shows_in_status_and_on_the_page() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_file(
        &dir.path().join("seed"),
        "u.bin",
        &sample_bytes(4 * 16384, 3),
    );
    let torrent = create_torrent(&file, 16384, &dir.path().join("u.torrent"));
    let hash = bittorrent_sim::metainfo::Metainfo::from_file(&torrent)
        .expect("torrent")
        .info_hash;
    let (_tracker, addr) = tracker(dir.path(), &["--torrent", torrent.to_str().expect("utf-8")]);
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut reader = BufReader::new(stream);
    let mut ask = |line: String| {
        reader
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .expect("send");
        let mut reply = String::new();
        reader.read_line(&mut reply).expect("reply");
        reply
    };
    assert!(ask(format!("JOIN {hash} 7101 0-3 key=unchokeTest1")).starts_with("PEERS 0"));
    assert_eq!(
        ask(format!(
            "REPORT {hash} 7101 0-3 key=unchokeTest1 unchoked=7102,7103"
        )),
        "OK 4 pieces recorded\n"
    );
    let out = Command::new(BIN)
        .args(["status", "--tracker", &addr.to_string()])
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains(":7101") && l.ends_with("unchokes 7102,7103")),
        "{text}"
    );
    let mut page = TcpStream::connect(addr).expect("connect");
    page.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut html = String::new();
    page.read_to_string(&mut html).expect("read");
    assert!(html.contains(":7101 &rarr; 7102, 7103</li>"), "{html}");
}
