//! The peer's side of the tracker protocol: one short TCP exchange per request.
//!
//! Each call is the same four blocking steps: `connect` (from the peer's own address), write
//! the request line, read the reply, close. A fresh connection each time keeps the flow easy
//! to follow in a capture and survives a tracker restart without any reconnect logic.
//!
//! Identity (PROTOCOL.md 1.3): the first `JOIN` of a (tracker, swarm, port) draws a random
//! secret and sends it as `key=`; this process remembers it (a small process-wide map, so
//! every `TrackerClient` value of the peer shares it) and sends it with every later `JOIN`,
//! `PING`, `REPORT` and `LEAVE` for that peer, so no other socket can speak for it.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock, PoisonError};

use log::{debug, info};

use crate::infohash::InfoHash;
use crate::metainfo::Metainfo;
use crate::net::traced::{Traced, slow_motion};
use crate::net::{self, Timeouts};
use crate::trace::{self, Dir};
use crate::tracker::proto::{
    self, ErrorCode, PeerEntry, ProtoError, Reply, Request, Secret, SwarmEntry, SwarmStatus,
    Unchoked,
};

/// Which peer of which swarm at which tracker.
type Who = (SocketAddr, InfoHash, u16);

fn secrets() -> std::sync::MutexGuard<'static, HashMap<Who, Secret>> {
    static SECRETS: OnceLock<Mutex<HashMap<Who, Secret>>> = OnceLock::new();
    SECRETS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Why an exchange with the tracker failed.
#[derive(Debug)]
pub enum ClientError {
    /// Could not connect, or the connection broke.
    Io(io::Error),
    /// The tracker's reply was not of the protocol.
    Proto(ProtoError),
    /// The tracker answered `ERR`.
    Refused { code: ErrorCode, message: String },
    /// A reply of the protocol, but not the one this request expects.
    Unexpected(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "{e}"),
            ClientError::Proto(e) => write!(f, "bad reply: {e}"),
            ClientError::Refused { code, message } => {
                write!(f, "refused ({}): {message}", code.as_str())
            }
            ClientError::Unexpected(what) => write!(f, "unexpected reply: {what}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

impl From<ProtoError> for ClientError {
    fn from(e: ProtoError) -> Self {
        match e {
            ProtoError::Io(e) => ClientError::Io(e),
            other => ClientError::Proto(other),
        }
    }
}

impl ClientError {
    /// True when the tracker no longer knows us or our swarm (it restarted, or cleaned us up):
    /// the cure is to publish and join again.
    pub fn is_forgotten(&self) -> bool {
        matches!(
            self,
            ClientError::Refused {
                code: ErrorCode::UnknownPeer | ErrorCode::UnknownSwarm,
                ..
            }
        )
    }
}

/// Talks to one tracker on behalf of one peer.
#[derive(Debug, Clone)]
pub struct TrackerClient {
    pub tracker: SocketAddr,
    /// The address to connect from (the peer's `--bind`), so a `--remote` tracker sees it.
    pub local_ip: Option<IpAddr>,
}

impl TrackerClient {
    /// One exchange: connect, write the request (and body), read the reply, close.
    fn exchange(&self, request: &Request, body: Option<&[u8]>) -> Result<Reply, ClientError> {
        let stream = net::connect(self.tracker, self.local_ip, Timeouts::EXCHANGE)?;
        let line = request.to_line();
        let log_line = request.to_log_line();
        slow_motion(self.tracker, request.name());
        // Traced before it is written, so no trace can show its answer first.
        let local = stream.local_addr().ok();
        trace::record(
            Dir::Send,
            "tracker",
            local,
            self.tracker,
            request.name(),
            &request.trace_fields(),
        );
        let mut out = BufWriter::new(Traced::new(&stream, self.tracker));
        writeln!(out, "{line}")?;
        if let Some(body) = body {
            out.write_all(body)?;
            writeln!(out)?;
        }
        out.flush()?;
        drop(out);
        info!("{}: sent {log_line}", self.tracker);
        let reply = Reply::read_from(&mut BufReader::new(Traced::new(&stream, self.tracker)))?;
        log_reply(self.tracker, &reply);
        trace::record(
            Dir::Recv,
            "tracker",
            local,
            self.tracker,
            reply.name(),
            &reply.trace_fields(),
        );
        match reply {
            Reply::Err { code, message } => Err(ClientError::Refused { code, message }),
            reply => Ok(reply),
        }
    }

    fn peers(&self, request: Request) -> Result<Vec<PeerEntry>, ClientError> {
        match self.exchange(&request, None)? {
            Reply::Peers(peers) => Ok(peers),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Makes `secret` the one this peer joins with as `port` in that swarm (a key kept with
    /// its data, so a restarted peer is still the peer it was: [`super::run`]).
    pub fn remember_secret(&self, info_hash: InfoHash, port: u16, secret: Secret) {
        secrets().insert((self.tracker, info_hash, port), secret);
    }

    /// The secret this process joined with as `port` in that swarm, drawn on first use.
    fn secret(&self, info_hash: InfoHash, port: u16) -> Secret {
        secrets()
            .entry((self.tracker, info_hash, port))
            .or_insert_with(Secret::random)
            .clone()
    }

    /// The secret of an earlier `JOIN`, if this process made one.
    fn joined_secret(&self, info_hash: InfoHash, port: u16) -> Option<Secret> {
        secrets().get(&(self.tracker, info_hash, port)).cloned()
    }

    /// `JOIN`: enter the swarm with the pieces held, and a secret key; returns the other peers.
    pub fn join(
        &self,
        info_hash: InfoHash,
        port: u16,
        ranges: &str,
    ) -> Result<Vec<PeerEntry>, ClientError> {
        self.peers(Request::Join {
            info_hash,
            port,
            pieces: ranges.to_string(),
            key: Some(self.secret(info_hash, port)),
            numwant: None,
        })
    }

    /// `LIST`: the other peers and their pieces.
    pub fn list(&self, info_hash: InfoHash, port: u16) -> Result<Vec<PeerEntry>, ClientError> {
        self.peers(Request::List {
            info_hash,
            port,
            numwant: None,
        })
    }

    /// `PING`: proof of life.
    pub fn ping(&self, info_hash: InfoHash, port: u16) -> Result<(), ClientError> {
        let key = self.joined_secret(info_hash, port);
        self.exchange(
            &Request::Ping {
                info_hash,
                port,
                key,
            },
            None,
        )
        .map(drop)
    }

    /// `REPORT`: the pieces held now.
    pub fn report(&self, info_hash: InfoHash, port: u16, ranges: &str) -> Result<(), ClientError> {
        self.send_report(info_hash, port, ranges, None)
    }

    /// `REPORT` with `unchoked=`: the pieces held now and the remotes this peer unchokes now
    /// (at most [`proto::MAX_UNCHOKED`]; more are left out), for `status` and the status page.
    pub fn report_unchoked(
        &self,
        info_hash: InfoHash,
        port: u16,
        ranges: &str,
        unchoked: &[Unchoked],
    ) -> Result<(), ClientError> {
        let mut set = unchoked.to_vec();
        set.sort_unstable();
        set.dedup();
        set.truncate(proto::MAX_UNCHOKED);
        self.send_report(info_hash, port, ranges, Some(set))
    }

    fn send_report(
        &self,
        info_hash: InfoHash,
        port: u16,
        ranges: &str,
        unchoked: Option<Vec<Unchoked>>,
    ) -> Result<(), ClientError> {
        let key = self.joined_secret(info_hash, port);
        self.exchange(
            &Request::Report {
                info_hash,
                port,
                pieces: ranges.to_string(),
                key,
                unchoked,
            },
            None,
        )
        .map(drop)
    }

    /// `LEAVE`: leave the swarm at once.
    pub fn leave(&self, info_hash: InfoHash, port: u16) -> Result<(), ClientError> {
        let key = self.joined_secret(info_hash, port);
        self.exchange(
            &Request::Leave {
                info_hash,
                port,
                key,
            },
            None,
        )
        .map(drop)
    }

    /// `PUBLISH`: hands the swarm's metainfo to the tracker.
    pub fn publish(&self, metainfo: &Metainfo) -> Result<(), ClientError> {
        let bytes = metainfo.as_bytes();
        let request = Request::Publish {
            info_hash: metainfo.info_hash,
            length: bytes.len(),
        };
        self.exchange(&request, Some(bytes)).map(drop)
    }

    /// `SWARMS`: the swarms the tracker knows.
    pub fn swarms(&self) -> Result<Vec<SwarmEntry>, ClientError> {
        match self.exchange(&Request::Swarms, None)? {
            Reply::Swarms(list) => Ok(list),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `STATUS`: every swarm with every peer and when it was last heard of.
    pub fn status(&self) -> Result<Vec<SwarmStatus>, ClientError> {
        match self.exchange(&Request::Status, None)? {
            Reply::Status(list) => Ok(list),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `METAINFO`: fetches a swarm's .torrent and checks it hashes to `info_hash`.
    pub fn metainfo(&self, info_hash: InfoHash) -> Result<Metainfo, ClientError> {
        let bytes = match self.exchange(&Request::Metainfo { info_hash }, None)? {
            Reply::Metainfo(bytes) => bytes,
            other => return Err(ClientError::Unexpected(format!("{other:?}"))),
        };
        let metainfo = Metainfo::from_bytes(&bytes)
            .map_err(|e| ClientError::Unexpected(format!("metainfo does not parse: {e}")))?;
        if metainfo.info_hash != info_hash {
            return Err(ClientError::Unexpected(format!(
                "metainfo hashes to {}, not {info_hash}",
                metainfo.info_hash
            )));
        }
        Ok(metainfo)
    }
}

/// Which swarm a bare peer (no `--torrent`, `--seed` nor `--info-hash`) joins, from a `SWARMS`
/// reply: swarms without metainfo (0 pieces) are skipped; of the others, the one with the
/// most peers, when it has strictly more than every other (in a class, the swarm everyone
/// joins). `Ok(None)`: no swarm yet. `Err`: a tie for the most peers, with the list and how
/// to choose. The peer counts are whatever the tracker says: anyone can inflate them with
/// fake `JOIN`s, so on a shared network name the swarm (`--info-hash` or `--torrent`).
pub fn choose_swarm(swarms: &[SwarmEntry]) -> Result<Option<&SwarmEntry>, String> {
    let mut usable: Vec<&SwarmEntry> = swarms.iter().filter(|s| s.pieces > 0).collect();
    usable.sort_by(|a, b| b.peers.cmp(&a.peers).then(a.info_hash.cmp(&b.info_hash)));
    match usable.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [first, second, ..] if first.peers > second.peers => Ok(Some(first)),
        several => {
            let list: Vec<String> = several
                .iter()
                .map(|s| {
                    format!(
                        "  {} {} ({} peers)",
                        s.info_hash,
                        proto::printable(&s.name),
                        s.peers
                    )
                })
                .collect();
            Err(format!(
                "the tracker knows {} swarms and none has the most peers; choose one with --info-hash:\n{}",
                several.len(),
                list.join("\n")
            ))
        }
    }
}

fn log_reply(tracker: SocketAddr, reply: &Reply) {
    info!("{tracker}: received {}", reply.summary());
    if let Reply::Peers(peers) = reply {
        for p in peers {
            debug!("{tracker}: PEER {} {} {}", p.ip, p.port, p.pieces);
        }
    }
}

#[cfg(test)]
mod tests;
