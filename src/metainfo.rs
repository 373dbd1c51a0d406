//! STUB (API fixed, bodies to be written): BEP 3 metainfo (`.torrent`) files.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::infohash::InfoHash;

/// Largest `.torrent` we read, from disk or from the network.
pub const MAX_TORRENT_BYTES: usize = 8 << 20;
/// Largest piece length accepted: a piece is held in memory while it is verified.
pub const MAX_PIECE_LENGTH: u64 = 16 << 20;

/// A single-file torrent's metainfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    pub announce: Option<String>,
    pub name: String,
    pub piece_length: u64,
    pub length: u64,
    pub piece_hashes: Vec<[u8; 20]>,
    pub info_hash: InfoHash,
    raw: Vec<u8>,
}

#[derive(Debug)]
pub enum MetainfoError {
    Io { path: PathBuf, source: io::Error },
    Invalid(String),
}

impl fmt::Display for MetainfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetainfoError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            MetainfoError::Invalid(why) => write!(f, "invalid metainfo: {why}"),
        }
    }
}

impl std::error::Error for MetainfoError {}

impl Metainfo {
    pub fn from_bytes(_bytes: &[u8]) -> Result<Metainfo, MetainfoError> {
        todo!()
    }
    pub fn from_file(_path: &Path) -> Result<Metainfo, MetainfoError> {
        todo!()
    }
    pub fn build(
        _file: &Path,
        _piece_length: u64,
        _announce: Option<String>,
    ) -> Result<Metainfo, MetainfoError> {
        todo!()
    }
    pub fn write_to_file(&self, _path: &Path) -> Result<(), MetainfoError> {
        todo!()
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }
    pub fn num_pieces(&self) -> u32 {
        self.piece_hashes.len() as u32
    }
    pub fn piece_len(&self, _index: u32) -> u32 {
        todo!()
    }
    pub fn piece_offset(&self, index: u32) -> u64 {
        index as u64 * self.piece_length
    }
    pub fn piece_hash(&self, index: u32) -> &[u8; 20] {
        &self.piece_hashes[index as usize]
    }
}

pub fn announce_url(_tracker: &str) -> String {
    todo!()
}

pub fn tracker_addr_from_announce(_url: &str) -> Option<String> {
    todo!()
}
