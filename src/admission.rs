//! Admission of accepted connections, so that silent connections cannot starve honest ones.
//!
//! An accept loop that only counts threads has a weakness: a few thousand connections that
//! connect and then say nothing fill every slot until their read timeout fires, and honest
//! peers wait in the kernel's listen queue meanwhile. So an accepted connection is first
//! *pending* (it has not completed its handshake, or for the tracker its first request line),
//! and pending connections get a small budget of their own ([`MAX_PENDING`]). When a new
//! connection arrives with that budget full, the **oldest** pending one is shut down (its
//! blocked `read` returns at once, its thread ends) and the newcomer takes its place. An honest
//! handshake completes in milliseconds, long before it becomes the oldest, so it always gets
//! through; an attacker only ever holds [`MAX_PENDING`] threads.
//!
//! A connection that completes its handshake calls [`Ticket::establish`] and moves to the
//! *established* cap (`--max-connections`); when that is full it is refused and closed. The
//! accept loop spawns threads through a [`crate::threads::ThreadCap`] of both budgets added
//! ([`Gate::threads`]), so the number of connection threads never exceeds them. (The
//! tracker's workers accept for themselves, `tracker/workers.rs`: both budgets plus one, the
//! one left to accept and evict.)
//!
//! The registry keeps a handle of each pending connection: shutting it down is what makes the
//! blocked `read` of its thread return. [`Gate::admit`] makes that handle with
//! `TcpStream::try_clone` (a `dup` of the descriptor, closed again when the ticket goes);
//! [`Gate::admit_shared`] shares the caller's `Arc<TcpStream>` instead, two system calls fewer
//! per connection (the tracker's workers). Evictions are logged at `debug`.

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use log::debug;

pub use crate::defaults::MAX_PENDING;

#[derive(Default)]
struct State {
    next_id: u64,
    /// Oldest first.
    pending: VecDeque<(u64, SocketAddr, Arc<TcpStream>)>,
    established: usize,
}

/// The two budgets of one accept loop. Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    state: Arc<Mutex<State>>,
    max_established: usize,
    max_pending: usize,
}

impl Gate {
    pub fn new(max_established: usize, max_pending: usize) -> Gate {
        Gate {
            state: Arc::default(),
            max_established: max_established.max(1),
            max_pending: max_pending.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Connection threads that may be alive at once: both budgets.
    pub fn threads(&self) -> usize {
        self.max_established + self.max_pending
    }

    /// (pending, established) now.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.pending.len(), state.established)
    }

    /// Registers a just-accepted connection as pending. With the pending budget full, the
    /// oldest pending connection is shut down first.
    pub fn admit(&self, stream: &TcpStream, remote: SocketAddr) -> io::Result<Ticket> {
        Ok(self.admit_shared(Arc::new(stream.try_clone()?), remote))
    }

    /// [`Gate::admit`] with a handle the caller shares: no `dup` of the descriptor. The
    /// registry's copy goes when the connection leaves the pending budget.
    pub fn admit_shared(&self, handle: Arc<TcpStream>, remote: SocketAddr) -> Ticket {
        let mut state = self.lock();
        while state.pending.len() >= self.max_pending {
            if let Some((_, old, stream)) = state.pending.pop_front() {
                debug!(
                    "{old}: evicted (no handshake yet, {} pending: {remote} takes its place)",
                    self.max_pending
                );
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        state.next_id += 1;
        let id = state.next_id;
        state.pending.push_back((id, remote, handle));
        Ticket {
            state: Arc::clone(&self.state),
            id,
            max_established: self.max_established,
            stage: Stage::Pending,
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // No method panics between writes: a poisoned lock is still sound.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pending,
    Established,
    Gone,
}

/// One admitted connection's place; given back when dropped.
pub struct Ticket {
    state: Arc<Mutex<State>>,
    id: u64,
    max_established: usize,
    stage: Stage,
}

/// Why a connection could not be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// It was evicted while pending (a newer connection took its place).
    Evicted,
    /// Every established slot is taken.
    Full(usize),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Evicted => f.write_str("evicted before its handshake completed"),
            Refused::Full(max) => write!(f, "all {max} connection slots are taken"),
        }
    }
}

impl Ticket {
    /// Whether it holds an established slot.
    pub fn is_established(&self) -> bool {
        self.stage == Stage::Established
    }

    /// The handshake is done: moves from the pending budget to the established cap.
    pub fn establish(&mut self) -> Result<(), Refused> {
        if self.stage != Stage::Pending {
            return Ok(());
        }
        let mut state = lock(&self.state);
        let Some(at) = state.pending.iter().position(|(id, ..)| *id == self.id) else {
            self.stage = Stage::Gone;
            return Err(Refused::Evicted);
        };
        state.pending.remove(at);
        if state.established >= self.max_established {
            self.stage = Stage::Gone;
            return Err(Refused::Full(self.max_established));
        }
        state.established += 1;
        self.stage = Stage::Established;
        Ok(())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        match self.stage {
            Stage::Pending => state.pending.retain(|(id, ..)| *id != self.id),
            Stage::Established => state.established = state.established.saturating_sub(1),
            Stage::Gone => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair(listener: &TcpListener) -> (TcpStream, TcpStream, SocketAddr) {
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, remote) = listener.accept().expect("accept");
        (client, server, remote)
    }

    #[test]
    fn a_full_pending_budget_evicts_the_oldest_and_established_ones_keep_their_cap() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let gate = Gate::new(1, 2);
        let (_c1, s1, r1) = pair(&listener);
        let (_c2, s2, r2) = pair(&listener);
        let (_c3, s3, r3) = pair(&listener);
        let mut t1 = gate.admit(&s1, r1).expect("admit");
        let mut t2 = gate.admit(&s2, r2).expect("admit");
        assert_eq!(gate.counts(), (2, 0));
        let mut t3 = gate.admit(&s3, r3).expect("admit");
        // The oldest was shut down: its read returns at once.
        let mut buf = [0u8; 1];
        assert_eq!((&s1).read(&mut buf).expect("read"), 0);
        assert_eq!(t1.establish(), Err(Refused::Evicted));
        assert_eq!(t2.establish(), Ok(()));
        assert_eq!(t3.establish(), Err(Refused::Full(1)));
        assert_eq!(gate.counts(), (0, 1));
        drop(t2);
        assert_eq!(gate.counts(), (0, 0));
        drop((t1, t3));
        assert_eq!(gate.counts(), (0, 0));
    }
}
