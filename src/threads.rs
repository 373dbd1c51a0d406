//! Named threads, counted. [`ThreadCap`] spawns connection threads against a cap, so a flood
//! of connections cannot exhaust memory (which connections get the slots is decided by
//! `admission.rs`: the oldest not yet handshaken is evicted for a newcomer);
//! [`spawn_named`] starts the long-lived ones (accept loops, the scheduler). Every thread
//! start and end is logged at `debug` with the number of threads alive.
//!
//! No sockets here.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
///
/// A slot is free again only once its thread has been *joined*, not merely when its work
/// returned: between the two the operating system is still tearing the thread down, and under a
/// flood of short connections those half-gone threads would otherwise pile up beyond the cap.
/// Threads that have exited are joined at every spawn (that join cannot block); one still being
/// torn down is waited for only when the cap is reached, because on a busy machine that wait
/// lasts until the scheduler runs the dying thread, and the accept loop would wait with it.
#[derive(Clone)]
pub struct ThreadCap {
    inner: Arc<(Mutex<Vec<Running>>, Condvar)>,
    max: usize,
}

/// One thread started through a cap and not yet joined.
struct Running {
    done: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl ThreadCap {
    pub fn new(max: usize) -> ThreadCap {
        ThreadCap {
            inner: Arc::new((Mutex::new(Vec::new()), Condvar::new())),
            max: max.max(1),
        }
    }

    /// Threads whose work is still running.
    pub fn live(&self) -> usize {
        let running = self.inner.0.lock().unwrap_or_else(PoisonError::into_inner);
        running
            .iter()
            .filter(|r| !r.done.load(Ordering::Acquire))
            .count()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Waits for a free slot (joining the threads that have exited, and at the cap those whose
    /// work has returned), then runs `work` on a new thread called `name`.
    pub fn spawn<F>(&self, name: String, work: F) -> io::Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let (running, freed) = &*self.inner;
        let mut list = running.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // Threads that have exited are joined at once (a join that cannot block). One whose
            // work returned but that is still being torn down keeps its slot; it is waited for
            // only when every slot is taken, so the spawner (an accept loop) never waits for
            // another thread to be scheduled while there is room.
            let cap_reached = list.len() >= self.max;
            let finished: Vec<Running> = list
                .extract_if(.., |r| {
                    r.handle.is_finished() || (cap_reached && r.done.load(Ordering::Acquire))
                })
                .collect();
            if !finished.is_empty() {
                // Their work has returned and they no longer touch the lock: join them
                // outside it, then look again.
                drop(list);
                for r in finished {
                    r.handle.join().ok();
                }
                list = running.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            if list.len() < self.max {
                break;
            }
            list = freed.wait(list).unwrap_or_else(PoisonError::into_inner);
        }
        let done = Arc::new(AtomicBool::new(false));
        let (thread_done, cap) = (Arc::clone(&done), Arc::clone(&self.inner));
        // The slot is made by the new thread itself: if spawning fails, the closure is dropped
        // here, while `list` is locked, and a `Slot` dropped then would wait for that lock
        // forever. Nothing was pushed, so there is nothing to undo.
        let handle = start(name, move || {
            let _slot = Slot {
                done: thread_done,
                cap,
            };
            work();
        })?;
        list.push(Running { done, handle });
        Ok(())
    }
}

/// Marks a thread's work as returned (also when it panics) and wakes a waiting spawner.
struct Slot {
    done: Arc<AtomicBool>,
    cap: Arc<(Mutex<Vec<Running>>, Condvar)>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (running, freed) = &*self.cap;
        let _list = running.lock().unwrap_or_else(PoisonError::into_inner);
        self.done.store(true, Ordering::Release);
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
        let third = thread::spawn(move || cap2.spawn("t2".into(), || {}));
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
