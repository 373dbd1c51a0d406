//! The peer's copy of the torrent's file on disk: positioned reads and writes of pieces and
//! blocks (`read_at`/`write_at`, no shared cursor, so upload and download threads use one
//! `File` at once), and the start-up check that finds which pieces already verify.
//!
//! No network here.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::infohash::sha1;
use crate::metainfo::Metainfo;
use crate::pieces::PieceSet;

/// The data file of one torrent.
pub struct Storage {
    file: File,
    path: PathBuf,
    metainfo: Arc<Metainfo>,
    writable: bool,
    /// The file was empty or new: nothing on it can verify, so the start-up check is skipped.
    fresh: bool,
}

impl Storage {
    /// Opens (creating it, sparse, at full length) `dir/<name>` for downloading into.
    pub fn create_in(dir: &Path, metainfo: Arc<Metainfo>) -> io::Result<Storage> {
        fs::create_dir_all(dir).map_err(|e| with_path(e, "cannot create directory", dir))?;
        let path = dir.join(&metainfo.name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| with_path(e, "cannot open", &path))?;
        let len = file.metadata()?.len();
        let fresh = len == 0;
        if len != metainfo.length {
            // A longer file keeps its first bytes (they may verify); a shorter one grows sparse.
            file.set_len(metainfo.length)
                .map_err(|e| with_path(e, "cannot size", &path))?;
        }
        Ok(Storage {
            file,
            path,
            metainfo,
            writable: true,
            fresh,
        })
    }

    /// Opens an existing complete file read-only, to seed it in place.
    pub fn open_seed(path: &Path, metainfo: Arc<Metainfo>) -> io::Result<Storage> {
        let file = File::open(path).map_err(|e| with_path(e, "cannot open", path))?;
        Ok(Storage {
            file,
            path: path.to_path_buf(),
            metainfo,
            writable: false,
            fresh: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every piece and returns those whose SHA-1 matches the metainfo.
    pub fn verify_all(&self) -> io::Result<PieceSet> {
        let count = self.metainfo.num_pieces();
        let mut have = PieceSet::empty(count);
        if self.fresh {
            return Ok(have);
        }
        let mut buffer = vec![0u8; self.metainfo.piece_length as usize];
        for index in 0..count {
            let piece = &mut buffer[..self.metainfo.piece_len(index) as usize];
            self.file
                .read_exact_at(piece, self.metainfo.piece_offset(index))?;
            if &sha1(piece) == self.metainfo.piece_hash(index) {
                have.insert(index);
            }
        }
        Ok(have)
    }

    /// Reads `buf.len()` bytes at `begin` inside piece `index`. The caller checked the bounds.
    pub fn read_block(&self, index: u32, begin: u32, buf: &mut [u8]) -> io::Result<()> {
        self.file
            .read_exact_at(buf, self.metainfo.piece_offset(index) + u64::from(begin))
    }

    /// Writes a whole verified piece at its offset.
    pub fn write_piece(&self, index: u32, data: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "seeding read-only",
            ));
        }
        self.file
            .write_all_at(data, self.metainfo.piece_offset(index))
    }
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}
