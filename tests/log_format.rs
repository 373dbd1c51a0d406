//! `BTSIM_LOG_FORMAT` on the real binary: the compact format is what a process prints with
//! `compact`, the full one is the default, and a value that names no format is said on stderr
//! and falls back to full. The run is a flood client against a silent loopback socket, which
//! logs a few lines from `main` and stops at its 100 ms timeout.

use std::net::UdpSocket;
use std::process::{Command, Stdio};

fn client_stderr(format: Option<&str>) -> String {
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let contact = silent.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_bittorrent-sim"));
    command
        .args(["flood", "client", &contact, "1", "--timeout", "100ms"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .env_remove("BTSIM_LOG_FORMAT")
        .stdin(Stdio::null());
    if let Some(format) = format {
        command.env("BTSIM_LOG_FORMAT", format);
    }
    let out = command.output().expect("run the binary");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether `line` starts `HH:MM:SS.mmm I main ` (compact) or
/// `YYYY-MM-DDTHH:MM:SS.mmmZ INFO  [main] ` (full).
fn shape(line: &str) -> &'static str {
    let b = line.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        range
            .into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    if digits(0..2)
        && b.get(2) == Some(&b':')
        && b.get(8) == Some(&b'.')
        && digits(9..12)
        && line[12..].starts_with(" I main ")
    {
        "compact"
    } else if digits(0..4)
        && b.get(10) == Some(&b'T')
        && line.get(23..24) == Some("Z")
        && line[24..].starts_with(" INFO  [main] ")
    {
        "full"
    } else {
        "other"
    }
}

fn log_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("bittorrent-sim: "))
        .collect()
}

#[test]
fn compact_and_full_formats_on_the_binary() {
    for (format, want) in [
        (Some("compact"), "compact"),
        (Some("FULL"), "full"),
        (None, "full"),
    ] {
        let stderr = client_stderr(format);
        let lines = log_lines(&stderr);
        assert!(lines.len() >= 3, "{stderr}");
        for line in lines {
            assert_eq!(shape(line), want, "{format:?}: {line:?}");
        }
    }
}

#[test]
fn an_unknown_format_is_said_and_full_is_used() {
    let stderr = client_stderr(Some("tiny"));
    assert!(
        stderr.starts_with(
            "bittorrent-sim: warning: BTSIM_LOG_FORMAT: `tiny` is not a log format (compact or full); using the full log format\n"
        ),
        "{stderr}"
    );
    assert!(
        log_lines(&stderr).iter().all(|l| shape(l) == "full"),
        "{stderr}"
    );
}
