//! The files of a multi-file torrent (BEP 3 `info.files`): reading the list, and the rules that
//! keep every file inside the download directory.
//!
//! Each entry is `{length, path}`, `path` a list of components: the file lives at
//! `DIR/<name>/<c1>/<c2>/...`, and the torrent's data is the files' bytes one after the other,
//! in list order, so a piece may span several files. A component must be a plain file name
//! ([`check_component`]); two files may not share a path, and no file's path may be a directory
//! on the way to another file (`a` and `a/b`). Zero-length files are allowed.
//!
//! What it does not do: any I/O (storage maps offsets onto these files, `build` makes the
//! list from a folder), BEP 47 attributes (a padding file is read as an ordinary file), or
//! `path.utf-8` (only `path` is read).

use std::path::PathBuf;

use super::error::invalid;
use super::parse::MAX_NAME_LEN;
use super::{Metainfo, MetainfoError};
use crate::bencode::Node;

/// The most files a torrent may list (each is a file on disk, created on download).
pub const MAX_FILES: usize = 100_000;

/// One file of a multi-file torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The components under the torrent's folder, at least one, each a plain file name.
    pub path: Vec<String>,
    pub length: u64,
}

impl FileEntry {
    /// The path under the torrent's folder, components joined with `/`, for messages.
    pub fn display(&self) -> String {
        self.path.join("/")
    }
}

impl Metainfo {
    /// Whether the torrent lists `files` (a folder) rather than one file.
    pub fn is_multi_file(&self) -> bool {
        self.files.is_some()
    }

    /// Every file the data is cut into, in torrent order, as (path relative to the download
    /// directory, length): `[(name, length)]` for a single-file torrent,
    /// `[(name/c1/c2, length), ...]` for a folder.
    pub fn file_layout(&self) -> Vec<(PathBuf, u64)> {
        match &self.files {
            None => vec![(PathBuf::from(&self.name), self.length)],
            Some(files) => files
                .iter()
                .map(|f| {
                    let mut path = PathBuf::from(&self.name);
                    path.extend(&f.path);
                    (path, f.length)
                })
                .collect(),
        }
    }
}

/// Reads `info.files`; returns the entries and their total length (at least 1 byte).
pub(super) fn parse_files(files: &Node<'_>) -> Result<(Vec<FileEntry>, u64), MetainfoError> {
    let list = files
        .as_list()
        .ok_or_else(|| invalid(format!("`files` is {}, expected a list", files.kind_name())))?;
    if list.is_empty() {
        return Err(invalid("`files` is an empty list"));
    }
    if list.len() > MAX_FILES {
        return Err(invalid(format!(
            "`files` lists {} files, more than {MAX_FILES}",
            list.len()
        )));
    }
    let mut entries = Vec::with_capacity(list.len());
    let mut total: u64 = 0;
    for (i, node) in list.iter().enumerate() {
        let entry =
            parse_entry(node).map_err(|why| invalid(format!("`files` entry {i}: {why}")))?;
        total = total
            .checked_add(entry.length)
            .filter(|t| *t <= i64::MAX as u64)
            .ok_or_else(|| invalid("the files' lengths add up to more than 2^63 - 1 bytes"))?;
        entries.push(entry);
    }
    if total == 0 {
        return Err(invalid(
            "every file in `files` is empty: a torrent needs at least one byte to share",
        ));
    }
    check_layout(&entries)?;
    Ok((entries, total))
}

/// One `{length, path}` dictionary; the error is the reason alone.
fn parse_entry(node: &Node<'_>) -> Result<FileEntry, String> {
    if node.as_dict().is_none() {
        return Err(format!("is {}, expected a dictionary", node.kind_name()));
    }
    let length = node.get(b"length").ok_or("has no `length`")?;
    let length = match length.as_int() {
        Some(n) if n >= 0 => n as u64,
        Some(n) => return Err(format!("`length` is {n}, expected 0 or more")),
        None => {
            return Err(format!(
                "`length` is {}, expected an integer",
                length.kind_name()
            ));
        }
    };
    let path = node.get(b"path").ok_or("has no `path`")?;
    let components = path
        .as_list()
        .ok_or_else(|| format!("`path` is {}, expected a list", path.kind_name()))?;
    if components.is_empty() {
        return Err("`path` is an empty list".to_string());
    }
    let mut out = Vec::with_capacity(components.len());
    for component in components {
        let bytes = component.as_bytes().ok_or_else(|| {
            format!(
                "a `path` component is {}, expected a string",
                component.kind_name()
            )
        })?;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "a `path` component is not valid utf-8".to_string())?;
        check_component(text).map_err(|why| {
            format!(
                "unsafe path component \"{}\": {why}; each component must be a plain file name",
                text.escape_debug()
            )
        })?;
        out.push(text.to_string());
    }
    Ok(FileEntry { path: out, length })
}

/// Why `part` cannot be one file or directory name under the download directory, if it
/// cannot: it would be empty, climb out (`..`), stay put (`.`), start from the root or hold a
/// separator, or carry bytes that break protocol lines and terminals.
pub(super) fn check_component(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        Err("it is empty")
    } else if part == "." || part == ".." {
        Err("it names a directory")
    } else if part.contains(['/', '\\']) {
        Err("it contains a path separator")
    } else if part.contains('\0') {
        Err("it contains a nul byte")
    } else if part.chars().any(char::is_control) {
        Err("it contains a control character")
    } else if part.len() > MAX_NAME_LEN {
        Err("it is longer than 255 bytes")
    } else {
        Ok(())
    }
}

/// No two files at one path, and no file where another needs a directory (`a` and `a/b`).
pub(super) fn check_layout(entries: &[FileEntry]) -> Result<(), MetainfoError> {
    let mut paths: Vec<&[String]> = entries.iter().map(|e| e.path.as_slice()).collect();
    paths.sort_unstable();
    // Sorted, every path that extends `p` comes right after `p` (or after another such path).
    for pair in paths.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a == b {
            return Err(invalid(format!(
                "`files` lists \"{}\" twice",
                a.join("/").escape_debug()
            )));
        }
        if b.starts_with(a) {
            return Err(invalid(format!(
                "`files` lists \"{}\" as a file and as a directory (of \"{}\")",
                a.join("/").escape_debug(),
                b.join("/").escape_debug()
            )));
        }
    }
    Ok(())
}
