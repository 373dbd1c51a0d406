//! What the cases of `tests/interop_multifile.rs` share: the folder and its files, `create`
//! and `mktorrent` of it, our seeder and leecher, the tracker's status page and the libtorrent
//! scripts. No test here; running the other clients is `tests/common/tool.rs` and
//! `tests/common/interop.rs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bittorrent_sim::metainfo::Metainfo;

use crate::common::interop::exchange;
use crate::common::tool::utf8;
use crate::common::*;

/// The folder's files: (path under the folder, length). Sorted as `create` sorts them.
pub const FILES: [(&str, usize); 3] = [("a.bin", 40_000), ("m/one.bin", 1), ("z/last.bin", 70_000)];
pub const TOTAL: usize = 110_001;
pub const PIECE_LEN: usize = 16 * 1024;
pub const PIECES: u32 = TOTAL.div_ceil(PIECE_LEN) as u32;
/// How long a real client or our leecher may take to download the folder.
pub const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(60);

/// Each file of the folder: its path under the folder, and its bytes.
pub type Files = Vec<(&'static str, Vec<u8>)>;

/// Writes the folder `dir/shared` (and, with `empty`, a zero-length `empty.txt`); returns it
/// and each file's bytes.
pub fn folder(dir: &Path, empty: bool) -> (PathBuf, Files) {
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
pub fn assert_same(root: &Path, files: &[(&str, Vec<u8>)], who: &str) {
    for (path, data) in files {
        let copy = std::fs::read(root.join(path))
            .unwrap_or_else(|e| panic!("{who}: cannot read {path}: {e}"));
        assert!(copy == *data, "{who}: {path} differs from the original");
    }
}

/// `bittorrent-sim create DIR --piece-length 16KiB [--tracker T] -o OUT`, read back.
pub fn create(root: &Path, tracker: Option<&str>, out: &Path) -> Metainfo {
    let meta = crate::common::interop::create(root, "16KiB", tracker, out);
    assert_eq!((meta.name.as_str(), meta.num_pieces()), ("shared", PIECES));
    meta
}

/// `mktorrent -l 15 -a ANNOUNCE -o OUT DIR`: a folder torrent made by another tool, in pieces
/// of 32 KiB (mktorrent's smallest): piece 1 (32 768..65 536) spans all three files.
pub fn mktorrent(root: &Path, announce: &str, out: &Path) -> Metainfo {
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

/// Our seeder of `root` (`--seed DIR`, 16 KiB pieces) on `tracker`; returns it and its port.
pub fn our_seeder(
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
pub fn our_leecher(dir: &Path, tracker: impl std::fmt::Display, extra: &[&str]) -> Proc {
    let out = dir.join("leecher");
    let mut args = vec!["--dir", utf8(&out), "--min-peers", "1"];
    args.extend(["--round-interval", "0", "--parallel", "4"]);
    args.extend_from_slice(extra);
    let (leecher, _) = peer("leecher", dir, tracker, &args);
    leecher.wait_for("download complete: ");
    leecher
}

/// The tracker's status page, fetched over HTTP from its own port.
pub fn status_page(addr: SocketAddr) -> String {
    exchange(addr, b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
}

/// A foreign torrent (mktorrent) announcing to our tracker, a folder copy in `DIR/seed/shared`
/// for the other client to seed from, and the tracker.
pub fn foreign_swarm(dir: &Path) -> (Proc, String, PathBuf, Files) {
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

/// libtorrent downloads TORRENT into SAVE_PATH from our seeder at 127.0.0.1:PORT
/// (`connect_peer`; the torrent has no announce URL), exits 0 once seeding: the set-up of an
/// `interop::libtorrent_script` with the step `EXIT_WHEN_SEEDING`.
pub const DOWNLOAD_SETUP: &str = r#"
torrent, save_path, port, deadline = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ses = make_session(alerts=lt.alert.category_t.error_notification)
handle = add(ses, torrent, save_path, announce=True)
handle.connect_peer(('127.0.0.1', port))
"#;

/// libtorrent seeds TORRENT from SAVE_PATH (`seed_mode`: trusts the files, checks each piece
/// when first asked for it), announcing to the torrent's tracker, until killed or DEADLINE: the
/// set-up of an `interop::libtorrent_script` with no step.
pub const SEED_SETUP: &str = r#"
torrent, save_path, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
ses = make_session(alerts=lt.alert.category_t.error_notification)
handle = add(ses, torrent, save_path, announce=True, seed_mode=True)
"#;
