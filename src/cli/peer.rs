//! `bittorrent-sim peer`: its options, and their check and copy into [`PeerConfig`].
//!
//! The check: which tracker, and in which protocol (`HOST:PORT` is our line protocol,
//! `http://...` an HTTP announce URL), from `--tracker`, from the `--torrent`'s announce URL, or
//! from the `--magnet` link's first `tr=` we can speak.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{Failure, ObserveArgs};
use crate::defaults;
use crate::infohash::InfoHash;
use crate::magnet::Magnet;
use crate::metainfo::Metainfo;
use crate::mse::Encryption;
use crate::net;
use crate::peer::choker::{self, Policy};
use crate::peer::http_tracker::AnnounceUrl;
use crate::peer::{PeerConfig, Source, TrackerAddr};
use crate::units::{parse_duration, parse_rate, parse_size};

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
    /// Join the swarm of a magnet link (`magnet:?xt=urn:btih:HASH&tr=URL`): the metainfo is
    /// fetched from its peers (BEP 9), found through --tracker or the link's first http://
    /// tracker, then saved as DIR/NAME.torrent.
    #[arg(long, value_name = "URI", conflicts_with_all = ["torrent", "seed", "info_hash"])]
    pub magnet: Option<Magnet>,
    /// Seed FILE, or the folder DIR (a multi-file torrent, as `create DIR` makes), in place:
    /// build its metainfo in memory and publish it to the tracker.
    #[arg(long, value_name = "FILE|DIR")]
    pub seed: Option<PathBuf>,
    /// Directory that holds the downloaded file, or the torrent's folder (default ./peer-PORT).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address to listen on and to connect from.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,
    /// Piece length used by --seed.
    #[arg(long, default_value = defaults::PIECE_LENGTH_TEXT, value_parser = parse_size)]
    pub piece_length: u64,
    /// Ping the tracker this often (proof of life).
    #[arg(long, default_value = defaults::PING_INTERVAL_TEXT, env = "BTSIM_PING_INTERVAL", value_parser = parse_duration)]
    pub ping_interval: Duration,
    /// Report the list of pieces held this often.
    #[arg(long, default_value = defaults::REPORT_INTERVAL_TEXT, env = "BTSIM_REPORT_INTERVAL", value_parser = parse_duration)]
    pub report_interval: Duration,
    /// Start a download round this often; 0 downloads continuously.
    #[arg(long, default_value = defaults::ROUND_INTERVAL_TEXT, env = "BTSIM_ROUND_INTERVAL", value_parser = parse_duration)]
    pub round_interval: Duration,
    /// No round starts until the tracker's list names at least this many other peers.
    #[arg(long, default_value_t = defaults::MIN_PEERS, env = "BTSIM_MIN_PEERS")]
    pub min_peers: usize,
    /// Download slots at once, each from its own holder. A slot is one piece; in continuous
    /// mode (--round-interval 0) it is a pipeline's worth of bytes (--pipeline x 16 KiB: 8
    /// pieces of 256 KiB, 128 of 16 KiB, at most 1024), so small pieces keep every
    /// connection's pipeline full.
    #[arg(long, default_value_t = defaults::PARALLEL, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,
    /// At most this many of those slots from any one peer, so requests spread over every
    /// holder instead of queueing at one (0: no limit besides --parallel).
    #[arg(long, default_value_t = defaults::PER_PEER, env = "BTSIM_PER_PEER")]
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
    #[arg(long, default_value_t = defaults::PEER_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Open connections to more peers only while fewer than this many are connected (in either
    /// direction, so a peer few others chose opens more itself). Every connection is a thread
    /// on each side: a large swarm on one machine needs a smaller number than a full mesh.
    #[arg(long, default_value_t = defaults::MAX_PEERS, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_peers: u16,
    /// Connect to every peer the tracker lists (up to --max-peers, in random order) instead of
    /// only to holders of a piece we want, so their `have`s arrive as soon as they complete a
    /// piece.
    #[arg(long)]
    pub connect_to_all: bool,
    /// Which missing piece to fetch first: `rarest` (fewest holders; BitTorrent's rule) or
    /// `random` (any held piece), so a class can compare the two.
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "rarest",
        env = "BTSIM_PICKER"
    )]
    pub picker: crate::peer::picker::Strategy,
    /// Block requests kept in flight on one connection.
    #[arg(long, default_value_t = defaults::PIPELINE, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub pipeline: u16,
    /// Send a keep-alive on a connection that sent nothing for this long.
    #[arg(long, default_value = defaults::KEEPALIVE_TEXT, value_parser = parse_duration)]
    pub keepalive: Duration,
    /// Give a fetch up (and close its connection) when no block came for this long.
    #[arg(long, default_value = defaults::STALL_TIMEOUT_TEXT, value_parser = parse_duration)]
    pub stall_timeout: Duration,
    /// Close an accepted connection that has not sent its handshake within this long.
    #[arg(long, default_value = defaults::HANDSHAKE_TIMEOUT_TEXT, value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Protocol encryption (MSE/PE), as libtorrent, qBittorrent and aria2 speak it. allow:
    /// dial plain, retry encrypted if the remote closes; prefer: dial encrypted (RC4), retry
    /// plain; require: encrypted with RC4 only, both ways; off: plain only. All but off
    /// accept encrypted incoming connections, all but require plain ones.
    #[arg(long, value_enum, default_value = defaults::ENCRYPTION_TEXT, env = "BTSIM_ENCRYPTION")]
    pub encryption: EncryptionArg,
    #[command(flatten)]
    pub choking: ChokingArgs,
    #[command(flatten)]
    pub observe: ObserveArgs,
    /// Exit once the file is complete instead of seeding on.
    #[arg(long)]
    pub exit_when_complete: bool,
    /// At start-up, retry a tracker that refuses the connection for this long, with a
    /// countdown, before giving up (0: give up at once, exit status 69).
    #[arg(long, value_name = "DURATION", default_value = defaults::TRACKER_WAIT_TEXT, env = "BTSIM_TRACKER_WAIT", value_parser = parse_duration)]
    pub tracker_wait: Duration,
}

/// Who we upload to: BEP 3's choking (`peer/choker.rs`).
#[derive(Debug, Clone, Args)]
pub struct ChokingArgs {
    /// tit-for-tat: upload to the --unchoke-slots remotes that sent us the most over the last
    /// --rechoke-interval, plus one optimistic unchoke rotated every --optimistic-interval;
    /// unchoke-all: serve every interested remote (the seed's simplified protocol).
    #[arg(long, value_enum, default_value_t = ChokingArg::TitForTat, env = "BTSIM_CHOKING")]
    pub choking: ChokingArg,
    /// Preferred neighbours under tit-for-tat (k).
    #[arg(long, default_value_t = defaults::UNCHOKE_SLOTS, env = "BTSIM_UNCHOKE_SLOTS",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub unchoke_slots: u16,
    /// Choose the preferred neighbours again this often (p).
    #[arg(long, default_value = defaults::RECHOKE_INTERVAL_TEXT, env = "BTSIM_RECHOKE_INTERVAL", value_parser = parse_duration)]
    pub rechoke_interval: Duration,
    /// Move the optimistic unchoke to another remote this often (m).
    #[arg(long, default_value = defaults::OPTIMISTIC_INTERVAL_TEXT, env = "BTSIM_OPTIMISTIC_INTERVAL", value_parser = parse_duration)]
    pub optimistic_interval: Duration,
    /// A remote that unchokes us and holds what we lack but sends no block for this long
    /// snubs us: it is no preferred neighbour until it sends again.
    #[arg(long, default_value = defaults::SNUB_TIMEOUT_TEXT, value_parser = parse_duration)]
    pub snub_timeout: Duration,
    /// Free ride: download, but never unchoke anyone (a teaching device for the incentives
    /// experiment, bench/incentives.sh).
    #[arg(long)]
    pub free_ride: bool,
}

/// `--encryption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncryptionArg {
    Off,
    Allow,
    Prefer,
    Require,
}

impl From<EncryptionArg> for Encryption {
    fn from(arg: EncryptionArg) -> Encryption {
        match arg {
            EncryptionArg::Off => Encryption::Off,
            EncryptionArg::Allow => Encryption::Allow,
            EncryptionArg::Prefer => Encryption::Prefer,
            EncryptionArg::Require => Encryption::Require,
        }
    }
}

/// `--choking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChokingArg {
    TitForTat,
    UnchokeAll,
}

impl From<&ChokingArgs> for choker::Settings {
    fn from(args: &ChokingArgs) -> choker::Settings {
        choker::Settings {
            policy: match args.choking {
                ChokingArg::TitForTat => Policy::TitForTat,
                ChokingArg::UnchokeAll => Policy::UnchokeAll,
            },
            slots: usize::from(args.unchoke_slots),
            optimistic_interval: args.optimistic_interval,
            free_ride: args.free_ride,
            snub_timeout: args.snub_timeout,
        }
    }
}

impl TryFrom<PeerArgs> for PeerConfig {
    type Error = Failure;

    /// Fails when no tracker is named, or it is not a reachable address, or the `--torrent`
    /// that should name it cannot be read.
    fn try_from(args: PeerArgs) -> Result<PeerConfig, Failure> {
        let tracker_text = match (&args.tracker, &args.torrent) {
            (Some(tracker), _) => tracker.clone(),
            (None, None) if args.magnet.is_some() => magnet_tracker(args.magnet.as_ref())?,
            (None, Some(path)) => Metainfo::from_file(path)?.announce.ok_or_else(|| {
                Failure::Usage(format!(
                    "{} names no tracker; give --tracker HOST:PORT",
                    path.display()
                ))
            })?,
            (None, None) => {
                return Err(Failure::Usage(
                    "--tracker HOST:PORT is required (or --torrent with an announce URL)".into(),
                ));
            }
        };
        let tracker = tracker_addr(&tracker_text)?;
        let source = match (args.torrent, args.seed) {
            _ if args.magnet.is_some() => match args.magnet {
                Some(magnet) => Source::Magnet(magnet),
                None => Source::Tracker(args.info_hash),
            },
            (Some(torrent), _) => Source::Torrent(torrent),
            (None, Some(file)) => Source::Seed {
                file,
                piece_length: args.piece_length,
            },
            (None, None) => Source::Tracker(args.info_hash),
        };
        Ok(PeerConfig {
            port: args.port,
            tracker,
            bind: args.bind,
            source,
            dir: args.dir,
            ping_interval: args.ping_interval,
            report_interval: args.report_interval,
            round_interval: args.round_interval,
            min_peers: args.min_peers,
            parallel: usize::from(args.parallel),
            per_peer: args.per_peer,
            upload_rate: args.upload_rate,
            download_rate: args.download_rate,
            pipeline: usize::from(args.pipeline),
            max_connections: args.max_connections,
            max_peers: usize::from(args.max_peers),
            connect_to_all: args.connect_to_all,
            picker: args.picker,
            keepalive: args.keepalive,
            stall_timeout: args.stall_timeout,
            handshake_timeout: args.handshake_timeout,
            encryption: args.encryption.into(),
            choking: choker::Settings::from(&args.choking),
            rechoke_interval: args.choking.rechoke_interval,
            trace: args.observe.trace,
            exit_when_complete: args.exit_when_complete,
            tracker_wait: args.tracker_wait,
        })
    }
}

/// The first of a magnet link's trackers we speak: an `http://` announce URL or `HOST:PORT`.
fn magnet_tracker(magnet: Option<&Magnet>) -> Result<String, Failure> {
    let trackers = magnet.map_or(&[][..], |m| &m.trackers[..]);
    trackers
        .iter()
        .find(|tr| AnnounceUrl::parse(tr).is_some() || !tr.contains("://"))
        .cloned()
        .ok_or_else(|| {
            Failure::Usage(format!(
                "the magnet link names no tracker we speak ({}); give --tracker HOST:PORT or \
                 an http:// announce URL",
                match trackers.len() {
                    0 => "it has no tr=".to_string(),
                    _ => format!("only {}", trackers.join(", ")),
                }
            ))
        })
}

/// `HOST:PORT` is our line protocol; `http://HOST:PORT/PATH` an HTTP announce URL.
fn tracker_addr(text: &str) -> Result<TrackerAddr, Failure> {
    let resolve = |host_port: &str| {
        net::resolve(host_port).map_err(|e| {
            Failure::Usage(format!(
                "tracker `{text}` is not a reachable HOST:PORT address: {e}"
            ))
        })
    };
    if let Some(url) = AnnounceUrl::parse(text) {
        let addr = resolve(&url.host_port)?;
        return Ok(TrackerAddr::Http { url, addr });
    }
    if text.contains("://") {
        return Err(Failure::Usage(format!(
            "tracker `{text}`: only HOST:PORT (our protocol) and http:// announce URLs are spoken"
        )));
    }
    Ok(TrackerAddr::Text(resolve(text)?))
}
