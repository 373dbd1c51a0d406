//! Protocol encryption (MSE) against a real client: libtorrent (`python3-libtorrent`) with
//! encryption forced both ways (`out_enc_policy` = `in_enc_policy` = `pe_forced`,
//! `allowed_enc_level` = `pe_rc4`), so any plain handshake is refused and only RC4 is spoken.
//!
//! * libtorrent downloads from our seed (`--encryption require`): libtorrent is MSE's
//!   initiator, our listener its receiver;
//! * our leecher (`--encryption require`) downloads from a libtorrent seed it found through our
//!   tracker's HTTP announce: our peer is the initiator.
//!
//! Every child runs on a free loopback port, every wait polls against a deadline, and every
//! child is killed when its test ends. Without libtorrent the tests print `SKIPPED` and pass
//! (they fail under `CI=true`, as `have_tool` says).

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
/// How long libtorrent's script may run (its own deadline) and then how much longer it lives.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(60);
const SCRIPT_SLACK: Duration = Duration::from_secs(15);
/// 12 pieces of 64 KiB, the last one short.
const PIECE_64K: usize = 4 * PIECE;
const FILE_LEN: usize = 11 * PIECE_64K + 4_321;

/// libtorrent with encryption forced, RC4 only: `lt.py MODE TORRENT DIR DEADLINE [HOST PORT]`.
/// MODE `leech` downloads from HOST:PORT (`connect_peer`) and exits 0 once complete; MODE
/// `seed` seeds DIR, announcing to the torrent's tracker, and prints its port.
const SCRIPT: &str = r#"
import sys, time
import libtorrent as lt
from lt_common import add, make_session

mode, torrent, save_path, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
cat = lt.alert.category_t
ses = make_session(alerts=cat.error_notification | cat.peer_notification | cat.status_notification)
ses.apply_settings({
    'out_enc_policy': int(lt.enc_policy.pe_forced),
    'in_enc_policy': int(lt.enc_policy.pe_forced),
    'allowed_enc_level': int(lt.enc_level.pe_rc4),
    'prefer_rc4': True,
})
handle = add(ses, torrent, save_path, announce=(mode == 'seed'), seed_mode=(mode == 'seed'))
if mode == 'leech':
    handle.connect_peer((sys.argv[5], int(sys.argv[6])))
end = time.monotonic() + deadline
said = False
while time.monotonic() < end:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
    status = handle.status()
    if mode == 'leech' and status.is_seeding:
        print('complete', flush=True)
        sys.exit(0)
    if mode == 'seed' and status.is_seeding and not said:
        print('libtorrent %s seeding on port %d' % (lt.__version__, ses.listen_port()), flush=True)
        said = True
    time.sleep(0.05)
print('deadline of %gs passed' % deadline, flush=True)
sys.exit(1)
"#;

/// The libtorrent script as a child, its output in a log file; killed when dropped.
struct Libtorrent {
    child: Child,
    log: PathBuf,
}

impl Libtorrent {
    fn start(dir: &Path, args: &[&str]) -> Libtorrent {
        let script = dir.join("lt.py");
        std::fs::write(&script, SCRIPT).expect("write script");
        let log = dir.join("libtorrent.log");
        let out = File::create(&log).expect("log");
        let err = out.try_clone().expect("log");
        let child = Command::new(PYTHON)
            .arg(&script)
            .args(args)
            .env("PYTHONPATH", LT_COMMON_DIR)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start python3");
        Libtorrent { child, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls until a line gives `find` something; panics at the deadline or if it exits.
    fn wait_for<T>(&mut self, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + SCRIPT_DEADLINE;
        loop {
            if let Some(found) = self.output().lines().find_map(&find) {
                return found;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "libtorrent exited ({status}) before {what}\n{}",
                    self.output()
                );
            }
            assert!(Instant::now() < deadline, "no {what}\n{}", self.output());
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits for the script to exit; true when it exited 0. Killed past the deadline.
    fn succeeded(&mut self) -> bool {
        let deadline = Instant::now() + SCRIPT_DEADLINE + SCRIPT_SLACK;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Libtorrent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn libtorrent_available() -> bool {
    if have_tool(PYTHON, &["-c", "import libtorrent"], "python3-libtorrent") {
        return true;
    }
    eprintln!("SKIPPED: python3-libtorrent is not installed");
    false
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// `bittorrent-sim create FILE --piece-length 64KiB [--tracker URL] -o OUT`.
fn create(file: &Path, announce: Option<&str>, out: &Path) {
    let mut command = Command::new(BIN);
    command.args(["create", utf8(file), "--piece-length", "64KiB"]);
    if let Some(url) = announce {
        command.args(["--tracker", url]);
    }
    let created = command
        .args(["-o", utf8(out)])
        .output()
        .expect("run create");
    assert!(created.status.success(), "{created:?}");
}

#[test]
fn libtorrent_forcing_encryption_downloads_from_our_seed() {
    if !libtorrent_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 5);
    let file = write_file(&dir.join("seed"), "sample.bin", &data);
    let torrent = dir.join("sample.torrent");
    create(&file, None, &torrent);
    let (_tracker, addr) = tracker(dir, &[]);
    let seed_dir = dir.join("seed");
    let seed_args = [
        "--torrent",
        utf8(&torrent),
        "--dir",
        utf8(&seed_dir),
        "--encryption",
        "require",
    ];
    let (seed, port) = peer("seed", dir, addr, &seed_args);
    let save = dir.join("libtorrent");
    std::fs::create_dir(&save).expect("mkdir");
    let deadline = SCRIPT_DEADLINE.as_secs().to_string();
    let port = port.to_string();
    let args = [
        "leech",
        utf8(&torrent),
        utf8(&save),
        &deadline,
        "127.0.0.1",
        &port,
    ];
    let mut lt = Libtorrent::start(dir, &args);
    assert!(
        lt.succeeded(),
        "libtorrent did not complete\n{}",
        lt.output()
    );
    let copy = std::fs::read(save.join("sample.bin")).expect("libtorrent's copy");
    assert!(copy == data, "libtorrent's copy differs");
    let line = seed.wait_line(
        |l| l.contains("handshake done, peer id -LT") && l.ends_with("(encrypted, rc4)"),
        "an rc4 handshake with libtorrent",
    );
    eprintln!("our seed: {line}");
}

#[test]
fn our_leecher_requiring_encryption_downloads_from_a_libtorrent_seed() {
    if !libtorrent_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 6);
    let file = write_file(&dir.join("libtorrent"), "sample.bin", &data);
    let (tracker, addr) = tracker(dir, &[]);
    let url = format!("http://{addr}/announce");
    let torrent = dir.join("sample.torrent");
    create(&file, Some(&url), &torrent);
    let deadline = SCRIPT_DEADLINE.as_secs().to_string();
    let save = dir.join("libtorrent");
    let mut lt = Libtorrent::start(dir, &["seed", utf8(&torrent), utf8(&save), &deadline]);
    let lt_port: u16 = lt.wait_for("`seeding on port`", |line| {
        line.split_once(" seeding on port ")?.1.trim().parse().ok()
    });
    tracker.wait_line(
        |l| l.contains("received announce started") && l.contains(&format!("from port {lt_port} ")),
        "libtorrent's announce",
    );
    let leech_dir = dir.join("leecher");
    let args = [
        "--torrent",
        utf8(&torrent),
        "--dir",
        utf8(&leech_dir),
        "--min-peers",
        "1",
        "--encryption",
        "require",
    ];
    let (leecher, _) = peer("leecher", dir, &url, &args);
    leecher.wait_for("download complete");
    let copy = std::fs::read(leech_dir.join("sample.bin")).expect("our copy");
    assert!(copy == data, "our copy differs");
    let lt_addr = format!("127.0.0.1:{lt_port}");
    let line = leecher.wait_line(
        |l| l.contains(&format!("{lt_addr}: handshake done")) && l.ends_with("(encrypted, rc4)"),
        "an rc4 handshake with libtorrent",
    );
    assert!(
        leecher.count(&format!(
            "{lt_addr}: encrypted handshake (rc4) negotiated, we initiated"
        )) > 0
    );
    eprintln!("our leecher: {line}");
    assert_eq!(leecher.count("(plain)"), 0);
}
