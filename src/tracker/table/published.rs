//! The metainfo the tracker keeps, under its byte budget: publishing a swarm, checking room
//! before a `PUBLISH` body is read, and handing the bytes out for `METAINFO`. No I/O.

use std::sync::Arc;

use super::{ErrorCode, PeerTable, TableError, refuse};
use crate::infohash::InfoHash;
use crate::metainfo::Metainfo;

/// What the tracker keeps of a published swarm: the `.torrent` bytes as published (served by
/// `METAINFO`), the name and the piece count. Not the parsed piece hashes: the tracker never
/// checks a piece, so keeping them would double the memory of every swarm.
#[derive(Debug)]
pub(super) struct Published {
    pub(super) name: String,
    pub(super) num_pieces: u32,
    pub(super) bytes: Arc<Vec<u8>>,
}

impl PeerTable {
    /// Learns a swarm's metainfo. Returns false when it was already known. Refused (`full`)
    /// when the swarms or the metainfo budget would overflow.
    pub fn publish(&self, metainfo: Metainfo) -> Result<bool, TableError> {
        let mut swarms = self.lock();
        self.room_for_swarm(&swarms, &metainfo.info_hash)?;
        if swarms
            .get(&metainfo.info_hash)
            .is_some_and(|s| s.metainfo.is_some())
        {
            return Ok(false);
        }
        let stored: usize = swarms
            .values()
            .filter_map(|s| s.metainfo.as_ref())
            .map(|m| m.bytes.len())
            .sum();
        let size = metainfo.as_bytes().len();
        if stored + size > self.metainfo_budget {
            return Err(budget_spent(stored, size, self.metainfo_budget));
        }
        let info_hash = metainfo.info_hash;
        let published = Published {
            num_pieces: metainfo.num_pieces(),
            name: metainfo.name.clone(),
            // The parsed hashes are dropped here; the bytes move without a copy.
            bytes: Arc::new(metainfo.into_bytes()),
        };
        swarms.entry(info_hash).or_default().metainfo = Some(published);
        Ok(true)
    }

    /// Refuses, before its body is read, a metainfo of `length` bytes that the budget has no
    /// room for (the check is made again at [`PeerTable::publish`]).
    pub fn room_for_metainfo(&self, length: usize) -> Result<(), TableError> {
        let swarms = self.lock();
        let stored: usize = swarms
            .values()
            .filter_map(|s| s.metainfo.as_ref())
            .map(|m| m.bytes.len())
            .sum();
        if stored + length > self.metainfo_budget {
            return Err(budget_spent(stored, length, self.metainfo_budget));
        }
        Ok(())
    }

    /// The swarm's `.torrent` bytes as published.
    pub fn metainfo(&self, info_hash: &InfoHash) -> Option<Arc<Vec<u8>>> {
        self.lock()
            .get(info_hash)
            .and_then(|s| s.metainfo.as_ref().map(|m| Arc::clone(&m.bytes)))
    }
}

fn budget_spent(stored: usize, size: usize, budget: usize) -> TableError {
    refuse(
        ErrorCode::Full,
        format!(
            "the tracker's metainfo budget is spent ({stored} of {budget} bytes stored; this one is {size})"
        ),
    )
}
