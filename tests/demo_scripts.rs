//! The demos a newcomer runs: `./test.sh` (headless) and `./test.sh flood` must exit 0 from a
//! clean checkout. They use the fixed ports of the course (6000, 7001-7004, 5001-5005), so
//! both run in this one test, one after the other. Every shell script of the repository is
//! also checked with `shellcheck` (when installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `./test.sh ARGS` to the end (within `limit`); returns its exit code and output.
fn run_demo(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    // Output goes to a file: a pipe read only at the end would fill and block the demo.
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut child = Command::new("bash")
        .arg(format!("{root}/test.sh"))
        .args(args)
        .current_dir(root)
        .env("CI", "true")
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
