//! Magnet links between our own peers, on loopback: a peer given only `--magnet` fetches the
//! info dictionary from our seed (BEP 9 over BEP 10), checks it against the info-hash, saves the
//! torrent and downloads the file; and a fake peer in this test serving metadata of the right
//! size but the wrong bytes is refused (one warning naming it) while the leecher still
//! completes from a good seed started afterwards (and, asked for metadata it has not got yet,
//! rejects); our seed answers metadata requests with `data`, and `reject` past the end.
//!
//! Real clients (libtorrent, aria2) joining from magnet links are `tests/interop_magnet.rs`.
//! Every wait polls against the harness's deadline; every process is killed when its test ends.

mod common;

use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::magnet::Magnet;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::http_tracker::{AnnounceParams, AnnounceUrl, HttpTracker};
use bittorrent_sim::wire::extension::{self, remote_metadata};
use bittorrent_sim::wire::metadata::{LOCAL_ID, MetadataMessage, piece_range};
use bittorrent_sim::wire::{Handshake, Message};
use common::*;

/// 20 pieces of 16 KiB and a short one.
const FILE_LEN: usize = 20 * PIECE + 999;

fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// The link a peer logs at start-up (`magnet link: magnet:?...`).
fn logged_magnet(proc: &Proc) -> String {
    let line = proc.wait_for("magnet link: magnet:?");
    let at = line.find("magnet:?").expect("a link");
    line[at..]
        .split_whitespace()
        .next()
        .expect("a link")
        .to_string()
}

/// `peer --magnet URI --dir DIR` with the fast timers, exiting once complete; `tracker` is
/// `--tracker`, or `None` to use the link's own `tr=`.
fn magnet_leecher(dir: &Path, uri: &str, out: &Path, tracker: Option<SocketAddr>) -> Proc {
    let mut args: Vec<String> = ["peer", "--port", "0", "--bind", "127.0.0.1"]
        .map(String::from)
        .to_vec();
    if let Some(addr) = tracker {
        args.extend(["--tracker".into(), addr.to_string()]);
    }
    args.extend(FAST.map(String::from));
    args.extend(
        [
            "--magnet",
            uri,
            "--dir",
            utf8(out),
            "--min-peers",
            "1",
            "--exit-when-complete",
        ]
        .map(String::from),
    );
    Proc::start("magnet", dir, &args, &[])
}

fn assert_complete(leecher: &mut Proc, out: &Path, data: &[u8], info_hash: InfoHash) {
    let status = leecher.wait_exit();
    if status != Some(0) {
        leecher.dump();
    }
    assert_eq!(status, Some(0), "the magnet leecher did not complete");
    let copy = std::fs::read(out.join("sample.bin")).expect("the leecher's copy");
    assert!(copy == data, "the leecher's copy differs from the original");
    let saved = Metainfo::from_file(&out.join("sample.bin.torrent")).expect("saved torrent");
    assert_eq!(
        saved.info_hash, info_hash,
        "the saved torrent is another swarm"
    );
}

#[test]
fn a_magnet_leecher_fetches_the_metadata_from_our_seed_and_completes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 7);
    let file = write_file(&dir.join("seed"), "sample.bin", &data);
    let (_tracker, addr) = tracker(dir, &[]);
    let (seed, seed_port) = peer(
        "seed",
        dir,
        addr,
        &["--seed", utf8(&file), "--piece-length", "16KiB"],
    );
    let uri = logged_magnet(&seed);
    let magnet = Magnet::parse(&uri).expect("the seed logs a valid link");
    assert_eq!(magnet.name.as_deref(), Some("sample.bin"));

    // Through our line tracker (--tracker); the link's tr= is its HTTP side.
    let out = dir.join("magnet");
    let mut leecher = magnet_leecher(dir, &uri, &out, Some(addr));
    assert_complete(&mut leecher, &out, &data, magnet.info_hash);
    let verified = leecher.wait_for("metadata verified");
    assert!(
        verified.contains(&format!("127.0.0.1:{seed_port}")),
        "{verified}"
    );
}

/// A peer that answers every metadata request with `metadata`'s bytes: the right size, but
/// (in the test) not the bytes the info-hash names. It also asks the leecher for piece 0,
/// and sets `rejected` when the leecher (which has no metadata yet) rejects that.
fn fake_peer(
    stream: TcpStream,
    info_hash: InfoHash,
    metadata: &[u8],
    rejected: &AtomicBool,
) -> Option<()> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut reader = stream.try_clone().ok()?;
    let mut writer = BufWriter::new(stream);
    Handshake::read_from(&mut reader).ok()?;
    Handshake::new(info_hash, *b"-FK0001-000000000000")
        .with_extensions()
        .write_to(&mut writer)
        .ok()?;
    let payload = extension::handshake_payload(1, Some(metadata.len()));
    Message::Extended { id: 0, payload }
        .write_to(&mut writer)
        .ok()?;
    writer.flush().ok()?;
    let mut their_id = None;
    loop {
        match Message::read_from(&mut reader).ok()? {
            Message::Extended { id: 0, payload } => {
                their_id = remote_metadata(&payload).id;
                let ask = MetadataMessage::Request { piece: 0 };
                let message = Message::Extended {
                    id: their_id?,
                    payload: ask.to_payload(),
                };
                message.write_to(&mut writer).ok()?;
                writer.flush().ok()?;
            }
            Message::Extended {
                id: LOCAL_ID,
                payload,
            } => {
                let piece = match MetadataMessage::decode(&payload) {
                    Ok(MetadataMessage::Request { piece }) => piece,
                    Ok(MetadataMessage::Reject { piece: 0 }) => {
                        rejected.store(true, Ordering::SeqCst);
                        continue;
                    }
                    _ => continue,
                };
                let data = metadata[piece_range(metadata.len(), piece)?].to_vec();
                let reply = MetadataMessage::Data {
                    piece,
                    total_size: metadata.len() as u32,
                    data,
                };
                let message = Message::Extended {
                    id: their_id?,
                    payload: reply.to_payload(),
                };
                message.write_to(&mut writer).ok()?;
                writer.flush().ok()?;
            }
            _ => {}
        }
    }
}

#[test]
fn wrong_metadata_is_refused_and_the_leecher_completes_from_a_good_peer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = sample_bytes(FILE_LEN, 11);
    let file = write_file(&dir.join("seed"), "sample.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.join("sample.torrent"));
    let meta = Metainfo::from_file(&torrent).expect("torrent");
    let (tracker_proc, addr) = tracker(dir, &[]);
    let announce = format!("http://{addr}/announce");

    // The fake peer: one byte of a piece hash changed, so the SHA-1 is not the info-hash.
    let mut wrong = meta.info_bytes().to_vec();
    let at = wrong.len() - 5;
    wrong[at] ^= 0xff;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let fake_addr = listener.local_addr().expect("addr");
    let info_hash = meta.info_hash;
    let rejected = Arc::new(AtomicBool::new(false));
    let told = Arc::clone(&rejected);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (wrong, told) = (wrong.clone(), Arc::clone(&told));
            thread::spawn(move || fake_peer(stream, info_hash, &wrong, &told));
        }
    });
    // It announces itself over HTTP: the tracker has no metainfo for the swarm yet.
    let http = HttpTracker {
        url: AnnounceUrl::parse(&announce).expect("url"),
        addr,
        local_ip: None,
    };
    http.announce(&AnnounceParams {
        info_hash,
        peer_id: *b"-FK0001-000000000000",
        port: fake_addr.port(),
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: Some("started"),
    })
    .expect("the fake peer announces");

    // The leecher uses the link's tr= (HTTP announce); the fake is all it finds at first.
    let uri = Magnet {
        info_hash,
        name: None,
        trackers: vec![announce],
    }
    .to_uri();
    let out = dir.join("magnet");
    let mut leecher = magnet_leecher(dir, &uri, &out, None);
    let warned = leecher.wait_for("metadata does not match");
    assert!(warned.contains("WARN"), "{warned}");
    assert!(warned.contains(&fake_addr.to_string()), "{warned}");
    // Asked for metadata it does not have yet, the leecher said `reject`.
    eventually("the leecher's reject", || rejected.load(Ordering::SeqCst));

    // Then a good seed joins, and the leecher completes from it.
    let (_seed, seed_port) = peer(
        "seed",
        dir,
        addr,
        &["--seed", utf8(&file), "--piece-length", "16KiB"],
    );
    assert_complete(&mut leecher, &out, &data, info_hash);
    let verified = leecher.wait_for("metadata verified");
    assert!(
        verified.contains(&format!("127.0.0.1:{seed_port}")),
        "{verified}"
    );
    assert_eq!(
        leecher.count("metadata does not match"),
        1,
        "the fake peer was asked again"
    );
    drop(tracker_proc);
}

#[test]
fn bad_magnet_links_are_one_line_usage_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    let unreachable = format!("127.0.0.1:{}", free_port());
    let udp_only = format!("magnet:?xt=urn:btih:{hash}&tr=udp%3A%2F%2Fexample%3A1337");
    let no_tracker = format!("magnet:?xt=urn:btih:{hash}");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--magnet", "magnet:?xt=urn:btih:1234"],
            2,
            "neither 40 hex digits nor 32 base32",
        ),
        (vec!["--magnet", "http://example/"], 2, "not a magnet link"),
        (vec!["--magnet", "magnet:?dn=x"], 2, "xt=urn:btih:"),
        (vec!["--magnet", &udp_only], 2, "names no tracker we speak"),
        (
            vec!["--magnet", &no_tracker, "--torrent", "x.torrent"],
            2,
            "cannot be used with",
        ),
        // a link without tr= and a tracker that is not there
        (
            vec!["--magnet", &no_tracker, "--tracker", &unreachable],
            69,
            "refused",
        ),
    ];
    for (extra, code, needle) in cases {
        let out = std::process::Command::new(BIN)
            .args(["peer", "--port", "0", "--bind", "127.0.0.1"])
            .args(&extra)
            .env("BTSIM_TRACKER_WAIT", "0")
            .current_dir(tmp.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn our_seed_serves_metadata_pieces_and_rejects_past_the_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // 21 pieces: an info dictionary of one metadata piece.
    let data = sample_bytes(FILE_LEN, 3);
    let file = write_file(&dir.join("seed"), "sample.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.join("sample.torrent"));
    let meta = Metainfo::from_file(&torrent).expect("torrent");
    let info = meta.info_bytes().to_vec();
    let (_tracker, addr) = tracker(dir, &[]);
    let (_seed, seed_port) = peer(
        "seed",
        dir,
        addr,
        &["--seed", utf8(&file), "--piece-length", "16KiB"],
    );

    let stream = TcpStream::connect(("127.0.0.1", seed_port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut reader = stream.try_clone().expect("clone");
    let mut writer = BufWriter::new(stream);
    Handshake::new(meta.info_hash, *b"-FK0001-000000000001")
        .with_extensions()
        .write_to(&mut writer)
        .expect("handshake");
    // ours: ut_metadata is our id 3, no metadata_size
    let ours = b"d1:md11:ut_metadatai3eee".to_vec();
    Message::Extended {
        id: 0,
        payload: ours,
    }
    .write_to(&mut writer)
    .expect("extension handshake");
    writer.flush().expect("flush");
    let theirs = Handshake::read_from(&mut reader).expect("their handshake");
    assert!(theirs.supports_extensions());
    let theirs = loop {
        if let Message::Extended { id: 0, payload } =
            Message::read_from(&mut reader).expect("frame")
        {
            break remote_metadata(&payload);
        }
    };
    assert_eq!(theirs.size, Some(info.len() as i64), "metadata_size");
    let their_id = theirs.id.expect("the seed offers ut_metadata");
    // request piece 0 (all of it), then piece 1 (past the end)
    for request in [b"d8:msg_typei0e5:piecei0ee", b"d8:msg_typei0e5:piecei1ee"] {
        Message::Extended {
            id: their_id,
            payload: request.to_vec(),
        }
        .write_to(&mut writer)
        .expect("request");
    }
    writer.flush().expect("flush");
    let mut replies = Vec::new();
    while replies.len() < 2 {
        if let Message::Extended {
            id: LOCAL_ID,
            payload,
        } = Message::read_from(&mut reader).expect("frame")
        {
            replies.push(payload);
        }
    }
    // data: msg_type 1, piece 0, total_size, then the info dictionary's bytes
    let mut data_reply =
        format!("d8:msg_typei1e5:piecei0e10:total_sizei{}ee", info.len()).into_bytes();
    data_reply.extend_from_slice(&info);
    assert!(
        replies[0] == data_reply,
        "the data reply is not the info dictionary"
    );
    // reject: msg_type 2, piece 1
    assert_eq!(replies[1], b"d8:msg_typei2e5:piecei1ee");
}
