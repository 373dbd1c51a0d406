//! Test harness: real `bittorrent-sim` processes on loopback, their log lines collected as
//! they come, and waits that poll for a condition until a deadline.

#![allow(dead_code)]

pub mod fake;
pub mod interop;
mod sample;
pub mod tool;

#[allow(unused_imports)] // each test binary uses its part
pub use sample::{PIECE, Sample, sample};

use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
/// Debian's Python, the one `python3-libtorrent` installs for.
pub const PYTHON: &str = "/usr/bin/python3";
/// The directory of `lt_common.py`, the libtorrent session set-up the tests share with the
/// benchmarks: the `PYTHONPATH` of every libtorrent script.
pub const LT_COMMON_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench");
/// Every wait in these tests ends by this deadline.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A child process whose stderr lines are collected; killed when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    pub fn start(name: &str, cwd: &Path, args: &[impl AsRef<str>], env: &[(&str, &str)]) -> Proc {
        let mut command = Command::new(BIN);
        command
            .args(args.iter().map(AsRef::as_ref))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command.env("RUST_LOG", "info");
        // A tracker's status page takes any free port unless the test says otherwise, so
        // parallel tests leave the default page port (8080) alone; "" removes a variable.
        command.env("BTSIM_PAGE_PORT", "0");
        for (key, value) in env {
            if value.is_empty() {
                command.env_remove(key);
            } else {
                command.env(key, value);
            }
        }
        let mut child = command.spawn().expect("spawn bittorrent-sim");
        let stderr = child.stderr.take().expect("stderr piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let label = name.to_string();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("TEST_ECHO").is_some() {
                    eprintln!("{label} | {line}");
                }
                sink.lock().expect("lines").push(line);
            }
        });
        Proc {
            name: name.to_string(),
            child,
            lines,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// A field of /proc/PID/status as a number (`Threads`, `VmRSS` in KiB).
    pub fn status_field(&self, field: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = text.lines().find(|l| l.starts_with(&format!("{field}:")))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits until a line contains `needle`; returns it.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_line(|line| line.contains(needle), needle)
    }

    /// Waits until a line satisfies `test`.
    pub fn wait_line(&self, test: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| test(l)) {
                return line;
            }
            if Instant::now() > deadline {
                self.dump();
                panic!("{}: no line with {what:?} within {DEADLINE:?}", self.name);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Lines containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    pub fn dump(&self) {
        for line in self.lines() {
            eprintln!("{} | {line}", self.name);
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                self.dump();
                panic!("{} did not exit", self.name);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if thread::panicking() {
            self.dump();
        }
        self.kill();
    }
}

/// The port at the end of the first line containing `needle` (`... on 0.0.0.0:40123 ...`).
pub fn port_after(line: &str, needle: &str) -> u16 {
    let rest = &line[line.find(needle).expect("needle") + needle.len()..];
    let addr = rest.split_whitespace().next().expect("address");
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// Starts a tracker on a free port (`extra` args appended); returns it and its address.
pub fn tracker(dir: &Path, extra: &[&str]) -> (Proc, SocketAddr) {
    let mut args = vec!["tracker", "--port", "0", "--bind", "127.0.0.1"];
    args.extend_from_slice(extra);
    let proc = Proc::start("tracker", dir, &args, &[]);
    let line = proc.wait_for("tracker listening on ");
    let port = port_after(&line, "tracker listening on ");
    (proc, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Fast timers for tests, as command-line arguments.
pub const FAST: [&str; 6] = [
    "--ping-interval",
    "100ms",
    "--report-interval",
    "100ms",
    "--round-interval",
    "20ms",
];

/// `peer --port PORT --bind 127.0.0.1 --tracker TRACKER` and `extra`: the command line of a
/// loopback peer (0: any free port), for a test that starts it itself (other environment, other
/// output); `peer` below is the usual way.
pub fn peer_args(port: u16, tracker: impl fmt::Display, extra: &[impl AsRef<str>]) -> Vec<String> {
    let mut args: Vec<String> = ["peer", "--port", &port.to_string(), "--bind", "127.0.0.1"]
        .map(String::from)
        .to_vec();
    args.extend(["--tracker".to_string(), tracker.to_string()]);
    args.extend(extra.iter().map(|a| a.as_ref().to_string()));
    args
}

/// Starts a peer on a free port with the [`FAST`] timers; returns it and its port once it has
/// joined the swarm. `tracker` is our tracker's `HOST:PORT` or an HTTP announce URL.
pub fn peer(
    name: &str,
    cwd: &Path,
    tracker: impl fmt::Display,
    extra: &[impl AsRef<str>],
) -> (Proc, u16) {
    let mut args = peer_args(0, tracker, &FAST);
    args.extend(extra.iter().map(|a| a.as_ref().to_string()));
    let proc = Proc::start(name, cwd, &args, &[]);
    let line = proc.wait_for("listening on ");
    let port = port_after(&line, "listening on ");
    proc.wait_for("joined swarm");
    (proc, port)
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn sample_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Writes `data` to `dir/name`, creating `dir`.
pub fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write sample");
    path
}

/// A copy of `data` holding only the listed pieces (zeros elsewhere).
pub fn partial(data: &[u8], piece_len: usize, pieces: impl IntoIterator<Item = usize>) -> Vec<u8> {
    let mut out = vec![0u8; data.len()];
    for index in pieces {
        let start = index * piece_len;
        let end = (start + piece_len).min(data.len());
        out[start..end].copy_from_slice(&data[start..end]);
    }
    out
}

/// Runs `bittorrent-sim create` and returns the torrent's path.
pub fn create_torrent(file: &Path, piece_len: usize, out: &Path) -> PathBuf {
    let status = Command::new(BIN)
        .args([
            "create",
            file.to_str().expect("utf-8 path"),
            "--piece-length",
            &format!("{piece_len}B"),
            "-o",
            out.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("run create");
    assert!(status.success(), "create failed");
    out.to_path_buf()
}

/// A port nobody listens on right now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A free port *below* the kernel's ephemeral range, for a server that a test restarts on the
/// same port: while it is down, no client's outgoing connection can take the port as its
/// source port (which `free_port`'s ports, taken from the ephemeral range, allow).
pub fn restartable_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let start = 10_000u16.min(low / 2);
    let span = low.saturating_sub(start).max(1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let seed = u64::from(std::process::id()) * 7919 + now.map_or(0, |d| d.subsec_nanos().into());
    (0..span)
        .map(|i| start + ((seed + u64::from(i) * 613) % u64::from(span)) as u16)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// Polls `test` until it holds or the deadline passes.
pub fn eventually(what: &str, mut test: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !test() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The piece indices a peer logged as verified, in order.
pub fn verified_pieces(proc: &Proc) -> Vec<(u32, String)> {
    proc.lines()
        .iter()
        .filter_map(|l| {
            let rest = &l[l.find("piece ")?..];
            if !rest.contains(" verified from ") {
                return None;
            }
            let mut words = rest.split_whitespace();
            words.next();
            let index = words.next()?.parse().ok()?;
            words.next();
            words.next();
            let from = words.next()?.trim_end_matches(':').to_string();
            Some((index, from))
        })
        .collect()
}

/// Whether an external tool runs. When it does not: in CI (`CI=true`) the test fails, elsewhere
/// it says how to install the tool and the caller skips.
pub fn have_tool(program: &str, probe: &[&str], package: &str) -> bool {
    let works = Command::new(program)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is missing in CI (apt-get install {package})"
        );
        eprintln!("skipped: {program} not installed (apt-get install {package})");
    }
    works
}
