//! Step 2 of `peer.rs`: learn the swarm. The metainfo comes from `--torrent`, from hashing
//! `--seed FILE|DIR`, from the tracker (`SWARMS`, then `METAINFO`: each a short
//! `connect`/`write`/`read`/close exchange, retried while the tracker has not got it yet), or,
//! for `--magnet`, from the swarm's peers (BEP 9, `magnet.rs`).

use std::sync::Arc;
use std::time::Duration;

use log::info;

use super::run::tracker_error;
use super::tracker_client::{ClientError, TrackerClient, choose_swarm};
use super::{PeerConfig, PeerError, Source, TrackerAddr};
use crate::infohash::InfoHash;
use crate::metainfo::{Metainfo, announce_url};
use crate::tracker::proto::ErrorCode;

/// Step 2: the swarm's metainfo.
pub(super) fn learn_swarm(config: &PeerConfig, port: u16) -> Result<Arc<Metainfo>, PeerError> {
    let metainfo = metainfo_from(config, port).map_err(|e| match e {
        Learn::Tracker(source) => tracker_error(config, source),
        Learn::Peer(e) => e,
    })?;
    let files = (metainfo.files.as_ref()).map_or(String::new(), |f| {
        format!("a folder of {} files, ", f.len())
    });
    info!(
        "swarm {} : {} ({files}{} bytes, {} pieces of {} bytes)",
        metainfo.info_hash,
        metainfo.name,
        metainfo.length,
        metainfo.num_pieces(),
        metainfo.piece_length
    );
    // For `peer --magnet` and real clients (the announce URL is our tracker's HTTP side).
    info!("magnet link: {}", crate::magnet::Magnet::of(&metainfo));
    Ok(Arc::new(metainfo))
}

enum Learn {
    Tracker(ClientError),
    Peer(PeerError),
}

/// The metainfo, from a file, from the file to seed, from the tracker, or from the peers a
/// magnet link leads to.
fn metainfo_from(config: &PeerConfig, port: u16) -> Result<Metainfo, Learn> {
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
        Source::Magnet(magnet) => {
            super::magnet::fetch_metainfo(config, magnet, port).map_err(Learn::Peer)
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
