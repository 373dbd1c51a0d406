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
//!
//! The shared set-up is `interop_multifile/support.rs`.

mod common;
#[path = "interop_multifile/support.rs"]
mod support;

use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::Duration;

use common::interop::{EXIT_WHEN_SEEDING, aria2, libtorrent_script};
use common::tool::{Tool, aria2_installed, libtorrent_installed, mktorrent_installed, utf8};
use common::*;
use support::*;

#[test]
fn our_peers_seed_and_download_a_folder_through_our_tracker() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (root, files) = folder(dir, true);
    let (tracker, addr) = tracker(dir, &[]);
    // Seeding `.` from inside the folder: named after it, its tracker key kept outside it.
    let args = ["--seed", ".", "--piece-length", "16KiB", "--min-peers", "1"];
    let (seeder, _) = peer("seeder", &root, addr, &args);
    seeder.wait_for("shared (a folder of 4 files");
    assert!(dir.join(".bittorrent-sim-key").exists());
    assert!(
        !root.join(".bittorrent-sim-key").exists(),
        "key inside the shared folder"
    );
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
    if !libtorrent_installed() {
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
    let port = port.to_string();
    let deadline = DOWNLOAD_DEADLINE.as_secs().to_string();
    let args = [utf8(&torrent), utf8(&save), &port, &deadline];
    let script = libtorrent_script(DOWNLOAD_SETUP, EXIT_WHEN_SEEDING);
    let mut lt = Tool::script("libtorrent", "download.py", &script, &args, dir);
    let status = lt.wait_exit(DOWNLOAD_DEADLINE + Duration::from_secs(20));
    assert!(status.success(), "libtorrent did not complete: {status}");
    assert_same(&save.join("shared"), &files, "libtorrent");
    assert!(seeder.count("handshake done, peer id -LT") > 0);
    drop(tracker);
}

#[test]
fn aria2_downloads_a_folder_from_our_seeder() {
    if !aria2_installed() {
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
    let args = ["--seed-time=0", "--dir", utf8(&out), utf8(&torrent)];
    let mut aria2 = aria2(dir, free_port(), &args);
    let status = aria2.wait_exit(DOWNLOAD_DEADLINE);
    assert!(status.success(), "aria2c failed: {status}");
    assert_same(&out.join("shared"), &files, "aria2");
    assert!(seeder.count("handshake done, peer id A2-") > 0);
}

#[test]
fn our_leecher_downloads_a_folder_from_a_libtorrent_seed() {
    if !libtorrent_installed() || !mktorrent_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (tracker, url, torrent, files) = foreign_swarm(dir);
    let seed_dir = dir.join("seed");
    let deadline = (DOWNLOAD_DEADLINE.as_secs() * 2).to_string();
    let args = [utf8(&torrent), utf8(&seed_dir), &deadline];
    let script = libtorrent_script(SEED_SETUP, "");
    let lt = Tool::script("libtorrent", "seed.py", &script, &args, dir);
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
    if !aria2_installed() || !mktorrent_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (tracker, url, torrent, files) = foreign_swarm(dir);
    // aria2 checks the folder (-V), then seeds it for as long as this test runs.
    let seed_dir = dir.join("seed");
    let args = [
        "-V",
        "--seed-ratio=0.0",
        "--dir",
        utf8(&seed_dir),
        utf8(&torrent),
    ];
    let aria2 = aria2(dir, free_port(), &args);
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
    symlink("/etc/hostname", root.join("link")).expect("symlink");
    let run = Command::new(BIN)
        .args(["create", utf8(&root), "-o", utf8(&dir.join("x.torrent"))])
        .output()
        .expect("run create");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("link: is a symbolic link"), "{stderr}");
}
