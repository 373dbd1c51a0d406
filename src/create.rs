//! `bittorrent-sim create`: writes a BEP 3 `.torrent` for one file and says what it wrote.
//!
//! 1. read the file, hashing it piece by piece (`Metainfo::build`);
//! 2. write the `.torrent`.
//!
//! The encoding lives in [`crate::metainfo`]; this file only chooses the output name.

use std::path::PathBuf;

use crate::metainfo::{self, Metainfo, MetainfoError};

/// What `create` is told.
#[derive(Debug, Clone)]
pub struct CreateConfig {
    /// The file to describe.
    pub file: PathBuf,
    pub piece_length: u64,
    /// `HOST:PORT` or an announce URL, written as the announce URL.
    pub tracker: Option<String>,
    /// Where to write (default `FILE.torrent` in the current directory).
    pub output: Option<PathBuf>,
}

pub fn run(config: CreateConfig) -> Result<(), MetainfoError> {
    let announce = config.tracker.as_deref().map(metainfo::announce_url);
    let metainfo = Metainfo::build(&config.file, config.piece_length, announce)?;
    let output = config.output.unwrap_or_else(|| {
        let name = config
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        format!("{name}.torrent").into()
    });
    metainfo.write_to_file(&output)?;
    println!(
        "wrote {} (info-hash {}, {} pieces of {} bytes)",
        output.display(),
        metainfo.info_hash,
        metainfo.num_pieces(),
        metainfo.piece_length
    );
    Ok(())
}
