//! `bittorrent-sim create`: its options, and their copy into [`CreateConfig`].

use std::path::PathBuf;

use clap::Args;

use crate::create::CreateConfig;
use crate::defaults;
use crate::units::parse_size;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The file, or folder (a multi-file torrent of its regular files, sorted by path), to
    /// describe.
    #[arg(value_name = "FILE|DIR")]
    pub file: PathBuf,
    /// Piece length, with its unit: B, KiB, MiB or GiB (a bare number is refused).
    #[arg(long, default_value = defaults::PIECE_LENGTH_TEXT, value_parser = parse_size)]
    pub piece_length: u64,
    /// Tracker written as the announce URL: HOST:PORT becomes http://HOST:PORT/announce.
    #[arg(long, value_name = "HOST:PORT|URL")]
    pub tracker: Option<String>,
    /// Where to write the .torrent (default NAME.torrent in the current directory, NAME the
    /// file's or folder's name).
    #[arg(short = 'o', long = "output", value_name = "OUT.torrent")]
    pub output: Option<PathBuf>,
}

impl From<CreateArgs> for CreateConfig {
    fn from(args: CreateArgs) -> CreateConfig {
        CreateConfig {
            file: args.file,
            piece_length: args.piece_length,
            tracker: args.tracker,
            output: args.output,
        }
    }
}
