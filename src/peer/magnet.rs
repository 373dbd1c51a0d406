//! Step 2 of a peer started with `--magnet`: the torrent's metainfo, fetched from the swarm's
//! peers (BEP 9) since a magnet link names only the info-hash.
//!
//! In order ([`fetch_metainfo`]):
//!
//! 1. Ask the tracker for the swarm's peers: `LIST` on our line protocol, or an HTTP announce
//!    with the link's info-hash (`left` is unknown yet: 1 says "a leecher").
//! 2. Ask each listed peer in turn for the metadata (`magnet/exchange.rs`), until one gives
//!    bytes whose SHA-1 is the info-hash. A peer whose bytes do not match is dropped with one
//!    warning and never asked again; one that has none (another magnet peer) is asked again
//!    at the next listing.
//! 3. Nobody gave it: ask the tracker again after the ping interval (at most 5 s), until
//!    [`METADATA_DEADLINE`]. A tracker that cannot be reached at the first listing ends the
//!    peer at once (exit status 69), as for every other peer; later failures are retried.
//! 4. The metadata parses into a [`Metainfo`] (with the tracker as its announce URL), saved as
//!    `DIR/NAME.torrent` for a later `--torrent`; the peer then goes on as if given it.
//!
//! What it does not do: serve metadata (every peer holding the metainfo does, in
//! `connection/metadata.rs`), DHT or PEX (only the tracker names peers), or `udp://` trackers.

mod exchange;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{info, warn};

use super::http_tracker::{AnnounceParams, HttpTracker};
use super::tracker_client::{ClientError, TrackerClient};
use super::{PeerConfig, PeerError, TrackerAddr, new_peer_id};
use crate::defaults::METADATA_DEADLINE;
use crate::infohash::{InfoHash, sha1};
use crate::magnet::Magnet;
use crate::metainfo::{Metainfo, announce_url};
use exchange::{Asker, fetch_from};

/// Steps 1 to 4: the metainfo of the swarm `magnet` names. `port` is our listening port.
pub fn fetch_metainfo(
    config: &PeerConfig,
    magnet: &Magnet,
    port: u16,
) -> Result<Metainfo, PeerError> {
    let info_hash = magnet.info_hash;
    let asker = Asker {
        info_hash,
        peer_id: new_peer_id(),
        port,
        local_ip: config.bind,
    };
    let wait = config
        .ping_interval
        .clamp(Duration::from_millis(50), Duration::from_secs(5));
    let started = Instant::now();
    let mut dropped: HashSet<SocketAddr> = HashSet::new();
    info!(
        "magnet link: fetching the metadata of {info_hash} from the peers {} lists",
        config.tracker.addr()
    );
    let mut first = true;
    loop {
        let peers = match list_peers(config, &asker) {
            Ok(peers) => peers,
            // An unreachable tracker at start fails at once, as for any other peer.
            Err(ClientError::Io(e)) if first => {
                return Err(PeerError::Tracker {
                    addr: config.tracker.addr(),
                    source: ClientError::Io(e),
                });
            }
            Err(e) => {
                info!("tracker {}: {e}", config.tracker.addr());
                Vec::new()
            }
        };
        first = false;
        for addr in peers {
            if dropped.contains(&addr) || is_us(addr, port, config.bind) {
                continue;
            }
            let info = match fetch_from(addr, &asker) {
                Ok(info) => info,
                Err(e) if e.is_no_metadata() => {
                    info!("{addr}: no metadata from this peer: {e}");
                    continue;
                }
                Err(e) => {
                    warn!("{addr}: metadata fetch failed: {e}");
                    continue;
                }
            };
            if InfoHash(sha1(&info)) != info_hash {
                warn!(
                    "{addr}: metadata does not match info-hash {}; peer dropped",
                    info_hash.short()
                );
                dropped.insert(addr);
                continue;
            }
            let metainfo = match Metainfo::from_info_bytes(&info, Some(&announce(config))) {
                Ok(metainfo) => metainfo,
                Err(e) => {
                    // The info-hash names these very bytes: no peer has better ones.
                    return Err(PeerError::Metainfo(e));
                }
            };
            info!(
                "{addr}: metadata verified ({} bytes, sha-1 is the info-hash) after {:.1?}",
                info.len(),
                started.elapsed()
            );
            save(config, port, &metainfo);
            return Ok(metainfo);
        }
        if started.elapsed() >= METADATA_DEADLINE {
            return Err(PeerError::NoMetadata {
                info_hash,
                waited: METADATA_DEADLINE,
            });
        }
        info!(
            "no peer gave the metadata yet; asking tracker {} again in {wait:?}",
            config.tracker.addr()
        );
        std::thread::sleep(wait);
    }
}

/// Step 1: the addresses the tracker lists for the swarm.
fn list_peers(config: &PeerConfig, asker: &Asker) -> Result<Vec<SocketAddr>, ClientError> {
    match &config.tracker {
        TrackerAddr::Text(addr) => {
            let client = TrackerClient {
                tracker: *addr,
                local_ip: config.bind,
            };
            let entries = client.list(asker.info_hash, asker.port)?;
            Ok(entries
                .into_iter()
                .map(|entry| SocketAddr::new(entry.ip, entry.port))
                .collect())
        }
        TrackerAddr::Http { url, addr } => {
            let tracker = HttpTracker {
                url: url.clone(),
                addr: *addr,
                local_ip: config.bind,
            };
            let reply = tracker.announce(&AnnounceParams {
                info_hash: asker.info_hash,
                peer_id: asker.peer_id,
                port: asker.port,
                uploaded: 0,
                downloaded: 0,
                left: 1,
                event: None,
            })?;
            Ok(reply.peers)
        }
    }
}

/// Whether the tracker listed this very peer.
fn is_us(addr: SocketAddr, port: u16, bind: Option<IpAddr>) -> bool {
    addr.port() == port
        && match bind.filter(|ip| !ip.is_unspecified()) {
            Some(ip) => addr.ip() == ip,
            None => addr.ip().is_loopback() || addr.ip().is_unspecified(),
        }
}

/// The announce URL the saved torrent names: the tracker this peer uses.
fn announce(config: &PeerConfig) -> String {
    match &config.tracker {
        TrackerAddr::Text(addr) => announce_url(&addr.to_string()),
        TrackerAddr::Http { url, .. } => format!("http://{}{}", url.host_port, url.path),
    }
}

/// Step 4's copy, `DIR/NAME.torrent`; a failure to write it is a warning only.
fn save(config: &PeerConfig, port: u16, metainfo: &Metainfo) {
    let dir = config
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("peer-{port}")));
    let path = dir.join(format!("{}.torrent", metainfo.name));
    let written = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| metainfo.write_to_file(&path).map_err(|e| e.to_string()));
    match written {
        Ok(()) => info!("saved the metainfo as {}", path.display()),
        Err(e) => warn!("cannot save the metainfo as {}: {e}", path.display()),
    }
}
