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

use std::path::Path;
use std::time::Duration;

use common::interop::{
    EXIT_WHEN_SEEDING, PIECE_64K, SAY_SEEDING_PORT, create, libtorrent_script, libtorrent_seeding,
};
use common::tool::{Tool, libtorrent_installed, utf8};
use common::*;

/// How long libtorrent's script may run (its own deadline) and then how much longer it lives.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(60);
const SCRIPT_SLACK: Duration = Duration::from_secs(15);
/// 12 pieces of 64 KiB, the last one short.
const FILE_LEN: usize = 11 * PIECE_64K + 4_321;

/// libtorrent with encryption forced, RC4 only: `lt.py MODE TORRENT DIR DEADLINE [HOST PORT]`,
/// the set-up of a [`libtorrent_script`]. MODE `leech` downloads from HOST:PORT
/// (`connect_peer`) and exits 0 once complete; MODE `seed` seeds DIR, announcing to the
/// torrent's tracker, and prints its port.
const SETUP: &str = r#"
mode, torrent, save_path, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
cat = lt.alert.category_t
ses = make_session(alerts=cat.error_notification | cat.peer_notification | cat.status_notification,
                   forced_encryption=True)
handle = add(ses, torrent, save_path, announce=(mode == 'seed'), seed_mode=(mode == 'seed'))
if mode == 'leech':
    handle.connect_peer((sys.argv[5], int(sys.argv[6])))
"#;

/// The libtorrent script in MODE (`args[0]`) with `args`, its output in `DIR/libtorrent.log`.
fn libtorrent(dir: &Path, args: &[&str]) -> Tool {
    let step = match args[0] {
        "leech" => EXIT_WHEN_SEEDING,
        _ => SAY_SEEDING_PORT,
    };
    let script = libtorrent_script(SETUP, step);
    Tool::script("libtorrent", "lt.py", &script, args, dir)
}

#[test]
fn libtorrent_forcing_encryption_downloads_from_our_seed() {
    if !libtorrent_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 5);
    let file = write_file(&dir.join("seed"), "sample.bin", &data);
    let torrent = dir.join("sample.torrent");
    create(&file, "64KiB", None, &torrent);
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
    let mut lt = libtorrent(dir, &args);
    let status = lt.wait_exit(SCRIPT_DEADLINE + SCRIPT_SLACK);
    assert!(status.success(), "libtorrent did not complete: {status}");
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
    if !libtorrent_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 6);
    let file = write_file(&dir.join("libtorrent"), "sample.bin", &data);
    let (tracker, addr) = tracker(dir, &[]);
    let url = format!("http://{addr}/announce");
    let torrent = dir.join("sample.torrent");
    create(&file, "64KiB", Some(&url), &torrent);
    let deadline = SCRIPT_DEADLINE.as_secs().to_string();
    let save = dir.join("libtorrent");
    let mut lt = libtorrent(dir, &["seed", utf8(&torrent), utf8(&save), &deadline]);
    let lt_port = libtorrent_seeding(&mut lt, &tracker);
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
