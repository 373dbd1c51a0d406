//! The peer's main thread from start to finish: steps 1 to 5 of `peer.rs`, one function
//! each, called in that order by [`run`]; then the task loop (steps 6 to 8, `task_loop.rs`).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use crossbeam_channel::Sender;
use log::{info, warn};

use super::announcer::{Announcer, Candidate};
use super::choker::Policy;
use super::connection::Event;
use super::engine::{Engine, Settings};
use super::http_tracker::HttpTracker;
use super::learn::learn_swarm;
use super::storage::Storage;
use super::task_loop;
use super::tracker_client::{ClientError, TrackerClient};
use super::{PeerConfig, PeerError, PeerState, Source, TrackerAddr, new_peer_id};
use crate::defaults::TRACKER_RETRY;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;

use crate::metainfo::Metainfo;
use crate::net::Timeouts;
use crate::pieces::PieceSet;
use crate::ratelimit::Limiter;
use crate::trace::Dir;
use crate::tracker::proto::Secret;

/// Runs a peer until it is killed (or, with `--exit-when-complete`, until it is complete).
pub fn run(config: PeerConfig) -> Result<(), PeerError> {
    let (listener, port) = listen(&config)?; // 1
    // Before the first exchange with the tracker (students start processes in any order),
    // after the local checks (a missing .torrent fails at once).
    let asks_tracker = matches!(config.source, Source::Tracker(_) | Source::Magnet(_));
    if asks_tracker {
        wait_for_tracker(&config)?;
    }
    let metainfo = learn_swarm(&config, port)?; // 2
    let state = Arc::new(open_data(&config, metainfo, port)?); // 3
    if !asks_tracker {
        wait_for_tracker(&config)?;
    }
    let (announcer, listed) = join(&config, &state, port)?; // 4
    let engine = Engine::new(Arc::clone(&state), settings(&config), listed);
    serve_incoming(listener, &config, &state, engine.event_sender())?; // 5
    task_loop::run(engine, announcer, state, port, &config)?; // 6 to 8
    Ok(())
}

/// Step 1: `bind` + `listen` on `--port`, first, so that `--port 0` has its real port before
/// anything (the trace, the data directory, the threads) is named after it.
fn listen(config: &PeerConfig) -> Result<(TcpListener, u16), PeerError> {
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
        trace_config(config, port);
    }
    log_choking(config);
    Ok((listener, port))
}

/// Before the first exchange with the tracker: while it refuses the connection (not started
/// yet), try again every [`TRACKER_RETRY`] for `--tracker-wait`, saying so with a countdown;
/// then give up with the refusal (and its hint, `is the tracker running at HOST:PORT?`).
/// `--tracker-wait 0` tries nothing here: the first exchange fails as it always did. A try is a
/// `connect` closed at once, which the tracker logs at debug level only.
fn wait_for_tracker(config: &PeerConfig) -> Result<(), PeerError> {
    if config.tracker_wait.is_zero() {
        return Ok(());
    }
    let addr = config.tracker.addr();
    let deadline = Instant::now() + config.tracker_wait;
    loop {
        let refused = match crate::net::connect(addr, config.bind, Timeouts::EXCHANGE) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => e,
            // Not a tracker that has yet to start: the first exchange reports it.
            Err(_) => return Ok(()),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(tracker_error(config, ClientError::Io(refused)));
        }
        let pause = TRACKER_RETRY.min(left);
        warn!(
            "tracker {addr} refused the connection; retrying in {}s ({}s left)",
            pause.as_secs_f64().ceil(),
            (left - pause).as_secs_f64().ceil()
        );
        thread::sleep(pause);
    }
}

/// The trace's first record: what this peer was configured with (its rates and choker), for
/// views that compare peers, such as `diagram`'s unchoke matrix.
fn trace_config(config: &PeerConfig, port: u16) {
    let ip = config.bind.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
    let me = SocketAddr::new(ip, port);
    let choking = match (config.choking.free_ride, config.choking.policy) {
        (true, _) => "free-ride",
        (false, Policy::TitForTat) => "tit-for-tat",
        (false, Policy::UnchokeAll) => "unchoke-all",
    };
    let fields = [
        ("upload_rate", config.upload_rate.into()),
        ("download_rate", config.download_rate.into()),
        ("choking", choking.into()),
        ("unchoke_slots", config.choking.slots.into()),
    ];
    crate::trace::record(Dir::Send, "process", Some(me), me, "config", &fields);
}

/// One line saying how this peer chooses whom it uploads to.
fn log_choking(config: &PeerConfig) {
    let choking = &config.choking;
    if choking.free_ride {
        info!("free riding (--free-ride): downloading, and never unchoking anyone");
    } else if choking.policy == Policy::UnchokeAll {
        info!("choking: unchoke-all (every interested peer is served)");
    } else {
        info!(
            "choking: tit-for-tat, {} preferred neighbours every {:?}, an optimistic unchoke every {:?}",
            choking.slots, config.rechoke_interval, choking.optimistic_interval
        );
    }
}

pub(super) fn tracker_error(config: &PeerConfig, source: ClientError) -> PeerError {
    PeerError::Tracker {
        addr: config.tracker.addr(),
        source,
    }
}

/// Step 3: the data file (or folder of files), and the pieces on disk that verify; with them, everything the
/// peer's threads share.
fn open_data(
    config: &PeerConfig,
    metainfo: Arc<Metainfo>,
    port: u16,
) -> Result<PeerState, PeerError> {
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
    Ok(PeerState {
        name: format!("peer-{port}"),
        port,
        info_bytes: metainfo.info_bytes().to_vec(),
        metainfo,
        storage,
        peer_id: new_peer_id(),
        local_ip: config.bind,
        pipeline: config.pipeline,
        keepalive: config.keepalive,
        stall_timeout: config.stall_timeout,
        handshake_timeout: config.handshake_timeout,
        encryption: config.encryption,
        have: Mutex::new(have),
        upload_limit: Limiter::new(config.upload_rate),
        download_limit: Limiter::new(config.download_rate),
        uploaded: Default::default(),
        downloaded: Default::default(),
        next_conn_id: Default::default(),
    })
}

/// Step 4: `PUBLISH` the metainfo and `JOIN` the swarm (or announce `started`). Returns the
/// tracker, for the task loop, and its first list.
fn join(
    config: &PeerConfig,
    state: &PeerState,
    port: u16,
) -> Result<(Announcer, Vec<Candidate>), PeerError> {
    let mut announcer = match &config.tracker {
        TrackerAddr::Text(addr) => {
            let client = TrackerClient {
                tracker: *addr,
                local_ip: config.bind,
            };
            let secret = kept_secret(state);
            client.remember_secret(state.metainfo.info_hash, port, secret);
            Announcer::Text(client)
        }
        TrackerAddr::Http { url, addr } => Announcer::http(HttpTracker {
            url: url.clone(),
            addr: *addr,
            local_ip: config.bind,
        }),
    };
    let listed = announcer
        .join(state, port)
        .map_err(|source| tracker_error(config, source))?;
    info!(
        "joined swarm {}: the tracker lists {} other peers",
        state.metainfo.info_hash.short(),
        listed.len()
    );
    Ok((announcer, listed))
}

/// The tracker key of this peer's data directory (`.bittorrent-sim-key` beside the file):
/// read when there, else drawn and written. A peer killed and started again on the same port
/// and directory is then still the peer the tracker knows, instead of `ERR wrong-key` until
/// the tracker's clean-up forgets it. A key that cannot be kept is only this process's.
fn kept_secret(state: &PeerState) -> Secret {
    let Some(dir) = state.storage.path().parent() else {
        return Secret::random();
    };
    let path = dir.join(".bittorrent-sim-key");
    if let Some(secret) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| Secret::parse(text.trim()))
    {
        return secret;
    }
    let secret = Secret::random();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{}", secret.as_str()));
    if let Err(e) = written {
        log::warn!("cannot keep the tracker key in {}: {e}", path.display());
    }
    secret
}

fn settings(config: &PeerConfig) -> Settings {
    Settings {
        parallel: config.parallel.max(1),
        per_peer: if config.per_peer == 0 {
            usize::MAX
        } else {
            config.per_peer
        },
        min_peers: config.min_peers,
        max_peers: config.max_peers,
        connect_to_all: config.connect_to_all,
        fill_pipelines: config.round_interval.is_zero(),
        picker: config.picker,
        choker: config.choking,
        rechoke_interval: config.rechoke_interval,
    }
}

/// Step 5: the accept thread, which serves the peers that connect to us (`listener.rs`).
fn serve_incoming(
    listener: TcpListener,
    config: &PeerConfig,
    state: &Arc<PeerState>,
    events: Sender<Event>,
) -> Result<(), PeerError> {
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
        Arc::clone(state),
        events,
        config.max_connections,
        config.handshake_timeout,
    )?;
    Ok(())
}
