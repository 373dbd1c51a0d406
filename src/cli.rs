//! The command line, as clap structs: `tracker`, `peer`, `create`, `flood` and `diagram`.
//!
//! Only the shape of the arguments lives here; `main.rs` turns them into each subsystem's
//! configuration and runs it. Every timer takes a unit (`10s`, `250ms`) so tests and demos can
//! run the seed's protocol in milliseconds.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::infohash::InfoHash;
use crate::units::{parse_duration, parse_rate, parse_size};

#[derive(Debug, Parser)]
#[command(
    name = "bittorrent-sim",
    version,
    args_override_self = true,
    about = "Run and watch BitTorrent: a tracker swarm over the real peer wire protocol, and a UDP flooding chunk network",
    after_help = "Log detail is chosen with RUST_LOG (error, warn, info, debug); info traces every message.\nTimers and limits may also come from the environment (BTSIM_PING_INTERVAL,\nBTSIM_REPORT_INTERVAL, BTSIM_ROUND_INTERVAL, BTSIM_CLEANUP_INTERVAL, BTSIM_MIN_PEERS,\nBTSIM_PER_PEER, BTSIM_UPLOAD_RATE, BTSIM_DOWNLOAD_RATE), so a demo can shorten them\nwhile keeping the design card's command line."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tracker: keeps the list of peers of each swarm and hands out metainfo.
    Tracker(TrackerArgs),
    /// Run a peer: joins a swarm, downloads missing pieces rarest first and serves uploads.
    Peer(PeerArgs),
    /// Write a BEP 3 .torrent file for FILE.
    Create(CreateArgs),
    /// Show the swarm as the tracker sees it: peers, piece maps, how rare each piece is.
    Status(StatusArgs),
    /// The tracker-less UDP flooding chunk network (the video-chunk assignment).
    #[command(subcommand)]
    Flood(crate::flood::FloodCommand),
    /// Draw --trace files as a sequence diagram: OUT.md (Mermaid) and OUT.svg.
    Diagram(crate::diagram::DiagramArgs),
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

impl ObserveArgs {
    /// Applies `--slow-motion` and starts `--trace` as `process`.
    pub fn apply(&self, process: &str) -> std::io::Result<()> {
        crate::net::traced::set_slow_motion(self.slow_motion.unwrap_or_default());
        match &self.trace {
            Some(path) => crate::trace::init(path, process),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Args)]
pub struct TrackerArgs {
    /// TCP port to listen on.
    #[arg(long, default_value_t = 6000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Tell peers apart by source IP plus listening port (lab mode) instead of by port alone
    /// (development mode, everything on one host).
    #[arg(long)]
    pub remote: bool,
    /// Drop the peers that did not ping since the previous clean-up, this often.
    #[arg(long, default_value = "15s", env = "BTSIM_CLEANUP_INTERVAL", value_parser = parse_duration)]
    pub cleanup_interval: Duration,
    /// A .torrent whose swarm this tracker serves from the start (repeatable).
    #[arg(long = "torrent", value_name = "FILE")]
    pub torrents: Vec<PathBuf>,
    /// At most this many connections are served at once (plus as many again, at least 16, that
    /// have not sent a whole request yet: the oldest of those is dropped when more arrive).
    #[arg(long, default_value_t = 128)]
    pub max_connections: usize,
    /// The interval real clients are told to re-announce at over HTTP (they are dropped when
    /// silent for three intervals).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub announce_interval: Duration,
    /// A new peer joining a swarm that lists this many gets `ERR full`.
    #[arg(long, default_value_t = crate::tracker::table::MAX_PEERS_PER_SWARM)]
    pub max_peers_per_swarm: usize,
    /// A new swarm (PUBLISH, or an HTTP announce of an unknown info-hash) beyond this many gets
    /// `ERR full`.
    #[arg(long, default_value_t = crate::tracker::table::MAX_SWARMS)]
    pub max_swarms: usize,
    /// Bytes of metainfo (.torrent files) the tracker stores in all; a PUBLISH beyond gets
    /// `ERR full`.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub metainfo_budget: u64,
    #[command(flatten)]
    pub observe: ObserveArgs,
}

#[derive(Debug, Args)]
pub struct PeerArgs {
    /// TCP port this peer listens on for uploads; also its name in development mode.
    #[arg(long)]
    pub port: u16,
    /// The tracker, as HOST:PORT. May be left out when --torrent names an announce URL.
    #[arg(long, value_name = "HOST:PORT")]
    pub tracker: Option<String>,
    /// The .torrent of the swarm to join. Without it (and without --seed) the peer fetches the
    /// metainfo from the tracker.
    #[arg(long, value_name = "FILE", conflicts_with = "seed")]
    pub torrent: Option<PathBuf>,
    /// Which of the tracker's swarms to join, when it knows several.
    #[arg(long, value_name = "HEX")]
    pub info_hash: Option<InfoHash>,
    /// Seed FILE in place: build its metainfo in memory and publish it to the tracker.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Directory that holds the downloaded file (default ./peer-PORT).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address to listen on and to connect from.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,
    /// Piece length used by --seed.
    #[arg(long, default_value = "256KiB", value_parser = parse_size)]
    pub piece_length: u64,
    /// Ping the tracker this often (proof of life).
    #[arg(long, default_value = "10s", env = "BTSIM_PING_INTERVAL", value_parser = parse_duration)]
    pub ping_interval: Duration,
    /// Report the list of pieces held this often.
    #[arg(long, default_value = "20s", env = "BTSIM_REPORT_INTERVAL", value_parser = parse_duration)]
    pub report_interval: Duration,
    /// Start a download round this often; 0 downloads continuously.
    #[arg(long, default_value = "30s", env = "BTSIM_ROUND_INTERVAL", value_parser = parse_duration)]
    pub round_interval: Duration,
    /// No round starts until the tracker's list names at least this many other peers.
    #[arg(long, default_value_t = 2, env = "BTSIM_MIN_PEERS")]
    pub min_peers: usize,
    /// Pieces fetched at once, each from its own holder.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,
    /// At most this many of those pieces from any one peer, so requests spread over every
    /// holder instead of queueing at one (0: no limit besides --parallel).
    #[arg(long, default_value_t = 0, env = "BTSIM_PER_PEER")]
    pub per_peer: usize,
    /// Cap on what this peer uploads, over all its connections: bytes per second, e.g.
    /// 500KiB/s, 2MiB/s, 1MB/s or 65536 (0: unlimited).
    #[arg(long, value_name = "RATE", default_value = "0", env = "BTSIM_UPLOAD_RATE", value_parser = parse_rate)]
    pub upload_rate: u64,
    /// Cap on what this peer downloads, over all its connections (same units; 0: unlimited).
    #[arg(long, value_name = "RATE", default_value = "0", env = "BTSIM_DOWNLOAD_RATE", value_parser = parse_rate)]
    pub download_rate: u64,
    /// At most this many upload connections are served at once (plus a few still in their
    /// handshake: the oldest of those is dropped when more arrive).
    #[arg(long, default_value_t = 32)]
    pub max_connections: usize,
    /// Open connections to more peers only while fewer than this many are connected (in either
    /// direction, so a peer few others chose opens more itself). Every connection is a thread
    /// on each side: a large swarm on one machine needs a smaller number than a full mesh.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_peers: u16,
    /// Connect to every peer the tracker lists (up to --max-peers, in random order) instead of
    /// only to holders of a piece we want, so their `have`s arrive as soon as they complete a
    /// piece.
    #[arg(long)]
    pub connect_to_all: bool,
    /// Block requests kept in flight on one connection.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub pipeline: u16,
    /// Send a keep-alive on a connection that sent nothing for this long.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub keepalive: Duration,
    /// Give a fetch up (and close its connection) when no block came for this long.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub stall_timeout: Duration,
    /// Close an accepted connection that has not sent its handshake within this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    #[command(flatten)]
    pub observe: ObserveArgs,
    /// Exit once the file is complete instead of seeding on.
    #[arg(long)]
    pub exit_when_complete: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The tracker, as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:6000")]
    pub tracker: String,
    /// Redraw in place, this often (default 1s when given without a value).
    #[arg(long, value_name = "EVERY", num_args = 0..=1, default_missing_value = "1s", value_parser = parse_duration)]
    pub watch: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The file to describe.
    pub file: PathBuf,
    /// Piece length in bytes (suffixes KiB, MiB allowed).
    #[arg(long, default_value = "256KiB", value_parser = parse_size)]
    pub piece_length: u64,
    /// Tracker written as the announce URL: HOST:PORT becomes http://HOST:PORT/announce.
    #[arg(long, value_name = "HOST:PORT|URL")]
    pub tracker: Option<String>,
    /// Where to write the .torrent (default FILE.torrent in the current directory).
    #[arg(short = 'o', long = "output", value_name = "OUT.torrent")]
    pub output: Option<PathBuf>,
}
