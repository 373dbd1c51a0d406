//! Protocol encryption (MSE) between our own peers, real processes on loopback: two peers that
//! require it complete a download over RC4; `prefer` falls back to a plain handshake with a
//! peer that has encryption off, and `allow` to an encrypted one with a peer that requires it;
//! a plain-only peer is refused by one that requires encryption (and the other way round), and
//! backs off instead of reconnecting in a storm.

mod common;

use std::time::Instant;

use common::*;

/// A small sample (8 pieces of 16 KiB, the last one short) and its torrent.
fn small() -> Sample {
    sample(8 * PIECE - 100, 11, PIECE, "orig", "sample.torrent")
}

/// A seed with `--encryption SEED` and a leecher with `--encryption LEECHER`: the leecher
/// completes, with an identical copy; returns both for the log checks.
fn download(seed: &str, leecher: &str) -> (Proc, Proc) {
    let s = small();
    let (tracker, addr) = tracker(s.dir.path(), &[]);
    let (seed, _) = s.seed("seed", addr, &["--encryption", seed]);
    let (leecher, _) = s.peer("leecher", addr, &["--encryption", leecher]);
    leecher.wait_for("download complete");
    assert!(s.copy("leecher") == s.data, "the downloaded copy differs");
    drop(tracker);
    (seed, leecher)
}

#[test]
fn two_peers_requiring_encryption_complete_a_download_over_rc4() {
    let (seed, leecher) = download("require", "require");
    assert!(leecher.count("(encrypted, rc4)") > 0);
    assert!(seed.count("(encrypted, rc4)") > 0);
    assert_eq!(leecher.count("(plain)"), 0);
    assert_eq!(seed.count("(plain)"), 0);
}

#[test]
fn prefer_falls_back_to_plain_with_a_peer_that_has_encryption_off() {
    let (seed, leecher) = download("off", "prefer");
    assert!(seed.count("encrypted handshake refused (--encryption off)") > 0);
    leecher.wait_for("encrypted handshake failed");
    assert!(leecher.count("(plain)") > 0);
}

#[test]
fn allow_retries_encrypted_with_a_peer_that_requires_it() {
    let (seed, leecher) = download("require", "allow");
    assert!(seed.count("plain handshake refused (--encryption require)") > 0);
    leecher.wait_for("plain handshake failed");
    assert!(leecher.count("(encrypted, rc4)") > 0);
}

/// A seed with `--encryption SEED` refuses every handshake of a leecher with `--encryption
/// LEECHER`: the leecher's dials fail, and each failure doubles its rest (1 s, then 2 s)
/// instead of a storm of reconnections. `refusal`: the seed's log line.
fn refused_and_backed_off(seed: &str, leecher: &str, refusal: &str) {
    let s = small();
    let (_tracker, addr) = tracker(s.dir.path(), &[]);
    let (seed, seed_addr) = s.seed("seed", addr, &["--encryption", seed]);
    let (leecher, _) = s.peer("leecher", addr, &["--encryption", leecher]);
    let failed = |n: u32| {
        let needle = format!("{seed_addr}: connection failed");
        move |l: &str| l.contains(&needle) && l.contains(&format!(" {n} in a row"))
    };
    let first = leecher.wait_line(failed(1), "the first failed connection to the seed");
    let started = Instant::now();
    leecher.wait_line(failed(2), "the second failed connection to the seed");
    // The second dial waited out the first rest (1 s).
    assert!(started.elapsed().as_millis() >= 900, "{first}");
    let refused = seed.count(refusal);
    assert!((1..=3).contains(&refused), "{refused} refusals");
    assert_eq!(leecher.count("download complete"), 0);
    assert_eq!(leecher.count("handshake done"), 0);
}

#[test]
fn a_plain_peer_is_refused_by_one_requiring_encryption_and_backs_off() {
    refused_and_backed_off(
        "require",
        "off",
        "plain handshake refused (--encryption require)",
    );
}

#[test]
fn a_peer_requiring_encryption_is_refused_by_a_plain_one_and_backs_off() {
    refused_and_backed_off(
        "off",
        "require",
        "encrypted handshake refused (--encryption off)",
    );
}
