//! STUB: the flooding chunk network; to be written.

pub mod message;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum FloodCommand {
    /// A flood peer.
    Peer,
}

#[derive(Debug)]
pub struct FloodError;

impl std::fmt::Display for FloodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("flood error")
    }
}

pub fn run(_command: FloodCommand) -> Result<(), FloodError> {
    Ok(())
}
