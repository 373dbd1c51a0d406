//! Making the blocking socket calls visible.
//!
//! * [`Traced`] wraps a `&TcpStream`: at `debug`, every `read` and `write` is logged before it
//!   blocks and after it returns, with the bytes moved and how long it blocked; a read timeout
//!   that fires is logged too. Reads that poll on a short tick (a connection loop waking up to
//!   look at its commands) log their waiting and their timeouts at `trace` only, so `debug`
//!   stays readable.
//! * [`write_all_vectored`] writes several buffers with `writev` until all are sent.
//! * [`slow_motion`] holds every message back before it is sent, by the `--slow-motion` delay,
//!   and logs that it waits, so a class can follow a swarm message by message.
//!
//! No protocol here. Its blocking calls are its caller's, in its caller's order: `read`
//! ([`Traced`]'s `Read`), `write` (its `Write`, and `writev` in [`write_all_vectored`]), and
//! the `sleep` of [`slow_motion`] before a message is sent.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use log::{Level, debug, info, log};

/// A socket whose blocking calls are logged.
pub struct Traced<'a> {
    stream: &'a TcpStream,
    remote: SocketAddr,
    /// Reads on a short polling tick: their waiting and timeouts are logged at `trace`.
    polling: bool,
}

impl<'a> Traced<'a> {
    pub fn new(stream: &'a TcpStream, remote: SocketAddr) -> Traced<'a> {
        Traced {
            stream,
            remote,
            polling: false,
        }
    }

    /// For a read loop that times out on purpose every few milliseconds.
    pub fn polling(stream: &'a TcpStream, remote: SocketAddr) -> Traced<'a> {
        Traced {
            stream,
            remote,
            polling: true,
        }
    }
}

impl Read for Traced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let quiet = if self.polling {
            Level::Trace
        } else {
            Level::Debug
        };
        log!(
            quiet,
            "read from {}: blocking (up to {} bytes)",
            self.remote,
            buf.len()
        );
        let started = Instant::now();
        let mut stream = self.stream;
        let result = stream.read(buf);
        let waited = started.elapsed();
        match &result {
            Ok(0) => debug!("read from {}: end of stream after {waited:?}", self.remote),
            Ok(n) => debug!("read from {}: {n} bytes after {waited:?}", self.remote),
            Err(e) if is_timeout(e) => log!(
                quiet,
                "read from {}: timed out after {waited:?}",
                self.remote
            ),
            Err(e) => debug!("read from {}: {e} after {waited:?}", self.remote),
        }
        result
    }
}

impl Write for Traced<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.logged_write(format_args!("{} bytes", buf.len()), |mut s| s.write(buf))
    }

    /// One `writev`: several buffers (a frame header and its block, say) in one system call.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        self.logged_write(
            format_args!("{total} bytes in {} buffers", bufs.len()),
            |mut s| s.write_vectored(bufs),
        )
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // a TCP socket has no user-space buffer
    }
}

impl Traced<'_> {
    /// Runs one write on the socket, logged before it blocks and after it returns.
    fn logged_write(
        &self,
        what: fmt::Arguments<'_>,
        write: impl FnOnce(&TcpStream) -> io::Result<usize>,
    ) -> io::Result<usize> {
        debug!("write to {}: blocking ({what})", self.remote);
        let started = Instant::now();
        let result = write(self.stream);
        let waited = started.elapsed();
        match &result {
            Ok(n) => debug!("write to {}: {n} bytes sent after {waited:?}", self.remote),
            Err(e) => debug!("write to {}: {e} after {waited:?}", self.remote),
        }
        result
    }
}

/// `write_all` for several buffers (std's `write_all_vectored` is unstable): `writev` until
/// every byte is written, going on where a short write stopped.
pub fn write_all_vectored(out: &mut impl Write, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0); // skips empty buffers
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

static SLOW_MOTION: OnceLock<Duration> = OnceLock::new();

/// Sets the `--slow-motion` delay for this process (the first call counts).
pub fn set_slow_motion(delay: Duration) {
    if !delay.is_zero() {
        let _ = SLOW_MOTION.set(delay);
    }
}

/// Holds the message `what` to `remote` back by the `--slow-motion` delay, if any, saying so.
pub fn slow_motion(remote: impl std::fmt::Display, what: &str) {
    if let Some(delay) = SLOW_MOTION.get() {
        info!("slow motion: holding {what} to {remote} for {delay:?}");
        std::thread::sleep(*delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn traced_reads_and_writes_move_the_same_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).expect("connect");
        let (server, remote) = listener.accept().expect("accept");
        Traced::new(&client, addr)
            .write_all(b"hello\n")
            .expect("write");
        let mut got = [0u8; 6];
        Traced::new(&server, remote)
            .read_exact(&mut got)
            .expect("read");
        assert_eq!(&got, b"hello\n");
    }

    /// Takes at most 5 bytes per call, from the first buffer only, like a short `writev`.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(5);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_all_vectored_goes_on_after_short_writes() {
        let (a, b, c) = (
            b"header:".to_vec(),
            Vec::new(),
            b"a block of bytes".to_vec(),
        );
        let mut bufs = [IoSlice::new(&a), IoSlice::new(&b), IoSlice::new(&c)];
        let mut out = Trickle(Vec::new());
        write_all_vectored(&mut out, &mut bufs).expect("write");
        assert_eq!(out.0, b"header:a block of bytes");
    }
}
