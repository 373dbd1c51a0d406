//! `bittorrent-sim tracker`: its options, and their copy into [`TrackerConfig`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::ObserveArgs;
use crate::defaults;
use crate::tracker::TrackerConfig;
use crate::tracker::table::Identity;
use crate::units::{parse_duration, parse_size};

#[derive(Debug, Args)]
pub struct TrackerArgs {
    /// TCP port to listen on: the line protocol and HTTP announces (0: any free port).
    #[arg(long, default_value_t = defaults::TRACKER_PORT)]
    pub port: u16,
    /// The status page's own port, for browsers, which refuse port 6000 (0: any free port).
    /// The page is also served on `--port`, for curl.
    #[arg(long, default_value_t = defaults::PAGE_PORT, env = "BTSIM_PAGE_PORT")]
    pub page_port: u16,
    /// Open no page port (the page stays on `--port`, for curl).
    #[arg(long)]
    pub no_page_port: bool,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Tell peers apart by source IP plus listening port (lab mode) instead of by port alone
    /// (development mode, everything on one host).
    #[arg(long)]
    pub remote: bool,
    /// Drop the peers that did not ping since the previous clean-up, this often.
    #[arg(long, default_value = defaults::CLEANUP_INTERVAL_TEXT, env = "BTSIM_CLEANUP_INTERVAL", value_parser = parse_duration)]
    pub cleanup_interval: Duration,
    /// A .torrent whose swarm this tracker serves from the start (repeatable).
    #[arg(long = "torrent", value_name = "FILE")]
    pub torrents: Vec<PathBuf>,
    /// At most this many connections are served at once (plus as many again, at least 16, that
    /// have not sent a whole request yet: the oldest of those is dropped when more arrive).
    #[arg(long, default_value_t = defaults::TRACKER_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// The interval real clients are told to re-announce at over HTTP (they are dropped when
    /// silent for three intervals).
    #[arg(long, default_value = defaults::ANNOUNCE_INTERVAL_TEXT, value_parser = parse_duration)]
    pub announce_interval: Duration,
    /// A new peer joining a swarm that lists this many gets `ERR full`.
    #[arg(long, default_value_t = defaults::MAX_PEERS_PER_SWARM)]
    pub max_peers_per_swarm: usize,
    /// A new swarm (PUBLISH, or an HTTP announce of an unknown info-hash) beyond this many gets
    /// `ERR full`.
    #[arg(long, default_value_t = defaults::MAX_SWARMS)]
    pub max_swarms: usize,
    /// Bytes of metainfo (.torrent files) the tracker stores in all; a PUBLISH beyond gets
    /// `ERR full`.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub metainfo_budget: u64,
    #[command(flatten)]
    pub observe: ObserveArgs,
}

impl From<TrackerArgs> for TrackerConfig {
    fn from(args: TrackerArgs) -> TrackerConfig {
        TrackerConfig {
            addr: (args.bind, args.port).into(),
            page_addr: (!args.no_page_port).then(|| (args.bind, args.page_port).into()),
            identity: if args.remote {
                Identity::IpAndPort
            } else {
                Identity::Port
            },
            cleanup_interval: args.cleanup_interval,
            torrents: args.torrents,
            max_connections: args.max_connections,
            announce_interval: args.announce_interval,
            max_peers_per_swarm: args.max_peers_per_swarm,
            max_swarms: args.max_swarms,
            metainfo_budget: usize::try_from(args.metainfo_budget).unwrap_or(usize::MAX),
        }
    }
}
