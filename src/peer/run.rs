//! The peer's main thread: start-up (steps 1 to 4 of `peer.rs`) and the task loop (steps 5
//! to 7) that reacts to the scheduler's ticks and to finished downloads.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select, unbounded};
use log::{info, warn};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::download::{self, FetchError};
use super::picker::{self, Avoid, Holder};
use super::storage::Storage;
use super::tracker_client::{ClientError, TrackerClient};
use super::{PeerConfig, PeerError, Shared, Source, new_peer_id};
use crate::infohash::InfoHash;
use crate::metainfo::{Metainfo, announce_url};
use crate::net::spawn_named;
use crate::pieces::PieceSet;
use crate::scheduler;
use crate::tracker::proto::{ErrorCode, PeerEntry};

/// In continuous mode (`--round-interval 0`) a new round starts whenever a fetch ends; this
/// timer only retries when nothing could be fetched.
const CONTINUOUS_RETRY: Duration = Duration::from_millis(200);
/// A holder whose data fails its hash this many times is never used again.
const STRIKES_TO_BAN: u32 = 2;

#[derive(Debug, Clone, Copy)]
enum Task {
    Ping,
    Report,
    Round,
}

/// A fetch that ended, sent back by its download thread.
struct Outcome {
    index: u32,
    from: SocketAddr,
    result: Result<u64, FetchError>,
}

/// Runs a peer until it is killed (or, with `--exit-when-complete`, until it is complete).
pub fn run(config: PeerConfig) -> Result<(), PeerError> {
    // 3 first, so that `--port 0` has a real port before anything is named after it.
    let bind_ip = config
        .bind
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let listen_addr = SocketAddr::new(bind_ip, config.port);
    let listener = TcpListener::bind(listen_addr).map_err(|source| PeerError::Bind {
        addr: listen_addr,
        source,
    })?;
    let port = listener.local_addr()?.port();
    let client = TrackerClient {
        tracker: config.tracker,
        local_ip: config.bind,
    };
    let tracker_error = |source| PeerError::Tracker {
        addr: config.tracker,
        source,
    };

    // 1. the swarm
    let metainfo = Arc::new(learn_swarm(&config, &client).map_err(|e| match e {
        Learn::Tracker(source) => tracker_error(source),
        Learn::Peer(e) => e,
    })?);
    info!(
        "swarm {} : {} ({} bytes, {} pieces of {} bytes)",
        metainfo.info_hash,
        metainfo.name,
        metainfo.length,
        metainfo.num_pieces(),
        metainfo.piece_length
    );

    // 2. the data on disk
    let (storage, have) = match &config.source {
        Source::Seed { file, .. } => {
            let storage =
                Storage::open_seed(file, Arc::clone(&metainfo)).map_err(PeerError::Storage)?;
            (storage, PieceSet::full(metainfo.num_pieces()))
        }
        _ => {
            let dir = config
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("peer-{port}")));
            let storage =
                Storage::create_in(&dir, Arc::clone(&metainfo)).map_err(PeerError::Storage)?;
            let have = storage.verify_all().map_err(PeerError::Storage)?;
            info!(
                "checked {}: {} of {} pieces verify",
                storage.path().display(),
                have.count(),
                have.len()
            );
            (storage, have)
        }
    };
    let shared = Arc::new(Shared {
        name: format!("peer-{port}"),
        metainfo: Arc::clone(&metainfo),
        storage,
        peer_id: new_peer_id(),
        local_ip: config.bind,
        pipeline: config.pipeline,
        have: Mutex::new(have),
        uploaded: Default::default(),
        downloaded: Default::default(),
    });

    // 3. serve uploads
    info!("listening on {} for uploads", listener.local_addr()?);
    super::upload::start(listener, Arc::clone(&shared), config.max_connections)?;

    // 4. publish and join
    let mut peer = Downloader::new(shared, client, port, &config);
    let listed = peer.join().map_err(tracker_error)?;
    info!(
        "joined swarm {}: the tracker lists {} other peers",
        metainfo.info_hash.short(),
        listed.len()
    );

    // 5. the task loop
    let round_timer = if config.round_interval.is_zero() {
        CONTINUOUS_RETRY
    } else {
        config.round_interval
    };
    let tasks = scheduler::start(
        "scheduler",
        vec![
            (config.ping_interval, Task::Ping),
            (config.report_interval, Task::Report),
            (round_timer, Task::Round),
        ],
    )?;
    peer.round(Some(listed));
    peer.task_loop(
        &tasks,
        config.round_interval.is_zero(),
        config.exit_when_complete,
    );
    Ok(())
}

enum Learn {
    Tracker(ClientError),
    Peer(PeerError),
}

/// Step 1: the metainfo, from a file, from the file to seed, or from the tracker.
fn learn_swarm(config: &PeerConfig, client: &TrackerClient) -> Result<Metainfo, Learn> {
    let wait = config
        .ping_interval
        .clamp(Duration::from_millis(50), Duration::from_secs(5));
    match &config.source {
        Source::Torrent(path) => {
            Metainfo::from_file(path).map_err(|e| Learn::Peer(PeerError::Metainfo(e)))
        }
        Source::Seed { file, piece_length } => {
            info!("hashing {} to seed it", file.display());
            let announce = announce_url(&config.tracker.to_string());
            Metainfo::build(file, *piece_length, Some(announce))
                .map_err(|e| Learn::Peer(PeerError::Metainfo(e)))
        }
        Source::Tracker(chosen) => {
            let info_hash = match chosen {
                Some(hash) => *hash,
                None => loop {
                    if let Some(hash) = only_swarm(client)? {
                        break hash;
                    }
                    info!("the tracker knows no swarm yet; asking again in {wait:?}");
                    std::thread::sleep(wait);
                },
            };
            loop {
                match client.metainfo(info_hash) {
                    Ok(metainfo) => return Ok(metainfo),
                    Err(ClientError::Refused {
                        code: ErrorCode::NoMetainfo,
                        ..
                    }) => {
                        info!(
                            "the tracker has no metainfo for {info_hash} yet; asking again in {wait:?}"
                        );
                        std::thread::sleep(wait);
                    }
                    Err(e) => return Err(Learn::Tracker(e)),
                }
            }
        }
    }
}

/// The tracker's only swarm with metainfo; an error listing them if there are several.
fn only_swarm(client: &TrackerClient) -> Result<Option<InfoHash>, Learn> {
    let swarms: Vec<_> = client
        .swarms()
        .map_err(Learn::Tracker)?
        .into_iter()
        .filter(|s| s.pieces > 0)
        .collect();
    match swarms.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.info_hash)),
        several => {
            let list: Vec<String> = several
                .iter()
                .map(|s| format!("  {} {} ({} peers)", s.info_hash, s.name, s.peers))
                .collect();
            Err(Learn::Peer(PeerError::WhichSwarm(format!(
                "the tracker knows {} swarms; choose one with --info-hash:\n{}",
                several.len(),
                list.join("\n")
            ))))
        }
    }
}

/// The download side's state, owned by the main thread.
struct Downloader {
    shared: Arc<Shared>,
    client: TrackerClient,
    port: u16,
    parallel: usize,
    min_peers: usize,
    avoid: Avoid,
    strikes: HashMap<SocketAddr, u32>,
    done_tx: Sender<Outcome>,
    done_rx: Receiver<Outcome>,
    rng: StdRng,
    fetches: u64,
}

impl Downloader {
    fn new(
        shared: Arc<Shared>,
        client: TrackerClient,
        port: u16,
        config: &PeerConfig,
    ) -> Downloader {
        let (done_tx, done_rx) = unbounded();
        Downloader {
            shared,
            client,
            port,
            parallel: config.parallel.max(1),
            min_peers: config.min_peers,
            avoid: Avoid::default(),
            strikes: HashMap::new(),
            done_tx,
            done_rx,
            rng: StdRng::from_rng(&mut rand::rng()),
            fetches: 0,
        }
    }

    fn info_hash(&self) -> InfoHash {
        self.shared.metainfo.info_hash
    }

    /// Step 5: block on the scheduler's tasks and on finished fetches.
    fn task_loop(&mut self, tasks: &Receiver<Task>, continuous: bool, exit_when_complete: bool) {
        let done_rx = self.done_rx.clone();
        loop {
            select! {
                recv(tasks) -> task => match task {
                    Ok(Task::Ping) => self.ping(),
                    Ok(Task::Report) => self.report(),
                    Ok(Task::Round) => self.round(None),
                    Err(_) => return,
                },
                recv(done_rx) -> outcome => {
                    if let Ok(outcome) = outcome {
                        self.finish(outcome);
                    }
                    if continuous {
                        self.round(None);
                    }
                }
            }
            if exit_when_complete
                && self.shared.have_snapshot().is_complete()
                && self.avoid.in_flight.is_empty()
            {
                if let Err(e) = self.client.leave(self.info_hash(), self.port) {
                    warn!("{}: leave failed: {e}", self.client.tracker);
                }
                info!("complete; exiting as asked (--exit-when-complete)");
                return;
            }
        }
    }

    /// `PUBLISH` then `JOIN`: at start, and whenever the tracker has forgotten us.
    fn join(&self) -> Result<Vec<PeerEntry>, ClientError> {
        if let Err(e) = self.client.publish(&self.shared.metainfo) {
            warn!("{}: publish failed: {e}", self.client.tracker);
        }
        self.client.join(
            self.info_hash(),
            self.port,
            &self.shared.have_snapshot().to_ranges(),
        )
    }

    /// Called with the error of a ping, report or list: rejoin if the tracker forgot us.
    fn recover(&self, what: &str, error: ClientError) -> Option<Vec<PeerEntry>> {
        if error.is_forgotten() {
            info!(
                "{}: the tracker forgot us ({error}); joining again",
                self.client.tracker
            );
            match self.join() {
                Ok(peers) => return Some(peers),
                Err(e) => warn!("{}: join failed: {e}", self.client.tracker),
            }
        } else {
            warn!("{}: {what} failed: {e}", self.client.tracker, e = error);
        }
        None
    }

    fn ping(&self) {
        if let Err(e) = self.client.ping(self.info_hash(), self.port) {
            self.recover("ping", e);
        }
    }

    fn report(&self) {
        let ranges = self.shared.have_snapshot().to_ranges();
        if let Err(e) = self.client.report(self.info_hash(), self.port, &ranges) {
            self.recover("report", e);
        }
    }

    /// Step 6: one download round.
    fn round(&mut self, listed: Option<Vec<PeerEntry>>) {
        let have = self.shared.have_snapshot();
        let free = self.parallel.saturating_sub(self.avoid.in_flight.len());
        if have.is_complete() || free == 0 {
            return;
        }
        let peers = match listed {
            Some(peers) => peers,
            None => match self.client.list(self.info_hash(), self.port) {
                Ok(peers) => peers,
                Err(e) => match self.recover("list", e) {
                    Some(peers) => peers,
                    None => return,
                },
            },
        };
        if peers.len() < self.min_peers {
            info!(
                "round: the tracker lists {} other peers; waiting for {} (--min-peers)",
                peers.len(),
                self.min_peers
            );
            return;
        }
        let count = have.len();
        let holders: Vec<Holder> = peers
            .iter()
            .filter_map(|p| {
                let pieces = PieceSet::from_ranges(&p.pieces, count).ok()?;
                Some(Holder {
                    addr: SocketAddr::new(p.ip, p.port),
                    pieces,
                })
            })
            .collect();
        let mut wanted = PieceSet::empty(count);
        for index in have.missing() {
            wanted.insert(index);
        }
        let picks = picker::pick(&wanted, &holders, &self.avoid, free, &mut self.rng);
        if picks.is_empty() && self.avoid.in_flight.is_empty() {
            info!("round: no listed peer holds a piece we lack");
        }
        for pick in picks {
            let rarity = holders
                .iter()
                .filter(|h| h.pieces.contains(pick.index))
                .count();
            info!(
                "round: rarest missing piece {} ({rarity} holders), fetching from {}",
                pick.index, pick.from
            );
            self.spawn_fetch(pick.index, pick.from);
        }
    }

    fn spawn_fetch(&mut self, index: u32, from: SocketAddr) {
        self.fetches += 1;
        let name = format!("{}-download-{}", self.shared.name, self.fetches);
        let shared = Arc::clone(&self.shared);
        let done = self.done_tx.clone();
        let spawned = spawn_named(&name, move || {
            let result = download::fetch_piece(&shared, index, from);
            let _ = done.send(Outcome {
                index,
                from,
                result,
            });
        });
        match spawned {
            Ok(_) => {
                self.avoid.in_flight.insert(index);
            }
            Err(e) => warn!("cannot start a download thread: {e}"),
        }
    }

    /// A fetch ended: keep the piece, or remember who failed it.
    fn finish(&mut self, outcome: Outcome) {
        let Outcome {
            index,
            from,
            result,
        } = outcome;
        self.avoid.in_flight.remove(&index);
        match result {
            Ok(bytes) => {
                self.avoid.failed.remove(&index);
                self.shared.downloaded.fetch_add(bytes, Ordering::Relaxed);
                let have = self.shared.add_piece(index);
                info!(
                    "piece {index} verified from {from}: {}/{} pieces ({}%) [{}]",
                    have.count(),
                    have.len(),
                    have.percent(),
                    have.map(64)
                );
                if have.is_complete() {
                    info!(
                        "download complete: {} verified",
                        self.shared.storage.path().display()
                    );
                    self.report();
                }
            }
            Err(error) => {
                warn!("{from}: piece {index} not fetched: {error}");
                self.avoid.failed.entry(index).or_default().insert(from);
                if matches!(error, FetchError::HashMismatch) {
                    let strikes = self.strikes.entry(from).or_default();
                    *strikes += 1;
                    if *strikes >= STRIKES_TO_BAN && self.avoid.banned.insert(from) {
                        warn!("{from}: banned after {strikes} pieces that failed their hash");
                    }
                }
            }
        }
    }
}
