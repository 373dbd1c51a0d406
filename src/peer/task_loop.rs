//! The peer's task loop, on its main thread (steps 6 to 8 of `peer.rs`): the one place that
//! talks to the tracker and then tells the engine. The engine itself never touches a socket.
//!
//! The blocking calls, in order ([`run`]):
//!
//! 1. Start the scheduler thread (`scheduler.rs`), which sends ping, report and round ticks.
//! 2. `select` on those ticks and on the connections' events.
//! 3. A ping or report tick: one exchange with the tracker (`announcer.rs`: `connect`,
//!    `write`, `read`, close); a tracker that forgot us is joined again.
//! 4. A round tick: `LIST` (one exchange), handed to the engine ([`Engine::set_listed`]),
//!    then the engine's round, which only hands pieces to connection threads (and spawns a
//!    thread per peer it connects to). A rechoke tick (`--rechoke-interval`): the engine's
//!    choker decides whom we upload to, and a changed set is `REPORT`ed (`unchoked=`) at
//!    once; every report carries it too.
//! 5. A connection event: the engine's bookkeeping, no I/O. The last piece verified: `REPORT`
//!    at once (announce `completed` to an HTTP tracker). In continuous mode
//!    (`--round-interval 0`) a freed slot starts a round on the last list, without `LIST`.
//! 6. With `--exit-when-complete`, once complete and idle: `LEAVE` (announce `stopped`), and
//!    return.

use std::io;
use std::sync::Arc;

use crossbeam_channel::{Receiver, select};
use log::info;

use super::announcer::Announcer;
use super::engine::{Engine, Handled};
use super::{PeerConfig, PeerState};
use crate::scheduler;
use crate::tracker::proto::Unchoked;

use crate::defaults::CONTINUOUS_RETRY;

#[derive(Debug, Clone, Copy)]
enum Task {
    Ping,
    Report,
    Round,
    Rechoke,
}

/// What the task loop holds: the engine, and the tracker it talks to on the engine's behalf.
struct TaskLoop {
    engine: Engine,
    announcer: Announcer,
    state: Arc<PeerState>,
    /// Our listening port, as the tracker knows us.
    port: u16,
    /// `--round-interval 0`: a round whenever a slot is freed.
    continuous: bool,
    exit_when_complete: bool,
    /// The remotes we unchoke, as last told to the tracker (`unchoked=` of `REPORT`).
    unchoked: Vec<Unchoked>,
}

/// Runs the task loop until the scheduler stops or, with `--exit-when-complete`, until the
/// download is complete.
pub(super) fn run(
    engine: Engine,
    announcer: Announcer,
    state: Arc<PeerState>,
    port: u16,
    config: &PeerConfig,
) -> io::Result<()> {
    // 1. the scheduler
    let continuous = config.round_interval.is_zero();
    let round_timer = if continuous {
        CONTINUOUS_RETRY
    } else {
        config.round_interval
    };
    let tasks = scheduler::start(
        "scheduler",
        vec![
            (config.ping_interval, Task::Ping),
            (config.report_interval, Task::Report),
            (round_timer, Task::Round),
            (config.rechoke_interval, Task::Rechoke),
        ],
    )?;
    let mut task_loop = TaskLoop {
        engine,
        announcer,
        state,
        port,
        continuous,
        exit_when_complete: config.exit_when_complete,
        unchoked: Vec::new(),
    };
    task_loop.engine.round(); // on the list the join returned
    task_loop.serve(&tasks);
    Ok(())
}

impl TaskLoop {
    /// Step 2: block on the scheduler's tasks and on the connections' events.
    fn serve(&mut self, tasks: &Receiver<Task>) {
        let events = self.engine.events.clone();
        loop {
            select! {
                recv(tasks) -> task => match task {
                    Ok(task) => self.tick(task),
                    Err(_) => return,
                },
                recv(events) -> event => {
                    let Ok(event) = event else { return };
                    let handled = self.engine.handle(event);
                    self.after(handled);
                }
            }
            if self.exit_when_complete && self.engine.is_complete() && self.engine.is_idle() {
                // 6. leave
                self.announcer.leave(&self.state, self.port);
                info!("complete; exiting as asked (--exit-when-complete)");
                return;
            }
        }
    }

    /// Steps 3 and 4: a timer task, the tracker first, then the engine.
    fn tick(&mut self, task: Task) {
        match task {
            Task::Ping => self.announcer.ping(&self.state, self.port),
            Task::Report => self.report(),
            Task::Rechoke => {
                if self.engine.rechoke() {
                    self.report_unchoked_if_changed();
                }
            }
            Task::Round => {
                if self.engine.is_complete() {
                    return; // rounds stop, and with them `LIST`
                }
                // A failed LIST (the tracker is busy or gone) keeps the last list: the peers
                // we know still hold their pieces.
                if let Some(list) = self.announcer.list(&self.state, self.port) {
                    self.engine.set_listed(list);
                }
                self.engine.round();
            }
        }
    }

    /// Step 5: what a connection event calls for, once the engine has handled it.
    fn after(&mut self, handled: Handled) {
        match handled {
            Handled::Nothing => {}
            Handled::MayFetch if self.continuous => self.engine.round(),
            Handled::MayFetch => {}
            Handled::Completed => self.announcer.completed(&self.state, self.port),
            Handled::UnchokeSetChanged => self.report_unchoked_if_changed(),
        }
    }

    /// `REPORT` with the pieces held and the remotes we unchoke.
    fn report(&mut self) {
        self.unchoked = self.unchoke_set();
        self.announcer
            .report(&self.state, self.port, Some(&self.unchoked));
    }

    /// A `REPORT` now when the set of remotes we unchoke changed since the last one, so
    /// `status` and the status page follow the choker.
    fn report_unchoked_if_changed(&mut self) {
        if self.unchoke_set() != self.unchoked {
            self.report();
        }
    }

    /// The remotes we unchoke, as the tracker names peers: by port when on our own address
    /// (development mode, one host), else by address.
    fn unchoke_set(&self) -> Vec<Unchoked> {
        let own = self.state.local_ip;
        self.engine
            .unchoked_listeners()
            .into_iter()
            .map(|addr| {
                if addr.ip().is_loopback() || own == Some(addr.ip()) {
                    Unchoked::Port(addr.port())
                } else {
                    Unchoked::Addr(addr)
                }
            })
            .collect()
    }
}
