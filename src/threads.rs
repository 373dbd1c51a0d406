//! Named threads, counted. [`ThreadCap`] spawns connection threads against a cap, so a flood
//! of connections cannot exhaust memory (which connections get the slots is decided by
//! `admission.rs`: the oldest not yet handshaken is evicted for a newcomer);
//! [`spawn_named`] starts the long-lived ones (accept loops, the scheduler). Every thread
//! start and end is logged at `debug` with the number of threads alive.
//!
//! No sockets here.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use log::debug;

/// Threads started through this module and not yet finished.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Threads alive now (started here, not finished).
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Logs the end of a thread when dropped (also when its work panics).
struct Finish(String);

impl Drop for Finish {
    fn drop(&mut self) {
        let now = LIVE.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        debug!("thread {} finished ({now} threads live)", self.0);
    }
}

/// `thread::Builder` with a name, counted and logged.
fn start<F>(name: String, work: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    let now = LIVE.fetch_add(1, Ordering::Relaxed) + 1;
    debug!("thread {name} starting ({now} threads live)");
    let finish = Finish(name.clone());
    thread::Builder::new().name(name).spawn(move || {
        let _finish = finish;
        work();
    })
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
        let spawned = start(name, move || {
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
    start(name.to_string(), work)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

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
}
