//! Interoperability of `bittorrent_sim::metainfo` with real BitTorrent tools, run as
//! subprocesses on temporary files: torrents made by `mktorrent` must parse and verify against
//! their file, and torrents made by `Metainfo::build` must be read by `transmission-show` and
//! by libtorrent (`python3-libtorrent`) with the same info-hash, piece count, size and name;
//! the same both ways for a folder (multi-file) torrent.
//!
//! No network. A missing tool skips its test with a message on stderr, unless `CI=true`, where
//! it fails. This does not test downloading, only the `.torrent` format.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bittorrent_sim::infohash::{InfoHash, sha1};
use bittorrent_sim::metainfo::Metainfo;
use common::PYTHON;

const ANNOUNCE: &str = "http://127.0.0.1:6000/announce";

/// Either fails (under CI) or says on stderr why the test is skipped; returns `false`.
fn missing(what: &str, install: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required when CI=true but is not installed ({install})");
    }
    eprintln!("skipped: {what} not installed ({install})");
    false
}

/// Runs `program args`; `None` if the program does not exist.
fn run(program: &str, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("running {program}: {e}"),
    }
}

fn available(program: &str, probe: &[&str], install: &str) -> bool {
    run(program, probe).is_some() || missing(program, install)
}

fn libtorrent_available() -> bool {
    let works = run(PYTHON, &["-c", "import libtorrent"]).is_some_and(|o| o.status.success());
    works || missing("python3-libtorrent", "apt-get install python3-libtorrent")
}

fn check(output: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `len` deterministic pseudo-random bytes, written to `dir/name`.
fn data_file(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let data = common::sample_bytes(len, len as u64);
    (common::write_file(dir, name, &data), data)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// Every piece hash in `meta` matches the corresponding slice of `data`.
fn assert_pieces_verify(meta: &Metainfo, data: &[u8]) {
    assert_eq!(meta.length, data.len() as u64);
    let expected = data.len().div_ceil(meta.piece_length as usize);
    assert_eq!(meta.num_pieces() as usize, expected);
    for index in 0..meta.num_pieces() {
        let start = meta.piece_offset(index) as usize;
        let piece = &data[start..start + meta.piece_len(index) as usize];
        assert_eq!(meta.piece_hash(index), &sha1(piece), "piece {index}");
    }
    let last = meta.num_pieces() - 1;
    assert_eq!(
        meta.piece_offset(last) + u64::from(meta.piece_len(last)),
        meta.length
    );
}

/// A torrent from `mktorrent -l log2_piece` (plus `extra` flags) parses and verifies.
fn mktorrent_round_trip(log2_piece: u32, len: usize, extra: &[&str]) {
    if !available("mktorrent", &["-h"], "apt-get install mktorrent") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, data) = data_file(dir.path(), "shared.bin", len);
    let torrent = dir.path().join("out.torrent");
    let log2 = log2_piece.to_string();
    let mut args = vec!["-l", &log2, "-a", ANNOUNCE, "-o", path_str(&torrent)];
    args.extend_from_slice(extra);
    args.push(path_str(&file));
    check(run("mktorrent", &args).unwrap(), "mktorrent");

    let meta = Metainfo::from_file(&torrent).unwrap();
    assert_eq!(meta.name, "shared.bin");
    assert_eq!(meta.announce.as_deref(), Some(ANNOUNCE));
    assert_eq!(meta.piece_length, 1 << log2_piece);
    assert!(meta.piece_len(meta.num_pieces() - 1) < meta.piece_length as u32);
    assert_pieces_verify(&meta, &data);

    // mktorrent writes `info` as the last key of the top dictionary, so its span runs from
    // just after "4:info" to just before the final `e`: hash that independently.
    let raw = std::fs::read(&torrent).unwrap();
    let at = raw.windows(6).position(|w| w == b"4:info").unwrap() + 6;
    assert_eq!(meta.info_hash, InfoHash(sha1(&raw[at..raw.len() - 1])));
    assert_eq!(meta.as_bytes(), &raw[..]);
}

#[test]
fn mktorrent_32_kib_pieces_parse_and_verify() {
    mktorrent_round_trip(15, 100_001, &[]);
}

#[test]
fn mktorrent_256_kib_pieces_parse_and_verify() {
    mktorrent_round_trip(18, 700_001, &[]);
}

#[test]
fn mktorrent_private_flag_is_ignored_but_hashed() {
    // `-p` adds `private` to `info`: unknown to us, but part of the info-hash.
    mktorrent_round_trip(15, 50_000, &["-p"]);
}

/// Builds a torrent for a fresh file and writes it next to it.
fn built_torrent(dir: &Path, len: usize, piece_length: u64) -> (PathBuf, Metainfo) {
    let (file, data) = data_file(dir, "built.bin", len);
    let meta = Metainfo::build(&file, piece_length, Some(ANNOUNCE.to_string())).unwrap();
    assert_pieces_verify(&meta, &data);
    let torrent = dir.join("built.torrent");
    meta.write_to_file(&torrent).unwrap();
    (torrent, meta)
}

#[test]
fn built_torrents_are_read_by_transmission_show() {
    if !available(
        "transmission-show",
        &["--help"],
        "apt-get install transmission-cli",
    ) {
        return;
    }
    // 2^18, and 40000: not a multiple of 16 KiB.
    for (len, piece_length) in [(700_001, 1 << 18), (123_457, 40_000)] {
        let dir = tempfile::tempdir().unwrap();
        let (torrent, meta) = built_torrent(dir.path(), len, piece_length);
        let out = check(
            run("transmission-show", &[path_str(&torrent)]).unwrap(),
            "transmission-show",
        );
        assert!(out.contains("Name: built.bin"), "{out}");
        assert!(
            out.contains(&format!("Hash: {}", meta.info_hash.to_hex())),
            "{out}"
        );
        assert!(
            out.contains(&format!("Piece Count: {}", meta.num_pieces())),
            "{out}"
        );
        assert!(out.contains(ANNOUNCE), "{out}");
    }
}

/// libtorrent's view of a torrent: (info-hash hex, pieces, total size, name, piece length).
fn libtorrent_reads(torrent: &Path) -> (String, u32, u64, String, u64) {
    const SCRIPT: &str = "import sys, libtorrent as lt\n\
        ti = lt.torrent_info(sys.argv[1])\n\
        h = ti.info_hashes().v1 if hasattr(ti, 'info_hashes') else ti.info_hash()\n\
        print(str(h), ti.num_pieces(), ti.total_size(), ti.piece_length(), ti.name())\n";
    let out = check(
        run(PYTHON, &["-c", SCRIPT, path_str(torrent)]).unwrap(),
        "python3 libtorrent",
    );
    let fields: Vec<&str> = out.trim_end().splitn(5, ' ').collect();
    assert_eq!(fields.len(), 5, "unexpected libtorrent output: {out}");
    (
        fields[0].to_string(),
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        fields[4].to_string(),
        fields[3].parse().unwrap(),
    )
}

#[test]
fn built_torrents_are_read_by_libtorrent() {
    if !libtorrent_available() {
        return;
    }
    for (len, piece_length) in [(700_001, 1 << 18), (123_457, 40_000), (1, 1 << 15)] {
        let dir = tempfile::tempdir().unwrap();
        let (torrent, meta) = built_torrent(dir.path(), len, piece_length);
        let (hash, pieces, size, name, lt_piece_length) = libtorrent_reads(&torrent);
        assert_eq!(hash, meta.info_hash.to_hex());
        assert_eq!(pieces, meta.num_pieces());
        assert_eq!(size, meta.length);
        assert_eq!(name, meta.name);
        assert_eq!(lt_piece_length, piece_length);
    }
}

#[test]
fn mktorrent_info_hash_agrees_with_libtorrent() {
    if !libtorrent_available() || !available("mktorrent", &["-h"], "apt-get install mktorrent") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = data_file(dir.path(), "shared.bin", 300_000);
    let torrent = dir.path().join("mk.torrent");
    let args = [
        "-p",
        "-l",
        "16",
        "-a",
        ANNOUNCE,
        "-o",
        path_str(&torrent),
        path_str(&file),
    ];
    check(run("mktorrent", &args).unwrap(), "mktorrent");
    let meta = Metainfo::from_file(&torrent).unwrap();
    let (hash, pieces, size, name, _) = libtorrent_reads(&torrent);
    assert_eq!(hash, meta.info_hash.to_hex());
    assert_eq!(
        (pieces, size, name),
        (meta.num_pieces(), meta.length, meta.name)
    );
}

/// A folder `dir/album` of three files (20 000, 1 and 30 000 bytes, one in a subfolder).
fn data_folder(dir: &Path) -> PathBuf {
    let root = dir.join("album");
    data_file(&root, "a.bin", 20_000);
    data_file(&root.join("sub"), "b.bin", 1);
    data_file(&root, "c.bin", 30_000);
    root
}

#[test]
fn folder_torrents_agree_with_libtorrent_and_transmission_both_ways() {
    if !libtorrent_available()
        || !available("mktorrent", &["-h"], "apt-get install mktorrent")
        || !available(
            "transmission-show",
            &["--help"],
            "apt-get install transmission-cli",
        )
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = data_folder(dir.path());
    // Ours, read by them.
    let meta = Metainfo::build(&root, 1 << 15, Some(ANNOUNCE.to_string())).unwrap();
    let ours = dir.path().join("ours.torrent");
    meta.write_to_file(&ours).unwrap();
    let (hash, pieces, size, name, _) = libtorrent_reads(&ours);
    assert_eq!(hash, meta.info_hash.to_hex());
    assert_eq!((pieces, size, name.as_str()), (2, 50_001, "album"));
    let out = check(
        run("transmission-show", &[path_str(&ours)]).unwrap(),
        "transmission-show",
    );
    assert!(
        out.contains(&format!("Hash: {}", meta.info_hash.to_hex())),
        "{out}"
    );
    assert!(out.contains("sub/b.bin"), "{out}");
    // mktorrent's, read by us and by libtorrent.
    let theirs = dir.path().join("mk.torrent");
    let args = [
        "-l",
        "15",
        "-a",
        ANNOUNCE,
        "-o",
        path_str(&theirs),
        path_str(&root),
    ];
    check(run("mktorrent", &args).unwrap(), "mktorrent");
    let mk = Metainfo::from_file(&theirs).unwrap();
    let (hash, pieces, size, name, _) = libtorrent_reads(&theirs);
    assert_eq!(hash, mk.info_hash.to_hex());
    assert_eq!((pieces, size, name), (mk.num_pieces(), mk.length, mk.name));
    assert_eq!(mk.files.as_ref().map(Vec::len), Some(3));
}
