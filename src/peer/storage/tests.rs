//! The start-up check on sparse files: cost proportional to the data present (pieces read are
//! counted, never timed), and the same answer as reading everything.

use std::sync::Arc;

use super::*;
use crate::bencode::{self, Value};

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
