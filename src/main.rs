//! The `bittorrent-sim` binary: parses the command line, runs the chosen subcommand and maps a
//! start-up error to an exit code, in one place. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

use bittorrent_sim::cli::{Cli, Command};
use bittorrent_sim::{flood, logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let result = match cli.command {
        Command::Flood(command) => flood::run(command).map_err(|e| e.to_string()),
        _ => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bittorrent-sim: {error}");
            ExitCode::FAILURE
        }
    }
}
