//! The flooding chunk network (system 2): tracker-less UDP peers that flood a client's query for
//! video chunks, byte for byte as `reference/flood-protocol.md` fixes the protocol.
//!
//! This file holds the configuration of the `flood` subcommand (`peer`, `client`, `sample`), its
//! error type and [`run`], which starts the right part; the command line that fills the
//! configuration lives in `cli/flood.rs`. The work lives in the submodules:
//!
//! * [`message`]: the five datagrams and their codec (no sockets);
//! * [`keyvalues`]: a peer's key-values file and its chunks (no sockets);
//! * [`udp`]: the socket, with the per-datagram trace and the loss hook;
//! * [`peer`]: the peer's receive loop;
//! * [`plan`] and [`client`]: the client's decisions and its loop;
//! * [`output`]: the client's chunk files and `output-<IP>.log`;
//! * [`sample`]: the assignment's sample chunks and key-values files.

pub mod client;
pub mod keyvalues;
pub mod message;
pub mod output;
pub mod peer;
pub mod plan;
pub mod sample;
pub mod udp;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use log::info;
use rand::RngExt;

use crate::observe::Observe;
use keyvalues::KeyValuesError;
use udp::Loss;

/// What `bittorrent-sim flood` is told to do.
#[derive(Debug, Clone)]
pub enum FloodConfig {
    Peer(PeerSetup),
    Client(ClientSetup),
    /// Write the assignment's sample data into this directory.
    Sample {
        dir: PathBuf,
    },
}

/// What `flood peer` is told.
#[derive(Debug, Clone)]
pub struct PeerSetup {
    pub addr: SocketAddrV4,
    /// The key-values file: one `<id>: <file name>` line per chunk held.
    pub key_values: PathBuf,
    pub neighbours: Vec<SocketAddrV4>,
    /// TTL of the queries this peer starts for its clients.
    pub ttl: u16,
    pub observe: Observe,
    pub loss: LossConfig,
}

/// What `flood client` is told.
#[derive(Debug, Clone)]
pub struct ClientSetup {
    pub contact: SocketAddrV4,
    pub ids: Vec<u16>,
    pub bind: Option<Ipv4Addr>,
    pub port: u16,
    pub timeout: Duration,
    pub timing: plan::Timing,
    /// Seed of the holder choice (`None`: random, printed in the log).
    pub seed: Option<u64>,
    pub output_dir: Option<PathBuf>,
    pub observe: Observe,
    pub loss: LossConfig,
}

/// The loss hook shared by peer and client, a teaching and test option: this fraction (0 to 1)
/// of outgoing datagrams is thrown away.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossConfig {
    pub fraction: f64,
    /// Seed of the choice (`None`: random, printed in the log).
    pub seed: Option<u64>,
}

/// Why a flood command failed. (Bad arguments never get here: the command line rejects them with exit code 2.)
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

/// Runs the part of the flooding network `config` names.
pub fn run(config: FloodConfig) -> Result<(), FloodError> {
    match config {
        FloodConfig::Peer(setup) => run_peer(setup),
        FloodConfig::Client(setup) => run_client(setup),
        FloodConfig::Sample { dir } => {
            for path in sample::write(&dir)
                .map_err(|e| FloodError::io(format!("cannot write into {}", dir.display()), e))?
            {
                println!("{}", path.display());
            }
            Ok(())
        }
    }
}

fn run_peer(setup: PeerSetup) -> Result<(), FloodError> {
    setup.observe.start(&format!("flood-peer-{}", setup.addr))?;
    let store = keyvalues::load(&setup.key_values)?;
    info!(
        "loaded {} chunks from {}",
        store.ids().len(),
        setup.key_values.display()
    );
    let config = peer::PeerConfig {
        addr: setup.addr,
        neighbours: setup.neighbours,
        ttl: setup.ttl,
        loss: setup.loss.to_loss(),
    };
    let mut peer = peer::Peer::bind(config, store)
        .map_err(|e| FloodError::io(format!("cannot bind {}", setup.addr), e))?;
    // Never set: the peer runs until it is killed.
    static STOP: AtomicBool = AtomicBool::new(false);
    peer.serve(&STOP)
        .map_err(|e| FloodError::io(format!("socket of {} failed", setup.addr), e))
}

fn run_client(setup: ClientSetup) -> Result<(), FloodError> {
    // --trace starts once the client knows its own address (the process's name).
    setup.observe.start_slow_motion();
    let log_dir = std::env::current_dir()?;
    let seed = setup.seed.unwrap_or_else(|| rand::rng().random());
    let config = client::ClientConfig {
        contact: setup.contact,
        ids: setup.ids,
        bind: setup.bind,
        port: setup.port,
        timeout: setup.timeout,
        timing: setup.timing,
        seed,
        output_dir: setup.output_dir,
        trace: setup.observe.trace,
        log_dir,
        loss: setup.loss.to_loss(),
    };
    let outcome = client::run(&config)?;
    // The product of a run, for the user: the log as written.
    let text = std::fs::read_to_string(&outcome.log_path)?;
    println!("{}:", outcome.log_path.display());
    print!("{text}");
    Ok(())
}

impl LossConfig {
    /// The hook, with its seed chosen (and logged) now; `None` when nothing is dropped.
    fn to_loss(self) -> Option<Loss> {
        if self.fraction <= 0.0 {
            return None;
        }
        let seed = self.seed.unwrap_or_else(|| rand::rng().random());
        info!(
            "dropping {} of outgoing datagrams on purpose (--drop-outgoing), seed {seed}",
            self.fraction
        );
        Some(Loss {
            fraction: self.fraction,
            seed,
        })
    }
}
