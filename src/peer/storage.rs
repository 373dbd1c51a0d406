//! The peer's copy of the torrent's data on disk: one file, or a folder of files for a
//! multi-file torrent (`DIR/NAME/path...`, directories created as needed, zero-length files
//! created empty). A piece or block maps onto (file, offset, length) segments
//! ([`layout::Layout`]), a piece spanning files is read and written across them. Reads and
//! writes are positioned (`read_at`/`write_at`, no shared cursor), so upload and download
//! threads use one `File` at once. The start-up check that finds which pieces already verify
//! is `check.rs`.
//!
//! What it does not do: follow or refuse symbolic links already present under `--dir` (the
//! torrent's paths are checked when it is read), or any network I/O.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::defaults::MAX_OPEN_FILES;
use crate::metainfo::Metainfo;

mod check;
pub mod layout;

pub use check::{Check, PROGRESS_EVERY};
use layout::Layout;

/// The data files of one torrent.
pub struct Storage {
    files: Vec<DataFile>,
    layout: Layout,
    /// The file, or the torrent's folder.
    path: PathBuf,
    metainfo: Arc<Metainfo>,
    writable: bool,
    /// Every file was empty or new: nothing on them can verify, so the start-up check is
    /// skipped.
    fresh: bool,
}

/// One file of the torrent; `handle` is `None` when there are too many files to keep open
/// ([`MAX_OPEN_FILES`]): it is then opened for each read or write.
struct DataFile {
    path: PathBuf,
    handle: Option<File>,
}

impl Storage {
    /// Opens (creating them, sparse, at full length) the torrent's files under `dir`:
    /// `dir/<name>`, or `dir/<name>/<path>...` for a folder, for downloading into.
    pub fn create_in(dir: &Path, metainfo: Arc<Metainfo>) -> io::Result<Storage> {
        fs::create_dir_all(dir).map_err(|e| with_path(e, "cannot create directory", dir))?;
        let wanted = metainfo.file_layout();
        let keep_open = wanted.len() <= MAX_OPEN_FILES;
        let mut files = Vec::with_capacity(wanted.len());
        let mut fresh = true;
        for (relative, length) in &wanted {
            let path = dir.join(relative);
            if let Some(parent) = path.parent().filter(|p| *p != dir) {
                fs::create_dir_all(parent)
                    .map_err(|e| with_path(e, "cannot create directory", parent))?;
            }
            let file = open(&path, true)?;
            let len = file.metadata()?.len();
            fresh &= len == 0;
            if len != *length {
                // A longer file keeps its first bytes (they may verify); a shorter one grows
                // sparse.
                file.set_len(*length)
                    .map_err(|e| with_path(e, "cannot size", &path))?;
            }
            files.push(DataFile {
                path,
                handle: keep_open.then_some(file),
            });
        }
        Ok(Storage {
            files,
            layout: Layout::new(wanted.iter().map(|(_, len)| *len)),
            path: dir.join(&metainfo.name),
            metainfo,
            writable: true,
            fresh,
        })
    }

    /// Opens an existing complete file, or folder of files, read-only, to seed it in place.
    /// Each file must have the length the metainfo gives it.
    pub fn open_seed(path: &Path, metainfo: Arc<Metainfo>) -> io::Result<Storage> {
        let wanted = metainfo.file_layout();
        let keep_open = wanted.len() <= MAX_OPEN_FILES;
        let mut files = Vec::with_capacity(wanted.len());
        for (relative, length) in &wanted {
            // `relative` starts with the torrent's name, which is `path`'s last component.
            let inside = relative.strip_prefix(&metainfo.name).unwrap_or(relative);
            let file_path = if inside.as_os_str().is_empty() {
                path.to_path_buf()
            } else {
                path.join(inside)
            };
            let file = open(&file_path, false)?;
            let len = file.metadata()?.len();
            if len != *length {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} has {len} bytes, the torrent says {length}: it changed since it was hashed",
                        file_path.display()
                    ),
                ));
            }
            files.push(DataFile {
                path: file_path,
                handle: keep_open.then_some(file),
            });
        }
        // A folder's path in full: its parent holds the tracker key (`run.rs`), which must not
        // land inside the folder being shared, as `--seed .` would otherwise make it.
        let path = match metainfo.is_multi_file() {
            true => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            false => path.to_path_buf(),
        };
        Ok(Storage {
            files,
            layout: Layout::new(wanted.iter().map(|(_, len)| *len)),
            path,
            metainfo,
            writable: false,
            fresh: false,
        })
    }

    /// The data file, or the torrent's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads `buf.len()` bytes at `begin` inside piece `index`. The caller checked the bounds.
    pub fn read_block(&self, index: u32, begin: u32, buf: &mut [u8]) -> io::Result<()> {
        self.read_at(self.metainfo.piece_offset(index) + u64::from(begin), buf)
    }

    /// Writes a whole verified piece at its offset, across files where it spans them.
    pub fn write_piece(&self, index: u32, data: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "seeding read-only",
            ));
        }
        let mut done = 0;
        for segment in self
            .layout
            .segments(self.metainfo.piece_offset(index), data.len())
        {
            let part = &data[done..done + segment.len];
            self.with_file(segment.file, |f| f.write_all_at(part, segment.offset))?;
            done += segment.len;
        }
        if done < data.len() {
            return Err(past_the_end());
        }
        Ok(())
    }

    /// Reads `buf.len()` bytes at offset `at` of the torrent's data, across files.
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut done = 0;
        for segment in self.layout.segments(at, buf.len()) {
            let part = &mut buf[done..done + segment.len];
            self.with_file(segment.file, |f| f.read_exact_at(part, segment.offset))?;
            done += segment.len;
        }
        if done < buf.len() {
            return Err(past_the_end());
        }
        Ok(())
    }

    /// Runs `op` on file `index`, opening it first when it is not kept open.
    fn with_file<T>(&self, index: usize, op: impl FnOnce(&File) -> io::Result<T>) -> io::Result<T> {
        let data = &self.files[index];
        match &data.handle {
            Some(file) => op(file),
            None => op(&open(&data.path, self.writable)?),
        }
    }
}

/// Opens `path` for reading, and for writing (created if missing) when `write`.
fn open(path: &Path, write: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .create(write)
        .truncate(false)
        .open(path)
        .map_err(|e| with_path(e, "cannot open", path))
}

fn past_the_end() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "read or write past the end of the torrent's data",
    )
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests;
