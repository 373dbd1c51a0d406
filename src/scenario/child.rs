//! The scenario's child processes: the `peer` command line a group's options make, where its
//! trace goes, starting a child with its output in its log, and reading that log for the line
//! that says a download completed. The schedule (who starts when) is `run.rs`'s.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::parse::Scenario;
use super::plan::PlannedPeer;
use super::run::Running;
use super::{ScenarioError, io_context};

/// `peer` with the scenario's timers and the group's options, tracing to its own file.
pub(super) fn peer_command(
    exe: &Path,
    scenario: &Scenario,
    peer: &PlannedPeer,
    r: &Running,
    tracker: SocketAddr,
    torrent: &Path,
    dir: &Path,
) -> Command {
    let group = &scenario.groups[peer.group];
    let mut cmd = Command::new(exe);
    cmd.args([
        "peer",
        "--port",
        &r.port.to_string(),
        "--bind",
        &r.ip.to_string(),
    ]);
    cmd.args(["--tracker", &tracker.to_string()]);
    cmd.arg("--torrent").arg(torrent).arg("--dir").arg(&r.dir);
    cmd.args(["--min-peers", &scenario.min_peers.to_string()]);
    cmd.args(["--ping-interval", &millis(scenario.ping_interval)]);
    cmd.args(["--report-interval", &millis(scenario.report_interval)]);
    cmd.args(["--round-interval", &millis(scenario.round_interval)]);
    cmd.args([
        "--upload-rate",
        &group.up.to_string(),
        "--download-rate",
        &group.down.to_string(),
    ]);
    if let Some(picker) = &group.picker {
        cmd.args(["--picker", picker]);
    }
    if let Some(choking) = &group.choking {
        cmd.args(["--choking", choking]);
    }
    if group.free_ride {
        cmd.arg("--free-ride");
    }
    cmd.args(&group.args);
    cmd.arg("--trace").arg(trace_path(dir, &peer.name, r.runs));
    cmd
}

pub(super) fn trace_path(dir: &Path, name: &str, run: usize) -> PathBuf {
    match run {
        1 => dir.join(format!("traces/{name}.jsonl")),
        n => dir.join(format!("traces/{name}-{n}.jsonl")),
    }
}

pub(super) fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// Starts `cmd` with its output appended to `log`.
pub(super) fn spawn(mut cmd: Command, log: &Path) -> Result<Child, ScenarioError> {
    let what = || format!("cannot start {cmd:?}");
    let out = io_context(
        OpenOptions::new().create(true).append(true).open(log),
        || format!("cannot write {}", log.display()),
    )?;
    let err = io_context(out.try_clone(), what)?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .env("RUST_LOG", "info")
        .spawn();
    io_context(child, || format!("cannot start {}", log.display()))
}

/// Whether the log lines written since `offset` say the download completed.
pub(super) fn log_says_complete(dir: &Path, name: &str, offset: &mut u64) -> bool {
    let Ok(mut file) = File::open(dir.join(format!("logs/{name}.log"))) else {
        return false;
    };
    let mut text = String::new();
    if file.seek(SeekFrom::Start(*offset)).is_err() || file.read_to_string(&mut text).is_err() {
        return false;
    }
    // Keep a partial last line for the next read.
    let whole = text.rfind('\n').map_or(0, |i| i + 1);
    *offset += whole as u64;
    text[..whole].contains("download complete")
}
