//! Non-canonical `.torrent` files (issue 16, item 9), golden bytes written by hand: keys out of
//! order and a key repeated with the same value are read with a warning, the info-hash taken
//! over the `info` bytes as found (the values below were computed with Python's hashlib, not by
//! the code under test); a key repeated with another value is refused.

mod common;

use std::process::{Command, Stdio};

use bittorrent_sim::bencode::{self, NonCanonical};
use bittorrent_sim::metainfo::Metainfo;
use common::{BIN, free_port, write_file};

/// SHA-1 of the 5-byte file `hello`, its only piece.
const PIECE: &str = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
/// SHA-1 of [`info_unsorted`]'s bytes, as found.
const HASH_AS_FOUND: &str = "f7ba5f51e61eab68c3f52a610b7274edf27e7060";
/// SHA-1 of the same dictionary with its keys sorted: what a client that re-encodes would get.
const HASH_IF_SORTED: &str = "0eb2d544ef0c9ae3c0fbba90a71cd742a44aa81d";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// `info` with `name` before `length` (sorted, `length` comes first).
fn info_unsorted() -> Vec<u8> {
    let mut b = b"d4:name9:hello.txt6:lengthi5e12:piece lengthi16384e6:pieces20:".to_vec();
    b.extend(unhex(PIECE));
    b.push(b'e');
    b
}

/// A whole torrent, `info` before `announce` (unsorted at the top level too).
fn torrent(info: &[u8], announce: &str) -> Vec<u8> {
    let mut b = b"d4:info".to_vec();
    b.extend(info);
    b.extend(format!("8:announce{}:{announce}e", announce.len()).as_bytes());
    b
}

#[test]
fn unsorted_keys_are_read_and_the_info_hash_is_over_the_bytes_as_found() {
    let bytes = torrent(&info_unsorted(), "http://127.0.0.1:1/announce");
    // The strict decoder refuses it (what `peer --torrent` did before: exit 65).
    assert!(bencode::decode(&bytes).is_err());
    let meta = Metainfo::from_bytes(&bytes).expect("read with a warning");
    assert_eq!(meta.info_hash.to_hex(), HASH_AS_FOUND);
    assert_ne!(meta.info_hash.to_hex(), HASH_IF_SORTED);
    assert_eq!(meta.name, "hello.txt");
    assert_eq!((meta.length, meta.piece_length), (5, 16384));
    assert_eq!(
        meta.piece_hashes,
        vec![<[u8; 20]>::try_from(unhex(PIECE)).unwrap()]
    );
    assert_eq!(
        meta.announce.as_deref(),
        Some("http://127.0.0.1:1/announce")
    );
    // Kept as read, so a PUBLISH or a copy hands on the same info-hash.
    assert_eq!(meta.as_bytes(), bytes.as_slice());

    let read = bencode::decode_lenient(&bytes).unwrap();
    assert_eq!(
        read.notes,
        vec![
            // `length` at byte 32 inside the info dictionary, `announce` after it at the top.
            NonCanonical::UnsortedKey {
                offset: 7 + 18,
                key: "length".into()
            },
            NonCanonical::UnsortedKey {
                offset: 7 + info_unsorted().len(),
                key: "announce".into()
            },
        ]
    );
}

#[test]
fn a_key_repeated_with_the_same_value_is_read_and_with_another_value_refused() {
    let mut same = info_unsorted();
    same.pop();
    same.extend(b"6:lengthi5ee");
    let bytes = torrent(&same, "x");
    let meta = Metainfo::from_bytes(&bytes).expect("same value twice");
    assert_eq!(meta.length, 5);
    let read = bencode::decode_lenient(&bytes).unwrap();
    assert!(matches!(&read.notes[1], NonCanonical::RepeatedKey { key, .. } if key == "length"));

    let mut other = info_unsorted();
    other.pop();
    other.extend(b"6:lengthi6ee");
    let err = Metainfo::from_bytes(&torrent(&other, "x")).unwrap_err();
    assert!(
        err.to_string()
            .contains("dictionary key \"length\" is given twice with different values"),
        "{err}"
    );
    // Repeated names too: which file would it write?
    let two_names = b"d4:infod4:name1:a4:name1:bee";
    assert!(Metainfo::from_bytes(two_names).is_err());
}

#[test]
fn what_cannot_be_read_is_still_refused() {
    let mut cut = torrent(&info_unsorted(), "x");
    cut.pop();
    for bad in [
        cut,
        b"d4:infod6:lengthi05eee".to_vec(),
        b"d3:aaai1e".to_vec(),
    ] {
        assert!(
            Metainfo::from_bytes(&bad).is_err(),
            "{}",
            bad.escape_ascii()
        );
    }
}

fn run_peer(torrent: &std::path::Path, dir: &std::path::Path) -> (i32, String) {
    let tracker = format!("127.0.0.1:{}", free_port());
    let out = Command::new(BIN)
        .args(["peer", "--port", "0", "--tracker", &tracker, "--torrent"])
        .arg(torrent)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn the_peer_reads_an_unsorted_torrent_with_a_warning_and_refuses_a_conflicting_one() {
    let dir = tempfile::tempdir().unwrap();
    let unsorted = write_file(
        dir.path(),
        "unsorted.torrent",
        &torrent(&info_unsorted(), "http://127.0.0.1:1/announce"),
    );
    let (code, stderr) = run_peer(&unsorted, dir.path());
    // Past the torrent, it stops at the unreachable tracker (69), not at the file (65).
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("torrent is not canonical bencode"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"length\" is out of order, and 1 more"),
        "{stderr}"
    );

    let mut other = info_unsorted();
    other.pop();
    other.extend(b"6:lengthi6ee");
    let conflicting = write_file(dir.path(), "conflicting.torrent", &torrent(&other, "x"));
    let (code, stderr) = run_peer(&conflicting, dir.path());
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("given twice with different values"),
        "{stderr}"
    );
}
