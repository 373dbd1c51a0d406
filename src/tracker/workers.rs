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
//! Workers start lazily: when the last worker in `accept()` gets a connection, it starts one
//! more (below the cap) before serving, so there is always one to accept. The cap is the
//! established budget plus the pending budget plus one (`admission.rs`): at most that many
//! block in a pending read, at most this many serve established connections, so one worker
//! is always left to accept and, by admitting a newcomer, evict the oldest silent connection.
//! Workers never end (the count stays at its high-water mark, bounded by the cap); a worker
//! whose connection code panics is replaced.
//!
//! Admission, serving and replies are in `tracker.rs`; no protocol here.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use log::{debug, warn};

use crate::admission::{Gate, Ticket};
use crate::net;
use crate::threads;

/// What a worker does with each connection it accepts.
pub type Serve = dyn Fn(TcpStream, SocketAddr, Ticket) + Send + Sync;

#[derive(Default)]
struct Counts {
    alive: usize,
    /// Workers in (or on their way back to) `accept()`.
    accepting: usize,
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
pub fn start(listener: TcpListener, gate: Gate, serve: Box<Serve>) -> std::io::Result<()> {
    let max = gate.threads() + 1;
    let shared = Arc::new(Shared {
        listener,
        gate,
        max,
        counts: Mutex::new(Counts::default()),
        serve,
    });
    let id = shared.lock().enlist();
    spawn(shared, id)
}

fn spawn(shared: Arc<Shared>, id: usize) -> std::io::Result<()> {
    let guard = Worker(Arc::clone(&shared));
    let name = format!("tracker-worker-{id}");
    threads::spawn_named(&name, move || guard.run()).map(drop)
}

/// One worker's place in the counts; given back when dropped (spawn failed, or a panic).
struct Worker(Arc<Shared>);

impl Worker {
    fn run(self) {
        let shared = &self.0;
        loop {
            let accepted = net::accept(&shared.listener);
            let more = {
                let mut counts = shared.lock();
                counts.accepting -= 1;
                (counts.accepting == 0 && counts.alive < shared.max)
                    .then(|| (counts.enlist(), counts.alive))
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
            match accepted {
                Ok((stream, remote)) => {
                    let (pending, established) = shared.gate.counts();
                    debug!("accepted {remote} ({pending} pending, {established} established)");
                    match shared.gate.admit(&stream, remote) {
                        Ok(ticket) => (shared.serve)(stream, remote, ticket),
                        Err(e) => warn!("{remote}: cannot admit the connection: {e}"),
                    }
                }
                Err(e) => {
                    warn!("accept failed: {e}");
                    std::thread::sleep(net::ACCEPT_BACKOFF);
                }
            }
            shared.lock().accepting += 1;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // `run` never returns: this is a failed spawn (the worker was counted as accepting)
        // or a panic in the connection code (it was serving: replace it if nobody accepts).
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
