//! The command line, as clap structs: `tracker`, `peer`, `create`, `status`, `flood` and
//! `diagram`, one file each under `cli/`.
//!
//! Only the shape of the arguments lives here, and the copying of each subcommand's arguments
//! into its subsystem's configuration (`impl From<XArgs> for XConfig`, or `TryFrom` where a
//! value still has to be checked). No subsystem knows clap: the arrows go from here to them.
//! Every default reads [`crate::defaults`], and every timer takes a unit (`10s`, `250ms`) so
//! tests and demos can run the protocols in milliseconds. Which exit code an error gives is
//! decided in [`exit`].

pub mod create;
pub mod diagram;
pub mod exit;
pub mod flood;
pub mod peer;
pub mod scenario;
pub mod status;
pub mod tracker;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::observe::Observe;
use crate::units::parse_duration;

pub use exit::{ExitStatus, Failure};

#[derive(Debug, Parser)]
#[command(
    name = "bittorrent-sim",
    version,
    args_override_self = true,
    about = "Run and watch BitTorrent: a tracker swarm over the real peer wire protocol, and a UDP flooding chunk network",
    after_help = "Log detail is chosen with RUST_LOG (error, warn, info, debug); info traces every message.\nTimers and limits may also come from the environment (BTSIM_PING_INTERVAL,\nBTSIM_REPORT_INTERVAL, BTSIM_ROUND_INTERVAL, BTSIM_CLEANUP_INTERVAL, BTSIM_MIN_PEERS,\nBTSIM_PER_PEER, BTSIM_UPLOAD_RATE, BTSIM_DOWNLOAD_RATE, BTSIM_LOG_FORMAT), so a demo can shorten them\nwhile keeping the design card's command line."
)]
pub struct Cli {
    /// Log line format: `full` (date, level, thread; for files) or `compact` (time of day,
    /// one-letter level, short thread name; for narrow tmux panes). Default: BTSIM_LOG_FORMAT,
    /// else full.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<crate::logging::Format>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tracker: keeps the list of peers of each swarm and hands out metainfo.
    Tracker(tracker::TrackerArgs),
    /// Run a peer: joins a swarm, downloads missing pieces rarest first and serves uploads.
    Peer(peer::PeerArgs),
    /// Write a BEP 3 .torrent file for FILE.
    Create(create::CreateArgs),
    /// Show the swarm as the tracker sees it: peers, piece maps, how rare each piece is.
    Status(status::StatusArgs),
    /// The tracker-less UDP flooding chunk network (the video-chunk assignment).
    #[command(subcommand)]
    Flood(flood::FloodCommand),
    /// Draw --trace files as a sequence diagram: OUT.md (Mermaid) and OUT.svg.
    Diagram(diagram::DiagramArgs),
    /// Run a lesson: a swarm described by a scenario file, ending in a verdict and charts.
    Scenario(scenario::ScenarioArgs),
}

impl Command {
    /// The one-shot commands, which log only warnings; the long-running ones log every event.
    pub fn is_quiet(&self) -> bool {
        matches!(
            self,
            Command::Status(_) | Command::Create(_) | Command::Diagram(_)
        )
    }
}

/// The teaching options every long-running process takes.
#[derive(Debug, Clone, Args)]
pub struct ObserveArgs {
    /// Write every message sent or received to FILE, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Hold every message back this long before sending it, logging the wait, so a class can
    /// follow the protocol message by message (for example 500ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub slow_motion: Option<Duration>,
}

impl From<ObserveArgs> for Observe {
    fn from(args: ObserveArgs) -> Observe {
        Observe {
            trace: args.trace,
            slow_motion: args.slow_motion.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_shows_the_defaults_module_values() {
        let mut command = Cli::command();
        let peer = command.find_subcommand_mut("peer").expect("peer").clone();
        let help = peer.clone().render_long_help().to_string();
        for text in [
            crate::defaults::PING_INTERVAL_TEXT,
            crate::defaults::STALL_TIMEOUT_TEXT,
            crate::defaults::HANDSHAKE_TIMEOUT_TEXT,
        ] {
            assert!(help.contains(&format!("[default: {text}]")), "{help}");
        }
    }
}
