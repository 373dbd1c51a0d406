//! A sample file, its torrent, and the peer directories of a swarm test: each peer `NAME` keeps
//! its copy in `DIR/NAME/sample.bin`, pre-filled with the pieces the test gives it. Starting the
//! processes is `mod.rs`'s business; this file only lays out directories and command lines.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;

use bittorrent_sim::metainfo::Metainfo;

use super::{Proc, create_torrent, partial, peer, sample_bytes, write_file};

/// The usual piece length of the tests: one 16 KiB block per piece.
pub const PIECE: usize = 16 * 1024;

/// A temporary directory holding a sample file and its torrent: what most swarm tests start
/// from.
pub struct Sample {
    pub dir: tempfile::TempDir,
    pub data: Vec<u8>,
    pub torrent: PathBuf,
    pub meta: Metainfo,
}

/// `len` deterministic bytes (`sample_bytes(len, seed)`) written to `DIR/ORIGINAL/sample.bin`,
/// and their torrent of `piece_len` pieces at `DIR/TORRENT`.
pub fn sample(len: usize, seed: u64, piece_len: usize, original: &str, torrent: &str) -> Sample {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_bytes(len, seed);
    let file = write_file(&dir.path().join(original), "sample.bin", &data);
    let torrent = create_torrent(&file, piece_len, &dir.path().join(torrent));
    let meta = Metainfo::from_file(&torrent).expect("torrent");
    Sample {
        dir,
        data,
        torrent,
        meta,
    }
}

impl Sample {
    /// `DIR/NAME`: where peer `NAME` keeps its copy.
    pub fn dir_of(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `DIR/NAME/sample.bin`: peer `NAME`'s copy.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir_of(name).join("sample.bin")
    }

    /// Peer `NAME`'s copy as it is on disk now (empty when there is none).
    pub fn copy(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).unwrap_or_default()
    }

    /// Every piece index of the file.
    pub fn all(&self) -> Range<usize> {
        0..self.meta.num_pieces() as usize
    }

    /// The bytes of one block of the file.
    pub fn block(&self, index: u32, begin: u32, length: u32) -> Vec<u8> {
        let start = self.meta.piece_offset(index) as usize + begin as usize;
        self.data[start..start + length as usize].to_vec()
    }

    /// Pre-fills `DIR/NAME` with the listed pieces (zeros elsewhere; no file at all when the
    /// list is empty); returns `DIR/NAME`.
    pub fn fill(&self, name: &str, pieces: impl IntoIterator<Item = usize>) -> PathBuf {
        let dir = self.dir_of(name);
        let piece_len = self.meta.piece_length as usize;
        let copy = partial(&self.data, piece_len, pieces);
        if copy.iter().any(|&b| b != 0) {
            write_file(&dir, "sample.bin", &copy);
        }
        dir
    }

    /// `--torrent TORRENT --dir DIR/NAME` and `extra`.
    pub fn peer_args(&self, name: &str, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "--torrent".to_string(),
            self.torrent.to_string_lossy().into_owned(),
            "--dir".to_string(),
            self.dir_of(name).to_string_lossy().into_owned(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    }

    /// Starts peer `NAME` on `DIR/NAME` with `--min-peers 1` (it starts fetching as soon as
    /// one other peer is listed) and `extra`; returns it and its address once it has joined.
    pub fn peer(&self, name: &str, tracker: SocketAddr, extra: &[&str]) -> (Proc, SocketAddr) {
        let args = self.peer_args(name, &[&["--min-peers", "1"], extra].concat());
        let (proc, port) = peer(name, self.dir.path(), tracker, &args);
        (proc, SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// [`Sample::peer`] on a directory holding the whole file: a seed.
    pub fn seed(&self, name: &str, tracker: SocketAddr, extra: &[&str]) -> (Proc, SocketAddr) {
        self.fill(name, self.all());
        self.peer(name, tracker, extra)
    }
}
