//! The start-up check on sparse files: cost proportional to the data present (pieces read are
//! counted, never timed), and the same answer as reading everything; and a multi-file
//! torrent's folder: pieces spanning files, a zero-length file, the check across files.

use std::sync::Arc;

use super::*;
use crate::bencode::{self, Value};
use crate::infohash::sha1;

/// A torrent named `name` of `length` bytes in pieces of `piece_length`, with the given piece
/// hashes (20 bytes each).
fn metainfo(name: &str, length: u64, piece_length: u64, hashes: &[[u8; 20]]) -> Arc<Metainfo> {
    let info = Value::dict([
        ("length", Value::Int(length as i64)),
        ("name", Value::from(name)),
        ("piece length", Value::Int(piece_length as i64)),
        ("pieces", Value::Bytes(hashes.concat())),
    ]);
    let bytes = bencode::encode(&Value::dict([("info", info)]));
    Arc::new(Metainfo::from_bytes(&bytes).expect("metainfo"))
}

/// Deterministic contents of piece `index`.
fn piece(index: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 ^ index.wrapping_mul(2654435761)) as u8 | 1)
        .collect()
}

#[test]
fn a_64_gib_sparse_file_reads_only_the_pieces_that_hold_data() {
    const PIECE: u64 = 1 << 20;
    const LENGTH: u64 = (64 << 30) + 12_345; // 65 537 pieces, the last one of 12 345 bytes
    let count = LENGTH.div_ceil(PIECE) as u32;
    let last = count - 1;
    let last_len = (LENGTH - u64::from(last) * PIECE) as usize;
    // Pieces 7, 40 000 and the last are written; 9 is a hole whose hash is that of zeros (a
    // piece of zeros whose blocks the file system did not allocate), 12 a hole whose hash is
    // not: it is missing. Every other piece's hash is arbitrary: missing too.
    let written = [
        (7u32, PIECE as usize),
        (40_000, PIECE as usize),
        (last, last_len),
    ];
    let mut hashes = vec![[0xab; 20]; count as usize];
    for (index, len) in written {
        hashes[index as usize] = sha1(&piece(index, len));
    }
    hashes[9] = sha1(&vec![0; PIECE as usize]);
    let dir = tempfile::tempdir().unwrap();
    let meta = metainfo("big.bin", LENGTH, PIECE, &hashes);

    // First start: the file is created sparse at full length; nothing to check.
    let storage = Storage::create_in(dir.path(), Arc::clone(&meta)).unwrap();
    assert_eq!(storage.check().unwrap().hashed, 0);
    for (index, len) in written {
        storage.write_piece(index, &piece(index, len)).unwrap();
    }
    drop(storage);

    // Restart: only the pieces with data are read.
    let storage = Storage::create_in(dir.path(), meta).unwrap();
    let check = storage.check().unwrap();
    let have: Vec<u32> = (0..count).filter(|i| check.have.contains(*i)).collect();
    assert_eq!(have, vec![7, 9, 40_000, last]);
    assert_eq!(check.hashed, 3, "read only the three written pieces");
    assert_eq!(check.in_holes, count - 3);
}

#[test]
fn a_file_full_of_data_is_read_whole_and_a_torn_piece_fails() {
    const PIECE: usize = 4096;
    let lens = [PIECE, PIECE, PIECE, PIECE, 100];
    let hashes: Vec<[u8; 20]> = (0..5).map(|i| sha1(&piece(i, lens[i as usize]))).collect();
    let dir = tempfile::tempdir().unwrap();
    let meta = metainfo("small.bin", 4 * PIECE as u64 + 100, PIECE as u64, &hashes);
    let storage = Storage::create_in(dir.path(), Arc::clone(&meta)).unwrap();
    for i in 0..5u32 {
        storage.write_piece(i, &piece(i, lens[i as usize])).unwrap();
    }
    // Piece 2 torn: its second half zeroed, what a cut write leaves.
    storage
        .write_piece(
            2,
            &[piece(2, PIECE)[..PIECE / 2].to_vec(), vec![0; PIECE / 2]].concat(),
        )
        .unwrap();
    drop(storage);
    let storage = Storage::create_in(dir.path(), meta).unwrap();
    let check = storage.check().unwrap();
    let have: Vec<u32> = (0..5).filter(|i| check.have.contains(*i)).collect();
    assert_eq!(have, vec![0, 1, 3, 4]);
    assert_eq!((check.hashed, check.in_holes), (5, 0));
    assert_eq!(storage.verify_all().unwrap(), check.have);
}

/// A folder torrent `shared` of `a.bin` (40 000 bytes), `empty` (0) and `sub/b.bin` (70 000) in
/// pieces of 16 KiB, and its data end to end. Piece 2 (32 768..49 152) spans both files.
fn folder() -> (Arc<Metainfo>, Vec<u8>) {
    let data: Vec<u8> = (0..110_000u32).map(|i| (i % 251) as u8 ^ 0x5a).collect();
    let hashes: Vec<u8> = data.chunks(16_384).flat_map(sha1).collect();
    let file = |len: i64, path: &[&str]| {
        let path = path.iter().map(|c| Value::from(*c)).collect();
        Value::dict([("length", Value::Int(len)), ("path", Value::List(path))])
    };
    let info = Value::dict([
        (
            "files",
            Value::List(vec![
                file(40_000, &["a.bin"]),
                file(0, &["empty"]),
                file(70_000, &["sub", "b.bin"]),
            ]),
        ),
        ("name", Value::from("shared")),
        ("piece length", Value::Int(16_384)),
        ("pieces", Value::Bytes(hashes)),
    ]);
    let bytes = bencode::encode(&Value::dict([("info", info)]));
    (Arc::new(Metainfo::from_bytes(&bytes).unwrap()), data)
}

#[test]
fn a_folder_is_created_written_across_files_and_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, data) = folder();
    let storage = Storage::create_in(dir.path(), Arc::clone(&meta)).unwrap();
    let root = dir.path().join("shared");
    assert_eq!(storage.path(), root);
    assert_eq!(std::fs::metadata(root.join("empty")).unwrap().len(), 0);
    assert_eq!(
        std::fs::metadata(root.join("sub/b.bin")).unwrap().len(),
        70_000
    );
    assert_eq!(storage.check().unwrap().hashed, 0, "fresh: nothing to read");
    // Pieces 2 (spanning a.bin and sub/b.bin) and 6 (the short last one).
    for index in [2u32, 6] {
        let start = index as usize * 16_384;
        let end = (start + 16_384).min(data.len());
        storage.write_piece(index, &data[start..end]).unwrap();
    }
    let mut block = vec![0u8; 100];
    storage.read_block(2, 7_182, &mut block).unwrap();
    assert_eq!(block, data[39_950..40_050], "a block across the boundary");
    let a = std::fs::read(root.join("a.bin")).unwrap();
    assert_eq!(a[32_768..], data[32_768..40_000]);
    drop(storage);

    // Restart: only the pieces holding data are read, across both files.
    let storage = Storage::create_in(dir.path(), Arc::clone(&meta)).unwrap();
    let check = storage.check().unwrap();
    let have: Vec<u32> = (0..7).filter(|i| check.have.contains(*i)).collect();
    assert_eq!(have, vec![2, 6]);
    // Pieces 0, 1 and 4 lie wholly in holes of whole 4 KiB blocks; 3 and 5 share a file-system
    // block with written bytes (files do not start on piece boundaries), so they may be read.
    assert!(check.hashed <= 4, "read {} pieces", check.hashed);
    assert_eq!(check.hashed + check.in_holes, 7);
    for index in 0..7u32 {
        let start = index as usize * 16_384;
        let end = (start + 16_384).min(data.len());
        storage.write_piece(index, &data[start..end]).unwrap();
    }
    drop(storage);
    let b = std::fs::read(root.join("sub/b.bin")).unwrap();
    assert!(b == data[40_000..], "sub/b.bin is byte-identical");

    // Seeding the complete folder in place: every piece verifies, blocks read across files.
    let seed = Storage::open_seed(&root, Arc::clone(&meta)).unwrap();
    assert_eq!(seed.verify_all().unwrap().count(), 7);
    seed.read_block(2, 7_182, &mut block).unwrap();
    assert_eq!(block, data[39_950..40_050]);
    assert!(seed.write_piece(0, &data[..16_384]).is_err(), "read-only");
    std::fs::write(root.join("a.bin"), b"short").unwrap();
    let err = Storage::open_seed(&root, meta).err().unwrap();
    assert!(
        err.to_string()
            .contains("has 5 bytes, the torrent says 40000"),
        "{err}"
    );
}

#[test]
fn more_files_than_kept_open_are_opened_for_each_read_and_write() {
    use crate::defaults::MAX_OPEN_FILES;
    let count = MAX_OPEN_FILES + 6;
    let data: Vec<u8> = (0..count * 100).map(|i| (i * 31 % 253) as u8).collect();
    let files: Vec<Value> = (0..count)
        .map(|i| {
            let path = vec![
                Value::from(format!("d{}", i % 3)),
                Value::from(format!("f{i}")),
            ];
            Value::dict([("length", Value::Int(100)), ("path", Value::List(path))])
        })
        .collect();
    let info = Value::dict([
        ("files", Value::List(files)),
        ("name", Value::from("many")),
        ("piece length", Value::Int(256)),
        (
            "pieces",
            Value::Bytes(data.chunks(256).flat_map(sha1).collect()),
        ),
    ]);
    let bytes = bencode::encode(&Value::dict([("info", info)]));
    let meta = Arc::new(Metainfo::from_bytes(&bytes).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::create_in(dir.path(), Arc::clone(&meta)).unwrap();
    assert!(storage.files.iter().all(|f| f.handle.is_none()));
    for (index, piece) in data.chunks(256).enumerate() {
        storage.write_piece(index as u32, piece).unwrap();
    }
    drop(storage);
    let storage = Storage::create_in(dir.path(), meta).unwrap();
    assert_eq!(
        storage.verify_all().unwrap().count(),
        data.len().div_ceil(256) as u32
    );
    let last = count - 1;
    let copy = std::fs::read(dir.path().join(format!("many/d{}/f{last}", last % 3))).unwrap();
    assert_eq!(copy, data[last * 100..]);
}
