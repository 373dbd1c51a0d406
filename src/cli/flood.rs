//! `bittorrent-sim flood peer|client|sample`: their options, the parsers of their positional
//! arguments, and their copy into [`FloodConfig`].

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::ObserveArgs;
use crate::defaults;
use crate::flood::message::MAX_IDS;
use crate::flood::peer::MAX_TTL;
use crate::flood::plan::Timing;
use crate::flood::{ClientSetup, FloodConfig, LossConfig, PeerSetup};
use crate::units::parse_duration;

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
    #[arg(long, default_value_t = defaults::TTL,
          value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_TTL)))]
    pub ttl: u16,
    #[command(flatten)]
    pub observe: ObserveArgs,
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
    #[arg(long, default_value = defaults::FLOOD_TIMEOUT_TEXT, value_parser = parse_duration)]
    pub timeout: Duration,
    /// After a chunk's first offer, listen this long for more holders before choosing one.
    #[arg(long, default_value = defaults::GATHER_TEXT, value_parser = parse_duration)]
    pub gather: Duration,
    /// Resend a HELLO (chunks nobody offered yet) or a GET (no RESPONSE yet) this often.
    #[arg(long, default_value = defaults::RETRY_INTERVAL_TEXT, value_parser = parse_duration)]
    pub retry_interval: Duration,
    /// At most this many resends of the HELLO, and of each chunk's GET.
    #[arg(long, default_value_t = defaults::RETRIES)]
    pub retries: u32,
    /// Seed of the holder choice (default: random, printed in the log).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Where received chunks are written (default: ./chunks-<IP>).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub observe: ObserveArgs,
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

impl From<FloodCommand> for FloodConfig {
    fn from(command: FloodCommand) -> FloodConfig {
        match command {
            FloodCommand::Peer(args) => FloodConfig::Peer(PeerSetup {
                addr: args.addr,
                key_values: args.key_values,
                neighbours: args.neighbours,
                ttl: args.ttl,
                observe: args.observe.into(),
                loss: args.loss.into(),
            }),
            FloodCommand::Client(args) => FloodConfig::Client(ClientSetup {
                contact: args.contact,
                ids: args.ids.0,
                bind: args.bind,
                port: args.port,
                timeout: args.timeout,
                timing: Timing {
                    gather: args.gather,
                    retry_interval: args.retry_interval,
                    retries: args.retries,
                },
                seed: args.seed,
                output_dir: args.output_dir,
                observe: args.observe.into(),
                loss: args.loss.into(),
            }),
            FloodCommand::Sample(args) => FloodConfig::Sample { dir: args.dir },
        }
    }
}

impl From<LossArgs> for LossConfig {
    fn from(args: LossArgs) -> LossConfig {
        LossConfig {
            fraction: args.drop_outgoing,
            seed: args.drop_seed,
        }
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
}
