//! What the tests that mix our tracker and peers with real clients share: the sample file and
//! its torrent with 64 KiB pieces, our leecher checked against the one source it must use, and
//! raw exchanges with the tracker's HTTP side.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bittorrent_sim::metainfo::Metainfo;

use super::tool::utf8;
use super::{BIN, DEADLINE, PIECE, Proc, peer, sample_bytes, verified_pieces, write_file};

/// Four 16 KiB blocks per piece, the piece length real clients commonly pick.
pub const PIECE_64K: usize = 4 * PIECE;
/// 46 pieces of 64 KiB, the last one short.
pub const FILE_LEN: usize = 45 * PIECE_64K + 12_345;
/// How long a real client may take to download the whole file.
pub const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(90);

/// The file every case shares, in `dir/orig`, and its bytes.
pub fn interop_sample(dir: &Path) -> (PathBuf, Vec<u8>) {
    let data = sample_bytes(FILE_LEN, 0x7a11);
    (write_file(&dir.join("orig"), "sample.bin", &data), data)
}

/// `bittorrent-sim create FILE --tracker ANNOUNCE`: the torrent and its metainfo.
pub fn create_for(file: &Path, announce: &str, out: &Path) -> Metainfo {
    let created = Command::new(BIN)
        .args(["create", utf8(file), "--piece-length", "64KiB"])
        .args(["--tracker", announce, "-o", utf8(out)])
        .output()
        .expect("run create");
    assert!(
        created.status.success(),
        "create failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let metainfo = Metainfo::from_file(out).expect("read the torrent back");
    assert_eq!(metainfo.announce.as_deref(), Some(announce));
    assert_eq!(metainfo.num_pieces(), 46);
    metainfo
}

/// Starts our leecher ("leecher", into `DIR/leecher`) on `torrent` through `tracker`, waits for
/// it to complete, and checks its copy against `data` and that every piece came from
/// 127.0.0.1:`source_port`.
pub fn leech_and_check(
    dir: &Path,
    tracker: impl std::fmt::Display,
    torrent: &Path,
    data: &[u8],
    source_port: u16,
) -> Proc {
    let leech_dir = dir.join("leecher");
    let (leecher, _) = peer(
        "leecher",
        dir,
        tracker,
        &[
            "--torrent",
            utf8(torrent),
            "--dir",
            utf8(&leech_dir),
            "--min-peers",
            "1",
            "--round-interval",
            "0",
            "--parallel",
            "4",
        ],
    );
    let source = SocketAddr::from(([127, 0, 0, 1], source_port));
    leecher.wait_line(
        |l| l.contains("download complete: ") && l.contains(" verified"),
        "download complete: PATH verified",
    );
    let copy = std::fs::read(leech_dir.join("sample.bin")).expect("read the downloaded copy");
    assert!(
        copy == data,
        "{}: the downloaded copy differs",
        leecher.name
    );
    let pieces = verified_pieces(&leecher);
    assert_eq!(pieces.len(), 46, "{}: pieces verified", leecher.name);
    let from = source.to_string();
    assert!(
        pieces.iter().all(|(_, addr)| *addr == from),
        "{}: pieces came from elsewhere than {from}: {pieces:?}",
        leecher.name
    );
    leecher
}

/// Sends `request` on a new connection and reads until the tracker closes it.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the tracker");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    stream.set_write_timeout(Some(DEADLINE)).expect("timeout");
    stream.write_all(request).expect("send the request");
    let mut reply = Vec::new();
    // Ok means end of stream: the tracker closed the connection.
    stream
        .read_to_end(&mut reply)
        .expect("read the reply up to the close");
    String::from_utf8_lossy(&reply).into_owned()
}

/// `SWARMS` over the line protocol: the reply's lines.
pub fn swarms(addr: SocketAddr) -> Vec<String> {
    let stream = TcpStream::connect(addr).expect("connect to the tracker");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    (&stream).write_all(b"SWARMS\n").expect("send SWARMS");
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    reader.read_line(&mut first).expect("read SWARMS");
    let count: usize = first
        .strip_prefix("SWARMS ")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a SWARMS reply: {first:?}"));
    let mut lines = vec![first.trim_end().to_string()];
    for _ in 0..count {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read SWARM");
        lines.push(line.trim_end().to_string());
    }
    lines
}
