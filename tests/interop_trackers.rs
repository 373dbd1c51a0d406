//! Mixing our tracker and peer with real BitTorrent software, over real sockets on loopback:
//!
//! - aria2 downloads from our peers, having found them through our tracker's HTTP announce;
//! - our peers find each other through opentracker (Debian's build, in whitelist mode);
//! - our leecher downloads from a libtorrent seeder (`python3-libtorrent`), having found it
//!   through our tracker, over HTTP announce and over our line protocol;
//! - libtorrent and Transmission's daemon scrape our tracker (BEP 48) and see HTTP seeds counted
//!   complete in a swarm the tracker has no metainfo for;
//! - our tracker's HTTP side refuses a head that is not HTTP with a `400` and closes, refuses a
//!   bad announce or scrape with a bencoded `failure reason`, and goes on serving both
//!   protocols.
//!
//! Every child runs on a free port of 127.0.0.1, every wait polls against a deadline, and every
//! child is killed when its test ends, on failure too (its output is then printed). A missing
//! tool skips its test with a message on stderr, or fails it when `CI=true` (`have_tool`).

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::http_tracker::{AnnounceParams, AnnounceUrl, HttpTracker, parse_reply};
use bittorrent_sim::peer::tracker_client::TrackerClient;
use bittorrent_sim::tracker::http::percent_encode;
use common::*;

/// Four 16 KiB blocks per piece, the piece length real clients commonly pick.
const PIECE_64K: usize = 4 * PIECE;
/// 46 pieces of 64 KiB, the last one short.
const FILE_LEN: usize = 45 * PIECE_64K + 12_345;
/// How long a real client may take to download the whole file.
const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(90);

fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// A program that is not ours (aria2c, opentracker, python), its stdout and stderr going to a
/// log file. Killed and reaped when dropped; its log is printed if the test is failing.
struct Tool {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Tool {
    fn start(name: &str, program: &str, args: &[&str], cwd: &Path) -> Tool {
        let log = cwd.join(format!("{name}.log"));
        let out = File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = Command::new(program)
            .args(args)
            .env("PYTHONPATH", LT_COMMON_DIR)
            .current_dir(cwd)
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

    fn dump(&self) {
        let output = self.output();
        let lines: Vec<&str> = output.lines().collect();
        for line in &lines[lines.len().saturating_sub(60)..] {
            eprintln!("{} | {line}", self.name);
        }
    }

    /// The exit status, if it has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Polls the output until `find` picks something out of a line; panics if the program
    /// exits first or the deadline passes.
    fn wait_for<T>(&mut self, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(found) = self.output().lines().find_map(&find) {
                return found;
            }
            if let Some(status) = self.exited() {
                // It may have written the line just before exiting.
                if let Some(found) = self.output().lines().find_map(&find) {
                    return found;
                }
                panic!("{} exited ({status}) before logging {what}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not log {what} within {DEADLINE:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls until the program exits; panics (and so kills it) past `limit`.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
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
            self.dump();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The file every case shares, in `dir/orig`, and its bytes.
fn sample(dir: &Path) -> (PathBuf, Vec<u8>) {
    let data = sample_bytes(FILE_LEN, 0x7a11);
    (write_file(&dir.join("orig"), "sample.bin", &data), data)
}

/// `bittorrent-sim create FILE --tracker ANNOUNCE`: the torrent and its metainfo.
fn create_for(file: &Path, announce: &str, out: &Path) -> Metainfo {
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
fn leech_and_check(
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

#[test]
fn aria2c_downloads_through_our_http_announce_from_our_peers() {
    if !have_tool("aria2c", &["--version"], "aria2") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, data) = sample(dir);
    let (tracker, addr) = tracker(dir, &[]);
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &format!("http://{addr}/announce"), &torrent);

    // Three of our peers seed it, each from its own full copy, over our line protocol.
    let seeders: Vec<(Proc, u16)> = (1..=3)
        .map(|i| {
            let seed_dir = dir.join(format!("seed{i}"));
            write_file(&seed_dir, "sample.bin", &data);
            let (seeder, port) = peer(
                &format!("seeder{i}"),
                dir,
                addr,
                &[
                    "--torrent",
                    utf8(&torrent),
                    "--dir",
                    utf8(&seed_dir),
                    "--min-peers",
                    "1",
                ],
            );
            seeder.wait_for("46 of 46 pieces verify");
            (seeder, port)
        })
        .collect();

    // aria2 finds them only through the torrent's announce URL: no DHT, PEX or LPD; every
    // socket bound to 127.0.0.1; it stops once the file is complete (--seed-time=0), and by
    // itself if this test process dies (--stop-with-process).
    let out = dir.join("aria2");
    std::fs::create_dir(&out).expect("mkdir");
    let listen = free_port();
    let listen_arg = format!("--listen-port={listen}");
    let pid_arg = format!("--stop-with-process={}", std::process::id());
    let mut aria2 = Tool::start(
        "aria2c",
        "aria2c",
        &[
            "--no-conf=true",
            "--enable-dht=false",
            "--enable-dht6=false",
            "--enable-peer-exchange=false",
            "--bt-enable-lpd=false",
            "--seed-time=0",
            "--bt-tracker-connect-timeout=5",
            "--bt-stop-timeout=60",
            "--allow-overwrite=true",
            "--file-allocation=none",
            "--summary-interval=0",
            "--interface=127.0.0.1",
            "--disable-ipv6=true",
            "--console-log-level=notice",
            &listen_arg,
            &pid_arg,
            "--dir",
            utf8(&out),
            utf8(&torrent),
        ],
        dir,
    );
    let download_started = Instant::now();
    let status = aria2.wait_exit(DOWNLOAD_DEADLINE);
    let took = download_started.elapsed();
    assert!(status.success(), "aria2c failed: {status}");

    let copy = std::fs::read(out.join("sample.bin")).expect("aria2's copy");
    assert!(copy == data, "aria2's copy differs from the original");
    // It announced over HTTP, and the bytes came from our peers' upload side.
    let announce = tracker.wait_line(
        |l| l.contains("received announce") && l.contains(&format!("from port {listen} ")),
        "received announce from aria2",
    );
    assert!(announce.contains(&metainfo.info_hash.short()), "{announce}");
    let served = seeders
        .iter()
        .filter(|(s, _)| s.count("handshake done, peer id A2-") > 0)
        .count();
    assert!(served >= 1, "no seeder shook hands with aria2");
    eprintln!(
        "aria2c downloaded 46 pieces from {served} of our seeders in {took:.2?} ({:.2?} in all)",
        started.elapsed()
    );
}

/// opentracker on 127.0.0.1, TCP only, allowing only `info_hash`; returns it and its port once
/// it answers announces for that swarm.
///
/// Debian builds opentracker in whitelist mode (`WANT_ACCESSLIST_WHITE`): a swarm not in the
/// `-w` file is refused ("Requested download is not authorized"). Run as root, it chroots
/// into `-d` and then runs as `nobody`, so the directory must be world-readable. With `-p`
/// alone it binds no UDP port (`-P`), so no UDP port can collide. The whitelist is read by a
/// thread after start-up, hence the probe announce.
fn opentracker(dir: &Path, info_hash: InfoHash) -> (Tool, u16) {
    let root = dir.join("opentracker");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("whitelist.txt"), format!("{info_hash}\n")).expect("whitelist");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let deadline = Instant::now() + DEADLINE;
    // The free port may be taken before opentracker binds it: it then exits, and we retry.
    for attempt in 1.. {
        let port = free_port();
        let port_arg = port.to_string();
        let mut tracker = Tool::start(
            &format!("opentracker-{attempt}"),
            "opentracker",
            &[
                "-i",
                "127.0.0.1",
                "-p",
                &port_arg,
                "-d",
                utf8(&root),
                "-w",
                "whitelist.txt",
            ],
            &root,
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let probe = HttpTracker {
            url: AnnounceUrl::parse(&format!("http://{addr}/announce")).expect("url"),
            addr,
            local_ip: None,
        };
        let mut params = AnnounceParams {
            info_hash,
            peer_id: *b"-PROBE-0000000000000",
            port: 1, // nobody listens there; the probe leaves below
            uploaded: 0,
            downloaded: 0,
            left: 0,
            event: None,
        };
        loop {
            if tracker.exited().is_some() {
                assert!(
                    attempt < 5 && Instant::now() < deadline,
                    "opentracker does not start:\n{}",
                    tracker.output()
                );
                break; // the port was taken: another one
            }
            // Listening, and the whitelist loaded (an unlisted swarm gets a failure reason).
            if TcpStream::connect(addr).is_ok() && probe.announce(&params).is_ok() {
                params.event = Some("stopped");
                probe.announce(&params).expect("probe leaves");
                return (tracker, port);
            }
            assert!(
                Instant::now() < deadline,
                "opentracker on {addr} did not answer announces for {info_hash}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    unreachable!()
}

#[test]
fn our_peer_completes_with_opentracker_as_its_tracker() {
    if !have_tool("opentracker", &["-h"], "opentracker") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, data) = sample(dir);
    // The info-hash does not depend on the announce URL: whitelist it before the port is known.
    let info_hash = Metainfo::build(&file, PIECE_64K as u64, None)
        .expect("hash the sample")
        .info_hash;
    let (_opentracker, port) = opentracker(dir, info_hash);
    let url = format!("http://127.0.0.1:{port}/announce");
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &url, &torrent);
    assert_eq!(metainfo.info_hash, info_hash);

    let (seeder, seeder_port) = peer(
        "seeder",
        dir,
        &url,
        &[
            "--seed",
            utf8(&file),
            "--piece-length",
            "64KiB",
            "--min-peers",
            "1",
        ],
    );
    seeder.wait_for(&format!("swarm {info_hash} "));

    leech_and_check(dir, &url, &torrent, &data, seeder_port);
    eprintln!(
        "our leecher completed through opentracker in {:.2?}",
        started.elapsed()
    );
}

/// The libtorrent side: seeds the torrent from `save_path` (which holds the whole file) and
/// announces to the torrent's tracker, until killed or past its own deadline. With a fourth
/// argument `scrape` it also scrapes the tracker every 300 ms once seeding (BEP 48, the URL
/// libtorrent derives from the announce URL) and prints `scrape complete=C incomplete=I`.
/// The session settings are `bench/lt_common.py`'s (on `PYTHONPATH`, see [`Tool::start`]);
/// `seed_mode` trusts the file on disk and checks each piece when it is first requested.
const SEED_SCRIPT: &str = r#"
import sys, time
import libtorrent as lt
from lt_common import add, make_session

torrent, save_path, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
scrape = sys.argv[4:] == ['scrape']
next_scrape = 0
cat = lt.alert.category_t
ses = make_session(alerts=cat.error_notification | cat.peer_notification | cat.status_notification
    | cat.tracker_notification)
if scrape:
    # libtorrent 2.0 allows only the path /announce to a tracker on loopback (its SSRF
    # mitigation), which rules out /scrape on 127.0.0.1.
    ses.apply_settings({'ssrf_mitigation': False})
handle = add(ses, torrent, save_path, announce=True, seed_mode=True)
end = time.monotonic() + deadline
said = False
while time.monotonic() < end:
    for alert in ses.pop_alerts():
        print('alert %s: %s' % (type(alert).__name__, alert.message()), flush=True)
        if isinstance(alert, lt.scrape_reply_alert):
            print('scrape complete=%d incomplete=%d' % (alert.complete, alert.incomplete),
                flush=True)
    if not said and handle.status().is_seeding:
        print('libtorrent %s seeding on port %d' % (lt.__version__, ses.listen_port()), flush=True)
        said = True
    if said and scrape and time.monotonic() >= next_scrape:
        handle.scrape_tracker()
        next_scrape = time.monotonic() + 0.3
    time.sleep(0.02)
print('deadline of %gs passed' % deadline, flush=True)
sys.exit(1)
"#;

/// A libtorrent seeder of `torrent`, in `dir/libtorrent`; returns it and its port once our
/// tracker (whose log is `tracker`) has received its announce. `scrape`: it scrapes too.
fn libtorrent_seeder(
    dir: &Path,
    torrent: &Path,
    data: &[u8],
    tracker: &Proc,
    scrape: bool,
) -> (Tool, u16) {
    let save_path = dir.join("libtorrent");
    write_file(&save_path, "sample.bin", data);
    let script = dir.join("seed.py");
    std::fs::write(&script, SEED_SCRIPT).expect("write script");
    let mut args = vec![utf8(&script), utf8(torrent), utf8(&save_path), "180"];
    if scrape {
        args.push("scrape");
    }
    let mut seeder = Tool::start("libtorrent", PYTHON, &args, dir);
    let port: u16 = seeder.wait_for("`seeding on port`", |line| {
        line.split_once(" seeding on port ")?.1.trim().parse().ok()
    });
    tracker.wait_line(
        |l| l.contains("received announce started") && l.contains(&format!("from port {port} ")),
        "libtorrent's announce",
    );
    (seeder, port)
}

/// A swarm in `dir` started by HTTP announces alone: our tracker without metainfo, the
/// sample's torrent announcing to it, and a libtorrent seeder (scraping too with `scrape`).
struct HttpSwarm {
    tracker: Proc,
    addr: SocketAddr,
    url: String,
    torrent: PathBuf,
    metainfo: Metainfo,
    data: Vec<u8>,
    libtorrent: Tool,
    lt_port: u16,
}

fn libtorrent_http_swarm(dir: &Path, scrape: bool) -> HttpSwarm {
    let (file, data) = sample(dir);
    let (tracker, addr) = tracker(dir, &[]);
    let url = format!("http://{addr}/announce");
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &url, &torrent);
    let (libtorrent, lt_port) = libtorrent_seeder(dir, &torrent, &data, &tracker, scrape);
    HttpSwarm {
        tracker,
        addr,
        url,
        torrent,
        metainfo,
        data,
        libtorrent,
        lt_port,
    }
}

#[test]
fn our_leecher_completes_from_a_libtorrent_seeder() {
    if !have_tool(PYTHON, &["-c", "import libtorrent"], "python3-libtorrent") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // Bound whole: the tracker and libtorrent live as long as `swarm`.
    let swarm = libtorrent_http_swarm(dir, false);
    let (url, torrent, data, lt_port) = (&swarm.url, &swarm.torrent, &swarm.data, swarm.lt_port);

    // Our leecher asks the same HTTP endpoint, and learns libtorrent's pieces from its bitfield.
    let leecher = leech_and_check(dir, url, torrent, data, lt_port);
    assert!(leecher.count("handshake done, peer id -LT") > 0);
    eprintln!(
        "our leecher (http announce) completed from libtorrent in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn our_line_protocol_leecher_completes_from_a_libtorrent_seeder() {
    if !have_tool(PYTHON, &["-c", "import libtorrent"], "python3-libtorrent") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, data) = sample(dir);
    // The torrent's announce URL names a port only known once the tracker runs, so the tracker
    // learns the metainfo from a first torrent (same info-hash, no announce URL): with it,
    // libtorrent's `left=0` makes it a seed holding every piece.
    let bare = create_torrent(&file, PIECE_64K, &dir.join("bare.torrent"));
    let (tracker, addr) = tracker(dir, &["--torrent", utf8(&bare)]);
    let torrent = dir.join("sample.torrent");
    let metainfo = create_for(&file, &format!("http://{addr}/announce"), &torrent);
    let (_libtorrent, lt_port) = libtorrent_seeder(dir, &torrent, &data, &tracker, false);

    // The line protocol lists libtorrent with all its pieces.
    let listed = TrackerClient {
        tracker: addr,
        local_ip: None,
    }
    .list(metainfo.info_hash, 1)
    .expect("LIST");
    let entry = listed
        .iter()
        .find(|p| p.port == lt_port)
        .unwrap_or_else(|| panic!("libtorrent is not listed: {listed:?}"));
    assert_eq!(entry.pieces, "0-45");

    let leecher = leech_and_check(dir, addr, &torrent, &data, lt_port);
    assert!(leecher.count("handshake done, peer id -LT") > 0);
    eprintln!(
        "our leecher (line protocol) completed from libtorrent in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn libtorrent_scrapes_our_tracker_and_sees_http_seeds_complete() {
    if !have_tool(PYTHON, &["-c", "import libtorrent"], "python3-libtorrent") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // No metainfo at the tracker: the swarm is started by HTTP announces alone.
    let HttpSwarm {
        tracker,
        addr,
        url,
        torrent,
        metainfo,
        data,
        mut libtorrent,
        lt_port,
    } = libtorrent_http_swarm(dir, true);
    let scraped = |tool: &mut Tool, complete: u32| {
        let line = format!("scrape complete={complete} incomplete=0");
        tool.wait_for(&format!("`{line}`"), |l| (l == line).then_some(()));
    };
    // libtorrent announced `left=0`: a seed, though the tracker cannot count its pieces.
    scraped(&mut libtorrent, 1);
    tracker.wait_for("received scrape for 1 swarm(s), sent 1 known");

    // Our leecher (HTTP announce) completes and says `event=completed`: a second seed, and the
    // swarm's first completion.
    let _leecher = leech_and_check(dir, &url, &torrent, &data, lt_port);
    scraped(&mut libtorrent, 2);
    let hash = metainfo.info_hash.0;
    let reply = exchange(
        addr,
        format!(
            "GET /scrape?info_hash={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            percent_encode(&hash)
        )
        .as_bytes(),
    );
    let (head, body) = reply.split_once("\r\n\r\n").expect("a whole response");
    assert!(head.starts_with("HTTP/1.1 200 "), "{reply:?}");
    let mut expected = b"d5:filesd20:".to_vec();
    expected.extend_from_slice(&hash);
    expected.extend_from_slice(b"d8:completei2e10:downloadedi1e10:incompletei0eeee");
    assert_eq!(body, String::from_utf8_lossy(&expected));
    // The status page draws both complete, neither as unknown (`?`).
    let page = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(page.matches(">100%<").count(), 2, "{page}");
    assert!(!page.contains(">?<"), "{page}");
    eprintln!(
        "libtorrent scraped 1 then 2 seeds in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn transmission_scrapes_our_tracker_and_counts_its_own_seed() {
    if !have_tool("transmission-daemon", &["--version"], "transmission-daemon") {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (file, _) = sample(dir);
    let (tracker, addr) = tracker(dir, &[]);
    let torrent = dir.join("sample.torrent");
    create_for(&file, &format!("http://{addr}/announce"), &torrent);
    // The daemon in the foreground, its settings in `dir/transmission`, the data in `orig` (so
    // it verifies the file and seeds), no DHT, LPD or port mapping, RPC without a password.
    let (rpc, peer_port) = (free_port().to_string(), free_port().to_string());
    let config = dir.join("transmission");
    let _daemon = Tool::start(
        "transmission",
        "transmission-daemon",
        &[
            "--foreground",
            "--config-dir",
            utf8(&config),
            "--download-dir",
            utf8(&dir.join("orig")),
            "--rpc-bind-address",
            "127.0.0.1",
            "--port",
            &rpc,
            "--no-auth",
            "--peerport",
            &peer_port,
            "--no-portmap",
            "--no-dht",
            "--no-lpd",
            "--log-info",
        ],
        dir,
    );
    // One `transmission-remote` a tenth of a second at most, however fast the polls.
    let remote = |args: &[&str]| -> String {
        thread::sleep(Duration::from_millis(100));
        let output = Command::new("transmission-remote")
            .arg(format!("127.0.0.1:{rpc}"))
            .args(args)
            .output()
            .expect("run transmission-remote");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Its RPC port opens a moment after start: add the torrent once it answers.
    eventually("transmission-daemon taking the torrent", || {
        remote(&["--add", utf8(&torrent)]).contains("success")
    });
    // Transmission announces `left=0` once it has checked the file, then scrapes: one seed,
    // though our tracker has no metainfo to count its pieces by.
    eventually("transmission showing the scrape", || {
        remote(&["-t", "1", "--info-trackers"]).contains("Tracker had 1 seeders and 0 leechers")
    });
    tracker.wait_for("received scrape for 1 swarm(s), sent 1 known");
    assert_eq!(
        tracker.count("bad scrape") + tracker.count("bad announce"),
        0
    );
    eprintln!(
        "transmission scraped its own seed in {:.2?}",
        started.elapsed()
    );
}

/// Sends `request` on a new connection and reads until the tracker closes it.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
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
fn swarms(addr: SocketAddr) -> Vec<String> {
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

#[test]
fn tracker_http_rejects_malformed_requests_and_keeps_serving() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (tracker, addr) = tracker(tmp.path(), &[]);
    let info_hash = [0xab; 20];
    let query = format!(
        "info_hash={}&peer_id={}&port=6881&uploaded=0&downloaded=0&left=0&compact=1",
        percent_encode(&info_hash),
        percent_encode(b"-XX0000-000000000000")
    );

    let oversized = |padding: usize| {
        format!(
            "GET /announce?{query} HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
            "a".repeat(padding)
        )
    };
    // Just over the cap, and far over it: the tracker stops reading at the cap, so the client
    // is still sending when the 400 goes out; it must get it all the same.
    let (over, far_over) = (oversized(8 * 1024), oversized(256 * 1024));
    let cases: [(&str, &[u8]); 3] = [
        ("garbage request line", b"GET garbage\r\n\r\n"),
        ("head over 8 KiB", over.as_bytes()),
        ("head of 256 KiB", far_over.as_bytes()),
    ];
    for (what, request) in cases {
        let reply = exchange(addr, request);
        assert!(
            reply.starts_with("HTTP/1.1 400 "),
            "{what}: expected a 400, got {reply:?}"
        );
        assert!(reply.contains("Connection: close"), "{what}: {reply:?}");
    }
    // A well-formed request with a bad query is refused the way clients show: status 200
    // and a bencoded `failure reason`.
    let close = "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let refusals = [
        (
            format!(
                "GET /announce?{} {close}",
                query.split_once('&').expect("pairs").1
            ),
            "bad announce: missing info_hash",
        ),
        (
            format!(
                "GET /announce?{} {close}",
                query.replace("port=6881", "port=0")
            ),
            "bad announce: `port` is not 1-65535",
        ),
        (
            format!("GET /scrape?info_hash=%01 {close}"),
            "bad scrape: `info_hash` is not 20 bytes",
        ),
    ];
    for (request, reason) in &refusals {
        let body = format!("d14:failure reason{}:{reason}e", reason.len());
        let reply = exchange(addr, request.as_bytes());
        assert!(reply.starts_with("HTTP/1.1 200 "), "{request}: {reply:?}");
        assert!(reply.ends_with(&body), "{request}: {reply:?}");
    }
    eventually("the tracker logging the six refusals", || {
        tracker.count("bad http request") == 3
            && tracker.count("bad announce") == 2
            && tracker.count("bad scrape") == 1
    });
    // None of them reached the table.
    assert_eq!(swarms(addr), ["SWARMS 0"]);

    // A valid announce (keep-alive off) still gets a bencoded reply.
    let reply = exchange(
        addr,
        format!("GET /announce?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply:?}");
    let parsed = parse_reply(reply.as_bytes()).expect("a bencoded announce reply");
    assert!(parsed.peers.is_empty());
    tracker.wait_for("received announce update");
    // A second client asking for dictionaries (`compact=0`) gets BEP 3's `peer id` too.
    let reply = exchange(
        addr,
        format!(
            "GET /announce?{} {close}",
            query
                .replace("port=6881", "port=6882")
                .replace("compact=1", "compact=0")
        )
        .as_bytes(),
    );
    assert!(
        reply.ends_with("5:peersld2:ip9:127.0.0.17:peer id20:-XX0000-0000000000004:porti6881eeee"),
        "{reply:?}"
    );
    // ... and the line protocol still answers, now knowing the announced swarm.
    let hash = InfoHash(info_hash);
    assert_eq!(
        swarms(addr),
        ["SWARMS 1".to_string(), format!("SWARM {hash} 0 2 -")]
    );
}
