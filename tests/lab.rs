//! The lab (`lab/lab.sh`): hosts as network namespaces behind a switch namespace, 20 ms delay
//! (+/- 5 ms) and 1 % loss on every host's egress, a 100 Mbit/s rate limit.
//!
//! * A tracker (`--remote`) and 8 peers on 9 hosts: every peer completes with a byte-identical
//!   copy, and the tracker (asked `SWARMS`, then `LIST <info-hash> 1`) lists the 8 peers each
//!   under its own 10.99.0.x address.
//! * The flood assignment's topology on 7 hosts: both clients' logs are what the assignment
//!   expects.
//! * Ctrl+C (SIGINT) in the middle of a run tears everything down.
//!
//! Every run must leave nothing behind: no namespace named with its prefix, no process of it
//! (each carries `BTLAB_RUN=<prefix>` in its environment), and while it runs the machine's own
//! namespace never gets a 10.99.0.x address or route nor one of the lab's links.
//!
//! Needs root and network namespaces. Without them (not root, or a CI sandbox that forbids
//! `ip netns add`) each test says loudly on stderr that it is skipped and passes: the lab cannot
//! be built there, which is a fact about the machine, not a bug. `lab.sh check` decides.
//! The runs go one at a time: two cores shared by three labs would only make each slower.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One lab at a time (see the module doc).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
const POLL: Duration = Duration::from_millis(200);
/// Names of the links the lab creates, always inside its namespaces.
fn is_lab_link(name: &str) -> bool {
    let name = name.split('@').next().unwrap_or(name);
    matches!(name, "br0" | "eth0" | "probe0" | "probe1")
        || (name.len() > 1
            && name.starts_with('h')
            && name[1..].chars().all(|c| c.is_ascii_digit()))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/lab.sh")
}

/// Says on stderr, past the test harness's capture so it shows in every log, why a test did
/// not run.
fn say_skipped(why: &str) {
    let banner = "=".repeat(78);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{banner}\nSKIPPED (tests/lab.rs): {why}\nThe lab needs root and network namespaces \
         (ip netns add); nothing was tested.\n{banner}"
    );
}

/// Whether the lab can run here; says why not when it cannot.
fn lab_available(prefix: &str) -> bool {
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
fn prefix(test: &str) -> String {
    format!("btlabt{}{test}", std::process::id())
}

fn namespaces_of(prefix: &str) -> Vec<String> {
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
fn processes_of(prefix: &str) -> Vec<u32> {
    let marker = format!("BTLAB_RUN={prefix}");
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == marker.as_bytes()))
        })
        .collect()
}

/// What of the root namespace the lab must never touch: its addresses and routes in 10.99.0.x,
/// and its links that bear a lab link's name.
fn root_namespace() -> BTreeSet<String> {
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
fn assert_root_namespace_untouched(prefix: &str, before: &BTreeSet<String>) {
    let now = root_namespace();
    let added: Vec<&String> = now.difference(before).collect();
    assert!(
        added.is_empty(),
        "{prefix}: the lab touched the root namespace: {added:?}"
    );
}

/// A run of lab.sh; on drop, anything it left behind (after a failed assertion) is removed.
struct Run {
    prefix: String,
    dir: tempfile::TempDir,
    child: Child,
    log: PathBuf,
    root_before: BTreeSet<String>,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Run {
    fn start(prefix: &str, args: &[&str]) -> Run {
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

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn output(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits for the script to end (checking the root namespace meanwhile), at most `limit`.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
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
    fn stop(&mut self) {
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
    fn passing(prefix: &str, args: &[&str]) -> (Run, String) {
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
    fn assert_nothing_left(&self) {
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

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// The links of the issue: 20 ms delay, 5 ms jitter, 1 % loss, 100 Mbit/s.
const LINKS: [&str; 8] = [
    "--delay", "20ms", "--jitter", "5ms", "--loss", "1%", "--rate", "100mbit",
];

#[test]
fn tracker_and_8_peers_on_9_namespaced_hosts_with_delay_and_loss_all_complete() {
    let prefix = prefix("s");
    if !lab_available(&prefix) {
        return;
    }
    let mut args = vec!["swarm", "--hosts", "9"];
    args.extend(LINKS);
    args.extend([
        "--file-size",
        "2MiB",
        "--piece-length",
        "64KiB",
        "--ping-interval",
        "1s",
        "--report-interval",
        "1s",
        "--timeout",
        "60s",
    ]);
    let started = Instant::now();
    let (run, out) = Run::passing(&prefix, &args);

    // Every copy is the original, byte for byte.
    let work = run.work();
    let original = fs::read(work.join("seed/lab-file.bin")).expect("original");
    assert_eq!(original.len(), 2 << 20);
    for host in 3..=9 {
        let copy = fs::read(work.join(format!("h{host}/lab-file.bin")))
            .unwrap_or_else(|e| panic!("host {host} has no copy: {e}"));
        assert!(
            copy == original,
            "host {host}'s copy differs from the original"
        );
        let log = fs::read_to_string(work.join(format!("logs/h{host}.log"))).expect("log");
        assert!(
            log.contains("download complete: ") && log.contains("lab-file.bin verified"),
            "host {host} never logged its completion"
        );
    }

    // The tracker's LIST reply (printed by lab.sh): 8 peers, each under its own address.
    let peers: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PEER "))
        .map(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            (words[0].to_owned(), words[1].to_owned())
        })
        .collect();
    let addresses: BTreeSet<&str> = peers.iter().map(|(ip, _)| ip.as_str()).collect();
    let expected: BTreeSet<String> = (2..=9).map(|i| format!("10.99.0.{i}")).collect();
    assert_eq!(
        peers.len(),
        8,
        "the tracker should list 8 peers:\n{}",
        tail(&out)
    );
    assert_eq!(
        addresses,
        expected.iter().map(String::as_str).collect(),
        "{}",
        tail(&out)
    );
    assert!(out.contains("PEERS 8"), "{}", tail(&out));

    // The delay is on the links: a TCP connect plus one request is two round trips of
    // 2 x (20 ms +/- 5 ms), so at least 60 ms.
    let probe: u64 = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("== host 2 -> tracker: TCP connect + one request = ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no round-trip probe in the output:\n{}", tail(&out)));
    assert!(
        probe >= 60,
        "2 round trips took {probe} ms: is the delay applied?"
    );

    // The summary names every host with its time to completion and bytes uploaded.
    for host in 2..=9 {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("h{host} "))
                    && l.contains(&format!("10.99.0.{host}"))),
            "the summary lacks host {host}:\n{}",
            tail(&out)
        );
    }
    eprintln!("swarm lab run took {:?}", started.elapsed());
}

/// Checks a client's log as the assignment expects: each `ip:port - id` line names the host
/// of a peer holding that chunk (peer n is 10.99.0.n:500n), the received chunk equals its
/// source, the ids received are `want`, and `absent` ends the log as `0.0.0.0:0 - id`.
fn check_client_log(flood: &Path, client_ip: &str, want: &[u32], absent: Option<u32>) {
    let holds: [&[u32]; 5] = [&[5, 6, 7, 8], &[1, 2], &[3, 6, 7, 8], &[6, 7, 8], &[9, 10]];
    let name = format!("output-{client_ip}.log");
    let log = fs::read_to_string(flood.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut got = Vec::new();
    let mut missing = Vec::new();
    for line in log.lines() {
        let (addr, id) = line
            .split_once(" - ")
            .unwrap_or_else(|| panic!("{name}: bad line {line:?}"));
        let id: u32 = id
            .parse()
            .unwrap_or_else(|_| panic!("{name}: bad id in {line:?}"));
        if addr == "0.0.0.0:0" {
            missing.push(id);
            continue;
        }
        let (ip, port) = addr.split_once(':').expect("ip:port");
        let peer: usize = ip
            .strip_prefix("10.99.0.")
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=5).contains(n))
            .unwrap_or_else(|| panic!("{name}: {addr} is no peer's host"));
        assert_eq!(port, format!("500{peer}"), "{name}: {line}");
        assert!(
            holds[peer - 1].contains(&id),
            "{name}: peer {peer} does not hold {id}"
        );
        let chunk = format!("BigBuckBunny_{id}.m4s");
        assert_eq!(
            fs::read(flood.join(format!("chunks-{client_ip}")).join(&chunk)).expect("chunk"),
            fs::read(flood.join(&chunk)).expect("source chunk"),
            "{name}: chunk {id} differs from its source"
        );
        got.push(id);
    }
    got.sort_unstable();
    assert_eq!(got, want, "{name}: chunks received\n{log}");
    assert_eq!(
        missing,
        absent.into_iter().collect::<Vec<_>>(),
        "{name}\n{log}"
    );
    if let Some(id) = absent {
        assert_eq!(
            log.lines().last(),
            Some(format!("0.0.0.0:0 - {id}").as_str())
        );
    }
}

#[test]
fn flood_topology_on_7_namespaced_hosts_gives_the_assignments_client_logs() {
    let prefix = prefix("f");
    if !lab_available(&prefix) {
        return;
    }
    let mut args = vec!["flood"];
    args.extend(LINKS);
    args.extend(["--client-timeout", "5s", "--timeout", "60s"]);
    let started = Instant::now();
    let (run, out) = Run::passing(&prefix, &args);

    let flood = run.work().join("flood");
    check_client_log(&flood, "10.99.0.6", &[5, 6, 7], None);
    check_client_log(&flood, "10.99.0.7", &[1, 3, 5, 9], Some(4));
    // The summary prints both logs.
    assert!(out.contains("output-10.99.0.6.log") && out.contains("0.0.0.0:0 - 4"));
    eprintln!("flood lab run took {:?}", started.elapsed());
}

#[test]
fn ctrl_c_in_the_middle_of_a_run_leaves_nothing_behind() {
    let prefix = prefix("i");
    if !lab_available(&prefix) {
        return;
    }
    // Big and slow enough (16 MiB at 4 Mbit/s: half a minute) to be interrupted mid-download.
    let mut run = Run::start(
        &prefix,
        &[
            "swarm",
            "--hosts",
            "4",
            "--file-size",
            "16MiB",
            "--rate",
            "4mbit",
            "--timeout",
            "120s",
        ],
    );
    let until = Instant::now() + Duration::from_secs(60);
    while !run.output().contains("== waiting for") {
        assert!(
            run.child.try_wait().expect("try_wait").is_none(),
            "lab.sh ended early:\n{}",
            tail(&run.output())
        );
        assert!(
            Instant::now() < until,
            "the lab never got going:\n{}",
            tail(&run.output())
        );
        std::thread::sleep(POLL);
    }
    assert_eq!(namespaces_of(&prefix).len(), 5, "a switch and 4 hosts");
    assert!(processes_of(&prefix).len() >= 4, "tracker and 3 peers");
    signal(run.child.id(), "INT");
    let status = run.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{}", tail(&run.output()));
    assert!(run.output().contains("lab: interrupted"));
    run.assert_nothing_left();
}
