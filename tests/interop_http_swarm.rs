//! Swarms started by HTTP announces, with real clients, over real sockets on loopback:
//!
//! - our leecher downloads from a libtorrent seeder (`python3-libtorrent`), having found it
//!   through our tracker, over HTTP announce and over our line protocol;
//! - libtorrent and Transmission's daemon scrape our tracker (BEP 48) and see HTTP seeds counted
//!   complete in a swarm the tracker has no metainfo for.
//!
//! Every child runs on a free port of 127.0.0.1, every wait polls against a deadline, and every
//! child is killed when its test ends, on failure too (its output is then printed). A missing
//! tool skips its test with a message on stderr, or fails it when `CI=true` (`have_tool`).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::tracker_client::TrackerClient;
use bittorrent_sim::tracker::http::percent_encode;
use common::interop::*;
use common::tool::{Tool, utf8};
use common::*;

/// The libtorrent side: seeds the torrent from `save_path` (which holds the whole file) and
/// announces to the torrent's tracker, until killed or past its own deadline. With a fourth
/// argument `scrape` it also scrapes the tracker every 300 ms once seeding (BEP 48, the URL
/// libtorrent derives from the announce URL) and prints `scrape complete=C incomplete=I`.
/// The session settings are `bench/lt_common.py`'s (on `PYTHONPATH`, see [`Tool::script`]);
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
    let mut args = vec![utf8(torrent), utf8(&save_path), "180"];
    if scrape {
        args.push("scrape");
    }
    let mut seeder = Tool::script("libtorrent", "seed.py", SEED_SCRIPT, &args, dir);
    let port = libtorrent_seeding(&mut seeder, tracker);
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
    let (file, data) = interop_sample(dir);
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
    let (file, data) = interop_sample(dir);
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
    let (file, _) = interop_sample(dir);
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
