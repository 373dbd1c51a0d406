//! The peer's tracker, whichever protocol it speaks: our line protocol (which also tells which
//! pieces each peer holds) or an HTTP announce URL (addresses only).
//!
//! Each method is one exchange with the tracker, whose blocking calls are, in order:
//! `connect`, `write` the request, `read` the reply, close (`tracker_client.rs`,
//! `http_tracker.rs`). After a failed ping, report or list that says the tracker forgot us,
//! a second exchange joins again. Failures are logged here and never end the peer.
//!
//! Called only from the peer's main thread: at the join (`run.rs`) and from the task loop
//! (`task_loop.rs`), never from the engine.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use log::{info, warn};

use super::PeerState;
use super::http_tracker::{AnnounceParams, HttpTracker};
use super::tracker_client::{ClientError, TrackerClient};
use crate::defaults::HTTP_RETRY;
use crate::pieces::PieceSet;
use crate::tracker::proto::Unchoked;

/// A peer named by the tracker.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub addr: SocketAddr,
    /// Its pieces, when the tracker knows them (our line protocol); `None` from HTTP trackers.
    pub pieces: Option<PieceSet>,
}

pub enum Announcer {
    Text(TrackerClient),
    Http {
        tracker: HttpTracker,
        interval: Duration,
        last: Option<Instant>,
        peers: Vec<SocketAddr>,
    },
}

impl Announcer {
    pub fn http(tracker: HttpTracker) -> Announcer {
        Announcer::Http {
            tracker,
            interval: crate::defaults::HTTP_ANNOUNCE_INTERVAL,
            last: None,
            peers: Vec::new(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Announcer::Text(client) => format!("{}", client.tracker),
            Announcer::Http { tracker, .. } => {
                format!("http://{}{}", tracker.url.host_port, tracker.url.path)
            }
        }
    }

    /// Enters the swarm: `PUBLISH` + `JOIN`, or an announce with `event=started`.
    pub fn join(&mut self, shared: &PeerState, port: u16) -> Result<Vec<Candidate>, ClientError> {
        match self {
            Announcer::Text(client) => {
                if let Err(e) = client.publish(&shared.metainfo) {
                    warn!("{}: publish failed: {e}", client.tracker);
                }
                let entries = client.join(
                    shared.metainfo.info_hash,
                    port,
                    &shared.have_snapshot().to_ranges(),
                )?;
                Ok(text_candidates(shared, entries))
            }
            Announcer::Http { .. } => self.announce(shared, port, Some("started")),
        }
    }

    /// The ping timer: `PING`, or a re-announce once the tracker's interval has passed.
    pub fn ping(&mut self, shared: &PeerState, port: u16) {
        match self {
            Announcer::Text(client) => {
                if let Err(e) = client.ping(shared.metainfo.info_hash, port) {
                    self.recover("ping", e, shared, port);
                }
            }
            Announcer::Http { interval, last, .. } => {
                if last.is_none_or(|t| t.elapsed() >= *interval) {
                    let _ = self.announce(shared, port, None);
                }
            }
        }
    }

    /// The report timer: `REPORT`, with the remotes we unchoke when given (an HTTP tracker is
    /// told neither).
    pub fn report(&mut self, shared: &PeerState, port: u16, unchoked: Option<&[Unchoked]>) {
        if let Announcer::Text(client) = self {
            let ranges = shared.have_snapshot().to_ranges();
            let info_hash = shared.metainfo.info_hash;
            let sent = match unchoked {
                Some(set) => client.report_unchoked(info_hash, port, &ranges, set),
                None => client.report(info_hash, port, &ranges),
            };
            if let Err(e) = sent {
                self.recover("report", e, shared, port);
            }
        }
    }

    /// The list for a download round: `LIST`, or the last announce's peers.
    pub fn list(&mut self, shared: &PeerState, port: u16) -> Option<Vec<Candidate>> {
        match self {
            Announcer::Text(client) => match client.list(shared.metainfo.info_hash, port) {
                Ok(entries) => Some(text_candidates(shared, entries)),
                Err(e) => self.recover("list", e, shared, port),
            },
            Announcer::Http { last, peers, .. } => {
                if peers.is_empty() && last.is_none_or(|t| t.elapsed() >= HTTP_RETRY) {
                    return self.announce(shared, port, None).ok();
                }
                Some(
                    peers
                        .iter()
                        .map(|&addr| Candidate { addr, pieces: None })
                        .collect(),
                )
            }
        }
    }

    /// The download just completed: report at once / announce `completed`.
    pub fn completed(&mut self, shared: &PeerState, port: u16) {
        match self {
            Announcer::Text(_) => self.report(shared, port, None),
            Announcer::Http { .. } => {
                let _ = self.announce(shared, port, Some("completed"));
            }
        }
    }

    /// Leaves the swarm now: `LEAVE` / announce `stopped`.
    pub fn leave(&mut self, shared: &PeerState, port: u16) {
        let result = match self {
            Announcer::Text(client) => client.leave(shared.metainfo.info_hash, port),
            Announcer::Http { .. } => self.announce(shared, port, Some("stopped")).map(drop),
        };
        if let Err(e) = result {
            warn!("{}: leave failed: {e}", self.describe());
        }
    }

    fn announce(
        &mut self,
        shared: &PeerState,
        port: u16,
        event: Option<&'static str>,
    ) -> Result<Vec<Candidate>, ClientError> {
        let Announcer::Http {
            tracker,
            interval,
            last,
            peers,
        } = self
        else {
            return Ok(Vec::new());
        };
        let have = shared.have_snapshot();
        let left: u64 = have
            .missing()
            .map(|i| u64::from(shared.metainfo.piece_len(i)))
            .sum();
        let params = AnnounceParams {
            info_hash: shared.metainfo.info_hash,
            peer_id: shared.peer_id,
            port,
            uploaded: shared.uploaded.load(Ordering::Relaxed),
            downloaded: shared.downloaded.load(Ordering::Relaxed),
            left,
            event,
        };
        *last = Some(Instant::now());
        match tracker.announce(&params) {
            Ok(reply) => {
                *interval = Duration::from_secs(reply.interval.clamp(1, 3600));
                *peers = reply
                    .peers
                    .into_iter()
                    .filter(|p| !is_self(p, shared, port))
                    .collect();
                Ok(peers
                    .iter()
                    .map(|&addr| Candidate { addr, pieces: None })
                    .collect())
            }
            Err(e) => {
                warn!("{}: announce failed: {e}", tracker.addr);
                Err(e)
            }
        }
    }

    /// After a failed ping, report or list: join again if the tracker forgot us.
    fn recover(
        &mut self,
        what: &str,
        error: ClientError,
        shared: &PeerState,
        port: u16,
    ) -> Option<Vec<Candidate>> {
        if !error.is_forgotten() {
            warn!("{}: {what} failed: {error}", self.describe());
            return None;
        }
        info!(
            "{}: the tracker forgot us ({error}); joining again",
            self.describe()
        );
        match self.join(shared, port) {
            Ok(list) => Some(list),
            Err(e) => {
                warn!("{}: join failed: {e}", self.describe());
                None
            }
        }
    }
}

/// Our own address in an HTTP tracker's list (it may list us back to ourselves). A miss is
/// harmless: the handshake then shows our own peer id and the connection is dropped.
fn is_self(addr: &SocketAddr, shared: &PeerState, port: u16) -> bool {
    addr.port() == port
        && match shared.local_ip {
            Some(ip) if !ip.is_unspecified() => ip == addr.ip(),
            _ => addr.ip().is_loopback(),
        }
}

fn text_candidates(
    shared: &PeerState,
    entries: Vec<crate::tracker::proto::PeerEntry>,
) -> Vec<Candidate> {
    let count = shared.metainfo.num_pieces();
    entries
        .into_iter()
        .map(|e| Candidate {
            addr: SocketAddr::new(e.ip, e.port),
            pieces: PieceSet::from_ranges(&e.pieces, count).ok(),
        })
        .collect()
}
