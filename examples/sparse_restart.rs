//! Measures the start-up check of a huge sparse download (issue 16, item 7): a 1 TiB torrent
//! (16 MiB pieces, 65 536 of them) whose file holds three written pieces, the rest holes.
//!
//!     cargo run --release --example sparse_restart [DIR]
//!
//! Prints how long `Storage::check` takes and how many pieces it read, then what the old check
//! (read and hash every piece) costs on 64 pieces (1 GiB) of the same holes, extrapolated to
//! the whole file. The file is created in DIR (default: a temporary directory), sparse: it
//! uses the disk space of the three pieces only, and is removed at the end.

use std::sync::Arc;
use std::time::Instant;

use bittorrent_sim::bencode::{self, Value};
use bittorrent_sim::infohash::sha1;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::storage::Storage;

const PIECE: u64 = 16 << 20;
const LENGTH: u64 = 1 << 40;

fn main() {
    let dir = match std::env::args().nth(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("sparse-restart-{}", std::process::id())),
    };
    let count = (LENGTH / PIECE) as usize;
    let data = vec![7u8; PIECE as usize];
    let mut hashes = vec![[0xab; 20]; count];
    let written = [5, count / 2, count - 1];
    for &i in &written {
        hashes[i] = sha1(&data);
    }
    let info = Value::dict([
        ("length", Value::Int(LENGTH as i64)),
        ("name", Value::from("one-tebibyte.bin")),
        ("piece length", Value::Int(PIECE as i64)),
        ("pieces", Value::Bytes(hashes.concat())),
    ]);
    let bytes = bencode::encode(&Value::dict([("info", info)]));
    let meta = Arc::new(Metainfo::from_bytes(&bytes).expect("metainfo"));
    let storage = Storage::create_in(&dir, Arc::clone(&meta)).expect("create");
    for &i in &written {
        storage.write_piece(i as u32, &data).expect("write");
    }
    drop(storage);

    let storage = Storage::create_in(&dir, Arc::clone(&meta)).expect("reopen");
    let start = Instant::now();
    let check = storage.check().expect("check");
    let took = start.elapsed();
    println!(
        "check of 1 TiB sparse ({count} pieces, 3 written): {:.3} s, {} pieces read, {} in holes, {} verify",
        took.as_secs_f64(),
        check.hashed,
        check.in_holes,
        check.have.count()
    );

    // The old check: read and hash each piece, holes included (64 pieces = 1 GiB).
    let file = std::fs::File::open(storage.path()).expect("open");
    let mut buffer = vec![0u8; PIECE as usize];
    let start = Instant::now();
    for i in 0..64u64 {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buffer, (1000 + i) * PIECE)
            .expect("read");
        let _ = sha1(&buffer);
    }
    let per_gib = start.elapsed().as_secs_f64();
    println!(
        "old check, reading and hashing holes: {per_gib:.2} s per GiB, so {:.0} s ({:.1} min) for 1 TiB",
        per_gib * 1024.0,
        per_gib * 1024.0 / 60.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
