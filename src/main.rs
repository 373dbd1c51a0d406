//! The `bittorrent-sim` binary: parses the command line, hands each subcommand's configuration
//! to its subsystem, and turns a failure into one error line and an exit code, in one place.
//! Everything else lives in the library: the options in `cli/`, the exit codes in
//! `cli/exit.rs`.

use std::process::ExitCode;

use clap::Parser;

use bittorrent_sim::cli::{Cli, Command, ExitStatus, Failure};
use bittorrent_sim::observe::Observe;
use bittorrent_sim::peer::{self, PeerConfig, PeerError};
use bittorrent_sim::{create, diagram, flood, logging, status, tracker};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.command.is_quiet() {
        "warn"
    } else {
        "info"
    };
    logging::init_with(level, cli.log_format);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("bittorrent-sim: error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Tracker(args) => {
            Observe::from(args.observe.clone())
                .start("tracker")
                .map_err(tracker::TrackerError::Io)?;
            tracker::run(args.into())?;
        }
        Command::Peer(args) => {
            // --trace starts once the peer knows its port (the process's name).
            Observe::from(args.observe.clone()).start_slow_motion();
            peer::run(PeerConfig::try_from(args)?)?;
        }
        Command::Create(args) => create::run(args.into())?,
        Command::Status(args) => {
            let config = status::StatusConfig::try_from(args)?;
            status::run(config).map_err(|source| PeerError::Tracker {
                addr: config.tracker,
                source,
            })?;
        }
        Command::Flood(command) => flood::run(command.into())?,
        Command::Diagram(args) => diagram::run(args.into())?,
        Command::Scenario(args) => bittorrent_sim::scenario::run(args.into())?,
    }
    Ok(())
}
