//! The one request with a body, `PUBLISH`: read its metainfo from any `Read`, check it, and
//! learn it. No sockets here: `tracker.rs` reads the request and writes the reply; what every
//! other request does to the table is in `tracker/table/answer.rs`.

use std::io::{self, Read};
use std::net::SocketAddr;

use log::{info, warn};

use super::proto::{self, ErrorCode, Reply};
use super::table::PeerTable;
use crate::infohash::InfoHash;
use crate::metainfo::Metainfo;

/// Reads a `PUBLISH` body, checks it is a torrent whose info-hash is the one announced, and
/// learns it.
pub(super) fn receive_metainfo(
    reader: &mut impl Read,
    remote: SocketAddr,
    table: &PeerTable,
    info_hash: InfoHash,
    length: usize,
) -> io::Result<Reply> {
    if length > proto::MAX_TORRENT_BYTES {
        warn!("{remote}: refused a metainfo of {length} bytes");
        return Ok(Reply::error(
            ErrorCode::TooLong,
            format!("metainfo over {} bytes", proto::MAX_TORRENT_BYTES),
        ));
    }
    if let Err(e) = table.room_for_metainfo(length) {
        // Read and dropped in small steps, so the connection stays in step.
        io::copy(&mut reader.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Reply::error(e.code, e.message));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let metainfo = match Metainfo::from_bytes(&body) {
        Ok(m) => m,
        Err(e) => return Ok(Reply::error(ErrorCode::BadMetainfo, e.to_string())),
    };
    if metainfo.info_hash != info_hash {
        return Ok(Reply::error(
            ErrorCode::BadMetainfo,
            format!("its info-hash is {}, not {info_hash}", metainfo.info_hash),
        ));
    }
    let name = metainfo.name.clone();
    Ok(match table.publish(metainfo) {
        Ok(true) => {
            info!("{remote}: learned swarm {info_hash} ({name})");
            Reply::Ok(format!("published {name}"))
        }
        Ok(false) => Reply::Ok("already known".to_string()),
        Err(e) => Reply::Err {
            code: e.code,
            message: e.message,
        },
    })
}
