//! One accepted tracker connection, as the worker serving it reads and writes it: `read` and
//! `write` through [`Traced`] (logged at `debug`), with three things added for speed under
//! many short connections, and for the worker pool (`workers.rs`).
//!
//! * The **first read does not block**. A client that connected a moment ago has usually sent
//!   its request already, all of it (wrk, our peers, most BitTorrent clients: one segment), so
//!   the worker serves it and goes back to `accept()` without ever sleeping. The socket is
//!   switched to non-blocking for that `read`, and back to blocking as soon as anything would
//!   wait: a look before blocking, not an event loop. Found nothing: with no other connection
//!   waiting for its request, the worker waits up to [`FIRST_WAIT`] before calling a stand-in
//!   (one is usually on its way: a stand-in called at once would sleep in `accept()` and take
//!   the next connection before its request too).
//! * **Before anything may block** (the first read found nothing, any later read, a write
//!   larger than [`SURELY_BUFFERED`]), the worker makes sure another worker accepts meanwhile
//!   ([`Standby::before_blocking`]), so silent or slow connections never leave nobody to
//!   accept and evict them.
//! * The **last reply** of a connection ([`Conn::write_last`]) is corked (`TCP_CORK`, Linux):
//!   it stays queued until the socket is closed a moment later, and the kernel then sends it
//!   with the FIN in the same segment. Without it the reply and the FIN are two segments, and
//!   the client acknowledges each: on loopback the server pays for both trips through the
//!   stack (`Connection: close`: ~20% of the tracker's CPU per request).
//!
//! And the socket options every accepted connection needs, set once on the listening socket,
//! which Linux copies to each accepted one ([`inherit_options`], checked on the first
//! connection by [`Inheritance`]): no `setsockopt` per connection.
//!
//! No protocol here.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use log::{debug, warn};
use socket2::SockRef;

use super::workers::Standby;
use crate::net::traced::Traced;
use crate::net::{self, Timeouts};

/// A write this small goes into an empty socket's send buffer without blocking (Linux's
/// smallest TCP send buffer is 4 KiB): no stand-in acceptor needed for it.
pub const SURELY_BUFFERED: usize = 4096;

/// How long a worker whose client has connected but not yet sent its request waits for it
/// before calling a stand-in acceptor (when no other connection waits for its request): on
/// loopback or a LAN the request follows the connection within microseconds.
pub const FIRST_WAIT: Duration = Duration::from_millis(20);

/// One connection being served. Read and write through `&Conn`.
pub struct Conn<'a> {
    stream: &'a TcpStream,
    remote: SocketAddr,
    standby: &'a Standby,
    /// The read timeout the connection runs with, put back after [`FIRST_WAIT`].
    read_timeout: Duration,
    mode: Cell<Mode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing read yet; the socket blocks (as accepted).
    Fresh,
    /// The first read found nothing (and may have waited [`FIRST_WAIT`]); the socket blocks
    /// again. Whatever comes next asks for a stand-in before it blocks: a client trickling its
    /// request cannot hold the worker without one.
    Looked,
    /// The first read found the request: the socket is still non-blocking, so a small reply
    /// goes out without switching back (one system call fewer per request).
    Ready,
    /// The socket blocks, and a stand-in acceptor was asked for.
    Blocking,
}

impl<'a> Conn<'a> {
    pub fn new(
        stream: &'a TcpStream,
        remote: SocketAddr,
        standby: &'a Standby,
        read_timeout: Duration,
    ) -> Conn<'a> {
        Conn {
            stream,
            remote,
            standby,
            read_timeout,
            mode: Cell::new(Mode::Fresh),
        }
    }

    pub fn stream(&self) -> &'a TcpStream {
        self.stream
    }

    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// The worker may block on this connection from now on: the socket blocks again, and
    /// another worker accepts meanwhile. Called before every `read` or `write` that may
    /// block, and before a lingering close.
    pub fn before_blocking(&self) -> io::Result<()> {
        if self.mode.replace(Mode::Blocking) == Mode::Ready {
            self.stream.set_nonblocking(false)?;
        }
        self.standby.before_blocking();
        Ok(())
    }

    /// Ends a connection after a refusal (an error reply, a 400): [`net::close_after_refusal`]
    /// lingers in blocking reads until the client closes, so another worker accepts meanwhile.
    pub fn close_after_refusal(&self) -> io::Result<()> {
        self.before_blocking()?;
        net::close_after_refusal(self.stream);
        Ok(())
    }

    /// Writes the connection's last bytes: the socket is closed right after (nothing may
    /// block in between), so they are corked and leave with the FIN in one segment. Corked
    /// bytes go out after 200 ms at the latest, whatever happens.
    pub fn write_last(&self, bytes: &[u8]) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        SockRef::from(self.stream).set_tcp_cork(true)?;
        let mut out = self;
        out.write_all(bytes)
    }

    /// The first read: takes what has arrived, or `None` if nothing has (yet). When something
    /// has, the socket stays non-blocking.
    fn look(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.stream.set_nonblocking(true)?;
        self.mode.set(Mode::Ready);
        match self.try_read(buf)? {
            Some(n) => Ok(Some(n)),
            None => {
                self.stream.set_nonblocking(false)?;
                self.mode.set(Mode::Looked);
                Ok(None)
            }
        }
    }

    /// A read on the non-blocking socket: `None` if nothing has arrived.
    fn try_read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match (&*self.stream).read(buf) {
            Ok(n) => {
                debug!("read from {}: {n} bytes without waiting", self.remote);
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                debug!("read from {}: nothing yet, will block", self.remote);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// After a look that found nothing, and with no other connection waiting for its
    /// request: waits up to [`FIRST_WAIT`] for it; `None` if it did not come.
    fn wait_a_moment(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.stream.set_read_timeout(Some(FIRST_WAIT))?;
        let read = Traced::new(self.stream, self.remote).read(buf);
        self.stream.set_read_timeout(Some(self.read_timeout))?;
        match read {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl Read for &Conn<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.mode.get() {
            Mode::Fresh => {
                if let Some(n) = self.look(buf)? {
                    return Ok(n);
                }
                if self.standby.only_one_pending()
                    && let Some(n) = self.wait_a_moment(buf)?
                {
                    return Ok(n);
                }
            }
            Mode::Ready => {
                if let Some(n) = self.try_read(buf)? {
                    return Ok(n);
                }
            }
            Mode::Looked | Mode::Blocking => {}
        }
        self.before_blocking()?;
        Traced::new(self.stream, self.remote).read(buf)
    }
}

impl Write for &Conn<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let ready = self.mode.get() == Mode::Ready;
        if ready && buf.len() <= SURELY_BUFFERED {
            debug!(
                "write to {}: {} bytes without waiting",
                self.remote,
                buf.len()
            );
            match (&*self.stream).write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                written => return written,
            }
        }
        if ready || buf.len() > SURELY_BUFFERED {
            self.before_blocking()?;
        }
        Traced::new(self.stream, self.remote).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // a TCP socket has no user-space buffer
    }
}

/// Sets, on the listening socket, what every accepted connection needs: `timeouts` (read:
/// the time a new connection has for its first request; write) and `TCP_NODELAY`. Linux
/// copies them to each accepted socket. The read timeout also bounds each `accept()`: a
/// worker whose `accept()` times out is idle (`workers.rs`).
pub fn inherit_options(listener: &TcpListener, timeouts: Timeouts) -> io::Result<()> {
    let socket = SockRef::from(listener);
    socket.set_read_timeout(Some(timeouts.read))?;
    socket.set_write_timeout(Some(timeouts.write))?;
    socket.set_tcp_nodelay(true)
}

/// Whether accepted sockets came with the listener's options: looked at on the first
/// connection (three `getsockopt`), trusted afterwards; where they did not, each connection is
/// configured itself ([`net::configure`]).
#[derive(Default)]
pub struct Inheritance(OnceLock<bool>);

impl Inheritance {
    /// Makes sure `stream` runs with `timeouts` and `TCP_NODELAY`.
    pub fn ensure(&self, stream: &TcpStream, timeouts: Timeouts) -> io::Result<()> {
        let inherited = *self.0.get_or_init(|| {
            let got = stream.read_timeout().ok().flatten() == Some(timeouts.read)
                && stream.write_timeout().ok().flatten() == Some(timeouts.write)
                && stream.nodelay().unwrap_or(false);
            if !got {
                warn!("accepted sockets do not inherit the listener's options: set per connection");
            }
            got
        });
        if inherited {
            Ok(())
        } else {
            net::configure(stream, timeouts)
        }
    }
}

/// The timeouts of a new tracker connection: `first_request` to send its first request.
pub fn timeouts(first_request: Duration) -> Timeouts {
    Timeouts {
        read: first_request,
        ..Timeouts::EXCHANGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_the_listeners_timeouts_and_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let wanted = timeouts(Duration::from_secs(7));
        inherit_options(&listener, wanted).expect("options");
        let _client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        assert_eq!(accepted.read_timeout().expect("read"), Some(wanted.read));
        assert_eq!(accepted.write_timeout().expect("write"), Some(wanted.write));
        assert!(accepted.nodelay().expect("nodelay"));
    }
}
