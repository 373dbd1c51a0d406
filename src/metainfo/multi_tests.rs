//! Unit tests for multi-file torrents: a hand-written golden `info` dictionary (its info-hash
//! computed independently with Python's hashlib over the same literal bytes), the path rules
//! (every unsafe component refused), [`Metainfo::from_info_bytes`], and building a folder.

use super::*;
use crate::infohash::sha1;
use crate::testutil::cat;

/// A hand-written multi-file `info`: 20000 + 0 + 20000 bytes in pieces of 16384 (3 pieces;
/// piece 1, bytes 16384..32768, spans `a.bin` and `sub/b.bin`, across the empty file).
fn info() -> Vec<u8> {
    cat(&[
        b"d",               // info dictionary
        b"5:files",         // "files"
        b"l",               // list of 3 files
        b"d",               //   file 0
        b"6:length",        //     "length"
        b"i20000e",         //     20000
        b"4:path",          //     "path"
        b"l5:a.bine",       //     ["a.bin"]
        b"e",               //   end of file 0
        b"d",               //   file 1
        b"6:lengthi0e",     //     length 0: created empty
        b"4:pathl5:emptye", //     ["empty"]
        b"e",               //   end of file 1
        b"d",               //   file 2
        b"6:lengthi20000e", //     length 20000
        b"4:path",          //     "path"
        b"l3:sub5:b.bine",  //     ["sub", "b.bin"]: folder/sub/b.bin
        b"e",               //   end of file 2
        b"e",               // end of files
        b"4:name",          // "name"
        b"6:folder",        // the folder's name
        b"12:piece length", // "piece length"
        b"i16384e",         // 16384
        b"6:pieces",        // "pieces"
        b"60:",             // 3 hashes of 20 bytes
        &[b'a'; 20],        //   piece 0
        &[b'b'; 20],        //   piece 1
        &[b'c'; 20],        //   piece 2
        b"e",               // end of info
    ])
}

/// `info` inside a torrent with an announce URL.
fn torrent(info: &[u8]) -> Vec<u8> {
    cat(&[
        b"d",                                 // top dictionary
        b"8:announce",                        // "announce"
        b"30:http://127.0.0.1:6000/announce", // the URL
        b"4:info",                            // "info"
        info,                                 // the info dictionary
        b"e",                                 // end
    ])
}

/// A torrent whose one file has the given `path` list (bencoded, `l...e`).
fn with_path(path: &[u8]) -> Vec<u8> {
    torrent(&cat(&[
        b"d5:filesld6:lengthi1e4:path",
        path,
        b"ee4:name1:d12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaae",
    ]))
}

/// A torrent with the given `files` list items (each `d...e`) and enough pieces of 1 byte.
fn with_files(items: &[&[u8]], total: usize) -> Vec<u8> {
    let pieces = format!("6:pieces{}:", total * 20);
    torrent(&cat(&[
        b"d5:filesl",
        &items.concat(),
        b"e4:name1:d12:piece lengthi1e",
        pieces.as_bytes(),
        &vec![b'a'; total * 20],
        b"e",
    ]))
}

fn invalid_message(bytes: &[u8]) -> String {
    match Metainfo::from_bytes(bytes) {
        Err(MetainfoError::Invalid(why)) => why,
        other => panic!("expected an invalid-metainfo error, got {other:?}"),
    }
}

#[test]
fn parses_a_hand_written_multi_file_torrent() {
    let info = info();
    let meta = Metainfo::from_bytes(&torrent(&info)).unwrap();
    assert_eq!(meta.name, "folder");
    assert_eq!(meta.length, 40_000, "the sum of the files' lengths");
    assert_eq!(meta.num_pieces(), 3);
    assert_eq!(meta.piece_len(2), 40_000 - 2 * 16_384);
    assert!(meta.is_multi_file());
    let files = meta.files.as_ref().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[2].path, ["sub", "b.bin"]);
    assert_eq!(files[2].display(), "sub/b.bin");
    assert_eq!(
        meta.file_layout(),
        [
            ("folder/a.bin".into(), 20_000),
            ("folder/empty".into(), 0),
            ("folder/sub/b.bin".into(), 20_000)
        ]
    );
    assert_eq!(meta.info_hash, InfoHash(sha1(&info)));
    // The same digest from Python's hashlib over the same literal bytes.
    assert_eq!(
        meta.info_hash.to_hex(),
        "4d2e0a108f877d2b8f2a4509e5e8aff6cafbfdda"
    );
}

#[test]
fn a_single_file_torrent_has_one_file_named_after_it() {
    let info = b"d6:lengthi3e4:name5:x.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
    let meta = Metainfo::from_info_bytes(info, None).unwrap();
    assert!(!meta.is_multi_file());
    assert_eq!(meta.file_layout(), [("x.bin".into(), 3)]);
}

#[test]
fn from_info_bytes_keeps_the_info_hash_for_both_kinds() {
    let multi = info();
    let single: &[u8] =
        b"d6:lengthi3e4:name5:x.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
    for info in [&multi[..], single] {
        let announce = "http://127.0.0.1:6000/announce";
        let meta = Metainfo::from_info_bytes(info, Some(announce)).unwrap();
        assert_eq!(meta.info_hash, InfoHash(sha1(info)));
        assert_eq!(meta.announce.as_deref(), Some(announce));
        // Its bytes are a torrent that reads back the same.
        assert_eq!(Metainfo::from_bytes(meta.as_bytes()).unwrap(), meta);
        let bare = Metainfo::from_info_bytes(info, None).unwrap();
        assert_eq!((bare.info_hash, bare.announce), (meta.info_hash, None));
    }
    assert_eq!(
        Metainfo::from_bytes(&torrent(&multi)).unwrap().info_hash,
        Metainfo::from_info_bytes(&multi, None).unwrap().info_hash
    );
    // Not one value: refused, never read past.
    assert!(Metainfo::from_info_bytes(b"de4:junk", None).is_err());
    assert!(Metainfo::from_info_bytes(b"le", None).is_err());
    // Trailing bytes that would make a key of the wrapping torrent: refused too.
    let trailing = cat(&[single, b"4:zzzzi1e"]);
    let why = Metainfo::from_info_bytes(&trailing, None)
        .unwrap_err()
        .to_string();
    assert!(why.contains("not one bencoded dictionary"), "{why}");
}

#[test]
fn refuses_every_unsafe_path_component() {
    let long = format!("l256:{}e", "x".repeat(256));
    let cases: [&[u8]; 12] = [
        b"l0:e",         // empty
        b"l1:.e",        // "."
        b"l2:..e",       // ".."
        b"l1:a2:..1:be", // "a/../b"
        b"l4:/etce",     // absolute
        b"l3:a/be",      // a separator inside one component
        b"l3:a\\be",     // a Windows separator
        b"l3:a\0be",     // nul
        b"l3:a\x1bbe",   // escape: drives a terminal
        b"l2:a\ne",      // newline: breaks a protocol line
        b"l1:\x7fe",     // delete
        long.as_bytes(), // longer than a file name may be
    ];
    for path in cases {
        let why = invalid_message(&with_path(path));
        assert!(
            why.starts_with("`files` entry 0: unsafe path component"),
            "{}: {why}",
            String::from_utf8_lossy(path).escape_debug()
        );
        assert!(
            why.ends_with("each component must be a plain file name"),
            "{why}"
        );
    }
    let why = invalid_message(&with_path(b"le"));
    assert_eq!(why, "`files` entry 0: `path` is an empty list");
    let why = invalid_message(&with_path(b"li1ee"));
    assert!(why.contains("component is an integer"), "{why}");
    let why = invalid_message(&with_path(b"l1:\xffe"));
    assert!(why.contains("not valid utf-8"), "{why}");
}

#[test]
fn refuses_duplicates_and_a_file_that_is_also_a_directory() {
    let a = b"d6:lengthi1e4:pathl1:aee";
    let a_b = b"d6:lengthi1e4:pathl1:a1:bee";
    let c = b"d6:lengthi1e4:pathl1:cee";
    let why = invalid_message(&with_files(&[a, c, a], 3));
    assert_eq!(why, "`files` lists \"a\" twice");
    let why = invalid_message(&with_files(&[a_b, c, a], 3));
    assert_eq!(
        why,
        "`files` lists \"a\" as a file and as a directory (of \"a/b\")"
    );
    // `a` and `a.b` or `ab` are different files.
    let ab = b"d6:lengthi1e4:pathl2:abee";
    assert!(Metainfo::from_bytes(&with_files(&[a, ab], 2)).is_ok());
}

#[test]
fn refuses_bad_file_lists() {
    let one = b"d6:lengthi1e4:pathl1:aee";
    let cases: [(Vec<u8>, &str); 6] = [
        (with_files(&[], 0), "`files` is an empty list"),
        (
            with_files(&[b"d6:lengthi0e4:pathl1:aee"], 0),
            "every file in `files` is empty",
        ),
        (
            with_files(&[b"d6:lengthi-1e4:pathl1:aee"], 0),
            "`files` entry 0: `length` is -1",
        ),
        (
            with_files(&[b"d4:pathl1:aee"], 0),
            "`files` entry 0: has no `length`",
        ),
        (with_files(&[b"i1e"], 0), "`files` entry 0: is an integer"),
        (
            torrent(&cat(&[
                b"d5:filesl",
                one,
                b"e6:lengthi1e4:name1:d12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaae",
            ])),
            "`info` has both `length` and `files`",
        ),
    ];
    for (bytes, expected) in cases {
        let why = invalid_message(&bytes);
        assert!(why.starts_with(expected), "{why}");
    }
    // The folder's own name follows the file name rule.
    let bytes = torrent(
        b"d5:filesld6:lengthi1e4:pathl1:aeee4:name2:..12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaae",
    );
    assert!(invalid_message(&bytes).starts_with("unsafe file name"));
}

/// A folder `dir/shared` of `a.bin` (40 000 bytes), `empty` (0) and `sub/b.bin` (70 000);
/// returns the folder and its data laid end to end, in sorted path order.
fn sample_folder(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let root = dir.join("shared");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let a: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
    let b: Vec<u8> = (0..70_000u32).map(|i| (i * 13 + 5) as u8).collect();
    std::fs::write(root.join("sub/b.bin"), &b).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join("a.bin"), &a).unwrap();
    (root, [a, b].concat())
}

#[test]
fn build_hashes_a_folder_across_file_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = sample_folder(dir.path());
    let meta = Metainfo::build(&root, 16_384, None).unwrap();
    assert_eq!(meta.name, "shared");
    assert_eq!(meta.length, 110_000);
    let paths: Vec<String> = meta
        .files
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.display())
        .collect();
    assert_eq!(paths, ["a.bin", "empty", "sub/b.bin"], "sorted by path");
    for (index, chunk) in data.chunks(16_384).enumerate() {
        assert_eq!(meta.piece_hash(index as u32), &sha1(chunk), "piece {index}");
    }
    // Deterministic, whatever the creation date; `dir/shared/` names the same folder.
    let again = Metainfo::build(&dir.path().join("shared/"), 16_384, None).unwrap();
    assert_eq!(again.info_hash, meta.info_hash);
    // A piece longer than the whole folder: one piece.
    let one = Metainfo::build(&root, 1 << 20, None).unwrap();
    assert_eq!(one.piece_hashes, [sha1(&data)]);
}

#[test]
fn build_refuses_links_special_files_and_empty_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = sample_folder(dir.path());
    std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
    let why = Metainfo::build(&root, 16_384, None)
        .unwrap_err()
        .to_string();
    assert!(why.contains("link: is a symbolic link"), "{why}");
    std::fs::remove_file(root.join("link")).unwrap();

    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let why = Metainfo::build(&root, 16_384, None)
        .unwrap_err()
        .to_string();
    assert!(why.contains("sock: is not a regular file"), "{why}");

    let empty = dir.path().join("nothing");
    std::fs::create_dir_all(empty.join("deeper")).unwrap();
    std::fs::write(empty.join("deeper/zero"), b"").unwrap();
    let why = Metainfo::build(&empty, 16_384, None)
        .unwrap_err()
        .to_string();
    assert!(why.contains("holds no file with a byte in it"), "{why}");
}
