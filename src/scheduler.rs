//! The scheduler thread: fires periodic tasks over a crossbeam channel.
//!
//! Each task has its own interval (a crossbeam `tick` channel); the scheduler thread blocks in
//! `select` on all of them and forwards the task that is due to the worker's channel. The
//! worker blocks on that one channel and never needs to know about time. An interval of zero
//! means "never": a task that should run continuously is driven by its worker instead.

use std::io;
use std::time::Duration;

use crossbeam_channel::{Receiver, Select, Sender, never, tick, unbounded};
use log::debug;

use crate::threads::spawn_named;

/// Starts the scheduler thread `name`, firing each `(interval, task)` every interval (the
/// first time one interval after start). The thread ends when the returned receiver is
/// dropped.
pub fn start<T>(name: &str, timers: Vec<(Duration, T)>) -> io::Result<Receiver<T>>
where
    T: Clone + Send + std::fmt::Debug + 'static,
{
    let (tx, rx) = unbounded();
    spawn_named(name, move || run(timers, tx))?;
    Ok(rx)
}

fn run<T: Clone + std::fmt::Debug>(timers: Vec<(Duration, T)>, tasks: Sender<T>) {
    let ticks: Vec<Receiver<_>> = timers
        .iter()
        .map(|(every, _)| {
            if every.is_zero() {
                never()
            } else {
                tick(*every)
            }
        })
        .collect();
    let mut select = Select::new();
    for ticker in &ticks {
        select.recv(ticker);
    }
    loop {
        let ready = select.select();
        let index = ready.index();
        if ready.recv(&ticks[index]).is_err() {
            return;
        }
        let task = timers[index].1.clone();
        debug!("scheduler fires {task:?}");
        if tasks.send(task).is_err() {
            return; // the worker is gone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn each_task_fires_at_its_own_pace() {
        let rx = start(
            "test-scheduler",
            vec![
                (Duration::from_millis(5), "fast"),
                (Duration::from_millis(40), "slow"),
                (Duration::ZERO, "never"),
            ],
        )
        .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        let (mut fast, mut slow) = (0, 0);
        while slow < 2 && Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok("fast") => fast += 1,
                Ok("slow") => slow += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(slow, 2);
        assert!(fast > slow, "fast fired {fast} times, slow {slow}");
    }
}
