//! A program that is not ours (aria2c, opentracker, transmission-daemon, a libtorrent
//! script) run by a test: its output in a log file, waits that poll it against a deadline, and
//! kill-and-reap when dropped; and whether such a program is installed at all. What to run
//! (arguments, scripts) is up to the tests and `interop.rs`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{DEADLINE, LT_COMMON_DIR, PYTHON, have_tool};

pub fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are utf-8")
}

/// A program that is not ours (aria2c, opentracker, python), its stdout and stderr going to a
/// log file. Killed and reaped when dropped; its log is printed if the test is failing.
pub struct Tool {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Tool {
    pub fn start(name: &str, program: &str, args: &[&str], cwd: &Path) -> Tool {
        let log = cwd.join(format!("{name}.log"));
        let out = File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = Command::new(program)
            .args(args)
            .env("PYTHONPATH", LT_COMMON_DIR)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({program}): {e}"));
        Tool {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// The Python script `source` (a libtorrent one: `bench/lt_common.py` is on its
    /// `PYTHONPATH`), written to `cwd/FILE` and run with `args`.
    pub fn script(name: &str, file: &str, source: &str, args: &[&str], cwd: &Path) -> Tool {
        let script = cwd.join(file);
        std::fs::write(&script, source).expect("write script");
        let mut all = vec![utf8(&script)];
        all.extend_from_slice(args);
        Tool::start(name, PYTHON, &all, cwd)
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn dump(&self) {
        let output = self.output();
        let lines: Vec<&str> = output.lines().collect();
        for line in &lines[lines.len().saturating_sub(60)..] {
            eprintln!("{} | {line}", self.name);
        }
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Polls the output until `find` picks something out of a line; panics if the program
    /// exits first or the deadline passes.
    pub fn wait_for<T>(&mut self, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(found) = self.output().lines().find_map(&find) {
                return found;
            }
            if let Some(status) = self.exited() {
                // It may have written the line just before exiting.
                if let Some(found) = self.output().lines().find_map(&find) {
                    return found;
                }
                panic!("{} exited ({status}) before logging {what}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not log {what} within {DEADLINE:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls until the program exits; panics (and so kills it) past `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running after {limit:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if thread::panicking() {
            self.dump();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `program` runs; if not, a loud `SKIPPED:` line naming the test (the thread's name),
/// or a failure under `CI=true` ([`have_tool`]).
pub fn installed(program: &str, probe: &[&str], package: &str) -> bool {
    let here = have_tool(program, probe, package);
    if !here {
        let test = thread::current().name().unwrap_or("test").to_string();
        eprintln!("SKIPPED: {test}: {program} is not installed (apt-get install {package})");
    }
    here
}

pub fn libtorrent_installed() -> bool {
    installed(PYTHON, &["-c", "import libtorrent"], "python3-libtorrent")
}

pub fn aria2_installed() -> bool {
    installed("aria2c", &["--version"], "aria2")
}

pub fn mktorrent_installed() -> bool {
    installed("mktorrent", &["-h"], "mktorrent")
}
