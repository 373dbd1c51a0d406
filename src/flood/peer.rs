//! A flood peer: holds chunks, answers clients, floods their queries to its neighbours.
//!
//! The blocking calls, in the order a peer makes them:
//!
//! 1. read the key-values file and every chunk it names (done by the caller, before any socket:
//!    a bad file stops the peer before it answers anyone);
//! 2. `bind` the UDP socket on `<ip>:<port>`;
//! 3. `recv_from`, with a read timeout so the loop can notice a stop request, then by type:
//!    * HELLO from a client: unless the same client asked the same ids within the duplicate
//!      window, `send_to` the client a CHUNKS_INFO listing the requested chunks held here (when
//!      there are any), then `send_to` every neighbour a QUERY carrying the client's address (as
//!      `recv_from` saw it) and this peer's `--ttl` (default 3);
//!    * QUERY from a neighbour: its TTL cut to this peer's `--ttl`; dropped if the same question
//!      (client address and port, ids) came within the duplicate window; otherwise `send_to` the
//!      client named in the query a CHUNKS_INFO (when this peer holds any of the chunks),
//!      decrement the TTL and, while it stays above zero, `send_to` every neighbour except the
//!      sender the same QUERY with only the TTL changed;
//!    * GET from a client: `send_to` it one RESPONSE per requested chunk held here;
//!    * CHUNKS_INFO or RESPONSE: meant for clients; logged and ignored;
//!
//!    every `send_to` made because of a client is paid from that client address's byte budget
//!    (`--client-rate`), and not made when the budget is spent;
//! 4. back to 3.
//!
//! Why one thread: every reply is a few datagrams built from memory, so answering inline takes
//! microseconds and no client or query ever holds the loop; many clients and floods are served
//! at once, interleaved datagram by datagram, without a thread per request. What it does not do:
//! authenticate a client (the protocol has no secret, so a spoofed source is believed; the
//! budget bounds what it can make a peer send), or change a byte of the protocol. The cost model
//! is in docs/flood.md.

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::guard::{ClientBudget, SeenQueries, Spend, Verdict};
use super::keyvalues::ChunkStore;
use super::message::{IdList, Message};
use super::udp::{FloodSocket, Loss};
use crate::defaults::FLOOD_POLL as POLL;

pub use crate::defaults::TTL as DEFAULT_TTL;
/// The largest `--ttl`. A received QUERY's TTL is cut to the peer's own `--ttl`, so a hostile
/// or buggy sender cannot make the overlay relay one query further than the network's limit.
pub const MAX_TTL: u16 = 16;

/// What a peer is started with, apart from its chunks.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub addr: SocketAddrV4,
    pub neighbours: Vec<SocketAddrV4>,
    /// TTL of the queries this peer starts (as a contact peer).
    pub ttl: u16,
    /// Bytes per second a client address may make this peer send (0: no limit).
    pub client_rate: u64,
    /// How long a query counts as seen (a copy within it is a duplicate).
    pub duplicate_window: Duration,
    pub loss: Option<Loss>,
}

pub struct Peer {
    socket: FloodSocket,
    store: ChunkStore,
    neighbours: Vec<SocketAddrV4>,
    /// TTL of the queries started here, and the most a received one keeps.
    ttl: u16,
    seen: SeenQueries,
    budget: ClientBudget,
}

impl Peer {
    /// Step 2: binds the socket. The peer answers nothing until [`Peer::serve`].
    pub fn bind(config: PeerConfig, store: ChunkStore) -> io::Result<Peer> {
        let socket = FloodSocket::bind(config.addr, config.loss)?;
        let peer = Peer {
            socket,
            store,
            neighbours: config.neighbours,
            ttl: config.ttl.clamp(1, MAX_TTL),
            seen: SeenQueries::new(config.duplicate_window),
            budget: ClientBudget::new(config.client_rate),
        };
        let me = peer.socket.local_addr()?;
        let neighbours: Vec<String> = peer.neighbours.iter().map(|n| n.to_string()).collect();
        info!(
            "listening on {me}, holding chunks {}, neighbours [{}], ttl {}, client budget {}",
            IdList(&peer.store.ids()),
            neighbours.join(", "),
            peer.ttl,
            match peer.budget.rate() {
                0 => "unlimited".to_string(),
                rate => format!("{rate} B/s"),
            }
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
        let now = Instant::now();
        match message {
            Message::Hello { ids } => {
                if ids.is_empty() {
                    debug!("hello from {from} asks for nothing: no query flooded");
                    return;
                }
                // Recorded with this peer's TTL: the same query coming back to it through the
                // overlay carries less, and is a duplicate.
                if self.seen.check(from, &ids, self.ttl, now) != Verdict::New {
                    info!("ignore repeated hello from {from}: answered within the window");
                    return;
                }
                self.offer(from, &ids, now);
                let query = Message::Query {
                    client: from,
                    ttl: self.ttl,
                    ids,
                };
                self.flood(&query, None, now);
            }
            Message::Query { client, ttl, ids } => {
                if ttl > self.ttl {
                    info!(
                        "query from {from} for {client} has ttl {ttl}: cut to {}",
                        self.ttl
                    );
                }
                let ttl = ttl.min(self.ttl);
                match self.seen.check(client, &ids, ttl, now) {
                    Verdict::New => self.offer(client, &ids, now),
                    Verdict::ForwardOnly => {
                        debug!("query from {from} for {client} seen with less ttl: forward only");
                    }
                    Verdict::Duplicate => {
                        info!("ignore duplicate query client={client} ttl={ttl} from {from}");
                        return;
                    }
                }
                let left = ttl.saturating_sub(1);
                if left == 0 {
                    debug!("query from {from} for client {client} ends here (ttl {ttl})");
                    return;
                }
                let query = Message::Query {
                    client,
                    ttl: left,
                    ids,
                };
                self.flood(&query, Some(from), now);
            }
            Message::Get { ids } => {
                for id in self.store.held_of(&ids) {
                    if let Some(data) = self.store.get(id) {
                        let response = Message::Response {
                            id,
                            data: data.to_vec(),
                        };
                        self.send_for(from, &response, from, now);
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

    /// Sends `message` to `to` if `client`'s budget pays for it.
    fn send_for(
        &mut self,
        client: SocketAddrV4,
        message: &Message,
        to: SocketAddrV4,
        now: Instant,
    ) {
        let ip = *client.ip();
        match self.budget.spend(ip, message.encoded_len(), now) {
            Spend::Allowed => {}
            Spend::Recovered { refused } => {
                info!("client {ip} back within its budget: {refused} datagrams were not sent");
            }
            Spend::FirstRefused => {
                warn!(
                    "client {ip} over its budget of {} B/s: {message} to {to} not sent, nor what it triggers until the budget refills",
                    self.budget.rate()
                );
                return;
            }
            Spend::Refused => {
                debug!("client {ip} over its budget: {message} to {to} not sent");
                return;
            }
        }
        self.socket.send(message, to);
    }

    /// CHUNKS_INFO to `client` listing the chunks of `wanted` held here, if there are any.
    fn offer(&mut self, client: SocketAddrV4, wanted: &[u16], now: Instant) {
        let held = self.store.held_of(wanted);
        if held.is_empty() {
            debug!("none of {} held here for {client}", IdList(wanted));
        } else {
            self.send_for(client, &Message::ChunksInfo { ids: held }, client, now);
        }
    }

    /// Sends `query` to every neighbour except `came_from`, paid by the query's client.
    fn flood(&mut self, query: &Message, came_from: Option<SocketAddrV4>, now: Instant) {
        let Message::Query { client, .. } = query else {
            return;
        };
        for i in 0..self.neighbours.len() {
            let neighbour = self.neighbours[i];
            if Some(neighbour) != came_from {
                self.send_for(*client, query, neighbour, now);
            }
        }
    }
}
