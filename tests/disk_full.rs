//! A full disk (issue 16.6): the leecher's directory is a 1 MiB tmpfs and the file 4 MiB. The
//! first piece that cannot be written pauses downloads with one error line; the leecher then
//! stops asking, so the seed stops sending (before the fix: thousands of warnings and the seed
//! sending many times the file). Needs root for `mount -t tmpfs`; skipped loudly otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .ok()?;
        status.success().then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_pauses_downloads_with_one_error_and_the_seed_stops_sending() {
    let s = sample(4 << 20, 13, 64 * 1024, "seed", "s.torrent");
    let disk = s.dir.path().join("small-disk");
    let Some(_tmpfs) = Tmpfs::mount(&disk, "1m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs (needs root): the disk-full test did not run");
        return;
    };
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (seed, _) = s.seed("seed", addr, &[]);
    let torrent = s.torrent.to_string_lossy().into_owned();
    let dir = disk.to_string_lossy().into_owned();
    let args = [
        "--torrent",
        &torrent,
        "--dir",
        &dir,
        "--min-peers",
        "1",
        "--round-interval",
        "0",
    ];
    let (leecher, _) = peer("leecher", s.dir.path(), addr, &args);
    leecher.wait_for("disk full writing");
    // what was in flight lands or is cancelled; then nothing more is sent
    let mut sent = seed.count("send piece");
    let settled = Instant::now() + DEADLINE;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = seed.count("send piece");
        if now == sent {
            break;
        }
        assert!(Instant::now() < settled, "the seed keeps sending");
        sent = now;
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(seed.count("send piece"), sent, "the seed sent more blocks");
    assert_eq!(leecher.count("disk full writing"), 1, "one error line");
    let warnings = leecher.count("not fetched");
    assert!(warnings < 10, "{warnings} warnings");
    let blocks_for_the_file = (4 << 20) / (16 * 1024);
    assert!(
        sent < 2 * blocks_for_the_file,
        "the seed sent {sent} blocks for a file of {blocks_for_the_file}"
    );
    assert!(
        leecher.count("downloads paused; serving what we have") == 1,
        "the error line says what happens"
    );
}
