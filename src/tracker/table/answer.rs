//! One line-protocol request applied to the table, and the reply it gets. Pure: no I/O; the
//! table's lock is held only inside the table's methods, never while the reply is written
//! (the caller, `tracker.rs`, writes it).

use std::net::SocketAddr;

use super::PeerTable;
use crate::tracker::proto::{self, ErrorCode, Reply, Request};

impl PeerTable {
    /// Applies one request from `remote` and builds the reply. `PUBLISH` is answered by the
    /// caller after its body.
    pub fn answer(&self, request: Request, remote: SocketAddr) -> Reply {
        let listening = |port: u16| SocketAddr::new(remote.ip(), port);
        let wanted = |numwant: Option<usize>| numwant.unwrap_or(proto::MAX_PEERS_PER_REPLY);
        let result = match request {
            Request::Join {
                info_hash,
                port,
                pieces,
                key,
                numwant,
            } => self
                .register(&info_hash, listening(port), &pieces, key.as_ref())
                .map(|mut peers| {
                    peers.truncate(wanted(numwant));
                    Reply::Peers(peers)
                }),
            Request::Ping {
                info_hash,
                port,
                key,
            } => self
                .ping(&info_hash, listening(port), key.as_ref())
                .map(|()| Reply::Pong),
            Request::Report {
                info_hash,
                port,
                pieces,
                key,
                unchoked,
            } => self
                .report(&info_hash, listening(port), &pieces, key.as_ref(), unchoked)
                .map(|held| Reply::Ok(format!("{held} pieces recorded"))),
            Request::List {
                info_hash,
                port,
                numwant,
            } => self.snapshot(&info_hash, listening(port)).map(|mut peers| {
                peers.truncate(wanted(numwant));
                Reply::Peers(peers)
            }),
            Request::Leave {
                info_hash,
                port,
                key,
            } => self
                .leave(&info_hash, listening(port), key.as_ref())
                .map(|left| {
                    Reply::Ok(if left {
                        "left".to_string()
                    } else {
                        "was not in the swarm".to_string()
                    })
                }),
            Request::Swarms => Ok(Reply::Swarms(self.swarms())),
            Request::Status => Ok(Reply::Status(self.status())),
            Request::Metainfo { info_hash } => Ok(match self.metainfo(&info_hash) {
                Some(bytes) => Reply::Metainfo(bytes.to_vec()),
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
}
