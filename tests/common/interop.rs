//! What the tests that mix our tracker and peers with real clients share: the sample file and
//! its torrent (`create`), our leecher checked against the one source it must use, aria2 on
//! loopback, the frame of every libtorrent script and a libtorrent seeder's port once our
//! tracker has its announce, and raw exchanges with the tracker's HTTP side. Starting and
//! reaping the other programs is `tool.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bittorrent_sim::metainfo::Metainfo;

use super::tool::{Tool, utf8};
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

/// `bittorrent-sim create PATH --piece-length LEN [--tracker ANNOUNCE] -o OUT`, read back.
pub fn create(path: &Path, piece_length: &str, announce: Option<&str>, out: &Path) -> Metainfo {
    let mut command = Command::new(BIN);
    command.args(["create", utf8(path), "--piece-length", piece_length]);
    if let Some(announce) = announce {
        command.args(["--tracker", announce]);
    }
    let created = command
        .args(["-o", utf8(out)])
        .output()
        .expect("run create");
    assert!(
        created.status.success(),
        "create failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    Metainfo::from_file(out).expect("read the torrent back")
}

/// `bittorrent-sim create FILE --tracker ANNOUNCE` of the 46-piece sample: its metainfo.
pub fn create_for(file: &Path, announce: &str, out: &Path) -> Metainfo {
    let metainfo = create(file, "64KiB", Some(announce), out);
    assert_eq!(metainfo.announce.as_deref(), Some(announce));
    assert_eq!(metainfo.num_pieces(), 46);
    metainfo
}

/// aria2 on loopback, finding peers only through the torrent's tracker: no DHT, PEX or LPD,
/// every socket bound to 127.0.0.1.
pub const ARIA2_LOOPBACK: [&str; 13] = [
    "--no-conf=true",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--enable-peer-exchange=false",
    "--bt-enable-lpd=false",
    "--bt-tracker-connect-timeout=5",
    "--bt-stop-timeout=60",
    "--allow-overwrite=true",
    "--file-allocation=none",
    "--summary-interval=0",
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    "--console-log-level=notice",
];

/// `aria2c` ([`ARIA2_LOOPBACK`]) listening on 127.0.0.1:`listen`, with `args` (what to fetch
/// or seed, and where); it stops by itself if this test process dies (`--stop-with-process`).
pub fn aria2(dir: &Path, listen: u16, args: &[&str]) -> Tool {
    let listen = format!("--listen-port={listen}");
    let stop = format!("--stop-with-process={}", std::process::id());
    let mut all = ARIA2_LOOPBACK.to_vec();
    all.extend([listen.as_str(), stop.as_str()]);
    all.extend_from_slice(args);
    Tool::start("aria2c", "aria2c", &all, dir)
}

/// A libtorrent script (Python, run by [`Tool::script`]): `setup` makes the session `ses`, the
/// torrent's `handle` and `deadline` (seconds); then every 50 ms until the deadline it prints
/// each alert (`alert TYPE: MESSAGE`) and runs `step`, Python indented by four spaces with
/// `status` the handle's status and `said` a flag it may set ([`EXIT_WHEN_SEEDING`],
/// [`SAY_SEEDING_PORT`], or "" for none); past the deadline it says how far it got and exits 1.
pub fn libtorrent_script(setup: &str, step: &str) -> String {
    let head =
        "import sys, time\nimport libtorrent as lt\nfrom lt_common import add, make_session\n";
    let frame = r#"end = time.monotonic() + deadline
said = False
while time.monotonic() < end:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
    status = handle.status()
"#;
    let tail = r#"    time.sleep(0.05)
print('deadline of %gs passed at %.1f%%' % (deadline, handle.status().progress * 100), flush=True)
sys.exit(1)
"#;
    [head, setup.trim_start_matches('\n'), frame, step, tail].concat()
}

/// A [`libtorrent_script`] step: prints `complete` and exits 0 once the torrent is complete.
pub const EXIT_WHEN_SEEDING: &str = r#"    if status.is_seeding:
        print('complete', flush=True)
        sys.exit(0)
"#;

/// A [`libtorrent_script`] step: prints `libtorrent VERSION seeding on port N` once seeding
/// (what [`libtorrent_seeding`] waits for).
pub const SAY_SEEDING_PORT: &str = r#"    if status.is_seeding and not said:
        print('libtorrent %s seeding on port %d' % (lt.__version__, ses.listen_port()), flush=True)
        said = True
"#;

/// The port a libtorrent script logs as `seeding on port N`, once `tracker` has received its
/// `started` announce from that port.
pub fn libtorrent_seeding(libtorrent: &mut Tool, tracker: &Proc) -> u16 {
    let port: u16 = libtorrent.wait_for("`seeding on port`", |line| {
        line.split_once(" seeding on port ")?.1.trim().parse().ok()
    });
    tracker.wait_line(
        |l| l.contains("received announce started") && l.contains(&format!("from port {port} ")),
        "libtorrent's announce",
    );
    port
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
