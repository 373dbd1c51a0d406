//! The Mininet topologies (`lab/mininet/`), run for real where Mininet can run: the tracker
//! swarm (`swarm.py`: tracker on h1, a seed and two downloaders) and the flooding assignment
//! (`flood.py`: five peers, two clients) each pass end to end, and `mn --custom ... --topo
//! swarm` builds a network whose hosts all reach one another (`--test pingall`).
//!
//! Every run uses host and switch names with a prefix of its own (`m<pid>h1`, `m<pid>s1`), so
//! it cannot collide with a Mininet someone else runs, and must leave nothing behind: no link
//! bearing the prefix in the machine's namespace, no process carrying `BTMN_RUN=<prefix>` in
//! its environment. A run that hangs gets SIGTERM (the scripts then call `net.stop()`), then
//! SIGKILL; whatever is still there is removed by name (never `mn -c`, which would end every
//! Mininet on the machine) and the test fails.
//!
//! Needs root, Debian's `mininet` package (`mn`, `mnexec`, and the module for /usr/bin/python3)
//! and `brctl` (bridge-utils) for the Linux bridge switch. Without them it prints a loud
//! `SKIPPED (tests/mininet.rs)` banner saying what is missing and passes. Where the kernel has
//! no `sch_netem` the scripts run without delay and loss and say `NETEM UNAVAILABLE`; the test
//! then checks that they said so. One test, so the runs go one at a time.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/marked.rs"]
mod marked;

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
const PYTHON: &str = "/usr/bin/python3";
const POLL: Duration = Duration::from_millis(100);

fn say_skipped(why: &str) {
    let banner = "=".repeat(78);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{banner}\nSKIPPED (tests/mininet.rs): {why}\nThe Mininet topologies (lab/mininet/) \
         were not run; nothing was tested. scripts/setup.sh installs Mininet.\n{banner}"
    );
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What keeps Mininet from running here, if anything.
fn missing() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root (Mininet needs root)".into());
    }
    for (tool, package) in [
        ("mn", "mininet"),
        ("mnexec", "mininet"),
        ("brctl", "bridge-utils"),
    ] {
        if !succeeds("sh", &["-c", &format!("command -v {tool}")]) {
            return Some(format!("no `{tool}` (Debian package {package})"));
        }
    }
    if !succeeds(PYTHON, &["-c", "import mininet"]) {
        return Some(format!(
            "{PYTHON} has no mininet module (Debian package mininet)"
        ));
    }
    None
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lab/mininet")
        .join(name)
}

/// Links in the machine's namespace whose name holds `prefix` (Mininet's switch and the
/// switch ends of the host links live there).
fn links_of(prefix: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link show");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// Pids of the processes carrying `BTMN_RUN=<prefix>`.
fn processes_of(prefix: &str) -> Vec<u32> {
    marked::processes_marked("BTMN_RUN", prefix)
}

/// Removes, by name and pid, whatever a run of `prefix` left; says what it removed.
fn remove_leftovers(prefix: &str) -> Vec<String> {
    let mut removed = Vec::new();
    for pid in processes_of(prefix) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        removed.push(format!("process {pid}"));
    }
    for link in links_of(prefix) {
        let _ = Command::new("ip").args(["link", "del", &link]).status();
        removed.push(format!("link {link}"));
    }
    removed
}

/// Asserts, at the end of a run, that it left nothing; removes it if it did.
fn assert_nothing_left(prefix: &str, what: &str) {
    // The processes have ended by now; their /proc entries may take a moment to go.
    let until = Instant::now() + Duration::from_secs(5);
    while !processes_of(prefix).is_empty() && Instant::now() < until {
        std::thread::sleep(POLL);
    }
    let removed = remove_leftovers(prefix);
    assert!(removed.is_empty(), "{what} left behind: {removed:?}");
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// Runs PROGRAM ARGS (marked with `BTMN_RUN=<prefix>`, output to `log`) to its end, at most
/// `limit`; a run over time gets SIGTERM, then SIGKILL 10 s later. Returns its exit code and
/// output.
fn run(prefix: &str, log: &Path, program: &str, args: &[&str], limit: Duration) -> (i32, String) {
    let file = fs::File::create(log).expect("log file");
    let mut child: Child = Command::new(program)
        .args(args)
        .env("BTMN_RUN", prefix)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .expect("start the run");
    let started = Instant::now();
    let mut signalled: Option<Instant> = None;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > limit && signalled.is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            signalled = Some(Instant::now());
        }
        if signalled.is_some_and(|at| at.elapsed() > Duration::from_secs(10)) {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(POLL);
    };
    let out = String::from_utf8_lossy(&fs::read(log).unwrap_or_default()).into_owned();
    if signalled.is_some() {
        let removed = remove_leftovers(prefix);
        panic!(
            "{program} {args:?} did not finish within {limit:?}; removed {removed:?}:\n{}",
            tail(&out)
        );
    }
    (status.code().unwrap_or(-1), out)
}

/// Where the kernel has no netem the scripts say so loudly; where it has, the links have it.
fn assert_links_described(out: &str) {
    if out.contains("NETEM UNAVAILABLE: running without delay/loss") {
        assert!(out.contains("plain links"), "{}", tail(out));
    } else {
        assert!(out.contains("delay 10ms"), "{}", tail(out));
    }
}

#[test]
fn swarm_and_flood_topologies_pass_in_mininet() {
    if let Some(why) = missing() {
        say_skipped(&why);
        return;
    }
    let started = Instant::now();
    let prefix = format!("m{}", std::process::id() % 100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let work = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let limit = Duration::from_secs(90);
    let common = ["--bin", BIN, "--prefix", &prefix, "--timeout", "60"];

    // The tracker swarm: tracker, seed and 2 downloaders on 4 hosts.
    let swarm = script("swarm.py").to_string_lossy().into_owned();
    let mut args = vec![swarm.as_str(), "--peers", "3", "--size", "256KiB"];
    args.extend(["--piece-length", "16KiB", "--workdir"]);
    let swarm_work = work("swarm");
    args.push(&swarm_work);
    args.extend(common);
    let (code, out) = run(&prefix, &dir.path().join("swarm.out"), PYTHON, &args, limit);
    assert_nothing_left(&prefix, "swarm.py");
    assert_eq!(code, 0, "swarm.py failed:\n{}", tail(&out));
    assert!(
        out.contains("== PASS: all 2 peers complete"),
        "{}",
        tail(&out)
    );
    for i in 3..=4 {
        assert!(out.contains(&format!("h{i} 10.0.0.{i}: complete")), "{out}");
        assert!(
            out.contains(&format!("/h{i}/lab-file.bin identical")),
            "{out}"
        );
        assert!(out.contains(&format!("PEER 10.0.0.{i} 7001 0-15")), "{out}");
    }
    assert!(out.contains("PEER 10.0.0.2 7001 0-15"), "{out}");
    assert!(out.contains("== torn down"), "{}", tail(&out));
    assert_links_described(&out);
    let original = fs::read(dir.path().join("swarm/seed/lab-file.bin")).expect("the original");
    assert_eq!(original.len(), 256 << 10);
    for i in 3..=4 {
        let copy = fs::read(dir.path().join(format!("swarm/h{i}/lab-file.bin"))).expect("a copy");
        assert!(copy == original, "h{i}'s copy differs");
    }

    // The flood assignment: five peers, two clients.
    let flood = script("flood.py").to_string_lossy().into_owned();
    let flood_work = work("flood");
    let mut args = vec![flood.as_str(), "--client-timeout", "1s", "--workdir"];
    args.push(&flood_work);
    args.extend(common);
    let (code, out) = run(&prefix, &dir.path().join("flood.out"), PYTHON, &args, limit);
    assert_nothing_left(&prefix, "flood.py");
    assert_eq!(code, 0, "flood.py failed:\n{}", tail(&out));
    assert!(
        out.contains("== PASS: client 1 got 5,6,7"),
        "{}",
        tail(&out)
    );
    assert_links_described(&out);
    let logs = dir.path().join("flood/flood");
    let log1 = fs::read_to_string(logs.join("output-10.0.0.6.log")).expect("client 1's log");
    let mut got1: Vec<&str> = log1.lines().filter_map(|l| l.split(" - ").nth(1)).collect();
    got1.sort_unstable();
    assert_eq!(got1, ["5", "6", "7"], "{log1}");
    let log2 = fs::read_to_string(logs.join("output-10.0.0.7.log")).expect("client 2's log");
    assert_eq!(log2.lines().last(), Some("0.0.0.0:0 - 4"), "{log2}");
    assert_eq!(log2.lines().count(), 5, "{log2}");

    // The topology under Mininet's own command line, with names of our own.
    let topo = format!("swarm,3,prefix={prefix}");
    let custom = script("swarm.py").to_string_lossy().into_owned();
    let mn_args = [
        "--custom",
        &custom,
        "--topo",
        &topo,
        "--switch",
        "lxbr",
        "--controller",
        "none",
        "--test",
        "pingall",
    ];
    let (code, out) = run(&prefix, &dir.path().join("mn.out"), "mn", &mn_args, limit);
    assert_nothing_left(&prefix, "mn --custom");
    assert_eq!(code, 0, "mn failed:\n{}", tail(&out));
    assert!(
        out.contains("Results: 0% dropped (6/6 received)"),
        "{}",
        tail(&out)
    );
    eprintln!(
        "tests/mininet.rs: both topologies and mn --custom in {:?}",
        started.elapsed()
    );
}
