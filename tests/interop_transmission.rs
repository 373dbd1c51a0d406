//! Transmission downloads from a swarm of only our peers. Transmission ignores peers on
//! 127.0.0.0/8, so this test builds two network namespaces joined by a veth pair: ours
//! (10.78.0.1 our tracker, 10.78.0.11-13 our peers) and the client's (10.78.0.2, where
//! `transmission-daemon` runs with its default settings but DHT, LPD and port mapping: so uTP is
//! tried first, MSE is preferred and PEX is on). Our seed and two peers that first complete
//! from it serve the file; Transmission must complete it byte for byte before a deadline, and
//! our complete peers, which keep asking the tracker for its list, dial it too.
//!
//! Not root, no `ip netns`, no transmission-daemon: a loud SKIPPED banner, and the test returns.
//! The namespaces and every process in them are removed when the test ends, on failure too.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");
const SUBNET: &str = "10.78.0";
const CLIENT_IP: &str = "10.78.0.2";
const FILE_LEN: usize = 2 * 1024 * 1024 + 12_345;
/// How long each step (a process listening, our peers completing, Transmission completing) may
/// take.
const DEADLINE: Duration = Duration::from_secs(90);

fn skipped(why: &str) {
    eprintln!("\n{0}\nSKIPPED: {why}\n{0}", "=".repeat(78));
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) {
    assert!(run("ip", args).is_some(), "ip {} failed", args.join(" "));
}

/// Two namespaces, `PREFIX-o` (ours) and `PREFIX-c` (the client's), joined by a veth pair.
/// Dropping it ends every process inside them and deletes them.
struct Network {
    ours: String,
    client: String,
    children: Vec<Child>,
}

impl Network {
    /// None when this machine cannot create a namespace.
    fn new() -> Option<Network> {
        let prefix = format!("bttr{}", std::process::id());
        let (ours, client) = (format!("{prefix}-o"), format!("{prefix}-c"));
        run("ip", &["netns", "add", &ours])?;
        let net = Network {
            ours,
            client,
            children: Vec::new(),
        };
        ip(&["netns", "add", &net.client]);
        let (o, c) = (net.ours.as_str(), net.client.as_str());
        for ns in [o, c] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        ip(&[
            "-n", o, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", c,
        ]);
        for host in [1, 11, 12, 13] {
            ip(&[
                "-n",
                o,
                "addr",
                "add",
                &format!("{SUBNET}.{host}/24"),
                "dev",
                "eth0",
            ]);
        }
        ip(&[
            "-n",
            c,
            "addr",
            "add",
            &format!("{CLIENT_IP}/24"),
            "dev",
            "eth0",
        ]);
        for ns in [o, c] {
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
        }
        Some(net)
    }

    /// Starts PROGRAM ARGS in namespace NS, its output to LOG.
    fn spawn(&mut self, ns: &str, log: &Path, program: &str, args: &[&str]) {
        let out = File::create(log).expect("create log");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.children.push(child);
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in [&self.client, &self.ours] {
            for pid in run("ip", &["netns", "pids", ns])
                .unwrap_or_default()
                .split_whitespace()
            {
                let _ = run("kill", &["-KILL", pid]);
            }
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.client, &self.ours] {
            let _ = run("ip", &["netns", "del", ns]);
        }
    }
}

/// Polls `test` every 50 ms until it holds; panics with `what` and `context()` at the deadline.
fn eventually(what: &str, context: impl Fn() -> String, mut test: impl FnMut() -> bool) {
    let started = Instant::now();
    while !test() {
        assert!(
            started.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting for {what}\n{}",
            context()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn tail(path: &Path) -> String {
    let text = read(path);
    let lines: Vec<&str> = text.lines().collect();
    format!(
        "--- {}\n{}",
        path.display(),
        lines[lines.len().saturating_sub(40)..].join("\n")
    )
}

#[test]
fn transmission_downloads_from_a_swarm_of_only_our_peers() {
    if run("id", &["-u"]).as_deref().map(str::trim) != Some("0") {
        return skipped("needs root (network namespaces)");
    }
    if run("transmission-daemon", &["--version"]).is_none()
        || run("transmission-remote", &["--version"]).is_none()
    {
        return skipped(
            "transmission-daemon or transmission-remote not installed (apt-get install transmission-daemon)",
        );
    }
    let Some(mut net) = Network::new() else {
        return skipped("cannot create a network namespace (ip netns add)");
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let (ours, client) = (net.ours.clone(), net.client.clone());
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let s = |p: &Path| p.to_str().expect("utf-8 path").to_string();

    // The file, and our torrent announcing to our tracker over HTTP.
    std::fs::create_dir_all(path("seed")).expect("mkdir");
    let mut x: u32 = 12_345;
    let data: Vec<u8> = (0..FILE_LEN)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    let file = path("seed/movie.bin");
    std::fs::write(&file, &data).expect("write file");
    let torrent = s(&path("movie.torrent"));
    let announce = format!("http://{SUBNET}.1:6969/announce");
    let created = run(
        BIN,
        &[
            "create",
            &s(&file),
            "--piece-length",
            "64KiB",
            "--tracker",
            &announce,
            "-o",
            &torrent,
        ],
    );
    assert!(created.is_some(), "bittorrent-sim create failed");

    let tracker_ip = format!("{SUBNET}.1");
    net.spawn(
        &ours,
        &path("tracker.log"),
        BIN,
        &[
            "tracker",
            "--remote",
            "--bind",
            &tracker_ip,
            "--port",
            "6969",
            "--no-page-port",
            "--announce-interval",
            "5s",
            "--torrent",
            &torrent,
        ],
    );
    let tracker_log = path("tracker.log");
    eventually(
        "our tracker",
        || tail(&tracker_log),
        || read(&tracker_log).contains("tracker listening on"),
    );

    // Our seed, then two peers of ours that complete from it and so hold the whole file too.
    let tracker = format!("{tracker_ip}:6969");
    for n in 1..=3 {
        let bind = format!("{SUBNET}.{}", 10 + n);
        let port = format!("{}", 7000 + n);
        let copy = s(&path(&format!("copy{n}")));
        let mut args = vec![
            "peer",
            "--port",
            &port,
            "--bind",
            &bind,
            "--tracker",
            &tracker,
            "--min-peers",
            "1",
            "--round-interval",
            "0",
            "--parallel",
            "4",
            "--ping-interval",
            "1s",
            "--report-interval",
            "1s",
        ];
        if n == 1 {
            args.extend([
                "--seed",
                file.to_str().expect("utf-8"),
                "--piece-length",
                "64KiB",
            ]);
        } else {
            args.extend(["--torrent", &torrent, "--dir", &copy]);
        }
        let log = path(&format!("our{n}.log"));
        net.spawn(&ours, &log, BIN, &args);
        eventually(
            "our peer listening",
            || tail(&log),
            || read(&log).contains("listening on"),
        );
    }
    for n in 2..=3 {
        let log = path(&format!("our{n}.log"));
        eventually(
            "our peer to complete",
            || tail(&log),
            || read(&log).contains("download complete"),
        );
    }

    // Transmission, defaults but DHT, LPD and port mapping; RPC on the namespace's loopback.
    let config = s(&path("transmission"));
    let download = s(&path("transmission-dl"));
    let tr_log = path("transmission.log");
    net.spawn(
        &client,
        &tr_log,
        "transmission-daemon",
        &[
            "--foreground",
            "--config-dir",
            &config,
            "--download-dir",
            &download,
            "--rpc-bind-address",
            "127.0.0.1",
            "--port",
            "9091",
            "--no-auth",
            "--no-dht",
            "--no-lpd",
            "--no-portmap",
            "--log-info",
        ],
    );
    let remote = |args: &[&str]| -> Option<String> {
        let mut all = vec![
            "netns",
            "exec",
            client.as_str(),
            "transmission-remote",
            "127.0.0.1:9091",
        ];
        all.extend_from_slice(args);
        run("ip", &all)
    };
    eventually(
        "transmission-daemon's RPC",
        || tail(&tr_log),
        || remote(&["-l"]).is_some(),
    );
    let started = Instant::now();
    assert!(remote(&["--add", &torrent]).is_some_and(|o| o.contains("success")));
    let info = || remote(&["-t", "1", "-i"]).unwrap_or_default();
    let context = || format!("{}\n{}\n{}", info(), tail(&tr_log), tail(&path("our2.log")));
    eventually("Transmission to complete", context, || {
        info().contains("Percent Done: 100%")
    });
    let took = started.elapsed();

    let copy = Path::new(&download).join("movie.bin");
    eventually(
        "Transmission's copy to be identical",
        || tail(&tr_log),
        || std::fs::read(&copy).is_ok_and(|bytes| bytes == data),
    );
    // Who served it, and which of our complete peers dialed Transmission themselves.
    let mut served = 0;
    let mut dialed = Vec::new();
    for n in 1..=3 {
        let log = read(&path(&format!("our{n}.log")));
        if log
            .lines()
            .any(|l| l.contains(CLIENT_IP) && l.contains("send piece"))
        {
            served += 1;
        }
        if log
            .lines()
            .any(|l| l.contains(&format!("{CLIENT_IP}:51413: connected")))
        {
            dialed.push(n);
        }
    }
    eprintln!(
        "transmission completed {FILE_LEN} bytes in {took:.2?}; {served} of our 3 peers sent pieces; \
         our peers {dialed:?} dialed it"
    );
    assert!(served >= 1);
    assert!(
        dialed.iter().any(|&n| n > 1),
        "no complete peer of ours (2, 3) dialed Transmission at {CLIENT_IP}:51413\n{}",
        tail(&path("our2.log"))
    );
}
