//! A flood peer: holds chunks, answers clients, floods their queries to its neighbours.
//!
//! The blocking calls, in the order a peer makes them:
//!
//! 1. read the key-values file and every chunk it names (done by the caller, before any socket:
//!    a bad file stops the peer before it answers anyone);
//! 2. `bind` the UDP socket on `<ip>:<port>`;
//! 3. `recv_from`, with a read timeout so the loop can notice a stop request, then by type:
//!    * HELLO from a client: `send_to` the client a CHUNKS_INFO listing the requested chunks
//!      held here (when there are any), then `send_to` every neighbour a QUERY carrying the
//!      client's address (as `recv_from` saw it) and the initial TTL (3);
//!    * QUERY from a neighbour: `send_to` the client named in the query a CHUNKS_INFO (when this
//!      peer holds any of the chunks); decrement the TTL and, while it stays above zero,
//!      `send_to` every neighbour except the sender the same QUERY with only the TTL changed;
//!    * GET from a client: `send_to` it one RESPONSE per requested chunk held here;
//!    * CHUNKS_INFO or RESPONSE: meant for clients; logged and ignored;
//! 4. back to 3.
//!
//! Why one thread: every reply is a few datagrams built from memory, so answering inline takes
//! microseconds and no client or query ever holds the loop; many clients and floods are served
//! at once, interleaved datagram by datagram, without a thread per request. What it does not do:
//! suppress duplicate queries (the protocol has no query id; the TTL alone ends a flood).

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, Ordering};

use log::{debug, info, warn};

use super::keyvalues::ChunkStore;
use super::message::{IdList, Message};
use super::udp::{FloodSocket, Loss};
use crate::defaults::FLOOD_POLL as POLL;

pub use crate::defaults::TTL as DEFAULT_TTL;
/// A received QUERY's TTL is cut to this, so a hostile or buggy sender cannot make the overlay
/// relay one query without end.
pub const MAX_TTL: u16 = 16;

/// What a peer is started with, apart from its chunks.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub addr: SocketAddrV4,
    pub neighbours: Vec<SocketAddrV4>,
    /// TTL of the queries this peer starts (as a contact peer).
    pub ttl: u16,
    pub loss: Option<Loss>,
}

pub struct Peer {
    socket: FloodSocket,
    store: ChunkStore,
    neighbours: Vec<SocketAddrV4>,
    ttl: u16,
}

impl Peer {
    /// Step 2: binds the socket. The peer answers nothing until [`Peer::serve`].
    pub fn bind(config: PeerConfig, store: ChunkStore) -> io::Result<Peer> {
        let socket = FloodSocket::bind(config.addr, config.loss)?;
        let peer = Peer {
            socket,
            store,
            neighbours: config.neighbours,
            ttl: config.ttl.min(MAX_TTL),
        };
        let me = peer.socket.local_addr()?;
        let neighbours: Vec<String> = peer.neighbours.iter().map(|n| n.to_string()).collect();
        info!(
            "listening on {me}, holding chunks {}, neighbours [{}]",
            IdList(&peer.store.ids()),
            neighbours.join(", ")
        );
        if peer.neighbours.contains(&me) {
            warn!("{me} lists itself as a neighbour: it will query itself");
        }
        Ok(peer)
    }

    /// Steps 3 and 4, until `stop` is set. Returns only on a failure of the socket itself.
    pub fn serve(&mut self, stop: &AtomicBool) -> io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            if let Some((from, message)) = self.socket.recv(POLL)? {
                self.handle(from, message);
            }
        }
        Ok(())
    }

    fn handle(&mut self, from: SocketAddrV4, message: Message) {
        match message {
            Message::Hello { ids } => {
                self.offer(from, &ids);
                if ids.is_empty() {
                    debug!("hello from {from} asks for nothing: no query flooded");
                    return;
                }
                let query = Message::Query {
                    client: from,
                    ttl: self.ttl,
                    ids,
                };
                self.flood(&query, None);
            }
            Message::Query { client, ttl, ids } => {
                self.offer(client, &ids);
                if ttl > MAX_TTL {
                    warn!("query from {from} has ttl {ttl}: cut to {MAX_TTL}");
                }
                let left = ttl.min(MAX_TTL).saturating_sub(1);
                if left == 0 {
                    debug!("query from {from} for client {client} ends here (ttl {ttl})");
                    return;
                }
                let query = Message::Query {
                    client,
                    ttl: left,
                    ids,
                };
                self.flood(&query, Some(from));
            }
            Message::Get { ids } => {
                for id in self.store.held_of(&ids) {
                    if let Some(data) = self.store.get(id) {
                        let response = Message::Response {
                            id,
                            data: data.to_vec(),
                        };
                        self.socket.send(&response, from);
                    }
                }
                let missing: Vec<u16> = ids
                    .iter()
                    .copied()
                    .filter(|id| self.store.get(*id).is_none())
                    .collect();
                if !missing.is_empty() {
                    warn!(
                        "get from {from} asks for chunks not held here: {}",
                        IdList(&missing)
                    );
                }
            }
            Message::ChunksInfo { .. } | Message::Response { .. } => {
                warn!(
                    "ignore {} from {from}: peers do not take it",
                    message.name()
                );
            }
        }
    }

    /// CHUNKS_INFO to `client` listing the chunks of `wanted` held here, if there are any.
    fn offer(&mut self, client: SocketAddrV4, wanted: &[u16]) {
        let held = self.store.held_of(wanted);
        if held.is_empty() {
            debug!("none of {} held here for {client}", IdList(wanted));
        } else {
            self.socket.send(&Message::ChunksInfo { ids: held }, client);
        }
    }

    /// Sends `query` to every neighbour except `came_from`.
    fn flood(&mut self, query: &Message, came_from: Option<SocketAddrV4>) {
        for neighbour in &self.neighbours {
            if Some(*neighbour) != came_from {
                self.socket.send(query, *neighbour);
            }
        }
    }
}
