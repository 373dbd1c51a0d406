//! The tracker's worker threads (`tracker-worker-N`): each one blocks in `accept()` on the
//! shared listening socket, serves the connection it got, and goes back to `accept()`.
//!
//! Why not one accept loop handing connections over: a tracker request is one short
//! connection (our peers connect per request; `Connection: close` HTTP clients too), so a
//! hand-over costs a thread wake-up per request, and a thread per connection costs a
//! `clone`/`mmap`/`munmap` of a thread and its stack per request: under load that was most of
//! the tracker's time. With every idle worker blocked in `accept()`, the kernel wakes exactly
//! one of them per connection and that thread serves it: no hand-over.
//!
//! Few idle workers, on purpose. Every worker asleep in `accept()` is woken by the next
//! connection, usually before that client's request has arrived, so it sleeps again in `read`:
//! two wake-ups per request. A worker coming back to `accept()` while connections wait in the
//! listen queue takes one without sleeping, and its request is already there. So a worker
//! that comes back from a connection while [`MAX_IDLE`] others already wait in `accept()`
//! does not accept: it waits as a *spare* on a condition variable, and ends if nobody needs
//! it for [`SPARE_TIME`]. A worker whose `accept()` times out (the listener's read timeout:
//! nobody connected for that long) ends if another still accepts.
//!
//! One is always left to accept, so that a newcomer can be admitted and, with the pending
//! budget full, evict the oldest silent connection (`admission.rs`). Before a worker *blocks*
//! for a connection (its request has not arrived, or it waits for a next request:
//! [`Standby::before_blocking`]) and nobody else accepts, it wakes a spare to accept, or
//! starts one more worker (below the cap): a wake-up is much cheaper than starting a thread.
//! (A worker alone with a late request first waits a moment for it, `conn.rs`.) The cap is
//! the established budget plus the pending budget plus one: at most that many block in a
//! pending read, at most this many serve established connections, so one worker is always
//! left to accept. A worker whose connection code panics is replaced.
//!
//! Admission, serving and replies are in `tracker.rs`; no protocol here.

use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use log::{Level, debug, log_enabled, warn};

use crate::admission::{Gate, Ticket};
use crate::net;
use crate::threads;

/// What a worker does with each connection it accepts. It calls
/// [`Standby::before_blocking`] before any `read` or `write` that may block.
pub type Serve = dyn Fn(&TcpStream, SocketAddr, Ticket, &Standby) + Send + Sync;

/// Workers that may wait in `accept()` at once; one more, coming back, becomes a spare.
pub const MAX_IDLE: usize = 1;
/// How long a spare waits to be called before it ends.
pub const SPARE_TIME: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Counts {
    alive: usize,
    /// Workers in (or on their way back to) `accept()`.
    accepting: usize,
    /// Workers waiting to be called, not yet called.
    spare: usize,
    /// Spares called to accept that have not woken yet (counted as accepting already).
    called: usize,
    next_id: usize,
}

impl Counts {
    /// Counts one more worker, alive and accepting; returns its number.
    fn enlist(&mut self) -> usize {
        self.alive += 1;
        self.accepting += 1;
        self.next_id += 1;
        self.next_id
    }
}

struct Shared {
    listener: TcpListener,
    gate: Gate,
    max: usize,
    counts: Mutex<Counts>,
    /// Where spares wait.
    call: Condvar,
    serve: Box<Serve>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Nothing panics while the lock is held: a poisoned lock is still sound.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the first worker on `listener`; the others start as load needs them, at most
/// `gate.threads() + 1` in all.
pub fn start(listener: TcpListener, gate: Gate, serve: Box<Serve>) -> io::Result<()> {
    let max = gate.threads() + 1;
    let shared = Arc::new(Shared {
        listener,
        gate,
        max,
        counts: Mutex::new(Counts::default()),
        call: Condvar::new(),
        serve,
    });
    let id = shared.lock().enlist();
    spawn(shared, id)
}

fn spawn(shared: Arc<Shared>, id: usize) -> io::Result<()> {
    let guard = Worker(Arc::clone(&shared));
    let name = format!("tracker-worker-{id}");
    threads::spawn_named(&name, move || guard.run()).map(drop)
}

/// If no worker accepts: calls a spare to, or starts one more worker if the cap allows.
fn ensure_acceptor(shared: &Arc<Shared>) {
    let more = {
        let mut counts = shared.lock();
        if counts.accepting > 0 {
            return;
        }
        if counts.spare > 0 {
            counts.spare -= 1;
            counts.called += 1;
            counts.accepting += 1;
            shared.call.notify_one();
            debug!(
                "calling a spare worker to accept ({} spare left)",
                counts.spare
            );
            return;
        }
        (counts.alive < shared.max).then(|| (counts.enlist(), counts.alive))
    };
    if let Some((id, alive)) = more {
        debug!(
            "starting tracker-worker-{id} ({alive} of at most {})",
            shared.max
        );
        if let Err(e) = spawn(Arc::clone(shared), id) {
            warn!("cannot start a worker thread: {e}");
        }
    }
}

/// Handed to [`Serve`] with each connection: the worker's way to make sure another worker
/// accepts while it blocks.
pub struct Standby {
    shared: Arc<Shared>,
    asked: Cell<bool>,
}

impl Standby {
    /// The worker serving this connection may block now (its request has not arrived, it
    /// waits for a next request, or its write is larger than a socket buffer surely takes):
    /// makes sure another worker accepts meanwhile, starting one if none does. Once per
    /// connection; later calls do nothing.
    pub fn before_blocking(&self) {
        if !self.asked.replace(true) {
            ensure_acceptor(&self.shared);
        }
    }

    /// Whether no other connection waits for its first request now (one look at the
    /// admission counts): a worker whose client has not sent its request yet may then wait a
    /// moment for it before calling a stand-in; otherwise silent connections may be arriving.
    pub fn only_one_pending(&self) -> bool {
        self.shared.gate.counts().0 <= 1
    }
}

/// One worker's place in the counts; given back when dropped (spawn failed, the worker ended
/// idle, or a panic).
struct Worker(Arc<Shared>);

impl Worker {
    /// Accepts and serves until this worker is not needed; returns counted as accepting.
    fn run(self) {
        let shared = &self.0;
        loop {
            let accepted = net::accept(&shared.listener);
            shared.lock().accepting -= 1;
            match accepted {
                Ok((stream, remote)) => {
                    if log_enabled!(Level::Debug) {
                        let (pending, established) = shared.gate.counts();
                        debug!("accepted {remote} ({pending} pending, {established} established)");
                    }
                    let stream = Arc::new(stream);
                    let ticket = shared.gate.admit_shared(Arc::clone(&stream), remote);
                    let standby = Standby {
                        shared: Arc::clone(shared),
                        asked: Cell::new(false),
                    };
                    (shared.serve)(&stream, remote, ticket, &standby);
                }
                Err(e) if is_timeout(&e) => {
                    // Nobody connected for the listener's read timeout: idle. End if another
                    // worker accepts.
                    let mut counts = shared.lock();
                    counts.accepting += 1;
                    if counts.accepting > 1 {
                        debug!("ending an idle tracker worker ({} alive)", counts.alive - 1);
                        return;
                    }
                    continue;
                }
                Err(e) => {
                    warn!("accept failed: {e}");
                    std::thread::sleep(net::ACCEPT_BACKOFF);
                }
            }
            let mut counts = shared.lock();
            if counts.accepting < MAX_IDLE {
                counts.accepting += 1;
                continue;
            }
            // Enough wait in accept(): wait as a spare until called, or end.
            counts.spare += 1;
            debug!("waiting as a spare ({} in accept)", counts.accepting);
            loop {
                if counts.called > 0 {
                    counts.called -= 1; // counted as accepting by the caller
                    break;
                }
                let (again, waited) = shared
                    .call
                    .wait_timeout(counts, SPARE_TIME)
                    .unwrap_or_else(PoisonError::into_inner);
                counts = again;
                if waited.timed_out() && counts.called == 0 {
                    counts.spare -= 1;
                    counts.accepting += 1; // given back by drop
                    debug!("ending a spare tracker worker ({} alive)", counts.alive - 1);
                    return;
                }
            }
        }
    }
}

/// What a listener's read timeout looks like from `accept` on Linux (`EAGAIN`).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Not panicking: a failed spawn or a surplus worker, both counted as accepting. A
        // panic in the connection code: it was serving; replace it if nobody accepts.
        let shared = &self.0;
        let panicked = std::thread::panicking();
        let replace = {
            let mut counts = shared.lock();
            counts.alive = counts.alive.saturating_sub(1);
            if !panicked {
                counts.accepting = counts.accepting.saturating_sub(1);
            }
            (panicked && counts.accepting == 0 && counts.alive < shared.max)
                .then(|| counts.enlist())
        };
        if let Some(id) = replace
            && let Err(e) = spawn(Arc::clone(shared), id)
        {
            warn!("cannot replace a worker thread: {e}");
        }
    }
}
