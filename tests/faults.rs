//! Faults: a leecher killed (SIGKILL) mid-download and in the middle of its disk writes,
//! restarted on the same directory, resumes from what verifies on disk; a seed killed in the
//! middle of an upload while another seed exists; a holder that stops answering (SIGSTOP) is
//! timed out and its downloaders move on. In every case the swarm completes and no copy ends
//! corrupt.
//!
//! Also covered elsewhere: a killed peer leaving the tracker's list (`swarm.rs`,
//! `a_killed_peer_leaves_the_list_and_downloads_go_on_from_others`) and the tracker killed and
//! restarted (`swarm.rs`, `a_restarted_tracker_gets_its_table_back_and_complete_peers_keep_reporting`).

mod common;

use std::path::Path;
use std::time::Instant;

use common::*;

/// A sample file of `pieces` pieces of [`PIECE`] bytes (the last one shorter) and its torrent.
fn swarm(pieces: usize) -> Sample {
    sample(pieces * PIECE - 300, 99, PIECE, "orig", "s.torrent")
}

/// `N` and `M` of the start-up line `checked ...: N of M pieces verify`.
fn verify_line(proc: &Proc) -> (usize, usize) {
    let line = proc.wait_for(" pieces verify");
    let words: Vec<&str> = line.split_whitespace().collect();
    let of = words.iter().position(|w| *w == "of").expect("of");
    let n = words[of - 1].parse().expect("N");
    let m = words[of + 1].parse().expect("M");
    (n, m)
}

/// Zeroes the second half of piece `index`: a write the kill cut short.
fn tear(file: &Path, index: usize) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .expect("open copy");
    f.write_all_at(&[0u8; PIECE / 2], (index * PIECE + PIECE / 2) as u64)
        .expect("tear");
}

#[test]
fn a_leecher_killed_mid_download_resumes_from_what_verifies_on_disk() {
    const PIECES: usize = 300; // 4.8 MB
    let s = swarm(PIECES);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (_seed, _) = s.seed("seed", addr, &[]);
    let (mut leecher, _) = s.peer("leecher", addr, &["--parallel", "4"]);
    eventually("30 pieces downloaded", || {
        verified_pieces(&leecher).len() >= 30
    });
    leecher.signal("KILL"); // in the middle of fetches and writes of 4 pieces at once
    leecher.kill();
    let before = verified_pieces(&leecher);
    assert!(before.len() < PIECES, "complete before the kill");
    // A piece whose write the kill cut in half.
    let torn = before[0].0 as usize;
    tear(&s.file("leecher"), torn);

    let started = Instant::now();
    let args = s.peer_args("leecher", &["--min-peers", "1", "--parallel", "4"]);
    let (restarted, _) = peer("leecher-restarted", s.dir.path(), addr, &args);
    let (n, m) = verify_line(&restarted);
    eprintln!(
        "killed after {} pieces; on restart {n} of {m} verify",
        before.len()
    );
    assert!(0 < n && n < m, "{n} of {m}");
    assert_eq!(m, PIECES);
    // Every piece logged before the kill verifies, except the torn one.
    assert!(
        n + 1 >= before.len(),
        "{n} verify, {} were logged",
        before.len()
    );
    restarted.wait_for("download complete");
    let fetched: Vec<u32> = verified_pieces(&restarted).iter().map(|p| p.0).collect();
    assert_eq!(fetched.len(), m - n, "only the rest is fetched");
    assert!(
        fetched.contains(&(torn as u32)),
        "the torn piece is fetched again"
    );
    assert!(s.copy("leecher") == s.data, "the resumed copy is identical");
    eprintln!("resumed and completed in {:.2?}", started.elapsed());
}

#[test]
fn a_seed_killed_mid_upload_is_replaced_by_the_other_seed() {
    let s = swarm(60);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // Every message of the first seed is held back 20 ms, so a piece takes a while to upload.
    let (mut first, first_addr) = s.seed("seed-1", addr, &["--slow-motion", "20ms"]);
    let (leecher, _) = s.peer("leecher", addr, &[]);
    let from_first = format!("fetching from {first_addr}");
    eventually("5 pieces from the first seed", || {
        verified_pieces(&leecher).len() >= 5
    });
    let (_second, _) = s.seed("seed-2", addr, &[]);
    // Kill while a fetch from the first seed is under way: its latest round picked it.
    let picks = leecher.count(&from_first);
    eventually("a new fetch from the first seed", || {
        leecher.count(&from_first) > picks
    });
    first.signal("KILL");
    first.kill();
    let killed_at = verified_pieces(&leecher).len();
    leecher.wait_for("download complete");
    assert!(s.copy("leecher") == s.data);
    let after: Vec<String> = verified_pieces(&leecher)[killed_at..]
        .iter()
        .map(|p| p.1.clone())
        .collect();
    // At most the piece whose last block left before the kill (its log line may come later).
    let from_killed = after
        .iter()
        .filter(|from| from.ends_with(&format!(":{}", first_addr.port())))
        .count();
    assert!(from_killed <= 1, "{after:?}");
    eprintln!(
        "killed the uploading seed after {killed_at} pieces; {} came from the other",
        after.len()
    );
}

#[test]
fn a_stopped_holder_is_timed_out_and_its_downloaders_move_on() {
    let s = swarm(40);
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    // The first seed holds every message back 100 ms: a fetch from it is under way long
    // enough to be caught by the SIGSTOP.
    let (stopped, stopped_addr) = s.seed("seed-1", addr, &["--slow-motion", "100ms"]);
    // The second seed uploads slowly, so the leecher is still fetching from both when the
    // first stops (a full pipeline from a fast second seed would finish the file first).
    let (_other, _) = s.seed("seed-2", addr, &["--upload-rate", "128KiB/s"]);
    let timeouts = ["--stall-timeout", "500ms", "--handshake-timeout", "500ms"];
    let (leecher, _) = s.peer(
        "leecher",
        addr,
        &[&["--parallel", "2"], &timeouts[..]].concat(),
    );
    // Asked from the seed's side: the connection may be the one the seed dialled, which the
    // leecher's log names by its source port.
    eventually("a block requested from the first seed", || {
        stopped.count(": received request") > 0
    });
    stopped.signal("STOP");
    let started = Instant::now();
    // The fetch under way stalls; later connections to it time out in the handshake.
    leecher.wait_for("no block for 500ms while fetching");
    let noticed = started.elapsed();
    leecher.wait_for("download complete");
    let took = started.elapsed();
    stopped.signal("CONT");
    assert!(s.copy("leecher") == s.data);
    let gone = format!("{stopped_addr}: connection closed");
    eprintln!(
        "stall noticed {noticed:.2?} and download complete {took:.2?} after the SIGSTOP; \
         {} connections to the stopped seed closed",
        leecher.count(&gone)
    );
    assert!(noticed < std::time::Duration::from_secs(3), "{noticed:?}");
}
