//! The tracker: a TCP server that keeps, per swarm, the peers taking part and the pieces each
//! holds, and answers with the list of the *other* peers. It holds no file data, only each
//! swarm's metainfo, which it hands to peers that join knowing nothing but its address.
//!
//! The blocking calls, in the order a connection meets them:
//!
//! 1. `TcpListener::bind` + listen ([`Tracker::bind`]).
//! 2. `accept()` blocks until a peer connects ([`Tracker::serve`]). Worker threads
//!    (`tracker-worker-N`, `tracker/workers.rs`) accept on the one listening socket and serve
//!    the connection they get; few wait in `accept()` at once, more start (or spares are
//!    called) only before a worker blocks. The connection's timeouts and `TCP_NODELAY` come
//!    from the listening socket (`tracker/conn.rs`).
//!    A connection is *pending* until its first whole request line (or HTTP head) arrives; at
//!    most [`pending_budget`] of them (`max_connections`, at least [`MAX_PENDING`]): one more
//!    shuts the oldest pending one down (`admission.rs`), so silent or trickling connections
//!    cannot starve real peers. Then it takes one of `max_connections` established slots, or
//!    is closed when all are taken. Workers: at most both budgets plus one, so one is always
//!    left to accept.
//! 3. In the connection's thread ([`serve_connection`]): `read_line` reads a request line (the
//!    first read without blocking: the request is usually there already; then blocking until
//!    it arrives or the idle timeout fires), the peer table is updated under its lock, the
//!    lock is let go, and `write_all` sends the reply. Repeat until `QUIT` or EOF.
//!    A connection whose first bytes are `GET ` speaks HTTP instead: BEP 3 announces from
//!    real clients (`tracker/announce.rs`), answered in bencode on the same port.
//! 4. Meanwhile the scheduler thread fires a clean-up every `cleanup_interval`, which drops
//!    the peers that did not ping since the previous one.
//!
//! The request lines are in `tracker/proto.rs` and `PROTOCOL.md`; the table in `tracker/table.rs`.

pub mod announce;
pub mod conn;
pub mod http;
pub mod page;
pub mod proto;
pub mod table;
pub mod workers;

use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info, warn};

use crate::admission::{Gate, MAX_PENDING, Ticket};
use crate::metainfo::{Metainfo, MetainfoError};
use crate::net;
use crate::net::traced::slow_motion;
use crate::scheduler;
use crate::threads;
use crate::trace::{self, Dir};
use conn::{Conn, Inheritance};
use proto::{ErrorCode, ProtoError, Reply, Request};
use table::{Identity, PeerTable};
use workers::Standby;

pub use crate::defaults::{FIRST_REQUEST_TIMEOUT, TRACKER_IDLE_TIMEOUT as IDLE_TIMEOUT};

/// Everything `bittorrent-sim tracker` is told on its command line.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub addr: SocketAddr,
    pub identity: Identity,
    pub cleanup_interval: Duration,
    pub torrents: Vec<PathBuf>,
    pub max_connections: usize,
    /// The `interval` HTTP clients are told to re-announce at; silent for three of them, they
    /// are dropped.
    pub announce_interval: Duration,
    /// `--max-peers-per-swarm`: a JOIN or announce of a new peer beyond it gets `ERR full`.
    pub max_peers_per_swarm: usize,
    /// `--max-swarms`: a new swarm beyond it gets `ERR full`.
    pub max_swarms: usize,
    /// `--metainfo-budget`: bytes of metainfo stored in all; a PUBLISH beyond gets `ERR full`.
    pub metainfo_budget: usize,
}

/// Why the tracker could not start.
#[derive(Debug)]
pub enum TrackerError {
    Bind { addr: SocketAddr, source: io::Error },
    Torrent(MetainfoError),
    Io(io::Error),
}

impl fmt::Display for TrackerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackerError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            TrackerError::Torrent(e) => write!(f, "{e}"),
            TrackerError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TrackerError {}

impl From<io::Error> for TrackerError {
    fn from(e: io::Error) -> Self {
        TrackerError::Io(e)
    }
}

/// A bound tracker, ready to serve.
pub struct Tracker {
    listener: TcpListener,
    table: Arc<PeerTable>,
    config: TrackerConfig,
}

impl Tracker {
    /// Loads the `--torrent` files and binds the listening socket (step 1).
    pub fn bind(config: TrackerConfig) -> Result<Tracker, TrackerError> {
        let table = Arc::new(
            PeerTable::with_http_expiry(config.identity, config.announce_interval * 3)
                .with_limits(config.max_peers_per_swarm, config.max_swarms)
                .with_metainfo_budget(config.metainfo_budget),
        );
        for path in &config.torrents {
            let metainfo = Metainfo::from_file(path).map_err(TrackerError::Torrent)?;
            info!(
                "serving swarm {} ({}, {} pieces) from {}",
                metainfo.info_hash,
                metainfo.name,
                metainfo.num_pieces(),
                path.display()
            );
            if let Err(e) = table.publish(metainfo) {
                warn!("{}: not served: {e}", path.display());
            }
        }
        let listener = net::listen(config.addr).map_err(|source| TrackerError::Bind {
            addr: config.addr,
            source,
        })?;
        conn::inherit_options(&listener, conn::timeouts(FIRST_REQUEST_TIMEOUT))?;
        Ok(Tracker {
            listener,
            table,
            config,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn table(&self) -> Arc<PeerTable> {
        Arc::clone(&self.table)
    }

    /// Runs the clean-up scheduler and the accept loop (step 2), forever.
    pub fn serve(self) -> Result<(), TrackerError> {
        let mode = match self.config.identity {
            Identity::Port => "development mode: peers told apart by port",
            Identity::IpAndPort => "remote mode: peers told apart by ip and port",
        };
        info!("tracker listening on {} ({mode})", self.local_addr()?);
        start_cleanup(Arc::clone(&self.table), self.config.cleanup_interval)?;
        self.start_workers()?;
        // The workers accept and serve from now on, and never end.
        loop {
            std::thread::park();
        }
    }

    /// Step 2: worker threads block in `accept` and serve what they accept.
    fn start_workers(self) -> io::Result<()> {
        let max_connections = self.config.max_connections;
        let gate = Gate::new(max_connections, pending_budget(max_connections));
        let table = self.table;
        let interval = self.config.announce_interval;
        let inheritance = Inheritance::default();
        let serve =
            move |stream: &TcpStream, remote: SocketAddr, mut ticket: Ticket, standby: &Standby| {
                let served = inheritance
                    .ensure(stream, conn::timeouts(FIRST_REQUEST_TIMEOUT))
                    .and_then(|()| {
                        let conn = Conn::new(stream, remote, standby, FIRST_REQUEST_TIMEOUT);
                        serve_connection(&conn, &table, interval, &mut ticket)
                    });
                if let Err(e) = served {
                    warn!("{remote}: connection ended: {e}");
                }
            };
        workers::start(self.listener, gate, Box::new(serve))
    }
}

/// How many connections may block a worker waiting for their first request: as many as may be
/// established, and at least [`MAX_PENDING`]. Honest clients connecting at once (one short
/// connection per request, e.g. `wrk` with 50 connections in `Connection: close` mode) each
/// spend a moment between `connect` and their first write; a budget below their number evicts
/// them (oldest first) as if they were silent.
pub fn pending_budget(max_connections: usize) -> usize {
    MAX_PENDING.max(max_connections)
}

/// Binds and serves: what `bittorrent-sim tracker` runs.
pub fn run(config: TrackerConfig) -> Result<(), TrackerError> {
    Tracker::bind(config)?.serve()
}

#[derive(Debug, Clone, Copy)]
struct CleanUp;

/// Step 4: the scheduler thread fires `CleanUp`; the clean-up thread applies it.
fn start_cleanup(table: Arc<PeerTable>, every: Duration) -> io::Result<()> {
    let ticks = scheduler::start("scheduler", vec![(every, CleanUp)])?;
    threads::spawn_named("tracker-cleanup", move || {
        for CleanUp in ticks {
            let removed = table.remove_stale();
            for gone in &removed {
                info!(
                    "clean-up: dropped {} from swarm {} (silent since the last clean-up)",
                    gone.addr,
                    gone.info_hash.short()
                );
            }
            debug!("clean-up done, {} peers dropped", removed.len());
        }
    })?;
    Ok(())
}

/// Step 3: one connection, one request line at a time.
fn serve_connection(
    conn: &Conn<'_>,
    table: &PeerTable,
    announce_interval: Duration,
    ticket: &mut Ticket,
) -> io::Result<()> {
    let (stream, remote) = (conn.stream(), conn.remote());
    let mut reader = BufReader::new(conn);
    // A request starting with `GET ` is HTTP (a real client announcing); anything else is
    // our line protocol.
    if reader.fill_buf()?.starts_with(b"GET ") {
        return announce::serve(&mut reader, conn, table, announce_interval, ticket);
    }
    let mut switched = false;
    loop {
        idle_timeout(stream, ticket, &mut switched)?;
        let line = match proto::read_line(&mut reader) {
            Ok(line) => {
                if !established(remote, ticket) {
                    return Ok(());
                }
                line
            }
            Err(ProtoError::Closed) => {
                debug!("{remote}: closed the connection");
                return Ok(());
            }
            Err(ProtoError::Io(e)) => return Err(e),
            Err(e @ (ProtoError::TooLong | ProtoError::NotText | ProtoError::Bad(_))) => {
                // The rest of an overlong or binary line cannot be resynchronised: answer, close.
                warn!("{remote}: {e}; closing");
                let code = if matches!(e, ProtoError::TooLong) {
                    ErrorCode::TooLong
                } else {
                    ErrorCode::BadRequest
                };
                send(conn, &Reply::error(code, e.to_string()))?;
                conn.close_after_refusal()?;
                return Ok(());
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let request = match Request::parse(&line) {
            Ok(request) => request,
            Err(e) => {
                warn!("{remote}: bad request `{}`: {e}", proto::truncate(&line));
                send(conn, &Reply::error(ErrorCode::BadRequest, e.to_string()))?;
                continue;
            }
        };
        info!("{remote}: received {}", proto::truncate(&request.to_line()));
        if trace::enabled() {
            let local = stream.local_addr().ok();
            let fields = request.trace_fields();
            trace::record(Dir::Recv, "tracker", local, remote, request.name(), &fields);
        }
        if let Request::Publish { info_hash, length } = request {
            let reply = receive_metainfo(&mut reader, remote, table, info_hash, length)?;
            send(conn, &reply)?;
            if matches!(
                reply,
                Reply::Err {
                    code: ErrorCode::TooLong,
                    ..
                }
            ) {
                return Ok(()); // the body was not read: the stream is out of step
            }
            continue;
        }
        let quit = request == Request::Quit;
        let reply = table.answer(request, remote);
        send(conn, &reply)?;
        if quit {
            return Ok(());
        }
    }
}

/// A whole request arrived: the connection leaves the pending budget for an established slot.
/// False: it may not stay (evicted, or every slot taken).
pub(crate) fn established(remote: SocketAddr, ticket: &mut Ticket) -> bool {
    if let Err(why) = ticket.establish() {
        debug!("{remote}: closing: {why}");
        return false;
    }
    true
}

/// Before blocking for a second request, an established connection gets the long idle timeout
/// instead of [`FIRST_REQUEST_TIMEOUT`]; once (`switched`). A one-request connection (our
/// peers, `Connection: close`) never gets here and saves the system call.
pub(crate) fn idle_timeout(
    stream: &TcpStream,
    ticket: &Ticket,
    switched: &mut bool,
) -> io::Result<()> {
    if !*switched && ticket.is_established() {
        stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
        *switched = true;
    }
    Ok(())
}

/// Reads a `PUBLISH` body, checks it is a torrent whose info-hash is the one announced, and
/// learns it.
fn receive_metainfo(
    reader: &mut BufReader<&Conn<'_>>,
    remote: SocketAddr,
    table: &PeerTable,
    info_hash: crate::infohash::InfoHash,
    length: usize,
) -> io::Result<Reply> {
    if length > proto::MAX_TORRENT_BYTES {
        warn!("{remote}: refused a metainfo of {length} bytes");
        return Ok(Reply::error(
            ErrorCode::TooLong,
            format!("metainfo over {} bytes", proto::MAX_TORRENT_BYTES),
        ));
    }
    if let Err(e) = table.room_for_metainfo(length) {
        // Read and dropped in small steps, so the connection stays in step.
        io::copy(&mut reader.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Reply::error(e.code, e.message));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let metainfo = match Metainfo::from_bytes(&body) {
        Ok(m) => m,
        Err(e) => return Ok(Reply::error(ErrorCode::BadMetainfo, e.to_string())),
    };
    if metainfo.info_hash != info_hash {
        return Ok(Reply::error(
            ErrorCode::BadMetainfo,
            format!("its info-hash is {}, not {info_hash}", metainfo.info_hash),
        ));
    }
    let name = metainfo.name.clone();
    Ok(match table.publish(metainfo) {
        Ok(true) => {
            info!("{remote}: learned swarm {info_hash} ({name})");
            Reply::Ok(format!("published {name}"))
        }
        Ok(false) => Reply::Ok("already known".to_string()),
        Err(e) => Reply::Err {
            code: e.code,
            message: e.message,
        },
    })
}

fn send(conn: &Conn<'_>, reply: &Reply) -> io::Result<()> {
    let (stream, remote) = (conn.stream(), conn.remote());
    slow_motion(remote, reply.name());
    // Traced before it is written, so no trace can show its answer first.
    if trace::enabled() {
        let local = stream.local_addr().ok();
        let fields = reply.trace_fields();
        trace::record(Dir::Send, "tracker", local, remote, reply.name(), &fields);
    }
    let mut out = BufWriter::new(conn);
    reply.write_to(&mut out)?;
    out.flush()?;
    info!("{remote}: sent {}", reply.summary());
    Ok(())
}
