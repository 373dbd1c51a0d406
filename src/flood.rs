//! The flooding chunk network (system 2): tracker-less UDP peers that flood a client's query for
//! video chunks, byte for byte as `reference/flood-protocol.md` fixes the protocol.
//!
//! This file holds the `flood` subcommand's command line (`peer`, `client`, `sample`), its error
//! type and [`run`], which turns arguments into a configuration and starts the right part. The
//! work lives in the submodules:
//!
//! * [`message`]: the five datagrams and their codec (no sockets);
//! * [`keyvalues`]: a peer's key-values file and its chunks (no sockets);
//! * [`udp`]: the socket, with the per-datagram trace and the loss hook;
//! * [`peer`]: the peer's receive loop;
//! * [`guard`]: the peer's duplicate-query filter and per-client byte budget;
//! * [`plan`] and [`client`]: the client's decisions and its loop;
//! * [`output`]: the client's chunk files and `output-<IP>.log`;
//! * [`sample`]: the assignment's sample chunks and key-values files.

pub mod client;
pub mod guard;
pub mod keyvalues;
pub mod message;
pub mod output;
pub mod peer;
pub mod plan;
pub mod sample;
pub mod udp;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Args, Subcommand};
use log::info;
use rand::RngExt;

use crate::units::parse_duration;
use keyvalues::KeyValuesError;
use message::MAX_IDS;
use udp::Loss;

#[derive(Debug, Subcommand)]
pub enum FloodCommand {
    /// Run a peer: `flood peer 127.0.0.1:5001 key-values-files_peer1 127.0.0.1:5002 127.0.0.1:5003`.
    Peer(PeerArgs),
    /// Run a client: `flood client 127.0.0.1:5001 5,6,7`; writes output-<IP>.log here.
    Client(ClientArgs),
    /// Write the assignment's sample data (10 chunks, 5 key-values files) into DIR.
    Sample(SampleArgs),
}

#[derive(Debug, Args)]
pub struct PeerArgs {
    /// This peer's UDP address (IPv4).
    #[arg(value_name = "IP:PORT", value_parser = parse_addr)]
    pub addr: SocketAddrV4,
    /// The key-values file: one `<id>: <file name>` line per chunk held.
    #[arg(value_name = "KEY_VALUES_FILE")]
    pub key_values: PathBuf,
    /// The neighbour peers this peer floods queries to.
    #[arg(value_name = "NEIGHBOUR_IP:PORT", value_parser = parse_addr)]
    pub neighbours: Vec<SocketAddrV4>,
    /// TTL of the queries this peer starts for its clients.
    #[arg(long, default_value_t = peer::DEFAULT_TTL,
          value_parser = clap::value_parser!(u16).range(1..=i64::from(peer::MAX_TTL)))]
    pub ttl: u16,
    /// KiB per second one client address may make this peer send (CHUNKS_INFO and RESPONSE to
    /// it, QUERY flooded for it), with a burst of 4 seconds' worth; 0 for no limit.
    #[arg(long, value_name = "KIB", default_value_t = guard::DEFAULT_CLIENT_RATE_KIB)]
    pub client_rate: u64,
    /// A query for the same client and ids seen again within this is a duplicate of the same
    /// flood and dropped; keep it shorter than the clients' retransmission interval.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    pub duplicate_window: Duration,
    #[command(flatten)]
    pub observe: crate::cli::ObserveArgs,
    #[command(flatten)]
    pub loss: LossArgs,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The contact peer.
    #[arg(value_name = "PEER_IP:PORT", value_parser = parse_addr)]
    pub contact: SocketAddrV4,
    /// The chunks wanted, comma-separated: 5,6,7.
    #[arg(value_name = "IDS", value_parser = parse_ids)]
    pub ids: ChunkIds,
    /// Send from this IPv4 address (and name the log after it), e.g. 127.0.0.6 to run several
    /// clients on one host. Default: the address the OS uses toward the contact peer.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<Ipv4Addr>,
    /// UDP port to send from (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// How long to wait for the flood: then chunks not in are logged as 0.0.0.0:0 and the
    /// client exits (it exits sooner once every chunk is in).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// After a chunk's first offer, listen this long for more holders before choosing one.
    #[arg(long, default_value = "200ms", value_parser = parse_duration)]
    pub gather: Duration,
    /// Resend a HELLO (chunks nobody offered yet) or a GET (no RESPONSE yet) this often.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub retry_interval: Duration,
    /// At most this many resends of the HELLO, and of each chunk's GET.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Seed of the holder choice (default: random, printed in the log).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Where received chunks are written (default: ./chunks-<IP>).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub observe: crate::cli::ObserveArgs,
    #[command(flatten)]
    pub loss: LossArgs,
}

/// The loss hook shared by peer and client: a teaching and test option.
#[derive(Debug, Args)]
pub struct LossArgs {
    /// Teaching/test option: throw away this fraction (0 to 1) of outgoing datagrams, each
    /// logged as `drop`, to watch the retransmission at work.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction)]
    pub drop_outgoing: f64,
    /// Seed of the --drop-outgoing choice (default: random, printed in the log).
    #[arg(long, value_name = "N")]
    pub drop_seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Directory to write into (created if needed).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// The chunk ids of `flood client`, parsed from `5,6,7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkIds(pub Vec<u16>);

/// Why a flood command failed. (Bad arguments never get here: clap reports them and exits 2.)
#[derive(Debug)]
pub enum FloodError {
    KeyValues(KeyValuesError),
    Io { context: String, source: io::Error },
    Other(String),
}

impl FloodError {
    pub fn io(context: impl Into<String>, source: io::Error) -> FloodError {
        FloodError::Io {
            context: context.into(),
            source,
        }
    }

    /// 66 missing input file, 65 bad data, 74 I/O, 1 other (2, bad arguments, is clap's).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::KeyValues(e) => e.exit_code(),
            Self::Io { .. } => 74,
            Self::Other(_) => 1,
        }
    }
}

impl fmt::Display for FloodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(text) => f.write_str(text),
            Self::KeyValues(e) => write!(f, "{e}"),
            Self::Io { context, source } if context.is_empty() => write!(f, "{source}"),
            Self::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for FloodError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::KeyValues(e) => Some(e),
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for FloodError {
    fn from(source: io::Error) -> Self {
        FloodError::io(String::new(), source)
    }
}

impl From<KeyValuesError> for FloodError {
    fn from(e: KeyValuesError) -> Self {
        FloodError::KeyValues(e)
    }
}

pub fn run(command: FloodCommand) -> Result<(), FloodError> {
    match command {
        FloodCommand::Peer(args) => run_peer(args),
        FloodCommand::Client(args) => run_client(args),
        FloodCommand::Sample(args) => {
            for path in sample::write(&args.dir).map_err(|e| {
                FloodError::io(format!("cannot write into {}", args.dir.display()), e)
            })? {
                println!("{}", path.display());
            }
            Ok(())
        }
    }
}

fn run_peer(args: PeerArgs) -> Result<(), FloodError> {
    args.observe.apply(&format!("flood-peer-{}", args.addr))?;
    let store = keyvalues::load(&args.key_values)?;
    info!(
        "loaded {} chunks from {}",
        store.ids().len(),
        args.key_values.display()
    );
    let config = peer::PeerConfig {
        addr: args.addr,
        neighbours: args.neighbours,
        ttl: args.ttl,
        client_rate: args.client_rate.saturating_mul(1024),
        duplicate_window: args.duplicate_window,
        loss: args.loss.to_loss(),
    };
    let mut peer = peer::Peer::bind(config, store)
        .map_err(|e| FloodError::io(format!("cannot bind {}", args.addr), e))?;
    // Never set: the peer runs until it is killed.
    static STOP: AtomicBool = AtomicBool::new(false);
    peer.serve(&STOP)
        .map_err(|e| FloodError::io(format!("socket of {} failed", args.addr), e))
}

fn run_client(args: ClientArgs) -> Result<(), FloodError> {
    // --trace starts once the client knows its own address (the process's name).
    crate::net::traced::set_slow_motion(args.observe.slow_motion.unwrap_or_default());
    let log_dir = std::env::current_dir()?;
    let seed = args.seed.unwrap_or_else(|| rand::rng().random());
    let config = client::ClientConfig {
        contact: args.contact,
        ids: args.ids.0,
        bind: args.bind,
        port: args.port,
        timeout: args.timeout,
        timing: plan::Timing {
            gather: args.gather,
            retry_interval: args.retry_interval,
            retries: args.retries,
        },
        seed,
        output_dir: args.output_dir,
        trace: args.observe.trace,
        log_dir,
        loss: args.loss.to_loss(),
    };
    let outcome = client::run(&config)?;
    // The product of a run, for the user: the log as written.
    let text = std::fs::read_to_string(&outcome.log_path)?;
    println!("{}:", outcome.log_path.display());
    print!("{text}");
    Ok(())
}

impl LossArgs {
    fn to_loss(&self) -> Option<Loss> {
        if self.drop_outgoing <= 0.0 {
            return None;
        }
        let seed = self.drop_seed.unwrap_or_else(|| rand::rng().random());
        info!(
            "dropping {} of outgoing datagrams on purpose (--drop-outgoing), seed {seed}",
            self.drop_outgoing
        );
        Some(Loss {
            fraction: self.drop_outgoing,
            seed,
        })
    }
}

/// `IP:PORT`, IPv4 only (the protocol carries IPv4 addresses); a host name is resolved to its
/// first IPv4 address.
pub fn parse_addr(text: &str) -> Result<SocketAddrV4, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddrV4>() {
        return Ok(addr);
    }
    let resolved = text
        .to_socket_addrs()
        .map_err(|e| format!("`{text}` is not IP:PORT ({e})"))?;
    resolved
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(v4),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(|| format!("`{text}` has no IPv4 address (the protocol is IPv4 only)"))
}

/// `5,6,7` (spaces allowed, repeats dropped): at least one id, at most [`MAX_IDS`].
pub fn parse_ids(text: &str) -> Result<ChunkIds, String> {
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id: u16 = part
            .parse()
            .map_err(|_| format!("`{part}` is not a chunk id (0 to 65535); write ids as 5,6,7"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err("no chunk id given; write ids as 5,6,7".to_string());
    }
    if ids.len() > MAX_IDS {
        return Err(format!("{} ids asked, at most {MAX_IDS}", ids.len()));
    }
    Ok(ChunkIds(ids))
}

/// A fraction from 0 to 1.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a fraction from 0 to 1 (for example 0.3)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_the_assignment_form() {
        assert_eq!(parse_ids("5,6,7"), Ok(ChunkIds(vec![5, 6, 7])));
        assert_eq!(
            parse_ids(" 1, 3,4,5 ,9,3"),
            Ok(ChunkIds(vec![1, 3, 4, 5, 9]))
        );
        assert!(parse_ids("").is_err());
        assert!(parse_ids("5,x").is_err());
        assert!(parse_ids("70000").is_err());
    }

    #[test]
    fn addresses_are_ipv4() {
        assert_eq!(
            parse_addr("127.0.0.1:5001"),
            Ok("127.0.0.1:5001".parse().unwrap())
        );
        assert!(parse_addr("[::1]:5001").is_err());
        assert!(parse_addr("127.0.0.1").is_err());
    }

    #[test]
    fn fractions_stay_in_range() {
        assert_eq!(parse_fraction("0.3"), Ok(0.3));
        assert!(parse_fraction("1.5").is_err());
        assert!(parse_fraction("NaN").is_err());
    }

    #[test]
    fn exit_codes_follow_sysexits() {
        let missing = io::Error::from(io::ErrorKind::NotFound);
        let kv = KeyValuesError::Missing {
            path: "kv".into(),
            source: missing,
        };
        assert_eq!(FloodError::from(kv).exit_code(), 66);
        assert_eq!(FloodError::Other("x".into()).exit_code(), 1);
        assert_eq!(FloodError::from(io::Error::other("x")).exit_code(), 74);
    }
}
