//! A peer of the tracker swarm: joins a swarm through the tracker, downloads the pieces it
//! lacks rarest first from other peers, and serves uploads to everyone at the same time.
//!
//! The blocking flow, in order ([`run()`], `peer/run.rs`, one function per step):
//!
//! 1. `bind` + `listen` on `--port`, first, so that `--port 0` has its real port before
//!    anything is named after it; nothing is accepted yet.
//! 2. Learn the swarm: read `--torrent`, hash `--seed FILE|DIR`, ask the tracker (`SWARMS`,
//!    then `METAINFO`), each a `connect`/`write`/`read`/close exchange
//!    (`peer/tracker_client.rs`), or, for `--magnet`, fetch the info dictionary from the
//!    swarm's peers (BEP 9, `peer/magnet.rs`); all in `peer/learn.rs`.
//! 3. Open the data file (or the files of a folder) and verify what is already on disk: only
//!    pieces whose SHA-1 matches are ever reported (`peer/storage.rs`).
//! 4. `PUBLISH` the metainfo and `JOIN` the swarm with the pieces held (`peer/announcer.rs`).
//! 5. Start the accept thread (`peer/listener.rs`): each peer that connects to us gets its own
//!    connection thread, `peer-PORT-in-N` (`peer/connection.rs`).
//! 6. The task loop (`peer/task_loop.rs`): the scheduler thread (`scheduler.rs`) fires ping,
//!    report and round tasks over a crossbeam channel; this thread blocks in `select` on those
//!    tasks and on the connections' events. Every tracker exchange after the join happens
//!    here, and the engine (`peer/engine.rs`, no sockets) is told the result.
//! 7. A round: `LIST` the other peers, and unless fewer than `--min-peers` are listed, the
//!    engine picks the rarest missing pieces and gives each to its least loaded holder
//!    (`peer/picker.rs`), over a connection of its own (`peer-PORT-out-N`, which carries
//!    both directions like every connection). A verified piece is written, then added to what
//!    we report and announce with `have`; a failed one is thrown away and fetched again
//!    elsewhere.
//! 8. Once complete, rounds stop; pings, reports and uploads go on.

pub mod announcer;
pub mod choker;
pub mod connection;
pub mod engine;
pub mod frames;
pub mod http_tracker;
pub mod listener;
pub mod magnet;
pub mod picker;
pub mod storage;
pub mod tracker_client;

mod learn;
mod run;
mod shutdown;
mod task_loop;

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::infohash::InfoHash;
use crate::metainfo::{Metainfo, MetainfoError};
use crate::mse::Encryption;
use crate::pieces::PieceSet;
use crate::ratelimit::Limiter;
pub use run::run;
use storage::Storage;
use tracker_client::ClientError;

/// Everything `bittorrent-sim peer` is told on its command line.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Listening port (0: any free port); names the peer in development mode.
    pub port: u16,
    pub tracker: TrackerAddr,
    pub bind: Option<IpAddr>,
    pub source: Source,
    /// Where a downloaded file goes (default `./peer-PORT`).
    pub dir: Option<PathBuf>,
    pub ping_interval: Duration,
    pub report_interval: Duration,
    pub round_interval: Duration,
    pub min_peers: usize,
    pub parallel: usize,
    /// `--per-peer`: pieces fetched at once from one peer (0: no limit).
    pub per_peer: usize,
    /// `--upload-rate`, bytes per second over all connections (0: unlimited).
    pub upload_rate: u64,
    /// `--download-rate`, bytes per second over all connections (0: unlimited).
    pub download_rate: u64,
    pub pipeline: usize,
    pub max_connections: usize,
    /// `--max-peers`: we open connections only while fewer than this many are open.
    pub max_peers: usize,
    /// `--connect-to-all`: connect to every listed peer, not only when it holds a piece we want.
    pub connect_to_all: bool,
    /// `--picker`: which missing piece first (rarest, or random to compare).
    pub picker: picker::Strategy,
    pub keepalive: Duration,
    /// `--stall-timeout`: a fetch with no block for this long is given up.
    pub stall_timeout: Duration,
    /// `--handshake-timeout`: an accepted connection must complete its handshake this fast.
    pub handshake_timeout: Duration,
    /// `--encryption`: which handshakes (plain, MSE) we try and accept.
    pub encryption: Encryption,
    /// `--choking`, `--unchoke-slots`, `--optimistic-interval`, `--snub-timeout`, `--free-ride`.
    pub choking: choker::Settings,
    /// `--rechoke-interval`.
    pub rechoke_interval: Duration,
    /// `--trace FILE`.
    pub trace: Option<PathBuf>,
    pub exit_when_complete: bool,
    /// `--tracker-wait`: how long a refusing tracker is retried at start-up.
    pub tracker_wait: Duration,
}

/// The tracker and the protocol it is spoken to in.
#[derive(Debug, Clone)]
pub enum TrackerAddr {
    /// `HOST:PORT`: our line protocol, whose lists say which pieces each peer holds.
    Text(SocketAddr),
    /// `http://HOST:PORT/PATH`: BEP 3 announce; pieces are learned from the peers.
    Http {
        url: http_tracker::AnnounceUrl,
        addr: SocketAddr,
    },
}

impl TrackerAddr {
    pub fn addr(&self) -> SocketAddr {
        match self {
            TrackerAddr::Text(addr) | TrackerAddr::Http { addr, .. } => *addr,
        }
    }
}

/// Where the peer's metainfo comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A `.torrent` file.
    Torrent(PathBuf),
    /// `--seed FILE` or `--seed DIR`: hash the file or folder now and seed it in place.
    Seed { file: PathBuf, piece_length: u64 },
    /// Ask the tracker: the swarm named, or the only one it knows.
    Tracker(Option<InfoHash>),
    /// `--magnet URI`: fetch the metadata from the swarm's peers (BEP 9).
    Magnet(crate::magnet::Magnet),
}

/// Why the peer could not start.
#[derive(Debug)]
pub enum PeerError {
    /// The tracker could not be reached or refused us at start.
    Tracker {
        addr: SocketAddr,
        source: ClientError,
    },
    /// The tracker knows several swarms and none was chosen.
    WhichSwarm(String),
    /// An HTTP tracker cannot hand out metainfo.
    NeedTorrent,
    Metainfo(MetainfoError),
    /// `--magnet`: no peer gave the metadata in time.
    NoMetadata {
        info_hash: InfoHash,
        waited: Duration,
    },
    Bind {
        addr: SocketAddr,
        source: io::Error,
    },
    Storage(io::Error),
    Io(io::Error),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::Tracker { addr, source } => {
                write!(f, "tracker {addr}: {source}")?;
                if matches!(source, ClientError::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
                {
                    write!(f, "; is the tracker running at {addr}?")?;
                }
                Ok(())
            }
            PeerError::WhichSwarm(list) => write!(f, "{list}"),
            PeerError::NeedTorrent => f.write_str(
                "an http tracker does not hand out metainfo: give --torrent FILE or --seed FILE",
            ),
            PeerError::Metainfo(e) => write!(f, "{e}"),
            PeerError::NoMetadata { info_hash, waited } => write!(
                f,
                "no peer gave the metadata of {info_hash} within {}s (magnet link)",
                waited.as_secs()
            ),
            PeerError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            PeerError::Storage(e) => write!(f, "{e}"),
            PeerError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PeerError {}

impl From<io::Error> for PeerError {
    fn from(e: io::Error) -> Self {
        PeerError::Io(e)
    }
}

/// What the peer's threads share: read-only swarm facts, the file, and the pieces held.
pub struct PeerState {
    /// Thread-name prefix, `peer-PORT`.
    pub name: String,
    /// Our listening port, told to remotes in the extension handshake (BEP 10).
    pub port: u16,
    pub metainfo: Arc<Metainfo>,
    /// The metainfo's `info` dictionary as in the torrent: BEP 9's metadata, served in 16 KiB
    /// pieces to magnet links' peers (`connection/metadata.rs`).
    pub info_bytes: Vec<u8>,
    pub storage: Storage,
    pub peer_id: [u8; 20],
    pub local_ip: Option<IpAddr>,
    pub pipeline: usize,
    /// A keep-alive goes out on a connection silent this long.
    pub keepalive: Duration,
    /// A fetch that received no block for this long is given up, and its connection closed.
    pub stall_timeout: Duration,
    /// A handshake must arrive whole within this long.
    pub handshake_timeout: Duration,
    /// `--encryption`: plain BEP 3 or MSE-encrypted handshakes, tried and accepted.
    pub encryption: Encryption,
    have: Mutex<PieceSet>,
    /// `--upload-rate`: every block we send is charged here first.
    pub upload_limit: Option<Limiter>,
    /// `--download-rate`: every block we receive is charged here after it is read.
    pub download_limit: Option<Limiter>,
    pub uploaded: AtomicU64,
    pub downloaded: AtomicU64,
    /// Names connections, outgoing and incoming alike.
    pub next_conn_id: AtomicU64,
}

impl PeerState {
    /// A copy of the pieces held (the lock is let go before the caller does any I/O).
    pub fn have_snapshot(&self) -> PieceSet {
        self.have
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether piece `index` is held (verified and on disk).
    pub fn has(&self, index: u32) -> bool {
        self.have
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(index)
    }

    /// Records a verified, written piece. Returns the pieces held now.
    fn add_piece(&self, index: u32) -> PieceSet {
        let mut have = self.have.lock().unwrap_or_else(PoisonError::into_inner);
        have.insert(index);
        have.clone()
    }
}

/// An Azureus-style peer id: `-BS0100-` and 12 random alphanumerics.
pub fn new_peer_id() -> [u8; 20] {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = *b"-BS0100-000000000000";
    let mut rng = rand::rng();
    for byte in &mut id[8..] {
        *byte = ALPHABET[rng.random_range(0..ALPHABET.len())];
    }
    id
}
