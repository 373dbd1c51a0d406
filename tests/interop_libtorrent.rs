//! Interoperability of our peer's upload side with a real BitTorrent client: libtorrent
//! (`python3-libtorrent`, Debian's 2.0.x) downloads a whole file from a `bittorrent-sim peer`
//! that seeds it, and the copy must be identical byte for byte.
//!
//! Each case runs, as child processes on free ports (`--port 0`, the real port read back from
//! the logs): our tracker, our seeder (`--seed FILE`), and a python script that adds the
//! torrent written by `bittorrent-sim create` to a libtorrent session and calls `connect_peer`
//! on the seeder. Our tracker speaks a line protocol libtorrent does not know, so the torrent
//! has no announce URL: libtorrent learns of the seeder only through `connect_peer`.
//!
//! Every wait polls against a deadline; every child is killed when the case ends, on failure
//! too. A missing `python3-libtorrent` skips with a message on stderr, or fails when `CI=true`.

mod common;

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::metainfo::Metainfo;
use common::{LT_COMMON_DIR, PYTHON};

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
/// How long our tracker and seeder may take to log that they listen.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long libtorrent may take to download the file (the script's own deadline).
const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(60);
/// Slack on top of the script's deadline before the script itself is killed.
const SCRIPT_SLACK: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(25);
/// A little over 3 MiB, so that the last piece is short for both piece lengths.
const FILE_LEN: usize = 3 * 1024 * 1024 + 12_345;

/// The libtorrent side: downloads the torrent from our peer at HOST:PORT, given to it with
/// `connect_peer`. The session settings are `bench/lt_common.py`'s (on `PYTHONPATH`, see
/// [`Children::spawn`]).
const SCRIPT: &str = r#"
import sys, time
import libtorrent as lt
from lt_common import add, make_session

torrent, save_path, host, port, deadline = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
cat = lt.alert.category_t
ses = make_session(alerts=cat.error_notification | cat.peer_notification | cat.status_notification)
handle = add(ses, torrent, save_path, announce=True)
handle.connect_peer((host, port))
print('libtorrent %s: downloading from %s:%d' % (lt.__version__, host, port), flush=True)
end = time.monotonic() + deadline
last = None
while True:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
    status = handle.status()
    line = 'progress %5.1f%% state %s peers %d bytes %d' % (
        status.progress * 100, status.state, status.num_peers, status.total_wanted_done)
    if line != last:
        print(line, flush=True)
        last = line
    if status.is_seeding:
        print('complete', flush=True)
        sys.exit(0)
    if time.monotonic() > end:
        print('deadline of %gs passed before the download completed' % deadline, flush=True)
        sys.exit(1)
    time.sleep(0.05)
"#;

/// The child processes of one case, each with the file its output goes to. Dropping it kills
/// and reaps every child, so a failed assertion leaves no process behind.
struct Children {
    running: Vec<(String, Child, PathBuf)>,
}

impl Children {
    fn new() -> Children {
        Children {
            running: Vec::new(),
        }
    }

    /// Starts `program args` with stdout and stderr going to `log`; returns its index.
    fn spawn(
        &mut self,
        name: &str,
        program: &str,
        args: &[impl AsRef<std::ffi::OsStr>],
        log: PathBuf,
    ) -> usize {
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(program)
            .args(args)
            .env("RUST_LOG", "info")
            .env("PYTHONPATH", LT_COMMON_DIR)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({program}): {e}"));
        self.running.push((name.to_string(), child, log));
        self.running.len() - 1
    }

    fn log(&self, which: usize) -> String {
        std::fs::read_to_string(&self.running[which].2).unwrap_or_default()
    }

    /// Every child's output (its last lines), for a failure message.
    fn logs(&self) -> String {
        let mut all = String::new();
        for (which, (name, _, _)) in self.running.iter().enumerate() {
            let log = self.log(which);
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            all.push_str(&format!("--- {name} (last {} lines)\n", tail.len()));
            for line in tail {
                all.push_str(line);
                all.push('\n');
            }
        }
        all
    }

    /// Polls child `which`'s output until `find` picks something out of one of its lines.
    fn wait_for<T>(&mut self, which: usize, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(found) = self.log(which).lines().find_map(&find) {
                return found;
            }
            let name = self.running[which].0.clone();
            if let Some(status) = self.running[which].1.try_wait().unwrap() {
                // It may have written the line just before exiting.
                if let Some(found) = self.log(which).lines().find_map(&find) {
                    return found;
                }
                panic!(
                    "{name} exited ({status}) before logging {what}\n{}",
                    self.logs()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} did not log {what} within {START_DEADLINE:?}\n{}",
                    self.logs()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Polls child `which` until it exits; kills it past `limit`. True when it exited with 0.
    fn wait_exit(&mut self, which: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (name, child, _) = &mut self.running[which];
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() > deadline {
                eprintln!("{name} still running after {limit:?}: killed");
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Either fails (under CI) or says on stderr why the test is skipped; true when it may run.
fn libtorrent_available() -> bool {
    let works = Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if works {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "python3-libtorrent is required when CI=true but `{PYTHON} -c \"import libtorrent\"` \
             fails (apt-get install python3-libtorrent)"
        );
    }
    eprintln!("skipped: python3-libtorrent not installed (apt-get install python3-libtorrent)");
    false
}

/// `len` deterministic pseudo-random bytes, written to `dir/name`.
fn data_file(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let data = common::sample_bytes(len, len as u64);
    (common::write_file(dir, name, &data), data)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// The port of the address that follows `prefix` in `line` (`... prefix 0.0.0.0:PORT ...`).
fn port_after(line: &str, prefix: &str) -> Option<u16> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let addr: SocketAddr = rest.split_whitespace().next()?.parse().ok()?;
    Some(addr.port())
}

/// The full info-hash of the seeder's `swarm <40 hex> : name (...)` line.
fn swarm_hash(line: &str) -> Option<String> {
    let rest = &line[line.find("] swarm ")? + "] swarm ".len()..];
    let hash = rest.split_whitespace().next()?;
    (hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hash.to_string())
}

/// libtorrent downloads a `FILE_LEN`-byte file cut in `piece_length` pieces from our seeder.
fn libtorrent_downloads_from_our_seeder(piece_length: u64) {
    if !libtorrent_available() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (file, data) = data_file(dir.path(), "shared.bin", FILE_LEN);
    let piece_arg = format!("{piece_length}B");

    // The torrent libtorrent gets, made by our `create` (no --tracker: no announce URL).
    let torrent = dir.path().join("shared.torrent");
    let created = Command::new(BIN)
        .args(["create", path_str(&file), "--piece-length", &piece_arg])
        .args(["-o", path_str(&torrent)])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "bittorrent-sim create failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let meta = Metainfo::from_file(&torrent).unwrap();
    assert_eq!(meta.piece_length, piece_length);
    assert!(meta.announce.is_none());
    let last = meta.piece_len(meta.num_pieces() - 1);
    assert!(
        u64::from(last) < piece_length,
        "the last piece should be short"
    );

    let mut children = Children::new();
    let tracker = children.spawn(
        "tracker",
        BIN,
        &["tracker", "--port", "0", "--bind", "127.0.0.1"],
        dir.path().join("tracker.log"),
    );
    let tracker_port = children.wait_for(tracker, "`tracker listening on`", |line| {
        port_after(line, "tracker listening on ")
    });
    let tracker_addr = format!("127.0.0.1:{tracker_port}");

    let seeder = children.spawn(
        "seeder",
        BIN,
        &common::peer_args(
            0,
            &tracker_addr,
            &[
                "--seed",
                path_str(&file),
                "--piece-length",
                &piece_arg,
                "--min-peers",
                "1",
            ],
        ),
        dir.path().join("seeder.log"),
    );
    let seeder_port = children.wait_for(seeder, "`listening on ... for uploads`", |line| {
        line.contains(" for uploads")
            .then(|| port_after(line, "listening on "))
            .flatten()
    });
    // The seeder hashed the same file with the same piece length: the same swarm.
    let seeder_hash = children.wait_for(seeder, "`swarm <info-hash>`", swarm_hash);
    assert_eq!(seeder_hash, meta.info_hash.to_hex(), "{}", children.logs());
    children.wait_for(seeder, "`joined swarm`", |line| {
        line.contains("joined swarm").then_some(())
    });

    // libtorrent downloads into its own directory.
    let script = dir.path().join("download.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let save_path = dir.path().join("libtorrent");
    std::fs::create_dir(&save_path).unwrap();
    let seeder_port_arg = seeder_port.to_string();
    let deadline_arg = DOWNLOAD_DEADLINE.as_secs().to_string();
    let python = children.spawn(
        "libtorrent",
        PYTHON,
        &[
            path_str(&script),
            path_str(&torrent),
            path_str(&save_path),
            "127.0.0.1",
            &seeder_port_arg,
            &deadline_arg,
        ],
        dir.path().join("libtorrent.log"),
    );
    let download_started = Instant::now();
    let completed = children.wait_exit(python, DOWNLOAD_DEADLINE + SCRIPT_SLACK);
    assert!(
        completed,
        "libtorrent did not download the file from our seeder\n{}",
        children.logs()
    );
    let download_time = download_started.elapsed();

    let copy = std::fs::read(save_path.join("shared.bin")).unwrap();
    assert_eq!(copy.len(), data.len(), "downloaded file has the wrong size");
    if let Some(at) = copy.iter().zip(&data).position(|(a, b)| a != b) {
        panic!(
            "downloaded file differs from the original at byte {at} (piece {})",
            at as u64 / piece_length
        );
    }
    // The bytes came from our peer's upload side, after libtorrent's encrypted (MSE) handshake
    // with plaintext selected, or a plain BEP 3 one.
    let seeder_log = children.log(seeder);
    assert!(
        seeder_log.contains("handshake done, peer id -LT"),
        "the seeder never served libtorrent\n{}",
        children.logs()
    );
    eprintln!(
        "libtorrent downloaded {} pieces of {piece_length} bytes in {download_time:.2?} \
         ({:.2?} in all)",
        meta.num_pieces(),
        started.elapsed()
    );
}

#[test]
fn libtorrent_downloads_40000_byte_pieces_from_our_seeder() {
    // Not a multiple of 16 KiB: every piece ends in a short block.
    libtorrent_downloads_from_our_seeder(40_000);
}

#[test]
fn libtorrent_downloads_256_kib_pieces_from_our_seeder() {
    libtorrent_downloads_from_our_seeder(256 * 1024);
}
