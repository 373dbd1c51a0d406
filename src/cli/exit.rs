//! Errors as exit codes, in one place: [`Failure`] is what any subcommand can fail with, and
//! [`ExitStatus`] gives every error its sysexits.h number. The subsystems return errors and
//! know no exit code; `main.rs` prints the error and exits with the number chosen here.

use std::fmt;
use std::io;

use crate::diagram::DiagramError;
use crate::flood::FloodError;
use crate::flood::keyvalues::KeyValuesError;
use crate::metainfo::MetainfoError;
use crate::peer::PeerError;
use crate::scenario::ScenarioError;
use crate::tracker::TrackerError;

/// 1: any other failure.
pub const FAILURE: u8 = 1;
/// 2: bad arguments (clap uses the same number for the ones it rejects).
pub const USAGE: u8 = 2;
/// 65, EX_DATAERR: a corrupt .torrent, key-values file or trace.
pub const DATA: u8 = 65;
/// 66, EX_NOINPUT: a missing or unreadable file.
pub const NO_INPUT: u8 = 66;
/// 69, EX_UNAVAILABLE: the tracker cannot be reached.
pub const UNAVAILABLE: u8 = 69;
/// 73, EX_CANTCREAT: cannot write the output.
pub const CANT_CREATE: u8 = 73;
/// 74, EX_IOERR.
pub const IO: u8 = 74;
/// 75, EX_TEMPFAIL: the port is taken, try another.
pub const TEMP: u8 = 75;

/// The exit code an error makes the process end with.
pub trait ExitStatus {
    fn exit_code(&self) -> u8;
}

/// A failure of any subcommand.
#[derive(Debug)]
pub enum Failure {
    /// An argument clap could not check (a tracker address, a .torrent without a tracker).
    Usage(String),
    Tracker(TrackerError),
    Peer(PeerError),
    Metainfo(MetainfoError),
    Flood(FloodError),
    Diagram(DiagramError),
    Scenario(ScenarioError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(e) => write!(f, "{e}"),
            Failure::Tracker(e) => write!(f, "{e}"),
            Failure::Peer(e) => write!(f, "{e}"),
            Failure::Metainfo(e) => write!(f, "{e}"),
            Failure::Flood(e) => write!(f, "{e}"),
            Failure::Diagram(e) => write!(f, "{e}"),
            Failure::Scenario(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<TrackerError> for Failure {
    fn from(e: TrackerError) -> Failure {
        Failure::Tracker(e)
    }
}

impl From<PeerError> for Failure {
    fn from(e: PeerError) -> Failure {
        Failure::Peer(e)
    }
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Failure {
        Failure::Scenario(e)
    }
}

impl From<MetainfoError> for Failure {
    fn from(e: MetainfoError) -> Failure {
        Failure::Metainfo(e)
    }
}

impl From<FloodError> for Failure {
    fn from(e: FloodError) -> Failure {
        Failure::Flood(e)
    }
}

impl From<DiagramError> for Failure {
    fn from(e: DiagramError) -> Failure {
        Failure::Diagram(e)
    }
}

impl ExitStatus for Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => USAGE,
            Failure::Tracker(e) => e.exit_code(),
            Failure::Peer(e) => e.exit_code(),
            Failure::Metainfo(e) => e.exit_code(),
            Failure::Flood(e) => e.exit_code(),
            Failure::Diagram(e) => e.exit_code(),
            Failure::Scenario(e) => e.exit_code(),
        }
    }
}

impl ExitStatus for ScenarioError {
    fn exit_code(&self) -> u8 {
        match self {
            ScenarioError::Input { source, .. } | ScenarioError::Io { source, .. } => {
                source.exit_code()
            }
            ScenarioError::Parse { .. } => DATA,
            ScenarioError::Failed(_) => FAILURE,
        }
    }
}

impl ExitStatus for io::Error {
    fn exit_code(&self) -> u8 {
        match self.kind() {
            io::ErrorKind::NotFound => NO_INPUT,
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => CANT_CREATE,
            io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable => TEMP,
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::TimedOut
            | io::ErrorKind::HostUnreachable => UNAVAILABLE,
            _ => IO,
        }
    }
}

impl ExitStatus for MetainfoError {
    fn exit_code(&self) -> u8 {
        match self {
            MetainfoError::Io { source, .. } => source.exit_code(),
            _ => DATA,
        }
    }
}

impl ExitStatus for TrackerError {
    fn exit_code(&self) -> u8 {
        match self {
            TrackerError::Torrent(e) => e.exit_code(),
            TrackerError::Bind { source, .. } => source.exit_code(),
            TrackerError::Io(e) => e.exit_code(),
        }
    }
}

impl ExitStatus for PeerError {
    fn exit_code(&self) -> u8 {
        match self {
            PeerError::Bind { source, .. } => source.exit_code(),
            PeerError::Tracker { .. } | PeerError::NoMetadata { .. } => UNAVAILABLE,
            PeerError::WhichSwarm(_) | PeerError::NeedTorrent => USAGE,
            PeerError::Metainfo(e) => e.exit_code(),
            PeerError::Storage(e) => match e.kind() {
                io::ErrorKind::NotFound => NO_INPUT,
                _ => CANT_CREATE,
            },
            PeerError::Io(e) => e.exit_code(),
        }
    }
}

impl ExitStatus for KeyValuesError {
    fn exit_code(&self) -> u8 {
        match self {
            KeyValuesError::Missing { .. } => NO_INPUT,
            KeyValuesError::Syntax { .. } | KeyValuesError::ChunkTooLarge { .. } => DATA,
            KeyValuesError::Io { .. } => IO,
        }
    }
}

impl ExitStatus for FloodError {
    fn exit_code(&self) -> u8 {
        match self {
            FloodError::KeyValues(e) => e.exit_code(),
            FloodError::Io { .. } => IO,
            FloodError::Other(_) => FAILURE,
        }
    }
}

impl ExitStatus for DiagramError {
    fn exit_code(&self) -> u8 {
        match self {
            DiagramError::Input { .. } => NO_INPUT,
            DiagramError::Parse { .. } => DATA,
            DiagramError::Output { .. } => CANT_CREATE,
            DiagramError::Usage(_) => USAGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_errors_follow_sysexits() {
        let missing = io::Error::from(io::ErrorKind::NotFound);
        let kv = KeyValuesError::Missing {
            path: "kv".into(),
            source: missing,
        };
        assert_eq!(FloodError::from(kv).exit_code(), 66);
        assert_eq!(FloodError::Other("x".into()).exit_code(), 1);
        assert_eq!(FloodError::from(io::Error::other("x")).exit_code(), 74);
    }

    #[test]
    fn diagram_errors_follow_sysexits() {
        let io = || io::Error::from(io::ErrorKind::NotFound);
        let input = DiagramError::Input {
            path: "t".into(),
            source: io(),
        };
        assert_eq!(input.exit_code(), 66);
        let parse = DiagramError::Parse {
            path: "t".into(),
            line: 1,
            reason: "x".into(),
        };
        assert_eq!(parse.exit_code(), 65);
        let output = DiagramError::Output {
            path: "o".into(),
            source: io(),
        };
        assert_eq!(output.exit_code(), 73);
        assert_eq!(DiagramError::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn a_taken_port_is_a_temporary_failure() {
        let taken = io::Error::from(io::ErrorKind::AddrInUse);
        assert_eq!(Failure::Peer(PeerError::Io(taken)).exit_code(), 75);
        assert_eq!(Failure::Usage("x".into()).exit_code(), 2);
    }
}
