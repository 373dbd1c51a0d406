//! `bittorrent-sim create`: writes a BEP 3 `.torrent` for one file, or for a folder (a
//! multi-file torrent), and says what it wrote.
//!
//! 1. read the file or the folder's files, hashing them piece by piece (`Metainfo::build`);
//! 2. write the `.torrent`.
//!
//! The encoding lives in [`crate::metainfo`]; this file only chooses the output name.

use std::path::PathBuf;

use crate::metainfo::{self, Metainfo, MetainfoError};

/// What `create` is told.
#[derive(Debug, Clone)]
pub struct CreateConfig {
    /// The file or folder to describe.
    pub file: PathBuf,
    pub piece_length: u64,
    /// `HOST:PORT` or an announce URL, written as the announce URL.
    pub tracker: Option<String>,
    /// Where to write (default `NAME.torrent` in the current directory).
    pub output: Option<PathBuf>,
}

pub fn run(config: CreateConfig) -> Result<(), MetainfoError> {
    let announce = config.tracker.as_deref().map(metainfo::announce_url);
    let metainfo = Metainfo::build(&config.file, config.piece_length, announce)?;
    let output = config
        .output
        .unwrap_or_else(|| format!("{}.torrent", metainfo.name).into());
    metainfo.write_to_file(&output)?;
    let files = match &metainfo.files {
        Some(files) => format!(", {} files, {} bytes", files.len(), metainfo.length),
        None => String::new(),
    };
    println!(
        "wrote {} (info-hash {}, {} pieces of {} bytes{files})",
        output.display(),
        metainfo.info_hash,
        metainfo.num_pieces(),
        metainfo.piece_length
    );
    Ok(())
}
