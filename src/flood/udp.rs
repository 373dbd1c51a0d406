//! The UDP socket of a flood peer or client: `send_to` and `recv_from` with the protocol trace.
//!
//! Every datagram sent or received is logged here, once, at `info`, as
//! `send <message> to <addr>`, `recv <message> from <addr>`, `drop <message> to <addr>` (the loss
//! hook) or `ignore malformed datagram from <addr>` (at `warn`); the raw bytes follow at `debug`.
//! The tests count these lines, so their form is part of the interface.
//!
//! What it does not do: decide anything. Peers and clients own their logic; this module only
//! frames, traces and (for the `--drop-outgoing` teaching option) loses datagrams on purpose.
//! IPv4 only, as the protocol carries IPv4 addresses.

use crate::trace::{self, Dir};
use std::io;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use log::{debug, error, info, warn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::message::Message;

/// Big enough for any UDP payload, so an oversized datagram shows its real length instead of
/// being silently cut to a legal one.
const RECV_BUFFER: usize = 65_536;
/// `set_read_timeout` refuses zero; waits are rounded up to this.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The `--drop-outgoing` hook: each outgoing datagram is thrown away with probability
/// `fraction`, decided by a generator seeded with `seed` so a run can be repeated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss {
    pub fraction: f64,
    pub seed: u64,
}

pub struct FloodSocket {
    socket: UdpSocket,
    loss: Option<(f64, StdRng)>,
    buffer: Vec<u8>,
}

impl FloodSocket {
    /// `bind`: opens the socket on `addr` (port 0 lets the OS choose).
    pub fn bind(addr: SocketAddrV4, loss: Option<Loss>) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        Ok(Self {
            socket,
            loss: loss
                .filter(|l| l.fraction > 0.0)
                .map(|l| (l.fraction, StdRng::seed_from_u64(l.seed))),
            buffer: vec![0; RECV_BUFFER],
        })
    }

    /// Records a datagram in the `--trace` file, if any.
    fn trace(&self, dir: Dir, remote: SocketAddrV4, message: &Message) {
        if !trace::enabled() {
            return;
        }
        let ids = |ids: &[u16]| ids.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
        let fields: Vec<(&str, trace::Value)> = match message {
            Message::Hello { ids: list } => vec![("ids", ids(list).into())],
            Message::Query {
                client,
                ttl,
                ids: list,
            } => vec![
                ("client", client.to_string().into()),
                ("ttl", (*ttl).into()),
                ("ids", ids(list).into()),
            ],
            Message::ChunksInfo { ids: list } | Message::Get { ids: list } => {
                vec![("ids", ids(list).into())]
            }
            Message::Response { id, data } => {
                vec![("id", (*id).into()), ("size", data.len().into())]
            }
        };
        let kind = message_name(message);
        let local = self.socket.local_addr().ok();
        trace::record(dir, "flood", local, SocketAddr::V4(remote), kind, &fields);
    }

    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        match self.socket.local_addr()? {
            SocketAddr::V4(addr) => Ok(addr),
            SocketAddr::V6(addr) => Err(io::Error::other(format!("{addr} is not IPv4"))),
        }
    }

    /// `send_to`: one datagram. A failure is logged and otherwise ignored: UDP promises nothing,
    /// and the retransmission timers (not the sender) make up for lost datagrams.
    pub fn send(&mut self, message: &Message, to: SocketAddrV4) {
        let bytes = match message.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                error!("cannot encode {message} for {to}: {e}");
                return;
            }
        };
        if let Some((fraction, rng)) = &mut self.loss
            && rng.random::<f64>() < *fraction
        {
            info!("drop {message} to {to} (--drop-outgoing)");
            return;
        }
        crate::net::traced::slow_motion(to, message_name(message));
        debug!("send_to {to}: {} bytes", bytes.len());
        // Traced before it is sent, so no trace can show its answer first.
        self.trace(Dir::Send, to, message);
        match self.socket.send_to(&bytes, to) {
            Ok(_) => {
                info!("send {message} to {to}");
                debug!("bytes to {to}: {}", hex(&bytes));
            }
            Err(e) => warn!("send {message} to {to} failed: {e}"),
        }
    }

    /// `recv_from`: waits at most `wait` for one datagram. `Ok(None)` when the wait ran out or
    /// the datagram was malformed (logged and ignored); `Err` only for a failure of the socket.
    pub fn recv(&mut self, wait: Duration) -> io::Result<Option<(SocketAddrV4, Message)>> {
        self.socket.set_read_timeout(Some(wait.max(MIN_WAIT)))?;
        log::trace!("recv_from: blocking up to {wait:?}");
        let (len, from) = match self.socket.recv_from(&mut self.buffer) {
            Ok(received) => received,
            Err(e) if is_timeout(&e) => return Ok(None),
            // An ICMP "port unreachable" for an earlier send (some systems report it here),
            // or a signal: neither concerns the next datagram.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::Interrupted
                ) =>
            {
                debug!("recv_from: {e} (ignored)");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let SocketAddr::V4(from) = from else {
            warn!("ignore datagram from {from}: not IPv4");
            return Ok(None);
        };
        let bytes = &self.buffer[..len];
        debug!("bytes from {from}: {}", hex(bytes));
        match Message::decode(bytes) {
            Ok(message) => {
                info!("recv {message} from {from}");
                self.trace(Dir::Recv, from, &message);
                Ok(Some((from, message)))
            }
            Err(e) => {
                warn!("ignore malformed datagram from {from} ({len} bytes): {e}");
                Ok(None)
            }
        }
    }
}

/// The protocol's name of a message type.
fn message_name(message: &Message) -> &'static str {
    match message {
        Message::Hello { .. } => "HELLO",
        Message::Query { .. } => "QUERY",
        Message::ChunksInfo { .. } => "CHUNKS_INFO",
        Message::Get { .. } => "GET",
        Message::Response { .. } => "RESPONSE",
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The first 48 bytes in hex, enough to read the headers in a trace.
fn hex(bytes: &[u8]) -> String {
    let mut out: String = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 48 {
        out.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    out
}
