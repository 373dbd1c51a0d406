//! Unit tests for metainfo parsing and building. Golden torrents are hand-written literals;
//! the expected info-hash was computed independently (Python hashlib) over the same bytes.

use super::*;
use crate::bencode::{self, Node};
use crate::infohash::sha1;
use crate::testutil::cat;

/// A hand-written `info` dictionary: 40000 bytes in pieces of 16384 (3 pieces, the last
/// 7232 bytes), with an unknown `private` key that must still count in the info-hash.
fn info() -> Vec<u8> {
    cat(&[
        b"d",               // info dictionary
        b"6:length",        // "length"
        b"i40000e",         // 40000
        b"4:name",          // "name"
        b"8:file.bin",      // "file.bin"
        b"12:piece length", // "piece length"
        b"i16384e",         // 16384
        b"6:pieces",        // "pieces"
        b"60:",             // 3 hashes of 20 bytes
        &[b'a'; 20],        //   piece 0
        &[b'b'; 20],        //   piece 1
        &[b'c'; 20],        //   piece 2
        b"7:private",       // "private" (unknown here, ignored but hashed)
        b"i1e",             // 1
        b"e",               // end of info
    ])
}

fn torrent(info: &[u8]) -> Vec<u8> {
    cat(&[
        b"d",                                 // top dictionary
        b"8:announce",                        // "announce"
        b"30:http://127.0.0.1:6000/announce", // the URL
        b"7:comment",                         // unknown key, ignored
        b"5:hello",                           // "hello"
        b"10:created by",                     // "created by"
        b"4:test",                            // "test"
        b"4:info",                            // "info"
        info,                                 // the info dictionary
        b"8:url-list",                        // unknown key after info, ignored
        b"le",                                // []
        b"e",                                 // end
    ])
}

/// A torrent whose `info` is the given fields, for the refusal tests.
fn with_info(fields: &[&[u8]]) -> Vec<u8> {
    torrent(&cat(&[b"d", &fields.concat(), b"e"]))
}

fn invalid_message(bytes: &[u8]) -> String {
    match Metainfo::from_bytes(bytes) {
        Err(MetainfoError::Invalid(why)) => why,
        other => panic!("expected an invalid-metainfo error, got {other:?}"),
    }
}

#[test]
fn parses_a_hand_written_torrent() {
    let bytes = torrent(&info());
    let meta = Metainfo::from_bytes(&bytes).unwrap();
    assert_eq!(
        meta.announce.as_deref(),
        Some("http://127.0.0.1:6000/announce")
    );
    assert_eq!(meta.name, "file.bin");
    assert_eq!(meta.piece_length, 16384);
    assert_eq!(meta.length, 40000);
    assert_eq!(meta.num_pieces(), 3);
    assert_eq!(meta.piece_hash(1), &[b'b'; 20]);
    assert_eq!(meta.as_bytes(), &bytes[..]);
}

#[test]
fn info_hash_is_sha1_of_the_raw_info_span() {
    let info = info();
    let meta = Metainfo::from_bytes(&torrent(&info)).unwrap();
    assert_eq!(meta.info_hash, InfoHash(sha1(&info)));
    // The same digest from Python's hashlib over the same literal bytes.
    assert_eq!(
        meta.info_hash.to_hex(),
        "bb149e6ce6a9a2de77ac993abf271c099bf4896d"
    );
    // Not the hash of the known fields alone: `private` is part of the swarm's name.
    assert_ne!(
        meta.info_hash.to_hex(),
        "a25ae0b0e43afe4d955898207ffc78ac42909b80"
    );
}

#[test]
fn last_piece_is_shorter() {
    let meta = Metainfo::from_bytes(&torrent(&info())).unwrap();
    assert_eq!(meta.piece_len(0), 16384);
    assert_eq!(meta.piece_len(1), 16384);
    assert_eq!(meta.piece_len(2), 40000 - 2 * 16384);
    assert_eq!(meta.piece_len(3), 0);
    assert_eq!(meta.piece_offset(2), 32768);
}

#[test]
fn refuses_unsafe_names() {
    let names: [&[u8]; 7] = [b"", b".", b"..", b"a/b", b"/etc/passwd", b"a\\b", b"a\0b"];
    for name in names {
        let name_field = cat(&[format!("4:name{}:", name.len()).as_bytes(), name]);
        let bytes = with_info(&[
            b"6:lengthi1e",
            &name_field,
            b"12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaa",
        ]);
        let why = invalid_message(&bytes);
        assert!(why.starts_with("unsafe file name"), "{why}");
    }
}

#[test]
fn refuses_bad_fields() {
    let cases: [(&[&[u8]], &str); 7] = [
        (
            &[b"6:lengthi1e4:name1:a12:piece lengthi0e6:pieces0:"],
            "`piece length` is 0",
        ),
        (
            &[b"6:lengthi1e4:name1:a12:piece lengthi16777217e6:pieces0:"],
            "`piece length` is 16777217",
        ),
        (
            &[b"6:lengthi0e4:name1:a12:piece lengthi1e6:pieces0:"],
            "`length` is 0",
        ),
        (
            &[b"6:lengthi1e4:name1:a12:piece lengthi1e6:pieces3:abc"],
            "`pieces` is 3 bytes",
        ),
        (
            &[b"6:lengthi2e4:name1:a12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaa"],
            "`pieces` holds 1 hashes, but 2 bytes in pieces of 1 need 2",
        ),
        (
            &[b"4:name1:a12:piece lengthi1e6:pieces0:"],
            "`info` has no `length`",
        ),
        (
            &[b"6:lengthi1e4:name1:\xff12:piece lengthi1e6:pieces0:"],
            "`name` is not valid utf-8",
        ),
    ];
    for (fields, expected) in cases {
        let why = invalid_message(&with_info(fields));
        assert!(why.starts_with(expected), "{why}");
    }
    assert_eq!(invalid_message(b"d8:announce1:xe"), "no `info` dictionary");
    assert_eq!(
        invalid_message(b"le"),
        "the torrent is a list, expected a dictionary"
    );
    let err = Metainfo::from_bytes(b"d4:infod").unwrap_err();
    assert!(matches!(err, MetainfoError::Bencode(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("invalid metainfo: not bencode: "),
        "{err}"
    );
    let huge = vec![b'x'; MAX_TORRENT_BYTES + 1];
    assert!(matches!(
        Metainfo::from_bytes(&huge),
        Err(MetainfoError::TooLarge { .. })
    ));
}

/// Bytes that differ from piece to piece, so swapped pieces would be noticed.
fn test_data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn build_then_parse_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("movie.bin");
    let data = test_data(35_001);
    std::fs::write(&file, &data).unwrap();
    // 10000 is neither a power of two nor a multiple of 16 KiB.
    let announce = Some("http://127.0.0.1:6000/announce".to_string());
    let built = Metainfo::build(&file, 10_000, announce).unwrap();
    assert_eq!(built.name, "movie.bin");
    assert_eq!(built.length, 35_001);
    assert_eq!(built.num_pieces(), 4);
    assert_eq!(built.piece_len(3), 5_001);
    for (i, chunk) in data.chunks(10_000).enumerate() {
        assert_eq!(built.piece_hash(i as u32), &sha1(chunk));
    }
    let parsed = Metainfo::from_bytes(built.as_bytes()).unwrap();
    assert_eq!(parsed, built);
    let top = bencode::decode(built.as_bytes()).unwrap();
    assert_eq!(
        built.info_hash,
        InfoHash(sha1(top.get(b"info").unwrap().raw))
    );
    let created_by = top.get(b"created by").and_then(Node::as_str).unwrap();
    assert!(created_by.starts_with("bittorrent-sim "), "{created_by}");
    assert!(top.get(b"creation date").and_then(Node::as_int).unwrap() > 0);

    let saved = dir.path().join("movie.torrent");
    built.write_to_file(&saved).unwrap();
    assert_eq!(Metainfo::from_file(&saved).unwrap(), built);
    // The info-hash does not depend on the creation date or the announce URL.
    assert_eq!(
        Metainfo::build(&file, 10_000, None).unwrap().info_hash,
        built.info_hash
    );
}

#[test]
fn build_refuses_empty_files_and_bad_piece_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty");
    std::fs::write(&file, b"").unwrap();
    let err = Metainfo::build(&file, 16384, None).unwrap_err();
    assert!(matches!(err, MetainfoError::Empty { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("file is empty; a torrent needs at least one byte to share")
    );
    for piece_length in [0, MAX_PIECE_LENGTH + 1] {
        let err = Metainfo::build(&file, piece_length, None).unwrap_err();
        assert!(err.to_string().contains("piece length"), "{err}");
    }
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.torrent");
    let err = Metainfo::from_file(&missing).unwrap_err();
    assert!(matches!(err, MetainfoError::Io { ref path, .. } if path == &missing));
    assert!(
        err.to_string().starts_with(&missing.display().to_string()),
        "{err}"
    );
    let big = dir.path().join("big.torrent");
    std::fs::write(&big, vec![b'x'; MAX_TORRENT_BYTES + 1]).unwrap();
    let err = Metainfo::from_file(&big).unwrap_err();
    assert!(
        matches!(err, MetainfoError::TooLarge { path: Some(_), .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("big.torrent"), "{err}");
}

#[test]
fn announce_urls() {
    assert_eq!(
        announce_url("127.0.0.1:6000"),
        "http://127.0.0.1:6000/announce"
    );
    assert_eq!(announce_url("http://t.example/a"), "http://t.example/a");
    assert_eq!(announce_url("https://t.example/a"), "https://t.example/a");
}

#[test]
fn tracker_addresses_from_announce_urls() {
    let addr = |url| tracker_addr_from_announce(url);
    assert_eq!(
        addr("http://127.0.0.1:6000/announce").as_deref(),
        Some("127.0.0.1:6000")
    );
    assert_eq!(
        addr("http://tracker.example/announce").as_deref(),
        Some("tracker.example:80")
    );
    assert_eq!(addr("HTTP://h:1").as_deref(), Some("h:1"));
    assert_eq!(addr("http://h:7?x=1").as_deref(), Some("h:7"));
    assert_eq!(
        addr("http://[::1]:6000/announce").as_deref(),
        Some("[::1]:6000")
    );
    assert_eq!(addr("http://[::1]/announce").as_deref(), Some("[::1]:80"));
    for bad in [
        "https://h:443/announce",
        "udp://h:6969",
        "h:6000",
        "http://",
        "http://:80/",
        "http://h:0/",
        "http://h:99999/",
        "http://h:+80/",
        "http://h:x/",
    ] {
        assert_eq!(addr(bad), None, "{bad}");
    }
}
