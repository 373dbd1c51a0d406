//! The demos a newcomer runs: `./test.sh` (headless) and `./test.sh flood` must exit 0 from a
//! clean checkout. They use the fixed ports of the course (6000, 7001-7004, 5001-5005), so
//! the tests that start them take [`FIXED_PORTS`] and run one after the other. The tmux modes
//! run on a private tmux server (`TMUX_TMPDIR`), detached: their panes' command lines and
//! titles are read back with `tmux list-panes`. Every shell script of the repository is also
//! checked with `shellcheck` (when installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Held by every test that runs a demo: they all use the course's fixed ports.
static FIXED_PORTS: Mutex<()> = Mutex::new(());

/// Runs `./test.sh ARGS` to the end (within `limit`); returns its exit code and output.
fn run_demo(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    run_demo_env(args, &[], limit)
}

/// [`run_demo`] with extra environment variables.
fn run_demo_env(args: &[&str], env: &[(&str, &Path)], limit: Duration) -> (Option<i32>, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    // Output goes to a file: a pipe read only at the end would fill and block the demo.
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut child = Command::new("bash")
        .arg(format!("{root}/test.sh"))
        .args(args)
        .current_dir(root)
        .env("CI", "true")
        .env_remove("TMUX")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("run test.sh");
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&std::fs::read(log.path()).expect("read log")).into_owned();
    (status.code(), text)
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn the_demos_exit_0_and_every_copy_and_log_is_right() {
    let _ports = FIXED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let (code, out) = run_demo(&["--headless"], Duration::from_secs(600));
    assert_eq!(
        code,
        Some(0),
        "./test.sh --headless failed:\n{}",
        tail(&out)
    );
    assert!(
        out.contains("PASS: all 4 copies are identical"),
        "{}",
        tail(&out)
    );

    let (code, out) = run_demo(&["flood"], Duration::from_secs(600));
    assert_eq!(code, Some(0), "./test.sh flood failed:\n{}", tail(&out));
    assert!(
        out.contains("0.0.0.0:0 - 4"),
        "client 2 must log chunk 4 as not found:\n{}",
        tail(&out)
    );
}

/// `tmux ARGS` on the private server of `tmux_dir`; its stdout.
fn tmux(tmux_dir: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .env("TMUX_TMPDIR", tmux_dir)
        .env_remove("TMUX")
        .output()
        .expect("run tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have_tmux() -> bool {
    let works = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!(
            "\n{0}\nSKIPPED: tmux not installed (apt-get install tmux)\n{0}",
            "=".repeat(78)
        );
    }
    works
}

/// Polls `test` on the panes' titles until it holds or 180 s passed; the last titles.
fn wait_titles(tmux_dir: &Path, target: &str, test: impl Fn(&[&str]) -> bool) -> String {
    let started = Instant::now();
    loop {
        let titles = tmux(
            tmux_dir,
            &["list-panes", "-t", target, "-F", "#{pane_title}"],
        );
        if test(&titles.lines().collect::<Vec<_>>()) || started.elapsed() > Duration::from_secs(180)
        {
            return titles;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn test_sh_tmux_panes_log_compactly_and_title_their_progress() {
    if !have_tmux() {
        return;
    }
    let _ports = FIXED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let tmux_dir = tempfile::tempdir().expect("tmux dir");
    let env = [("TMUX_TMPDIR", tmux_dir.path())];
    let (code, out) = run_demo_env(&["tmux"], &env, Duration::from_secs(600));
    let stop = || run_demo_env(&["stop"], &env, Duration::from_secs(60));
    if code != Some(0) {
        stop();
        panic!("./test.sh tmux failed:\n{}", tail(&out));
    }
    let commands = tmux(
        tmux_dir.path(),
        &[
            "list-panes",
            "-t",
            "bittorrent-sim",
            "-F",
            "#{pane_start_command}",
        ],
    );
    // Every peer's title ends with its progress, then `complete, seeding` (all four).
    let titles = wait_titles(tmux_dir.path(), "bittorrent-sim", |titles| {
        titles
            .iter()
            .filter(|t| t.contains("complete, seeding"))
            .count()
            >= 4
    });
    let log = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test-run/swarm/logs/peer3.log"),
    )
    .unwrap_or_default();
    stop();
    assert_eq!(commands.lines().count(), 5, "{commands}");
    for command in commands.lines() {
        assert!(command.contains("BTSIM_LOG_FORMAT=compact"), "{command}");
    }
    // Peers 3 and 4 start empty: they download, so their titles show it.
    for peer in [
        "peer3 127.0.0.1:7003 · complete, seeding",
        "peer4 127.0.0.1:7004 · complete, seeding",
    ] {
        assert!(titles.contains(peer), "no title {peer:?} in:\n{titles}");
    }
    // Compact lines: `06:19:29.560 I p7003-...`, no date.
    let first = log
        .lines()
        .find(|l| l.contains("listening on"))
        .unwrap_or_default();
    assert!(
        first.len() > 13 && first.as_bytes()[2] == b':' && first.as_bytes()[12] == b' ',
        "not the compact format: {first:?}"
    );
}

#[test]
fn flood_tmux_titles_its_seven_panes() {
    if !have_tmux() {
        return;
    }
    let _ports = FIXED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let tmux_dir = tempfile::tempdir().expect("tmux dir");
    let env = [("TMUX_TMPDIR", tmux_dir.path())];
    let (code, out) = run_demo_env(&["flood", "tmux"], &env, Duration::from_secs(600));
    let titles = tmux(
        tmux_dir.path(),
        &[
            "list-panes",
            "-t",
            "bittorrent-sim-flood",
            "-F",
            "#{pane_title}",
        ],
    );
    tmux(tmux_dir.path(), &["kill-server"]);
    assert_eq!(
        code,
        Some(0),
        "./test.sh flood tmux failed:\n{}",
        tail(&out)
    );
    let mut titles: Vec<&str> = titles.lines().collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        [
            "client 1 (asks 127.0.0.1:5001)",
            "client 2 (asks 127.0.0.1:5004)",
            "peer 1 127.0.0.1:5001",
            "peer 2 127.0.0.1:5002",
            "peer 3 127.0.0.1:5003",
            "peer 4 127.0.0.1:5004",
            "peer 5 127.0.0.1:5005",
        ]
    );
}

/// Every `*.sh` under `dir`, skipping build output and hidden directories.
fn shell_scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("read dir");
    for entry in entries.map(|e| e.expect("dir entry")) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "test-run" {
            continue;
        }
        if path.is_dir() {
            shell_scripts(&path, out);
        } else if name.ends_with(".sh") {
            out.push(path);
        }
    }
}

#[test]
fn every_shell_script_is_clean_under_shellcheck() {
    let works = Command::new("shellcheck")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!("SKIPPED: shellcheck not installed (apt-get install shellcheck)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = Vec::new();
    shell_scripts(root, &mut scripts);
    scripts.sort();
    for name in ["test.sh", "lab/lab.sh", "scripts/setup.sh", "bench/lib.sh"] {
        assert!(scripts.contains(&root.join(name)), "{name} not found");
    }
    // -x follows `source`, so the functions a library file defines count as used.
    let out = Command::new("shellcheck")
        .arg("-x")
        .args(&scripts)
        .current_dir(root)
        .output()
        .expect("run shellcheck");
    assert!(
        out.status.success(),
        "shellcheck found problems:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
