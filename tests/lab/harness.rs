//! The harness of `lab.rs`: whether the lab can run here, what a run leaves behind (its
//! namespaces, processes and links), and a `Run` of `lab/lab.sh` in the background that is
//! stopped and checked for leftovers when dropped.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[path = "../common/marked.rs"]
mod marked;

use super::{BIN, ONE_AT_A_TIME, POLL};
/// Names of the links the lab creates, always inside its namespaces.
pub(crate) fn is_lab_link(name: &str) -> bool {
    let name = name.split('@').next().unwrap_or(name);
    matches!(name, "br0" | "eth0" | "probe0" | "probe1")
        || (name.len() > 1
            && name.starts_with('h')
            && name[1..].chars().all(|c| c.is_ascii_digit()))
}

pub(crate) fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/lab.sh")
}

/// Says on stderr, past the test harness's capture so it shows in every log, why a test did
/// not run.
pub(crate) fn say_skipped(why: &str) {
    let banner = "=".repeat(78);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{banner}\nSKIPPED (tests/lab.rs): {why}\nThe lab needs root and network namespaces \
         (ip netns add); nothing was tested.\n{banner}"
    );
}

/// Whether the lab can run here; says why not when it cannot.
pub(crate) fn lab_available(prefix: &str) -> bool {
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        say_skipped("not root");
        return false;
    }
    let out = Command::new("bash")
        .arg(script())
        .args(["check", "--prefix", prefix])
        .stdin(Stdio::null())
        .output()
        .expect("run lab.sh check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => true,
        Some(77) => {
            say_skipped(text.trim());
            false
        }
        _ => panic!("lab.sh check failed ({}):\n{text}", out.status),
    }
}

/// A run's prefix, unique to this process and test.
pub(crate) fn prefix(test: &str) -> String {
    format!("btlabt{}{test}", std::process::id())
}

pub(crate) fn namespaces_of(prefix: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(&format!("{prefix}-")))
        .map(str::to_owned)
        .collect()
}

/// Pids of the processes carrying `BTLAB_RUN=<prefix>`.
pub(crate) fn processes_of(prefix: &str) -> Vec<u32> {
    marked::processes_marked("BTLAB_RUN", prefix)
}

/// What of the root namespace the lab must never touch: its addresses and routes in 10.99.0.x,
/// and its links that bear a lab link's name.
pub(crate) fn root_namespace() -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for args in [
        &["-o", "-4", "addr", "show"][..],
        &["-4", "route", "show", "table", "all"][..],
    ] {
        if let Ok(out) = Command::new("ip").args(args).output() {
            lines.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| l.contains("10.99.0."))
                    .map(str::to_owned),
            );
        }
    }
    if let Ok(out) = Command::new("ip").args(["-o", "link", "show"]).output() {
        lines.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split(": ").nth(1))
                .filter(|name| is_lab_link(name))
                .map(|name| format!("link {name}")),
        );
    }
    lines
}

/// Fails if the root namespace gained a lab address, route or link since `before`.
pub(crate) fn assert_root_namespace_untouched(prefix: &str, before: &BTreeSet<String>) {
    let now = root_namespace();
    let added: Vec<&String> = now.difference(before).collect();
    assert!(
        added.is_empty(),
        "{prefix}: the lab touched the root namespace: {added:?}"
    );
}

/// A run of lab.sh; on drop, anything it left behind (after a failed assertion) is removed.
pub(crate) struct Run {
    pub(crate) prefix: String,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
    pub(crate) root_before: BTreeSet<String>,
    pub(crate) _lock: std::sync::MutexGuard<'static, ()>,
}

impl Run {
    pub(crate) fn start(prefix: &str, args: &[&str]) -> Run {
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let root_before = root_namespace();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("lab.out");
        let file = fs::File::create(&log).expect("log file");
        let work = dir.path().join("work");
        let child = Command::new("bash")
            .arg(script())
            .args(args)
            .args(["--bin", BIN, "--prefix", prefix])
            .arg("--workdir")
            .arg(&work)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("run lab/lab.sh");
        Run {
            prefix: prefix.to_owned(),
            dir,
            child,
            log,
            root_before,
            _lock: lock,
        }
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub(crate) fn output(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits for the script to end (checking the root namespace meanwhile), at most `limit`.
    pub(crate) fn wait(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert_root_namespace_untouched(&self.prefix, &self.root_before);
            if started.elapsed() > limit {
                self.stop();
                panic!(
                    "{}: lab.sh did not finish within {limit:?}:\n{}",
                    self.prefix,
                    tail(&self.output())
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends SIGTERM (lab.sh cleans up), then SIGKILL if it is still there 15 s later.
    pub(crate) fn stop(&mut self) {
        signal(self.child.id(), "TERM");
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs `lab.sh ARGS` to its end (at most 90 s) and asserts that it passed and left nothing
    /// behind; returns the run and its output.
    pub(crate) fn passing(prefix: &str, args: &[&str]) -> (Run, String) {
        let mut run = Run::start(prefix, args);
        let status = run.wait(Duration::from_secs(90));
        let out = run.output();
        assert!(
            status.success(),
            "lab.sh {} failed ({status}):\n{}",
            args[0],
            tail(&out)
        );
        assert!(out.contains("== PASS"), "{}", tail(&out));
        run.assert_nothing_left();
        (run, out)
    }

    /// Asserts that the run left no namespace and no process behind.
    pub(crate) fn assert_nothing_left(&self) {
        assert_eq!(
            namespaces_of(&self.prefix),
            Vec::<String>::new(),
            "namespaces left behind:\n{}",
            tail(&self.output())
        );
        // A process killed a moment ago may still be on its way out.
        let until = Instant::now() + Duration::from_secs(5);
        while !processes_of(&self.prefix).is_empty() && Instant::now() < until {
            std::thread::sleep(POLL);
        }
        assert_eq!(
            processes_of(&self.prefix),
            Vec::<u32>::new(),
            "processes left behind"
        );
        assert_root_namespace_untouched(&self.prefix, &self.root_before);
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        if !namespaces_of(&self.prefix).is_empty() {
            let _ = Command::new("bash")
                .arg(script())
                .args(["clean", "--prefix", &self.prefix])
                .stdin(Stdio::null())
                .status();
        }
        for pid in processes_of(&self.prefix) {
            signal(pid, "KILL");
        }
    }
}

pub(crate) fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
