//! Multi-file torrents (a folder) end to end, over real sockets on loopback:
//!
//! - our seeder (`--seed DIR`) and our leecher (metainfo fetched from our tracker): every file
//!   byte-identical, the zero-length file created, the tracker's status page naming the folder,
//!   and a restart finding every piece on disk again;
//! - libtorrent and aria2 download the folder from our seeder;
//! - our leecher downloads the folder from a libtorrent seed and from an aria2 seed, with a
//!   torrent made by `mktorrent` (a foreign multi-file torrent).
//!
//! The folder is 40 000 + 1 + 70 000 bytes in pieces of 16 KiB: piece 2 (bytes 32 768..49 152)
//! spans all three files. Every child runs on a free port of 127.0.0.1, every wait polls against
//! a deadline, every child is killed when its test ends. A missing tool skips its test with a
//! `SKIPPED` line on stderr, or fails it when `CI=true` (`have_tool`).

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::metainfo::Metainfo;
use common::*;

/// The folder's files: (path under the folder, length). Sorted as `create` sorts them.
const FILES: [(&str, usize); 3] = [("a.bin", 40_000), ("m/one.bin", 1), ("z/last.bin", 70_000)];
const TOTAL: usize = 110_001;
const PIECE_LEN: usize = 16 * 1024;
const PIECES: u32 = TOTAL.div_ceil(PIECE_LEN) as u32;
/// How long a real client or our leecher may take to download the folder.
const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(60);

fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// Each file of the folder: its path under the folder, and its bytes.
type Files = Vec<(&'static str, Vec<u8>)>;

/// Writes the folder `dir/shared` (and, with `empty`, a zero-length `empty.txt`); returns it
/// and each file's bytes.
fn folder(dir: &Path, empty: bool) -> (PathBuf, Files) {
    let root = dir.join("shared");
    let mut files = Vec::new();
    for (i, (path, len)) in FILES.into_iter().enumerate() {
        let data = sample_bytes(len, 0x3f11 + i as u64);
        let at = root.join(path);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        std::fs::write(&at, &data).expect("write");
        files.push((path, data));
    }
    if empty {
        std::fs::write(root.join("empty.txt"), b"").expect("write");
        files.push(("empty.txt", Vec::new()));
    }
    (root, files)
}

/// Every file of `files` is in `root`, byte-identical.
fn assert_same(root: &Path, files: &[(&str, Vec<u8>)], who: &str) {
    for (path, data) in files {
        let copy = std::fs::read(root.join(path))
            .unwrap_or_else(|e| panic!("{who}: cannot read {path}: {e}"));
        assert!(copy == *data, "{who}: {path} differs from the original");
    }
}

/// `bittorrent-sim create DIR --piece-length 16KiB [--tracker T] -o OUT`, read back.
fn create(root: &Path, tracker: Option<&str>, out: &Path) -> Metainfo {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "create",
        utf8(root),
        "--piece-length",
        "16KiB",
        "-o",
        utf8(out),
    ]);
    if let Some(tracker) = tracker {
        cmd.args(["--tracker", tracker]);
    }
    let created = cmd.output().expect("run create");
    assert!(
        created.status.success(),
        "create failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let meta = Metainfo::from_file(out).expect("read the torrent back");
    assert_eq!((meta.name.as_str(), meta.num_pieces()), ("shared", PIECES));
    meta
}

/// `mktorrent -l 15 -a ANNOUNCE -o OUT DIR`: a folder torrent made by another tool, in pieces
/// of 32 KiB (mktorrent's smallest): piece 1 (32 768..65 536) spans all three files.
fn mktorrent(root: &Path, announce: &str, out: &Path) -> Metainfo {
    let made = Command::new("mktorrent")
        .args(["-l", "15", "-a", announce, "-o", utf8(out), utf8(root)])
        .output()
        .expect("run mktorrent");
    assert!(made.status.success(), "mktorrent failed: {made:?}");
    let meta = Metainfo::from_file(out).expect("we read mktorrent's folder torrent");
    assert!(meta.is_multi_file());
    assert_eq!((meta.length, meta.num_pieces()), (TOTAL as u64, 4));
    meta
}

/// A program that is not ours, its output going to `DIR/NAME.log`; killed when dropped.
struct Tool {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Tool {
    fn start(name: &str, program: &str, args: &[&str], dir: &Path) -> Tool {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = Command::new(program)
            .args(args)
            .env("PYTHONPATH", LT_COMMON_DIR)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({program}): {e}"));
        Tool {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls until the program exits; panics (and so kills it) past `limit`.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running after {limit:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if thread::panicking() {
            for line in self
                .output()
                .lines()
                .rev()
                .take(60)
                .collect::<Vec<_>>()
                .iter()
                .rev()
            {
                eprintln!("{} | {line}", self.name);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `program` runs; if not, a loud `SKIPPED` line (or a failure when `CI=true`).
fn tool(test: &str, program: &str, probe: &[&str], package: &str) -> bool {
    let here = have_tool(program, probe, package);
    if !here {
        eprintln!("SKIPPED: {test}: {program} is not installed (apt-get install {package})");
    }
    here
}

fn libtorrent_here(test: &str) -> bool {
    tool(
        test,
        PYTHON,
        &["-c", "import libtorrent"],
        "python3-libtorrent",
    )
}

fn mktorrent_here(test: &str) -> bool {
    tool(test, "mktorrent", &["-h"], "mktorrent")
}

fn aria2_here(test: &str) -> bool {
    tool(test, "aria2c", &["--version"], "aria2")
}

/// Our seeder of `root` (`--seed DIR`, 16 KiB pieces) on `tracker`; returns it and its port.
fn our_seeder(
    dir: &Path,
    tracker: impl std::fmt::Display,
    root: &Path,
    files: usize,
) -> (Proc, u16) {
    let args = [
        "--seed",
        utf8(root),
        "--piece-length",
        "16KiB",
        "--min-peers",
        "1",
    ];
    let (seeder, port) = peer("seeder", dir, tracker, &args);
    seeder.wait_for(&format!("a folder of {files} files"));
    (seeder, port)
}

/// Our leecher into `DIR/leecher` (`extra`: `--torrent T` or nothing), until it completes.
fn our_leecher(dir: &Path, tracker: impl std::fmt::Display, extra: &[&str]) -> Proc {
    let out = dir.join("leecher");
    let mut args = vec!["--dir", utf8(&out), "--min-peers", "1"];
    args.extend(["--round-interval", "0", "--parallel", "4"]);
    args.extend_from_slice(extra);
    let (leecher, _) = peer("leecher", dir, tracker, &args);
    let deadline = Instant::now() + DOWNLOAD_DEADLINE;
    while leecher.count("download complete: ") == 0 {
        assert!(
            Instant::now() < deadline,
            "leecher: not complete within {DOWNLOAD_DEADLINE:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
    leecher
}

/// The tracker's status page, fetched over HTTP from its own port.
fn status_page(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the status page");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("request");
    let mut page = String::new();
    let _ = stream.read_to_string(&mut page);
    page
}

#[test]
fn our_peers_seed_and_download_a_folder_through_our_tracker() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (root, files) = folder(dir, true);
    let (tracker, addr) = tracker(dir, &[]);
    let (seeder, _) = our_seeder(dir, addr, &root, files.len());
    // The leecher has no torrent: it fetches the folder's metainfo the seeder PUBLISHed.
    let leecher = our_leecher(dir, addr, &[]);
    leecher.wait_for("shared (a folder of 4 files, 110001 bytes, 7 pieces of 16384 bytes)");
    let copy = dir.join("leecher/shared");
    assert_same(&copy, &files, "our leecher");
    assert_eq!(
        std::fs::metadata(copy.join("empty.txt"))
            .expect("empty.txt")
            .len(),
        0
    );
    assert!(
        tracker.count("(shared)") > 0,
        "the tracker learned the folder's swarm"
    );
    let page = status_page(addr);
    assert!(page.contains("<h2>shared <small>"), "status page:\n{page}");
    assert!(page.contains("7 pieces, 2 peers"), "status page:\n{page}");
    drop(leecher);
    drop(seeder);

    // A restart over the same folder finds every piece again, across the files.
    let again = Proc::start(
        "restarted",
        dir,
        &peer_args(0, addr, &["--dir", utf8(&dir.join("leecher"))]),
        &[],
    );
    again.wait_for(&format!("{} of {PIECES} pieces verify", PIECES));
}

#[test]
fn libtorrent_downloads_a_folder_from_our_seeder() {
    if !libtorrent_here("libtorrent_downloads_a_folder_from_our_seeder") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (root, files) = folder(dir, true);
    let torrent = dir.join("shared.torrent");
    let meta = create(&root, None, &torrent);
    let (tracker, addr) = tracker(dir, &[]);
    let (seeder, port) = our_seeder(dir, addr, &root, files.len());
    // `--seed DIR` builds the metainfo `create DIR` wrote: the same swarm.
    seeder.wait_for(&format!("swarm {} : shared", meta.info_hash));
    let save = dir.join("lt");
    std::fs::create_dir(&save).expect("mkdir");
    let script = dir.join("download.py");
    std::fs::write(&script, DOWNLOAD_SCRIPT).expect("script");
    let port = port.to_string();
    let deadline = DOWNLOAD_DEADLINE.as_secs().to_string();
    let args = [utf8(&script), utf8(&torrent), utf8(&save), &port, &deadline];
    let mut lt = Tool::start("libtorrent", PYTHON, &args, dir);
    let status = lt.wait_exit(DOWNLOAD_DEADLINE + Duration::from_secs(20));
    assert!(status.success(), "libtorrent did not complete: {status}");
    assert_same(&save.join("shared"), &files, "libtorrent");
    assert!(seeder.count("handshake done, peer id -LT") > 0);
    drop(tracker);
}

#[test]
fn aria2_downloads_a_folder_from_our_seeder() {
    if !aria2_here("aria2_downloads_a_folder_from_our_seeder") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (root, files) = folder(dir, false);
    let (_tracker, addr) = tracker(dir, &[]);
    let torrent = dir.join("shared.torrent");
    create(&root, Some(&format!("http://{addr}/announce")), &torrent);
    let (seeder, _) = our_seeder(dir, addr, &root, files.len());
    // aria2 finds the seeder through our tracker's HTTP announce only.
    let out = dir.join("aria2");
    std::fs::create_dir(&out).expect("mkdir");
    let listen = format!("--listen-port={}", free_port());
    let stop = format!("--stop-with-process={}", std::process::id());
    let mut args = ARIA2_COMMON.to_vec();
    args.extend([
        "--seed-time=0",
        &listen,
        &stop,
        "--dir",
        utf8(&out),
        utf8(&torrent),
    ]);
    let mut aria2 = Tool::start("aria2c", "aria2c", &args, dir);
    let status = aria2.wait_exit(DOWNLOAD_DEADLINE);
    assert!(status.success(), "aria2c failed: {status}");
    assert_same(&out.join("shared"), &files, "aria2");
    assert!(seeder.count("handshake done, peer id A2-") > 0);
}

/// A foreign torrent (mktorrent) announcing to our tracker, a folder copy in `DIR/seed/shared`
/// for the other client to seed from, and the tracker.
fn foreign_swarm(dir: &Path) -> (Proc, String, PathBuf, Files) {
    let (root, files) = folder(dir, false);
    let seed_dir = dir.join("seed");
    std::fs::create_dir(&seed_dir).expect("mkdir");
    std::fs::rename(&root, seed_dir.join("shared")).expect("move the folder");
    let (tracker, addr) = tracker(dir, &[]);
    let url = format!("http://{addr}/announce");
    let torrent = dir.join("mk.torrent");
    mktorrent(&seed_dir.join("shared"), &url, &torrent);
    (tracker, url, torrent, files)
}

#[test]
fn our_leecher_downloads_a_folder_from_a_libtorrent_seed() {
    let test = "our_leecher_downloads_a_folder_from_a_libtorrent_seed";
    if !libtorrent_here(test) || !mktorrent_here(test) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (tracker, url, torrent, files) = foreign_swarm(dir);
    let seed_dir = dir.join("seed");
    let script = dir.join("seed.py");
    std::fs::write(&script, SEED_SCRIPT).expect("script");
    let deadline = (DOWNLOAD_DEADLINE.as_secs() * 2).to_string();
    let args = [utf8(&script), utf8(&torrent), utf8(&seed_dir), &deadline];
    let lt = Tool::start("libtorrent", PYTHON, &args, dir);
    tracker.wait_line(
        |l| l.contains("received announce started"),
        "libtorrent's announce",
    );
    let leecher = our_leecher(dir, &url, &["--torrent", utf8(&torrent)]);
    assert_same(&dir.join("leecher/shared"), &files, "our leecher");
    assert!(leecher.count("handshake done, peer id -LT") > 0);
    drop(lt);
}

#[test]
fn our_leecher_downloads_a_folder_from_an_aria2_seed() {
    let test = "our_leecher_downloads_a_folder_from_an_aria2_seed";
    if !aria2_here(test) || !mktorrent_here(test) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (tracker, url, torrent, files) = foreign_swarm(dir);
    // aria2 checks the folder (-V), then seeds it for as long as this test runs.
    let listen = format!("--listen-port={}", free_port());
    let stop = format!("--stop-with-process={}", std::process::id());
    let mut args = ARIA2_COMMON.to_vec();
    args.extend(["-V", "--seed-ratio=0.0", &listen, &stop]);
    let seed_dir = dir.join("seed");
    args.extend(["--dir", utf8(&seed_dir), utf8(&torrent)]);
    let aria2 = Tool::start("aria2c", "aria2c", &args, dir);
    tracker.wait_line(
        |l| l.contains("received announce started"),
        "aria2's announce",
    );
    let leecher = our_leecher(dir, &url, &["--torrent", utf8(&torrent)]);
    assert_same(&dir.join("leecher/shared"), &files, "our leecher");
    assert!(leecher.count("handshake done, peer id A2-") > 0);
    drop(aria2);
}

#[test]
fn unsafe_folders_and_torrents_are_refused_with_exit_65() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // A torrent whose file would land outside --dir: `peer` refuses it before touching disk.
    let evil = dir.join("evil.torrent");
    let info = b"d5:filesld6:lengthi1e4:pathl2:..4:evileee4:name1:d12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
    std::fs::write(&evil, [&b"d4:info"[..], info, b"e"].concat()).expect("write");
    let out = dir.join("out");
    let args = [
        "--torrent",
        utf8(&evil),
        "--dir",
        utf8(&out),
        "--tracker-wait",
        "0",
    ];
    let run = Command::new(BIN)
        .args(peer_args(0, "127.0.0.1:1", &args))
        .output()
        .expect("run peer");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("unsafe path component \"..\""), "{stderr}");
    assert!(
        !out.exists() && !dir.join("evil").exists(),
        "nothing written"
    );

    // `create` of a folder holding a symbolic link: refused, naming it.
    let (root, _) = folder(dir, false);
    std::os::unix::fs::symlink("/etc/hostname", root.join("link")).expect("symlink");
    let run = Command::new(BIN)
        .args(["create", utf8(&root), "-o", utf8(&dir.join("x.torrent"))])
        .output()
        .expect("run create");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("link: is a symbolic link"), "{stderr}");
}

/// aria2 on loopback, finding peers only through the torrent's tracker.
const ARIA2_COMMON: [&str; 13] = [
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

/// libtorrent downloads TORRENT into SAVE_PATH from our seeder at 127.0.0.1:PORT
/// (`connect_peer`; the torrent has no announce URL), exits 0 once seeding.
const DOWNLOAD_SCRIPT: &str = r#"
import sys, time
import libtorrent as lt
from lt_common import add, make_session

torrent, save_path, port, deadline = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ses = make_session(alerts=lt.alert.category_t.error_notification)
handle = add(ses, torrent, save_path, announce=True)
handle.connect_peer(('127.0.0.1', port))
end = time.monotonic() + deadline
while time.monotonic() < end:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
    if handle.status().is_seeding:
        print('complete', flush=True)
        sys.exit(0)
    time.sleep(0.05)
print('deadline of %gs passed at %.1f%%' % (deadline, handle.status().progress * 100), flush=True)
sys.exit(1)
"#;

/// libtorrent seeds TORRENT from SAVE_PATH (`seed_mode`: trusts the files, checks each piece
/// when first asked for it), announcing to the torrent's tracker, until killed or DEADLINE.
const SEED_SCRIPT: &str = r#"
import sys, time
import libtorrent as lt
from lt_common import add, make_session

torrent, save_path, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
ses = make_session(alerts=lt.alert.category_t.error_notification)
handle = add(ses, torrent, save_path, announce=True, seed_mode=True)
end = time.monotonic() + deadline
while time.monotonic() < end:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
    time.sleep(0.02)
sys.exit(1)
"#;
