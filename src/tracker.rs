//! The tracker: a TCP server that keeps, per swarm, the peers taking part and the pieces each
//! holds, and answers with the list of the *other* peers. It holds no file data, only each
//! swarm's metainfo, which it hands to peers that join knowing nothing but its address.
//!
//! Built like the Rust Book's web server: one thread accepts, each connection gets a thread of
//! its own, and every socket call blocks. The blocking calls, in the order a connection meets
//! them:
//!
//! 1. `bind` + `listen` ([`Tracker::bind`], `net::listen`).
//! 2. `accept()` blocks in the accept thread, `tracker-accept`, until a peer connects
//!    ([`Tracker::accept_loop`]). The connection is admitted (`admission.rs`): it is *pending*
//!    until its first whole request line (or HTTP head) arrives, at most [`pending_budget`]
//!    of them, and one more shuts the oldest pending one down, so silent or trickling
//!    connections cannot starve real peers. Then it gets its own thread, `tracker-conn-N`,
//!    through a [`ThreadCap`] of both budgets: `ThreadCap::spawn` blocks while every slot is
//!    taken.
//! 3. In the connection's thread ([`serve_connection`]): `net::configure` sets its timeouts
//!    (10 s for the first request, [`FIRST_REQUEST_TIMEOUT`]; 10 s per write). `read` blocks
//!    until a request line arrives; a whole request takes one of `max_connections`
//!    established slots (or the connection is closed when all are taken); the peer table is
//!    updated under its lock, the lock is let go, and `write` sends the reply. Repeat until
//!    `QUIT` or EOF: a kept connection keeps its thread, and may stay silent for
//!    [`IDLE_TIMEOUT`] between requests.
//!    A connection whose first bytes are `GET ` speaks HTTP instead: BEP 3 announces from
//!    real clients (`tracker/announce.rs`), answered in bencode on the same port.
//!    The status page has a port of its own as well (`--page-port`, 8080), because browsers
//!    refuse port 6000: a second accept thread, `tracker-page-accept`, runs the same loop on
//!    it, sharing the budgets and the thread cap; its connection threads are `tracker-page-N`.
//! 4. Meanwhile the scheduler thread fires a clean-up every `cleanup_interval` (`tracker/cleanup.rs`), which drops
//!    the peers that did not ping since the previous one.
//!
//! What each request does to the table is in `tracker/table/answer.rs` (a `PUBLISH` body is
//! read in `tracker/publish.rs`); the request lines in
//! `tracker/proto.rs` and `PROTOCOL.md`; the table in `tracker/table.rs`. What this costs
//! against a tuned server is measured in BENCHMARKS.md.

mod accept;
pub mod announce;
mod cleanup;
pub mod http;
pub mod page;
pub mod proto;
mod publish;
pub mod table;

use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info, warn};

use crate::admission::{Gate, MAX_PENDING, Ticket};
use crate::metainfo::{Metainfo, MetainfoError};
use crate::net::traced::{Traced, slow_motion};
use crate::net::{self, Timeouts};
use crate::threads::{self, ThreadCap};
use crate::trace::{self, Dir};
use accept::Server;
use proto::{ErrorCode, ProtoError, Reply, Request};
use table::{Identity, PeerTable};

pub use crate::defaults::{FIRST_REQUEST_TIMEOUT, TRACKER_IDLE_TIMEOUT as IDLE_TIMEOUT};

/// Everything `bittorrent-sim tracker` is told on its command line.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub addr: SocketAddr,
    /// `--page-port`: where the status page is served for browsers too (None: only on `addr`).
    pub page_addr: Option<SocketAddr>,
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
    /// The status page's own listener; None when disabled or its port was taken.
    page: Option<TcpListener>,
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
        let page = config.page_addr.and_then(|addr| match net::listen(addr) {
            Ok(page) => Some(page),
            Err(e) => {
                warn!(
                    "status page: cannot listen on {addr}: {e}; the page stays on port {} (curl only: browsers refuse port 6000), try --page-port",
                    config.addr.port()
                );
                None
            }
        });
        Ok(Tracker {
            listener,
            page,
            table,
            config,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The status page's own address, if it has one.
    pub fn page_addr(&self) -> Option<SocketAddr> {
        self.page.as_ref().and_then(|page| page.local_addr().ok())
    }

    pub fn table(&self) -> Arc<PeerTable> {
        Arc::clone(&self.table)
    }

    /// Runs the clean-up scheduler and the accept thread (step 2), forever.
    pub fn serve(self) -> Result<(), TrackerError> {
        let mode = match self.config.identity {
            Identity::Port => "development mode: peers told apart by port",
            Identity::IpAndPort => "remote mode: peers told apart by ip and port",
        };
        let local = self.local_addr()?;
        info!("tracker listening on {local} ({mode})");
        match self.page_addr() {
            Some(page) => info!("status page: {}", page_url(page)),
            None => info!(
                "status page: {} (for curl: browsers refuse port {})",
                page_url(local),
                local.port()
            ),
        }
        cleanup::start(Arc::clone(&self.table), self.config.cleanup_interval)?;
        let max_connections = self.config.max_connections;
        let gate = Gate::new(max_connections, pending_budget(max_connections));
        let server = Server {
            table: self.table,
            cap: ThreadCap::new(gate.threads()),
            gate,
            max_connections,
            announce_interval: self.config.announce_interval,
        };
        if let Some(page) = self.page {
            let server = server.clone();
            threads::spawn_named("tracker-page-accept", move || {
                server.accept_loop(&page, "tracker-page")
            })?;
        }
        let listener = self.listener;
        let accept = threads::spawn_named("tracker-accept", move || {
            server.accept_loop(&listener, "tracker-conn")
        })?;
        accept
            .join()
            .map_err(|_| io::Error::other("the accept thread panicked"))?;
        Ok(())
    }
}

/// `http://HOST:PORT/`, with 127.0.0.1 for a tracker listening on every address.
fn page_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        Ipv4Addr::LOCALHOST.into()
    } else {
        addr.ip()
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

/// How many connections may wait for their first request at once: as many as may be
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

/// Step 3: one connection, in its own thread, one request at a time.
fn serve_connection(
    stream: &TcpStream,
    remote: SocketAddr,
    table: &PeerTable,
    announce_interval: Duration,
    mut ticket: Ticket,
) -> io::Result<()> {
    let first_request = Timeouts {
        read: FIRST_REQUEST_TIMEOUT,
        ..Timeouts::EXCHANGE
    };
    net::configure(stream, first_request)?;
    let mut reader = BufReader::new(Traced::new(stream, remote));
    // A request starting with `GET ` is HTTP (a real client announcing); anything else is
    // our line protocol.
    if reader.fill_buf()?.starts_with(b"GET ") {
        return announce::serve(
            &mut reader,
            stream,
            remote,
            table,
            announce_interval,
            &mut ticket,
        );
    }
    let mut idle = false;
    loop {
        idle_timeout(stream, &ticket, &mut idle)?;
        let line = match proto::read_line(&mut reader) {
            Ok(line) if established(remote, &mut ticket) => line,
            Ok(_) => return Ok(()),
            Err(ProtoError::Closed) => {
                debug!("{remote}: closed the connection");
                return Ok(());
            }
            Err(ProtoError::Io(e)) => return Err(e),
            Err(e) => return refuse_unreadable(stream, remote, e),
        };
        let Some(request) = parse(&line, stream, remote)? else {
            continue;
        };
        let quit = request == Request::Quit;
        let reply = match request {
            Request::Publish { info_hash, length } => {
                publish::receive_metainfo(&mut reader, remote, table, info_hash, length)?
            }
            request => table.answer(request, remote),
        };
        send(stream, remote, &reply)?;
        // A refused PUBLISH left its body unread: the stream is out of step.
        let unread = matches!(
            reply,
            Reply::Err {
                code: ErrorCode::TooLong,
                ..
            }
        );
        if quit || unread {
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
/// instead of [`FIRST_REQUEST_TIMEOUT`]; once (`idle`). A one-request connection (our peers,
/// `Connection: close`) never gets here.
pub(crate) fn idle_timeout(stream: &TcpStream, ticket: &Ticket, idle: &mut bool) -> io::Result<()> {
    if !*idle && ticket.is_established() {
        stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
        *idle = true;
    }
    Ok(())
}

/// An overlong or binary line cannot be resynchronised: answer, then close.
fn refuse_unreadable(stream: &TcpStream, remote: SocketAddr, e: ProtoError) -> io::Result<()> {
    warn!("{remote}: {e}; closing");
    let code = if matches!(e, ProtoError::TooLong) {
        ErrorCode::TooLong
    } else {
        ErrorCode::BadRequest
    };
    send(stream, remote, &Reply::error(code, e.to_string()))?;
    net::close_after_refusal(stream);
    Ok(())
}

/// Parses a request line; a blank line is skipped, a bad one answered with `ERR`.
fn parse(line: &str, stream: &TcpStream, remote: SocketAddr) -> io::Result<Option<Request>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let request = match Request::parse(line) {
        Ok(request) => request,
        Err(e) => {
            warn!("{remote}: bad request `{}`: {e}", proto::truncate(line));
            send(
                stream,
                remote,
                &Reply::error(ErrorCode::BadRequest, e.to_string()),
            )?;
            return Ok(None);
        }
    };
    info!("{remote}: received {}", proto::truncate(&request.to_line()));
    if trace::enabled() {
        let local = stream.local_addr().ok();
        let fields = request.trace_fields();
        trace::record(Dir::Recv, "tracker", local, remote, request.name(), &fields);
    }
    Ok(Some(request))
}

fn send(stream: &TcpStream, remote: SocketAddr, reply: &Reply) -> io::Result<()> {
    slow_motion(remote, reply.name());
    // Traced before it is written, so no trace can show its answer first.
    if trace::enabled() {
        let local = stream.local_addr().ok();
        let fields = reply.trace_fields();
        trace::record(Dir::Send, "tracker", local, remote, reply.name(), &fields);
    }
    let mut out = BufWriter::new(Traced::new(stream, remote));
    reply.write_to(&mut out)?;
    out.flush()?;
    info!("{remote}: sent {}", reply.summary());
    Ok(())
}
