//! The table's refusals: the `ERR` a request gets when its swarm or peer is unknown, its
//! pieces do not parse, or its key is wrong. Checks over the table's records; no lock taken
//! here (the caller holds it) and no I/O.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use super::{PeerKey, PeerRecord, Swarm};
use crate::infohash::InfoHash;
use crate::pieces::PieceSet;
use crate::tracker::proto::{ErrorCode, Secret};

/// A refusal, ready to be sent as an `ERR` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub code: ErrorCode,
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.message)
    }
}

pub(super) fn refuse(code: ErrorCode, message: String) -> TableError {
    TableError { code, message }
}

pub(super) fn known_swarm<'a>(
    swarms: &'a mut HashMap<InfoHash, Swarm>,
    info_hash: &InfoHash,
) -> Result<&'a mut Swarm, TableError> {
    swarms
        .get_mut(info_hash)
        .filter(|s| s.metainfo.is_some())
        .ok_or_else(|| {
            refuse(
                ErrorCode::UnknownSwarm,
                format!("swarm {info_hash} is unknown: PUBLISH its metainfo first"),
            )
        })
}

pub(super) fn known_peer<'a>(
    swarms: &'a mut HashMap<InfoHash, Swarm>,
    info_hash: &InfoHash,
    key: PeerKey,
) -> Result<&'a mut PeerRecord, TableError> {
    let swarm = known_swarm(swarms, info_hash)?;
    let port = key.port;
    swarm.peers.get_mut(&key).ok_or_else(|| {
        refuse(
            ErrorCode::UnknownPeer,
            format!("peer on port {port} is not in the swarm: JOIN first"),
        )
    })
}

pub(super) fn unknown_peer(addr: SocketAddr) -> TableError {
    refuse(
        ErrorCode::UnknownPeer,
        format!("peer {addr} is not in the swarm: JOIN first"),
    )
}

pub(super) fn parse_pieces(swarm: &Swarm, ranges: &str) -> Result<PieceSet, TableError> {
    let count = swarm.metainfo.as_ref().map_or(0, |m| m.num_pieces);
    PieceSet::from_ranges(ranges, count).map_err(|e| refuse(ErrorCode::BadRequest, e.to_string()))
}

/// Refuses a request for a peer that joined with a key, unless it carries that key.
pub(super) fn check_key(
    peer: &PeerRecord,
    given: Option<&Secret>,
    addr: SocketAddr,
) -> Result<(), TableError> {
    match &peer.key {
        Some(key) if Some(key) != given => Err(refuse(
            ErrorCode::WrongKey,
            format!(
                "peer {addr} joined with a key: this request must carry the same key= (a missing or different key is refused)"
            ),
        )),
        _ => Ok(()),
    }
}
