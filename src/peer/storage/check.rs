//! The start-up check: which pieces already on disk verify, at the cost of what is on disk,
//! not of what the torrent could hold.
//!
//! A download creates its files sparse at full length (a legal 1 TiB torrent does so
//! instantly), and on a restart a piece lying entirely in a hole was never written, so it is
//! known without reading it: it verifies only if its hash is that of zeros (computed once per
//! piece length). Holes are found with `lseek(SEEK_DATA)` (Linux, 64-bit; std has no API for it,
//! so `lseek` is declared here, no extra crate), file by file for a multi-file torrent; where
//! that is missing or refused, every piece is read. A progress line is logged every 10% or 5 s.
//!
//! No network here; reads go through [`Storage::read_at`].

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use log::info;

use super::Storage;
use crate::infohash::sha1;
use crate::pieces::PieceSet;

impl Storage {
    /// The pieces whose SHA-1 matches the metainfo (see [`Storage::check`]).
    pub fn verify_all(&self) -> io::Result<PieceSet> {
        Ok(self.check()?.have)
    }

    /// Finds the pieces whose SHA-1 matches the metainfo, reading only those that hold data:
    /// a piece entirely in holes of the sparse files is skipped (it verifies if its hash is
    /// the hash of zeros). Logs its progress every 10% or [`PROGRESS_EVERY`].
    pub fn check(&self) -> io::Result<Check> {
        let count = self.metainfo.num_pieces();
        let mut check = Check {
            have: PieceSet::empty(count),
            hashed: 0,
            in_holes: 0,
        };
        if self.fresh {
            check.in_holes = count;
            return Ok(check);
        }
        let piece_length = self.metainfo.piece_length;
        let mut buffer = vec![0u8; piece_length as usize];
        let mut zeros = ZeroHashes::default();
        let mut progress = Progress::new(&self.path, count);
        let mut index = 0;
        while index < count {
            let start = self.metainfo.piece_offset(index);
            let len = self.metainfo.piece_len(index);
            let first_data = self.next_data(start)?;
            // Every piece before the one holding the next data lies in a hole.
            let data_piece =
                first_data.map_or(count, |at| (at / piece_length).min(count as u64) as u32);
            if data_piece > index {
                for hole in index..data_piece {
                    let len = self.metainfo.piece_len(hole);
                    if zeros.hash(len) == *self.metainfo.piece_hash(hole) {
                        check.have.insert(hole);
                    }
                }
                check.in_holes += data_piece - index;
                index = data_piece;
                progress.at(index, check.hashed);
                continue;
            }
            let piece = &mut buffer[..len as usize];
            self.read_at(start, piece)?;
            check.hashed += 1;
            if &sha1(piece) == self.metainfo.piece_hash(index) {
                check.have.insert(index);
            }
            index += 1;
            progress.at(index, check.hashed);
        }
        Ok(check)
    }

    /// The offset in the torrent's data of the first byte of data at or after `from`, across
    /// files; `None` when only holes follow.
    fn next_data(&self, from: u64) -> io::Result<Option<u64>> {
        let Some(first) = self.layout.locate(from) else {
            return Ok(None);
        };
        for index in first..self.layout.len() {
            let (start, len) = self.layout.file(index);
            if len == 0 {
                continue;
            }
            let local = from.saturating_sub(start);
            let found = self.with_file(index, |file| next_data(file, local))?;
            if let Some(at) = found.filter(|at| *at < len) {
                return Ok(Some(start + at));
            }
        }
        Ok(None)
    }
}

/// What [`Storage::check`] found and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub have: PieceSet,
    /// Pieces read from disk and hashed.
    pub hashed: u32,
    /// Pieces found entirely in holes, so not read.
    pub in_holes: u32,
}

/// At most this long between two progress lines of the start-up check.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The progress lines of a check: one per 10% of the pieces, or per [`PROGRESS_EVERY`].
struct Progress<'a> {
    path: &'a Path,
    count: u32,
    next_tenth: u32,
    last: Instant,
}

impl<'a> Progress<'a> {
    fn new(path: &'a Path, count: u32) -> Self {
        Progress {
            path,
            count,
            next_tenth: 1,
            last: Instant::now(),
        }
    }

    /// `done` pieces of `count` checked, `hashed` of them read.
    fn at(&mut self, done: u32, hashed: u32) {
        let tenth = (u64::from(done) * 10 / u64::from(self.count.max(1))) as u32;
        if tenth < self.next_tenth && self.last.elapsed() < PROGRESS_EVERY {
            return;
        }
        self.next_tenth = tenth + 1;
        self.last = Instant::now();
        info!(
            "checking {}: {}% ({done} of {} pieces, {hashed} read, the rest in holes)",
            self.path.display(),
            u64::from(done) * 100 / u64::from(self.count.max(1)),
            self.count
        );
    }
}

/// The SHA-1 of a piece of zeros, per piece length (a torrent has at most two).
#[derive(Default)]
struct ZeroHashes(Vec<(u32, [u8; 20])>);

impl ZeroHashes {
    fn hash(&mut self, len: u32) -> [u8; 20] {
        if let Some((_, hash)) = self.0.iter().find(|(l, _)| *l == len) {
            return *hash;
        }
        let hash = sha1(&vec![0u8; len as usize]);
        self.0.push((len, hash));
        hash
    }
}

/// The offset of the first byte of data at or after `from`, `None` when only a hole follows.
/// Where holes cannot be asked for, everything is data: `Some(from)`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn next_data(file: &File, from: u64) -> io::Result<Option<u64>> {
    use std::os::fd::AsRawFd;
    const SEEK_DATA: i32 = 3;
    const ENXIO: i32 = 6;
    const EINVAL: i32 = 22;
    unsafe extern "C" {
        // off_t is 64 bits on 64-bit Linux.
        fn lseek(fd: i32, offset: i64, whence: i32) -> i64;
    }
    let Ok(offset) = i64::try_from(from) else {
        return Ok(Some(from));
    };
    // SAFETY: lseek touches no memory of ours; the descriptor stays open while `file` is
    // borrowed. It moves the file's cursor, which nothing here uses (reads and writes are
    // positioned).
    let at = unsafe { lseek(file.as_raw_fd(), offset, SEEK_DATA) };
    if at >= 0 {
        return Ok(Some(at as u64));
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(ENXIO) => Ok(None),
        // A file system without SEEK_DATA: read everything.
        Some(EINVAL) => Ok(Some(from)),
        _ => Err(error),
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn next_data(_file: &File, from: u64) -> io::Result<Option<u64>> {
    Ok(Some(from))
}
