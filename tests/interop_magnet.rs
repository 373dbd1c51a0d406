//! Magnet links with real BitTorrent clients, over real sockets on loopback:
//!
//! - libtorrent (`python3-libtorrent`) joins from a magnet link alone (no .torrent): the
//!   metadata comes from our seed (BEP 9), found through our tracker's HTTP announce, and
//!   the download too;
//! - aria2 does the same;
//! - our magnet leecher fetches the metadata from a libtorrent seed, then the file.
//!
//! Every child runs on a free port of 127.0.0.1 (libtorrent with uTP off and several
//! connections per IP allowed: `bench/lt_common.py`), every wait polls against a deadline, and
//! every child is killed when its test ends, on failure too (its output is then printed). A
//! missing tool skips its test with a `SKIPPED:` line on stderr, or fails it when `CI=true`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bittorrent_sim::magnet::Magnet;
use common::interop::{
    DOWNLOAD_DEADLINE, EXIT_WHEN_SEEDING, PIECE_64K, SAY_SEEDING_PORT, aria2, create,
    libtorrent_script, libtorrent_seeding,
};
use common::tool::{Tool, aria2_installed, libtorrent_installed, utf8};
use common::*;

/// 12 pieces of 64 KiB, the last one short.
const FILE_LEN: usize = 11 * PIECE_64K + 4321;

/// Our tracker and our seed of a fresh sample file; the magnet link the seed logs (its `tr=`
/// is the tracker's HTTP side), the seed's port and the file's bytes.
struct OurSwarm {
    tracker: Proc,
    seed: Proc,
    seed_port: u16,
    magnet: String,
    data: Vec<u8>,
}

fn our_swarm(dir: &Path) -> OurSwarm {
    let data = sample_bytes(FILE_LEN, 0x3a6);
    let file = write_file(&dir.join("orig"), "sample.bin", &data);
    let (tracker, addr) = tracker(dir, &[]);
    let (seed, seed_port) = peer(
        "seed",
        dir,
        addr,
        &["--seed", utf8(&file), "--piece-length", "64KiB"],
    );
    let line = seed.wait_for("magnet link: magnet:?");
    let magnet = line[line.find("magnet:?").expect("link")..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string();
    let parsed = Magnet::parse(&magnet).expect("a valid link");
    assert_eq!(parsed.trackers, [format!("http://{addr}/announce")]);
    OurSwarm {
        tracker,
        seed,
        seed_port,
        magnet,
        data,
    }
}

/// The libtorrent side of a magnet download, the set-up of a [`libtorrent_script`]: adds the
/// link (no .torrent) with `save_path`, and also `connect_peer`s our seed so as not to wait for
/// its announce; prints `metadata` once it has the info dictionary ([`SAY_METADATA`]) and
/// `complete` once it seeds.
const MAGNET_SETUP: &str = r#"
uri, save_path, host, port, deadline = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
cat = lt.alert.category_t
ses = make_session(alerts=cat.error_notification | cat.status_notification)
atp = lt.parse_magnet_uri(uri)
atp.save_path = save_path
handle = ses.add_torrent(atp)
handle.connect_peer((host, port))
print('libtorrent %s: magnet link added' % lt.__version__, flush=True)
"#;

/// A [`libtorrent_script`] step: prints `metadata: NAME, N pieces` once.
const SAY_METADATA: &str = r#"    if status.has_metadata and not said:
        print('metadata: %s, %d pieces' % (status.name, handle.torrent_file().num_pieces()), flush=True)
        said = True
"#;

#[test]
fn libtorrent_joins_from_a_magnet_link_with_metadata_from_our_seed() {
    if !libtorrent_installed() {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let swarm = our_swarm(dir);
    let save_path = dir.join("libtorrent");
    std::fs::create_dir(&save_path).expect("mkdir");
    let port = swarm.seed_port.to_string();
    let deadline = DOWNLOAD_DEADLINE.as_secs().to_string();
    let mut libtorrent = Tool::script(
        "libtorrent",
        "magnet.py",
        &libtorrent_script(MAGNET_SETUP, &[SAY_METADATA, EXIT_WHEN_SEEDING].concat()),
        &[
            &swarm.magnet,
            utf8(&save_path),
            "127.0.0.1",
            &port,
            &deadline,
        ],
        dir,
    );
    let status = libtorrent.wait_exit(DOWNLOAD_DEADLINE + Duration::from_secs(30));
    assert!(status.success(), "libtorrent did not complete: {status}");
    assert!(
        libtorrent
            .output()
            .contains("metadata: sample.bin, 12 pieces")
    );
    let copy = std::fs::read(save_path.join("sample.bin")).expect("libtorrent's copy");
    assert!(
        copy == swarm.data,
        "libtorrent's copy differs from the original"
    );
    // Our seed is the only peer there is: the metadata came from it.
    assert!(swarm.seed.count("handshake done, peer id -LT") > 0);
    drop(swarm.tracker);
    eprintln!(
        "libtorrent joined from a magnet link in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn aria2c_joins_from_a_magnet_link_with_metadata_from_our_seed() {
    if !aria2_installed() {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let swarm = our_swarm(dir);
    let out = dir.join("aria2");
    std::fs::create_dir(&out).expect("mkdir");
    // Only the link's tracker finds peers; it stops once complete.
    let args = [
        "--bt-metadata-only=false",
        "--bt-save-metadata=false",
        "--seed-time=0",
        "--dir",
        utf8(&out),
        &swarm.magnet,
    ];
    let mut aria2 = aria2(dir, free_port(), &args);
    let status = aria2.wait_exit(DOWNLOAD_DEADLINE);
    assert!(status.success(), "aria2c failed: {status}");
    let copy = std::fs::read(out.join("sample.bin")).expect("aria2's copy");
    assert!(copy == swarm.data, "aria2's copy differs from the original");
    assert!(swarm.seed.count("handshake done, peer id A2-") > 0);
    drop(swarm.tracker);
    eprintln!(
        "aria2c joined from a magnet link in {:.2?}",
        started.elapsed()
    );
}

/// A libtorrent seed of `torrent` announcing to its tracker, the set-up of a
/// [`libtorrent_script`] that prints `seeding on port N`.
const SEED_SETUP: &str = r#"
torrent, save_path, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
ses = make_session()
handle = add(ses, torrent, save_path, announce=True, seed_mode=True)
"#;

#[test]
fn our_magnet_leecher_fetches_the_metadata_from_a_libtorrent_seed() {
    if !libtorrent_installed() {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 0x51);
    let save_path = dir.join("libtorrent");
    let file = write_file(&save_path, "sample.bin", &data);
    let (tracker, addr) = tracker(dir, &[]);
    let url = format!("http://{addr}/announce");
    let torrent = dir.join("sample.torrent");
    let meta = create(&file, "64KiB", Some(&url), &torrent);

    let args = [utf8(&torrent), utf8(&save_path), "180"];
    let seed = libtorrent_script(SEED_SETUP, SAY_SEEDING_PORT);
    let mut seed = Tool::script("libtorrent", "seed.py", &seed, &args, dir);
    let lt_port = libtorrent_seeding(&mut seed, &tracker);

    // Only the info-hash and the tracker: the metadata must come from libtorrent.
    let uri = Magnet {
        info_hash: meta.info_hash,
        name: None,
        trackers: vec![url],
    }
    .to_uri();
    let out = dir.join("magnet");
    let mut args: Vec<String> = ["peer", "--port", "0", "--bind", "127.0.0.1"]
        .map(String::from)
        .to_vec();
    args.extend(FAST.map(String::from));
    args.extend(
        [
            "--magnet",
            &uri,
            "--dir",
            utf8(&out),
            "--min-peers",
            "1",
            "--exit-when-complete",
        ]
        .map(String::from),
    );
    let mut leecher = Proc::start("magnet", dir, &args, &[]);
    let status = leecher.wait_exit();
    if status != Some(0) {
        leecher.dump();
    }
    assert_eq!(status, Some(0), "our magnet leecher did not complete");
    let verified = leecher.wait_for("metadata verified");
    assert!(
        verified.contains(&format!("127.0.0.1:{lt_port}")),
        "{verified}"
    );
    let copy = std::fs::read(out.join("sample.bin")).expect("our copy");
    assert!(copy == data, "our copy differs from the original");
    eprintln!(
        "our magnet leecher completed from libtorrent in {:.2?}",
        started.elapsed()
    );
}
