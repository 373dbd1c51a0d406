//! The peer's main thread: start-up (steps 1 to 4 of `peer.rs`) and the task loop (steps 5
//! to 7) that blocks on the scheduler's ticks and on the connections' events.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, select};
use log::info;

use super::announcer::Announcer;
use super::engine::{Engine, Settings};
use super::http_tracker::HttpTracker;
use super::storage::Storage;
use super::tracker_client::{ClientError, TrackerClient, choose_swarm};
use super::{PeerConfig, PeerError, Shared, Source, TrackerAddr, new_peer_id};
use crate::defaults::CONTINUOUS_RETRY;
use crate::infohash::InfoHash;
use crate::metainfo::{Metainfo, announce_url};
use crate::pieces::PieceSet;
use crate::ratelimit::Limiter;
use crate::scheduler;
use crate::tracker::proto::ErrorCode;

#[derive(Debug, Clone, Copy)]
enum Task {
    Ping,
    Report,
    Round,
}

/// Runs a peer until it is killed (or, with `--exit-when-complete`, until it is complete).
pub fn run(config: PeerConfig) -> Result<(), PeerError> {
    // 3 first, so that `--port 0` has a real port before anything is named after it.
    let bind_ip = config
        .bind
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let listen_addr = SocketAddr::new(bind_ip, config.port);
    let listener = crate::net::listen(listen_addr).map_err(|source| PeerError::Bind {
        addr: listen_addr,
        source,
    })?;
    let port = listener.local_addr()?.port();
    if let Some(path) = &config.trace {
        crate::trace::init(path, &format!("peer-{port}"))?;
    }
    let tracker_error = |source| PeerError::Tracker {
        addr: config.tracker.addr(),
        source,
    };

    // 1. the swarm
    let metainfo = Arc::new(learn_swarm(&config).map_err(|e| match e {
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
        keepalive: config.keepalive,
        stall_timeout: config.stall_timeout,
        handshake_timeout: config.handshake_timeout,
        have: Mutex::new(have),
        upload_limit: Limiter::new(config.upload_rate),
        download_limit: Limiter::new(config.download_rate),
        uploaded: Default::default(),
        downloaded: Default::default(),
        next_conn_id: Default::default(),
    });

    // 4. publish and join
    let mut announcer = match &config.tracker {
        TrackerAddr::Text(addr) => Announcer::Text(TrackerClient {
            tracker: *addr,
            local_ip: config.bind,
        }),
        TrackerAddr::Http { url, addr } => Announcer::http(HttpTracker {
            url: url.clone(),
            addr: *addr,
            local_ip: config.bind,
        }),
    };
    let listed = announcer.join(&shared, port).map_err(tracker_error)?;
    info!(
        "joined swarm {}: the tracker lists {} other peers",
        metainfo.info_hash.short(),
        listed.len()
    );
    let settings = Settings {
        port,
        parallel: config.parallel.max(1),
        per_peer: if config.per_peer == 0 {
            usize::MAX
        } else {
            config.per_peer
        },
        min_peers: config.min_peers,
        max_peers: config.max_peers,
        connect_to_all: config.connect_to_all,
    };
    let mut engine = Engine::new(Arc::clone(&shared), announcer, settings, listed);

    // 3. serve the peers that connect to us
    info!("listening on {} for uploads", listener.local_addr()?);
    if config.upload_rate > 0 || config.download_rate > 0 {
        let show = |rate: u64| match rate {
            0 => "unlimited".to_string(),
            bytes => format!("{bytes} bytes/s"),
        };
        info!(
            "rate limits: upload {}, download {} (all connections together)",
            show(config.upload_rate),
            show(config.download_rate)
        );
    }
    super::listener::start(
        listener,
        Arc::clone(&shared),
        engine.event_sender(),
        config.max_connections,
        config.handshake_timeout,
    )?;

    // 5. the task loop
    let continuous = config.round_interval.is_zero();
    let round_timer = if continuous {
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
    engine.round(false);
    task_loop(&mut engine, &tasks, continuous, config.exit_when_complete);
    Ok(())
}

/// Step 5: block on the scheduler's tasks and on the connections' events.
fn task_loop(
    engine: &mut Engine,
    tasks: &Receiver<Task>,
    continuous: bool,
    exit_when_complete: bool,
) {
    let events = engine.events.clone();
    loop {
        select! {
            recv(tasks) -> task => match task {
                Ok(Task::Ping) => engine.ping(),
                Ok(Task::Report) => engine.report(),
                Ok(Task::Round) => engine.round(true),
                Err(_) => return,
            },
            recv(events) -> event => {
                let Ok(event) = event else { return };
                if engine.handle(event) && continuous {
                    engine.round(false);
                }
            }
        }
        if exit_when_complete && engine.is_complete() && engine.is_idle() {
            engine.leave();
            info!("complete; exiting as asked (--exit-when-complete)");
            return;
        }
    }
}

enum Learn {
    Tracker(ClientError),
    Peer(PeerError),
}

/// Step 1: the metainfo, from a file, from the file to seed, or from the tracker.
fn learn_swarm(config: &PeerConfig) -> Result<Metainfo, Learn> {
    let wait = config
        .ping_interval
        .clamp(Duration::from_millis(50), Duration::from_secs(5));
    match &config.source {
        Source::Torrent(path) => {
            Metainfo::from_file(path).map_err(|e| Learn::Peer(PeerError::Metainfo(e)))
        }
        Source::Seed { file, piece_length } => {
            info!("hashing {} to seed it", file.display());
            let announce = match &config.tracker {
                TrackerAddr::Text(addr) => announce_url(&addr.to_string()),
                TrackerAddr::Http { url, .. } => format!("http://{}{}", url.host_port, url.path),
            };
            Metainfo::build(file, *piece_length, Some(announce))
                .map_err(|e| Learn::Peer(PeerError::Metainfo(e)))
        }
        Source::Tracker(chosen) => {
            let TrackerAddr::Text(tracker) = config.tracker else {
                return Err(Learn::Peer(PeerError::NeedTorrent));
            };
            let client = TrackerClient {
                tracker,
                local_ip: config.bind,
            };
            let info_hash = match chosen {
                Some(hash) => *hash,
                None => loop {
                    if let Some(hash) = only_swarm(&client)? {
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

/// The swarm a bare peer joins ([`choose_swarm`]: the one with the most peers); an error
/// listing them on a tie.
fn only_swarm(client: &TrackerClient) -> Result<Option<InfoHash>, Learn> {
    let swarms = client.swarms().map_err(Learn::Tracker)?;
    let chosen = choose_swarm(&swarms).map_err(|list| Learn::Peer(PeerError::WhichSwarm(list)))?;
    if let Some(swarm) = chosen.filter(|_| swarms.iter().filter(|s| s.pieces > 0).count() > 1) {
        info!(
            "the tracker knows several swarms; joining {} ({}, {} peers), the one with the most peers (choose another with --info-hash)",
            swarm.info_hash,
            crate::tracker::proto::printable(&swarm.name),
            swarm.peers
        );
    }
    Ok(chosen.map(|s| s.info_hash))
}
