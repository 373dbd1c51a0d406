//! Runs a scenario: the same binary as child processes on real sockets, timed from the file.
//!
//! 1. read and parse the file (`parse.rs`), make the run directory, the shared file, its
//!    torrent and the peers' starting copies (`prepare.rs`);
//! 2. start the tracker (child processes: `child.rs`) (`tracker --trace`), wait until its port accepts a connection;
//! 3. every 50 ms: apply the steps that are due (join: start the peer; leave: SIGTERM; crash:
//!    SIGKILL; rejoin: start it again on its port and directory), and read the new lines of
//!    each running peer's log for `download complete`;
//! 4. stop once every staying peer completed and every step ran, or at the deadline: SIGKILL
//!    every child and reap it;
//! 5. compare every staying peer's copy with the original byte for byte;
//! 6. from the traces (`timeline.rs`): `events.csv` and three SVG charts; the sequence diagram;
//! 7. print the summary: `Ok` when every staying peer holds an identical copy, else
//!    [`ScenarioError::Failed`] (exit 1).
//!
//! The log is read only to know when to stop; the verdict is the byte comparison and the
//! pictures come from the traces.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::child::{log_says_complete, millis, peer_command, spawn, trace_path};
use super::parse;
use super::plan::{self, Action};
use super::{ScenarioConfig, ScenarioError, io_context, prepare, summary, timeline};
use crate::diagram::{self, model, select::Selection};

const TICK: Duration = Duration::from_millis(50);
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A peer while the scenario runs.
pub(super) struct Running {
    pub(super) port: u16,
    pub(super) ip: IpAddr,
    pub(super) dir: PathBuf,
    child: Option<Child>,
    /// How many times it was started (its trace files are NAME.jsonl, NAME-2.jsonl...).
    pub(super) runs: usize,
    log_offset: u64,
    complete: bool,
    /// It ended without being told to.
    exited: bool,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Runs the scenario of `config`; see the file's doc for the flow.
pub fn run(config: ScenarioConfig) -> Result<(), ScenarioError> {
    // Step 1.
    let text = fs::read_to_string(&config.file).map_err(|source| ScenarioError::Input {
        path: config.file.clone(),
        source,
    })?;
    let stem = config
        .file
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let scenario = parse::parse(&text, &stem, config.quick).map_err(|e| ScenarioError::Parse {
        path: config.file.clone(),
        reason: e.to_string(),
    })?;
    let dir = prepare::run_dir(&config.out, &scenario.name, config.run_dir.as_deref())?;
    let dir = fs::canonicalize(&dir).unwrap_or(dir);
    let any_bind = scenario
        .groups
        .iter()
        .any(|g| g.bind.is_some_and(|ip| ip != LOCALHOST));
    let tracker_ip = if any_bind {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        LOCALHOST
    };
    let tracker_port = prepare::free_port(LOCALHOST, &[])?;
    let tracker = SocketAddr::new(LOCALHOST, tracker_port);
    let scenario_dir = config.file.parent().unwrap_or(Path::new("."));
    let (data, torrent, meta) = prepare::shared_file(&scenario, scenario_dir, &dir, tracker)?;
    let n = meta.num_pieces();
    let (peers, steps) = plan::plan(&scenario, n).map_err(|reason| ScenarioError::Parse {
        path: config.file.clone(),
        reason,
    })?;
    let dirs = prepare::starting_copies(&dir, &data, &meta, &peers)?;
    let mut taken = vec![tracker_port];
    let mut running = Vec::new();
    for (peer, peer_dir) in peers.iter().zip(dirs) {
        let ip = scenario.groups[peer.group].bind.unwrap_or(LOCALHOST);
        let port = prepare::free_port(ip, &taken)?;
        taken.push(port);
        running.push(Running {
            port,
            ip,
            dir: peer_dir,
            child: None,
            runs: 0,
            log_offset: 0,
            complete: peer.start.is_complete(),
            exited: false,
        });
    }
    println!(
        "scenario {}: {} peers in {} groups, {} bytes in {n} pieces; run directory {}",
        scenario.name,
        peers.len(),
        scenario.groups.len(),
        meta.length,
        dir.display()
    );

    // Step 2.
    let exe = io_context(std::env::current_exe(), || {
        "cannot find this program".into()
    })?;
    let mut tracker_cmd = Command::new(&exe);
    tracker_cmd.args(["tracker", "--port", &tracker_port.to_string()]);
    tracker_cmd.args(["--bind", &tracker_ip.to_string()]);
    tracker_cmd.args(["--cleanup-interval", &millis(scenario.cleanup_interval)]);
    tracker_cmd.arg("--torrent").arg(&torrent);
    tracker_cmd
        .arg("--trace")
        .arg(dir.join("traces/tracker.jsonl"));
    if any_bind {
        tracker_cmd.arg("--remote");
    }
    let mut tracker_child = spawn(tracker_cmd, &dir.join("logs/tracker.log"))?;
    let up = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&tracker, Duration::from_millis(200)).is_err() {
        if Instant::now() > up || matches!(tracker_child.try_wait(), Ok(Some(_))) {
            let _ = tracker_child.kill();
            let _ = tracker_child.wait();
            return Err(ScenarioError::Failed(format!(
                "the tracker did not start: see {}",
                dir.join("logs/tracker.log").display()
            )));
        }
        thread::sleep(TICK);
    }

    // Step 3.
    let start = Instant::now();
    let t0 = now_secs();
    let mut done: Vec<(f64, usize, Action)> = Vec::new();
    let mut next = 0;
    let outcome = loop {
        let elapsed = start.elapsed();
        while next < steps.len() && steps[next].at <= elapsed {
            let step = steps[next];
            next += 1;
            let r = &mut running[step.peer];
            match step.action {
                Action::Join | Action::Rejoin => {
                    r.runs += 1;
                    if step.action == Action::Rejoin {
                        // A new port, as a restarted client gets a new peer id: the tracker
                        // refuses the old port's identity (its key) until it drops it.
                        r.port = prepare::free_port(r.ip, &taken)?;
                        taken.push(r.port);
                    }
                    let cmd = peer_command(
                        &exe,
                        &scenario,
                        &peers[step.peer],
                        r,
                        tracker,
                        &torrent,
                        &dir,
                    );
                    let log = dir.join(format!("logs/{}.log", peers[step.peer].name));
                    r.child = Some(spawn(cmd, &log)?);
                    r.exited = false;
                }
                Action::Leave => {
                    if let Some(child) = &r.child {
                        let _ = Command::new("kill")
                            .args(["-TERM", &child.id().to_string()])
                            .status();
                    }
                }
                Action::Crash => {
                    if let Some(child) = &mut r.child {
                        let _ = child.kill();
                    }
                }
            }
            if matches!(step.action, Action::Leave | Action::Crash)
                && let Some(mut child) = r.child.take()
            {
                let _ = child.wait();
            }
            done.push((start.elapsed().as_secs_f64(), step.peer, step.action));
            println!(
                "{:>7.2}s  {} {}",
                start.elapsed().as_secs_f64(),
                peers[step.peer].name,
                step.action.word()
            );
        }
        for (i, r) in running.iter_mut().enumerate() {
            if !r.complete
                && r.child.is_some()
                && log_says_complete(&dir, &peers[i].name, &mut r.log_offset)
            {
                r.complete = true;
                println!(
                    "{:>7.2}s  {} complete",
                    start.elapsed().as_secs_f64(),
                    peers[i].name
                );
            }
            // A peer that ended on its own (a refused option, a crash) will not complete.
            if let Some(child) = &mut r.child
                && let Ok(Some(status)) = child.try_wait()
            {
                r.child = None;
                r.exited = true;
                println!(
                    "{:>7.2}s  {} exited on its own ({status}): see logs/{}.log",
                    start.elapsed().as_secs_f64(),
                    peers[i].name,
                    peers[i].name
                );
            }
        }
        let pending = |peer: usize| steps[next..].iter().any(|s| s.peer == peer);
        if peers
            .iter()
            .zip(&running)
            .enumerate()
            .any(|(i, (p, r))| p.stays && !r.complete && r.exited && !pending(i))
        {
            break "a peer that should finish exited";
        }
        let all_done = next == steps.len()
            && peers
                .iter()
                .zip(&running)
                .all(|(p, r)| !p.stays || r.complete);
        if all_done {
            break "every staying peer completed";
        }
        if elapsed > scenario.deadline {
            break "deadline reached";
        }
        thread::sleep(TICK);
    };
    let end = start.elapsed().as_secs_f64();

    // Step 4.
    for child in running
        .iter_mut()
        .filter_map(|r| r.child.as_mut())
        .chain([&mut tracker_child])
    {
        let _ = child.kill();
        let _ = child.wait();
    }

    // Step 5.
    let original = io_context(fs::read(&data), || {
        format!("cannot read {}", data.display())
    })?;
    let verdicts: Vec<Option<bool>> = peers
        .iter()
        .zip(&running)
        .map(|(p, r)| {
            p.stays
                .then(|| fs::read(r.dir.join(&meta.name)).is_ok_and(|copy| copy == original))
        })
        .collect();

    // Step 6.
    let mut traces = Vec::new();
    let mut trace_files = vec![dir.join("traces/tracker.jsonl")];
    for (p, r) in peers.iter().zip(&running) {
        let mut lines = Vec::new();
        for run in 1..=r.runs {
            let path = trace_path(&dir, &p.name, run);
            // A crash can cut the last line short: keep what parses.
            if let Ok(text) = fs::read_to_string(&path) {
                lines.extend(text.lines().filter_map(|l| model::parse_line(l).ok()));
            }
            trace_files.push(path);
        }
        traces.push(lines);
    }
    let group_names: Vec<String> = scenario.groups.iter().map(|g| g.name.clone()).collect();
    let timeline = timeline::build(&peers, n, &done, &traces, t0, end);
    write(&dir.join("events.csv"), &timeline.csv(&peers, &group_names))?;
    write(
        &dir.join("pieces-over-time.svg"),
        &timeline.download_curve(&peers).to_svg(),
    )?;
    write(
        &dir.join("availability.svg"),
        &timeline.availability(&peers).to_svg(),
    )?;
    write(
        &dir.join("completion.svg"),
        &timeline.completion(&peers).to_svg(),
    )?;
    let selection = Selection {
        fold: true,
        max_messages: scenario.max_messages,
        ..Selection::default()
    };
    trace_files.retain(|p| p.exists());
    match diagram::build(&trace_files, &selection) {
        Ok(d) => {
            write(&dir.join("diagram.md"), &d.mermaid())?;
            write(&dir.join("diagram.svg"), &d.svg())?;
        }
        Err(e) => println!("no sequence diagram: {e}"),
    }

    // Step 7.
    summary::print(&scenario, &peers, &verdicts, &timeline, outcome, &dir)
}

fn write(path: &Path, text: &str) -> Result<(), ScenarioError> {
    io_context(fs::write(path, text), || {
        format!("cannot write {}", path.display())
    })
}
