//! Socket and thread plumbing shared by the tracker and the peer.
//!
//! * [`connect`] opens every outgoing TCP connection, and [`configure`] sets the read and write
//!   timeouts of every TCP socket, outgoing or accepted: no blocking call waits forever.
//! * [`ThreadCap`] spawns named threads and counts them against a cap, so a flood of
//!   connections waits in the kernel's listen queue instead of exhausting memory.
//!
//! Nothing here knows a protocol.

use std::io;
use std::io::Read;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::debug;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// The timeouts one socket runs with.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
}

impl Timeouts {
    /// For short request/reply exchanges (a peer talking to its tracker).
    pub const EXCHANGE: Timeouts = Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_secs(10),
        write: Duration::from_secs(10),
    };
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
    configure(&stream, timeouts)?;
    debug!("connect to {remote} took {:?}", started.elapsed());
    Ok(stream)
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

/// How long, and how many bytes, a refused client's remaining input is read and thrown away.
const LINGER: Duration = Duration::from_secs(1);
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

/// Spawns named threads, at most `max` alive at once. [`ThreadCap::spawn`] waits for a free
/// slot, so an accept loop that spawns through it stops accepting while the cap is reached.
#[derive(Clone)]
pub struct ThreadCap {
    inner: Arc<(Mutex<usize>, Condvar)>,
    max: usize,
}

impl ThreadCap {
    pub fn new(max: usize) -> ThreadCap {
        ThreadCap {
            inner: Arc::new((Mutex::new(0), Condvar::new())),
            max: max.max(1),
        }
    }

    /// Threads alive now.
    pub fn live(&self) -> usize {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Waits for a free slot, then runs `work` on a new thread called `name`. The slot is given
    /// back when `work` returns or panics.
    pub fn spawn<F>(&self, name: String, work: F) -> io::Result<JoinHandle<()>>
    where
        F: FnOnce() + Send + 'static,
    {
        let (count, freed) = &*self.inner;
        let mut live = count.lock().unwrap_or_else(PoisonError::into_inner);
        while *live >= self.max {
            live = freed.wait(live).unwrap_or_else(PoisonError::into_inner);
        }
        *live += 1;
        drop(live);
        let slot = Slot(Arc::clone(&self.inner));
        let spawned = thread::Builder::new().name(name).spawn(move || {
            let _slot = slot;
            work();
        });
        // On failure the closure, and with it the slot, was dropped: the count is already back.
        spawned
    }
}

/// Gives a thread's slot back when dropped.
struct Slot(Arc<(Mutex<usize>, Condvar)>);

impl Drop for Slot {
    fn drop(&mut self) {
        let (count, freed) = &*self.0;
        let mut live = count.lock().unwrap_or_else(PoisonError::into_inner);
        *live = live.saturating_sub(1);
        freed.notify_one();
    }
}

/// Spawns one named thread outside any cap (the long-lived ones: accept loops, scheduler).
pub fn spawn_named<F>(name: &str, work: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    thread::Builder::new().name(name.to_string()).spawn(work)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn thread_cap_never_runs_more_than_max() {
        let cap = ThreadCap::new(2);
        let (release_tx, release_rx) = crossbeam_channel::unbounded::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        for i in 0..2 {
            let rx = release_rx.clone();
            let tx = started_tx.clone();
            cap.spawn(format!("t{i}"), move || {
                tx.send(()).ok();
                rx.recv().ok();
            })
            .expect("spawn");
        }
        for _ in 0..2 {
            started_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("thread started");
        }
        assert_eq!(cap.live(), 2);
        // A third spawn must wait until one slot is released.
        let cap2 = cap.clone();
        let third = thread::spawn(move || cap2.spawn("t2".into(), || {}).map(|h| h.join()));
        assert!(started_rx.recv_timeout(Duration::from_millis(50)).is_err());
        assert_eq!(cap.live(), 2);
        release_tx.send(()).expect("release");
        let joined = third.join().expect("join");
        assert!(joined.is_ok());
        release_tx.send(()).expect("release");
        let deadline = Instant::now() + Duration::from_secs(5);
        while cap.live() != 0 && Instant::now() < deadline {
            thread::yield_now();
        }
        assert_eq!(cap.live(), 0);
    }

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
