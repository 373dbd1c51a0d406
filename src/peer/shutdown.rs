//! Ctrl+C and SIGTERM on a peer: say goodbye to the tracker instead of vanishing.
//!
//! std cannot catch a signal, so the `signal-hook` crate installs the handlers (the only safe
//! way: a handler may do almost nothing, and signal-hook's does the one thing allowed, a write
//! to a self-pipe). A thread of ours, `peer-signals`, blocks reading that pipe
//! (`Signals::forever`) and forwards each signal into a channel the task loop selects on
//! (`task_loop.rs`), which sends `LEAVE`, logs `leaving the swarm: SIGINT received`, and exits
//! with the shell's status for the signal, 128 + its number (130 for SIGINT, 143 for SIGTERM),
//! so scripts (`test.sh`) still see a stopped process. A second signal while leaving (a tracker
//! that does not answer) exits at once.
//!
//! Installed only when the task loop starts: before the peer has joined there is nobody to
//! say goodbye to, and a signal keeps its default action (the process ends).

use std::io;

use crossbeam_channel::Receiver;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::threads;

/// Starts the `peer-signals` thread; the task loop receives each SIGINT or SIGTERM from the
/// returned channel.
pub(super) fn listen() -> io::Result<Receiver<i32>> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let (tx, rx) = crossbeam_channel::bounded(1);
    threads::spawn_named("peer-signals", move || {
        let mut seen = false;
        for signal in signals.forever() {
            if seen {
                // The task loop is still leaving: the user insists.
                std::process::exit(exit_status(signal));
            }
            seen = true;
            if tx.send(signal).is_err() {
                return;
            }
        }
    })?;
    Ok(rx)
}

/// `SIGINT`, `SIGTERM`.
pub(super) fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The status a shell gives a process ended by `signal`: 128 + its number.
pub(super) fn exit_status(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_status_is_the_shells() {
        assert_eq!(exit_status(SIGINT), 130);
        assert_eq!(exit_status(SIGTERM), 143);
        assert_eq!(name(SIGTERM), "SIGTERM");
    }
}
