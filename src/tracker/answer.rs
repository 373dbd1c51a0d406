//! What each line-protocol request does to the peer table, and the reply it gets: pure, over
//! the table and any `Read` (a `PUBLISH` body). No sockets here: `tracker.rs` reads the
//! request and writes the reply.

use std::io::{self, Read};
use std::net::SocketAddr;

use log::{info, warn};

use super::proto::{self, ErrorCode, Reply, Request};
use super::table::PeerTable;
use crate::infohash::InfoHash;
use crate::metainfo::Metainfo;
/// Applies one request to the table and builds the reply. The table's lock is held only
/// inside the table's methods, never while the reply is written.
pub(super) fn answer(request: Request, remote: SocketAddr, table: &PeerTable) -> Reply {
    let listening = |port: u16| SocketAddr::new(remote.ip(), port);
    let result = match request {
        Request::Join {
            info_hash,
            port,
            pieces,
        } => table
            .register(&info_hash, listening(port), &pieces)
            .map(Reply::Peers),
        Request::Ping { info_hash, port } => table
            .ping(&info_hash, listening(port))
            .map(|()| Reply::Pong),
        Request::Report {
            info_hash,
            port,
            pieces,
        } => table
            .report(&info_hash, listening(port), &pieces)
            .map(|held| Reply::Ok(format!("{held} pieces recorded"))),
        Request::List { info_hash, port } => table
            .snapshot(&info_hash, listening(port))
            .map(Reply::Peers),
        Request::Leave { info_hash, port } => {
            Ok(Reply::Ok(if table.leave(&info_hash, listening(port)) {
                "left".to_string()
            } else {
                "was not in the swarm".to_string()
            }))
        }
        Request::Swarms => Ok(Reply::Swarms(
            table
                .swarms()
                .into_iter()
                .take(proto::MAX_SWARMS_PER_REPLY)
                .collect(),
        )),
        Request::Status => Ok(Reply::Status(table.status())),
        Request::Metainfo { info_hash } => Ok(match table.metainfo(&info_hash) {
            Some(metainfo) => Reply::Metainfo(metainfo.as_bytes().to_vec()),
            None => Reply::error(
                ErrorCode::NoMetainfo,
                format!("no metainfo for swarm {info_hash}"),
            ),
        }),
        Request::Help => Ok(Reply::Ok(proto::HELP.to_string())),
        Request::Quit => Ok(Reply::Bye),
        Request::Publish { .. } => Ok(Reply::error(
            ErrorCode::BadRequest,
            "PUBLISH is answered after its body",
        )),
    };
    result.unwrap_or_else(|e| Reply::Err {
        code: e.code,
        message: e.message,
    })
}

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
