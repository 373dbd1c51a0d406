//! Listing a local folder for [`super::Metainfo::build`]: every regular file under it, with its
//! path components and length, sorted by path (component by component, as raw UTF-8 bytes), so
//! the same folder always gives the same torrent.
//!
//! Only regular files and directories are shared. A symbolic link anywhere under the folder, or
//! a special file (socket, fifo, device), is refused with a message naming it: following a link
//! could share files from outside the folder, and a peer downloading the torrent would write
//! a plain file where the link was anyway. Empty directories are left out (a torrent cannot
//! list them). A name that is not UTF-8, or not a plain file name by the torrent rules
//! ([`super::files::check_component`]), is refused too.
//!
//! Blocking calls: `read_dir` and `symlink_metadata` on every entry. What it does not do: read
//! any file's contents (hashing is `build`'s).

use std::fs;
use std::path::{Path, PathBuf};

use super::MetainfoError;
use super::error::invalid;
use super::files::{FileEntry, MAX_FILES, check_component};

/// A file found under the folder: where it is on disk, and its torrent entry.
pub(super) struct Found {
    pub disk: PathBuf,
    pub entry: FileEntry,
}

/// Every regular file under `root`, sorted by path.
pub(super) fn list(root: &Path) -> Result<Vec<Found>, MetainfoError> {
    let mut found = Vec::new();
    walk(root, &mut Vec::new(), &mut found)?;
    found.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
    Ok(found)
}

fn walk(dir: &Path, prefix: &mut Vec<String>, out: &mut Vec<Found>) -> Result<(), MetainfoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MetainfoError::Io { path, source }
    };
    for item in fs::read_dir(dir).map_err(io(dir))? {
        let item = item.map_err(io(dir))?;
        let disk = item.path();
        let name = item.file_name();
        let name = name.to_str().ok_or_else(|| {
            invalid(format!(
                "{}: the file name is not utf-8; rename it to share the folder",
                disk.display()
            ))
        })?;
        if let Err(why) = check_component(name) {
            return Err(invalid(format!(
                "{}: cannot be a file name in a torrent: {why}",
                disk.display()
            )));
        }
        let meta = fs::symlink_metadata(&disk).map_err(io(&disk))?;
        let kind = meta.file_type();
        prefix.push(name.to_string());
        if kind.is_dir() {
            walk(&disk, prefix, out)?;
        } else if kind.is_file() {
            if out.len() == MAX_FILES {
                return Err(invalid(format!(
                    "{}: more than {MAX_FILES} files; a torrent may list at most {MAX_FILES}",
                    dir.display()
                )));
            }
            out.push(Found {
                disk,
                entry: FileEntry {
                    path: prefix.clone(),
                    length: meta.len(),
                },
            });
        } else if kind.is_symlink() {
            return Err(invalid(format!(
                "{}: is a symbolic link; only regular files and directories are shared \
                 (copy the file in, or remove the link)",
                disk.display()
            )));
        } else {
            return Err(invalid(format!(
                "{}: is not a regular file (a socket, fifo or device); only regular files \
                 and directories are shared",
                disk.display()
            )));
        }
        prefix.pop();
    }
    Ok(())
}
