//! The `bittorrent-sim` binary: parses the command line, runs the chosen subcommand and maps a
//! start-up error to an exit code, in one place. Everything else lives in the library.

use std::fmt;
use std::io;
use std::process::ExitCode;

use clap::Parser;

use bittorrent_sim::cli::{Cli, Command, CreateArgs, PeerArgs, StatusArgs, TrackerArgs};
use bittorrent_sim::diagram::{self, DiagramError};
use bittorrent_sim::flood::{self, FloodError};
use bittorrent_sim::metainfo::{self, Metainfo, MetainfoError};
use bittorrent_sim::net;
use bittorrent_sim::net::traced::set_slow_motion;
use bittorrent_sim::peer::http_tracker::AnnounceUrl;
use bittorrent_sim::peer::{self, PeerConfig, PeerError, Source, TrackerAddr};
use bittorrent_sim::tracker::table::Identity;
use bittorrent_sim::tracker::{self, TrackerConfig, TrackerError};
use bittorrent_sim::{logging, status};

/// A start-up error of any subcommand.
enum Failure {
    Usage(String),
    Tracker(TrackerError),
    Peer(PeerError),
    Metainfo(MetainfoError),
    Flood(FloodError),
    Diagram(DiagramError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(e) => write!(f, "{e}"),
            Failure::Tracker(e) => write!(f, "{e}"),
            Failure::Peer(e) => write!(f, "{e}"),
            Failure::Metainfo(e) => write!(f, "{e}"),
            Failure::Flood(e) => write!(f, "{e}"),
            Failure::Diagram(e) => write!(f, "{e}"),
        }
    }
}

/// The one place where errors become exit codes (sysexits.h numbers).
fn exit_code(failure: &Failure) -> u8 {
    const USAGE: u8 = 2;
    const DATA: u8 = 65; // EX_DATAERR: a corrupt .torrent
    const NO_INPUT: u8 = 66; // EX_NOINPUT: a missing or unreadable file
    const UNAVAILABLE: u8 = 69; // EX_UNAVAILABLE: the tracker cannot be reached
    const CANT_CREATE: u8 = 73; // EX_CANTCREAT: cannot write the output
    const IO: u8 = 74; // EX_IOERR
    const TEMP: u8 = 75; // EX_TEMPFAIL: the port is taken, try another
    let io_code = |e: &io::Error| match e.kind() {
        io::ErrorKind::NotFound => NO_INPUT,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => CANT_CREATE,
        io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable => TEMP,
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::TimedOut
        | io::ErrorKind::HostUnreachable => UNAVAILABLE,
        _ => IO,
    };
    let metainfo_code = |e: &MetainfoError| match e {
        MetainfoError::Io { source, .. } => io_code(source),
        _ => DATA,
    };
    match failure {
        Failure::Usage(_) => USAGE,
        Failure::Metainfo(e) => metainfo_code(e),
        Failure::Tracker(TrackerError::Torrent(e)) => metainfo_code(e),
        Failure::Tracker(TrackerError::Bind { source, .. })
        | Failure::Peer(PeerError::Bind { source, .. }) => io_code(source),
        Failure::Tracker(TrackerError::Io(e)) => io_code(e),
        Failure::Peer(PeerError::Tracker { .. }) => UNAVAILABLE,
        Failure::Peer(PeerError::WhichSwarm(_) | PeerError::NeedTorrent) => USAGE,
        Failure::Peer(PeerError::Metainfo(e)) => metainfo_code(e),
        Failure::Peer(PeerError::Storage(e)) => match e.kind() {
            io::ErrorKind::NotFound => NO_INPUT,
            _ => CANT_CREATE,
        },
        Failure::Peer(PeerError::Io(e)) => io_code(e),
        Failure::Flood(e) => e.exit_code(),
        Failure::Diagram(e) => e.exit_code(), // 66 missing input, 65 bad trace, 73 output
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(
        cli.command,
        Command::Status(_) | Command::Create(_) | Command::Diagram(_)
    );
    logging::init(if quiet { "warn" } else { "info" });
    let result = match cli.command {
        Command::Tracker(args) => run_tracker(args),
        Command::Peer(args) => run_peer(args),
        Command::Create(args) => run_create(args),
        Command::Status(args) => run_status(args),
        Command::Flood(command) => flood::run(command).map_err(Failure::Flood),
        Command::Diagram(args) => diagram::run(args).map_err(Failure::Diagram),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("bittorrent-sim: error: {failure}");
            ExitCode::from(exit_code(&failure))
        }
    }
}

fn run_tracker(args: TrackerArgs) -> Result<(), Failure> {
    args.observe
        .apply("tracker")
        .map_err(|e| Failure::Tracker(TrackerError::Io(e)))?;
    let config = TrackerConfig {
        addr: (args.bind, args.port).into(),
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
    };
    tracker::run(config).map_err(Failure::Tracker)
}

fn run_peer(args: PeerArgs) -> Result<(), Failure> {
    // --trace starts once the peer knows its port (the process's name).
    set_slow_motion(args.observe.slow_motion.unwrap_or_default());
    let tracker_text = match (&args.tracker, &args.torrent) {
        (Some(tracker), _) => tracker.clone(),
        (None, Some(path)) => {
            let metainfo = Metainfo::from_file(path).map_err(Failure::Metainfo)?;
            metainfo.announce.ok_or_else(|| {
                Failure::Usage(format!(
                    "{} names no tracker; give --tracker HOST:PORT",
                    path.display()
                ))
            })?
        }
        (None, None) => {
            return Err(Failure::Usage(
                "--tracker HOST:PORT is required (or --torrent with an announce URL)".into(),
            ));
        }
    };
    let tracker = tracker_addr(&tracker_text)?;
    let source = match (args.torrent, args.seed) {
        (Some(torrent), _) => Source::Torrent(torrent),
        (None, Some(file)) => Source::Seed {
            file,
            piece_length: args.piece_length,
        },
        (None, None) => Source::Tracker(args.info_hash),
    };
    let config = PeerConfig {
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
        keepalive: args.keepalive,
        stall_timeout: args.stall_timeout,
        handshake_timeout: args.handshake_timeout,
        trace: args.observe.trace,
        exit_when_complete: args.exit_when_complete,
    };
    peer::run(config).map_err(Failure::Peer)
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

fn run_status(args: StatusArgs) -> Result<(), Failure> {
    let tracker = net::resolve(&args.tracker).map_err(|e| {
        Failure::Usage(format!(
            "tracker `{}` is not a HOST:PORT address: {e}",
            args.tracker
        ))
    })?;
    status::run(tracker, args.watch).map_err(|source| {
        Failure::Peer(PeerError::Tracker {
            addr: tracker,
            source,
        })
    })
}

fn run_create(args: CreateArgs) -> Result<(), Failure> {
    let announce = args.tracker.as_deref().map(metainfo::announce_url);
    let metainfo =
        Metainfo::build(&args.file, args.piece_length, announce).map_err(Failure::Metainfo)?;
    let output = args.output.unwrap_or_else(|| {
        let name = args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        format!("{name}.torrent").into()
    });
    metainfo.write_to_file(&output).map_err(Failure::Metainfo)?;
    println!(
        "wrote {} (info-hash {}, {} pieces of {} bytes)",
        output.display(),
        metainfo.info_hash,
        metainfo.num_pieces(),
        metainfo.piece_length
    );
    Ok(())
}
