//! Socket and thread plumbing shared by the tracker and the peer.
//!
//! * [`connect`] opens every outgoing TCP connection, and [`configure`] sets the read and write
//!   timeouts of every TCP socket, outgoing or accepted: no blocking call waits forever. (The
//!   tracker sets them once on its listening socket, which Linux copies to every accepted
//!   one, and falls back to [`configure`] where that is not so: `tracker/conn.rs`.)
//! * [`traced::Traced`] wraps a socket so that, at `debug`, every blocking `read` and `write`
//!   is logged before and after, with its size and how long it blocked; `--slow-motion` holds
//!   every message back before it is sent ([`traced::slow_motion`]).
//!
//! Nothing here knows a protocol. Threads are in `threads.rs`.

pub mod traced;

use std::io;
use std::io::Read;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use log::debug;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

pub use crate::defaults::ACCEPT_BACKOFF;
use crate::defaults::LINGER;

/// The timeouts one socket runs with.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
}

impl Timeouts {
    /// For short request/reply exchanges (a peer talking to its tracker).
    pub const EXCHANGE: Timeouts = crate::defaults::EXCHANGE_TIMEOUTS;
}

/// Sets the read and write timeouts (and `TCP_NODELAY`, since every protocol here is
/// request/reply) on a connected socket.
pub fn configure(stream: &TcpStream, timeouts: Timeouts) -> io::Result<()> {
    stream.set_read_timeout(Some(nonzero(timeouts.read)))?;
    stream.set_write_timeout(Some(nonzero(timeouts.write)))?;
    stream.set_nodelay(true)
}

/// `set_read_timeout(Some(0))` is an error in std: the smallest timeout is one millisecond.
fn nonzero(duration: Duration) -> Duration {
    duration.max(Duration::from_millis(1))
}

/// Connects to `remote`, from `local` when given (bind-before-connect, which `std::net` cannot
/// do: a peer bound to 127.0.0.2 must also talk from 127.0.0.2, or a `--remote` tracker would
/// see the wrong address), and configures the socket.
pub fn connect(
    remote: SocketAddr,
    local: Option<IpAddr>,
    timeouts: Timeouts,
) -> io::Result<TcpStream> {
    let started = Instant::now();
    debug!(
        "connect to {remote}: blocking (timeout {:?})",
        timeouts.connect
    );
    let socket = Socket::new(
        Domain::for_address(remote),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(ip) = local.filter(|ip| !ip.is_unspecified()) {
        socket.bind(&SockAddr::from(SocketAddr::new(ip, 0)))?;
    }
    socket.connect_timeout(&SockAddr::from(remote), nonzero(timeouts.connect))?;
    let stream: TcpStream = socket.into();
    if stream.local_addr()? == remote {
        // Nothing listened on `remote` and the kernel chose that very port as our source port:
        // TCP's simultaneous open connected the socket to itself. It would read back what it
        // writes, and hold the port a restarted server needs.
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("connect to {remote}: connected to itself (nothing listens there)"),
        ));
    }
    configure(&stream, timeouts)?;
    debug!("connect to {remote} took {:?}", started.elapsed());
    Ok(stream)
}

/// The listen queue: connections the kernel completes before `accept` takes them. std's 128
/// overflows under a burst of connections (the kernel then drops SYNs and clients retry after
/// a second or more); admission (`admission.rs`) empties the queue quickly instead.
pub const LISTEN_BACKLOG: i32 = 1024;

/// `bind` + `listen` on `addr` (with `SO_REUSEADDR`, as std does), logged before and after.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    debug!("bind and listen on {addr}");
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(addr))?;
    socket.listen(LISTEN_BACKLOG)?;
    let listener: TcpListener = socket.into();
    debug!("listening on {}", listener.local_addr()?);
    Ok(listener)
}

/// `accept()`: blocks until a peer connects; logged before and after.
pub fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let started = Instant::now();
    debug!("accept: blocking until a connection arrives");
    let (stream, remote) = listener.accept()?;
    debug!("accept: {remote} connected after {:?}", started.elapsed());
    Ok((stream, remote))
}

/// `shutdown` both ways, then the socket is closed when dropped; logged.
pub fn close(stream: &TcpStream, remote: SocketAddr) {
    debug!("close connection to {remote}");
    let _ = stream.shutdown(Shutdown::Both);
}

/// Resolves `HOST:PORT` to one address, preferring IPv4 (every protocol here is IPv4-first).
pub fn resolve(host_port: &str) -> io::Result<SocketAddr> {
    let mut addrs: Vec<SocketAddr> = host_port.to_socket_addrs()?.collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs.into_iter().next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host_port} has no address"),
        )
    })
}

/// A reader whose reads all end by one deadline, however slowly the bytes trickle in: each
/// `read` waits at most the time left (a per-read timeout alone lets a sender of one byte a
/// second hold a connection forever). Past the deadline a read fails with `TimedOut`.
pub struct ReadBefore<'a, R> {
    pub inner: R,
    pub stream: &'a TcpStream,
    pub deadline: Instant,
}

impl<R: Read> Read for ReadBefore<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "deadline passed before the whole message arrived",
            ));
        }
        self.stream.set_read_timeout(Some(nonzero(left)))?;
        self.inner.read(buf).map_err(|e| match e.kind() {
            // What a read timeout looks like on Linux (EAGAIN).
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::new(
                io::ErrorKind::TimedOut,
                "deadline passed before the whole message arrived",
            ),
            _ => e,
        })
    }
}

/// How many bytes of a refused client's remaining input are read and thrown away, at most.
const LINGER_MAX_BYTES: usize = 1 << 20;

/// Closes a connection after a refusal (an HTTP `400`, an `ERR too-long`) without losing the `400`. The client may still be sending
/// (an oversized head is only partly read), and closing a socket with unread input makes the
/// kernel answer with a reset, which discards the response before the client reads it. So:
/// send our FIN first, then read and drop what still comes until the client closes, for at
/// most [`LINGER`] and [`LINGER_MAX_BYTES`].
pub fn close_after_refusal(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() || stream.set_read_timeout(Some(LINGER)).is_err() {
        return;
    }
    let started = Instant::now();
    let mut input = stream;
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < LINGER_MAX_BYTES && started.elapsed() < LINGER {
        match input.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_binds_the_requested_source_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stream = connect(
            addr,
            Some("127.0.0.3".parse().expect("ip")),
            Timeouts::EXCHANGE,
        )
        .expect("connect");
        let (_, seen) = listener.accept().expect("accept");
        assert_eq!(seen.ip().to_string(), "127.0.0.3");
        assert_eq!(stream.local_addr().expect("local").ip(), seen.ip());
    }
}
