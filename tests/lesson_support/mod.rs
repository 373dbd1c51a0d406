//! The runner behind tests/lessons.rs: extracts the runnable blocks of one handout page
//! (docs/lessons/*.md, fenced blocks whose info string is `sh lesson`) and runs them, in order,
//! as one bash script with `set -euo pipefail`, the way a student pastes them from the
//! repository root. What it does not do: check what the run observed (tests/lessons.rs does,
//! from the files the run wrote).
//!
//! The run happens in a temporary directory that stands in for the repository root: it holds
//! symbolic links to `scenarios/`, `bench/` and `scripts/`, and the blocks write only under
//! `lesson-runs/` there. `$B` names the binary under test; `BTSIM_BIN` points the bench scripts
//! at it, `BENCH_WORK` keeps their work directory in the temporary directory, and `BASE` moves
//! the flood exercises' UDP ports (`BASE+1` to `BASE+5`) off the course's 5001-5005. The script
//! leads its own process group: at the end (or at the deadline) the whole group is killed, so a
//! peer left running in the background by a failed block dies with it.
#![allow(dead_code)] // each test uses a different part

use std::fs;
use std::net::UdpSocket;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bodies of the fenced blocks opened by exactly "```sh lesson", in order.
pub fn blocks(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_end() == "```sh lesson" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => found.extend(current.take()),
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a `sh lesson` block is never closed");
    found
}

/// One finished run of a page's blocks.
pub struct Run {
    /// Stands in for the repository root; the runs are under `lesson-runs/`.
    pub dir: tempfile::TempDir,
    pub code: Option<i32>,
    pub output: String,
}

impl Run {
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}\n{}", self.tail()))
    }

    /// The last 60 lines of the output, for failure messages.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Panics (with the output) unless the blocks ran to the end with exit 0.
    pub fn assert_ok(&self, page: &str) {
        assert_eq!(self.code, Some(0), "{page}:\n{}", self.tail());
    }
}

/// A base for five consecutive free UDP ports on 127.0.0.1 (`base+1` to `base+5`), searched
/// from a start that differs per process and per `salt`.
pub fn free_udp_base(salt: u16) -> u16 {
    let start = 20_000 + (std::process::id() as u16 % 2_000) * 10 + salt * 7;
    (0..2_000u16)
        .map(|i| 20_000 + (start - 20_000 + i * 10) % 40_000)
        .find(|base| {
            let sockets: Vec<_> = (1..=5)
                .filter_map(|i| UdpSocket::bind(("127.0.0.1", base + i)).ok())
                .collect();
            sockets.len() == 5
        })
        .expect("five free UDP ports")
}

/// Runs every `sh lesson` block of docs/lessons/`page` within `limit`, with `env` added.
pub fn run_page(page: &str, env: &[(&str, String)], limit: Duration) -> Run {
    let markdown = fs::read_to_string(root().join("docs/lessons").join(page)).expect(page);
    let body = blocks(&markdown);
    assert!(!body.is_empty(), "{page} has no `sh lesson` block");
    let dir = tempfile::tempdir().expect("tempdir");
    for link in ["scenarios", "bench", "scripts"] {
        std::os::unix::fs::symlink(root().join(link), dir.path().join(link)).expect("symlink");
    }
    let script = dir.path().join("lesson.sh");
    fs::write(&script, format!("set -euo pipefail\n{}", body.join("\n"))).expect("script");
    let log = dir.path().join("lesson.out");
    let file = fs::File::create(&log).expect("log");
    let mut child = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("B", BIN)
        .env("BTSIM_BIN", BIN)
        .env("BENCH_WORK", dir.path().join("bench-work"))
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .process_group(0)
        .spawn()
        .expect("run bash");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Whatever the blocks left running in the background dies with the group.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let mut output = fs::read_to_string(&log).unwrap_or_default();
    if status.is_none() {
        output.push_str(&format!("\n[lessons.rs: killed at the {limit:?} deadline]"));
    }
    Run {
        dir,
        code: status.and_then(|s| s.code()),
        output,
    }
}

/// The rows of a run's events.csv (`time_s,peer,group,event,piece`) as string fields.
pub fn events(run: &Run, run_dir: &str) -> Vec<Vec<String>> {
    let csv = run.read(&format!("{run_dir}/events.csv"));
    assert!(csv.starts_with("time_s,peer,group,event,piece\n"), "{csv}");
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The time of the first `event` of `peer` in `rows`, if any.
pub fn event_time(rows: &[Vec<String>], peer: &str, event: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r[1] == peer && r[3] == event)
        .and_then(|r| r[0].parse().ok())
}

/// The `completed` times of the peers of `group`.
pub fn completions(rows: &[Vec<String>], group: &str) -> Vec<f64> {
    rows.iter()
        .filter(|r| r[2] == group && r[3] == "completed")
        .filter_map(|r| r[0].parse().ok())
        .collect()
}

/// How many messages of `kind` a JSON-lines trace records as sent.
pub fn sent(trace: &str, kind: &str) -> usize {
    let kind = format!("\"type\":\"{kind}\"");
    trace
        .lines()
        .filter(|l| l.contains("\"dir\":\"send\"") && l.contains(&kind))
        .count()
}
