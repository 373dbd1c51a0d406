//! `bittorrent-sim scenario FILE`: a lesson as a file. One command runs a swarm the file
//! describes (the shared file, the tracker's timers, groups of peers with their starting
//! pieces, caps, policies and join/leave/crash/rejoin times) as real processes of this same
//! binary on real sockets, and ends with a verdict and pictures.
//!
//! * `parse.rs`: the file format (pure; its doc shows an example);
//! * `plan.rs`: groups into named peers, starting pieces and timed steps (pure);
//! * `run.rs`: the processes, the clock, the verdict (I/O);
//! * `prepare.rs`: the run directory, the shared file, the torrent, the starting copies (I/O);
//! * `summary.rs`: the per-peer table and the verdict on the terminal;
//! * `timeline.rs`: events.csv and the charts' data, rebuilt from the traces (pure);
//! * `chart.rs`: a tiny SVG line-chart writer (pure).
//!
//! It does not speak any protocol itself: every message goes between the child processes.

pub mod chart;
mod child;
pub mod parse;
pub mod plan;
pub mod prepare;
pub mod run;
pub mod summary;
pub mod timeline;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use run::run;

/// What `scenario` is told.
#[derive(Debug, Clone)]
pub struct ScenarioConfig {
    pub file: PathBuf,
    /// Use the file's `[quick]` profile (smaller file, fewer peers, shorter timers).
    pub quick: bool,
    /// The directory the run directory `NAME-TIMESTAMP/` goes in.
    pub out: PathBuf,
    /// Write the run directory exactly here instead.
    pub run_dir: Option<PathBuf>,
}

/// Why a scenario did not pass.
#[derive(Debug)]
pub enum ScenarioError {
    /// The scenario file cannot be read.
    Input { path: PathBuf, source: io::Error },
    /// The scenario file is not valid.
    Parse { path: PathBuf, reason: String },
    /// Files of the run, or the child processes.
    Io { what: String, source: io::Error },
    /// It ran, and its expectations did not hold.
    Failed(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Input { path, source } => {
                write!(f, "cannot read the scenario {}: {source}", path.display())
            }
            ScenarioError::Parse { path, reason } => write!(f, "{} {reason}", path.display()),
            ScenarioError::Io { what, source } => write!(f, "{what}: {source}"),
            ScenarioError::Failed(summary) => write!(f, "scenario failed: {summary}"),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl From<io::Error> for ScenarioError {
    fn from(source: io::Error) -> ScenarioError {
        ScenarioError::Io {
            what: "scenario".into(),
            source,
        }
    }
}

/// Adds what was being done to an I/O error.
pub(crate) fn io_context<T>(
    result: io::Result<T>,
    what: impl FnOnce() -> String,
) -> Result<T, ScenarioError> {
    result.map_err(|source| ScenarioError::Io {
        what: what(),
        source,
    })
}
