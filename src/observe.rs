//! The two teaching options every long-running process takes, `--trace FILE` and
//! `--slow-motion DURATION`, as plain data the subsystems receive in their configuration.
//!
//! Starting them sets process-wide state (the trace file, the slow-motion delay); this file
//! writes no message itself and knows nothing of the command line.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// What a process records and how slowly it talks.
#[derive(Debug, Clone, Default)]
pub struct Observe {
    /// Every message sent or received goes to this file, one JSON object per line.
    pub trace: Option<PathBuf>,
    /// Every message is held back this long before it is sent (zero: not at all).
    pub slow_motion: Duration,
}

impl Observe {
    /// Applies the slow motion and starts the trace, naming the process `process`.
    pub fn start(&self, process: &str) -> io::Result<()> {
        self.start_slow_motion();
        match &self.trace {
            Some(path) => crate::trace::init(path, process),
            None => Ok(()),
        }
    }

    /// Applies the slow motion only: for a process that learns its name (its port or address)
    /// later and starts its trace then.
    pub fn start_slow_motion(&self) {
        crate::net::traced::set_slow_motion(self.slow_motion);
    }
}
