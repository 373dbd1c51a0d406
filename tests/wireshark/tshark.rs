//! Driving `tshark` for `wireshark.rs`: the capture started before the swarm and stopped after
//! it, and the dissection of the capture file into frames with the fields the test checks.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::POLL;
use super::common::*;

pub(crate) fn tshark_command() -> Command {
    let mut command = Command::new("tshark");
    // `-n`: no name resolution (no DNS look-ups from the test).
    command.arg("-n").stdin(Stdio::null());
    command
}

/// A running `tshark -i lo` capture. tshark leads its own process group, so its `dumpcap`
/// child is signalled with it; dropping the capture kills the group.
///
/// tshark's "Capturing on" line comes before dumpcap has opened the interface (it is printed
/// even when dumpcap then fails for want of permission), and packets reach the file in order but
/// not at once (libpcap hands them over in blocks). So the test syncs with the file instead: it
/// writes a marker on a connection of its own (to a port in the capture filter) until the
/// marker shows up in the file. Once it does, the capture is live and every packet sent before
/// the marker is in the file.
pub(crate) struct Capture {
    pub(crate) child: Child,
    pub(crate) stderr: Arc<Mutex<Vec<String>>>,
    pub(crate) file: PathBuf,
    /// The test's own connection, to `_listener`, that carries the markers.
    pub(crate) marker: TcpStream,
    pub(crate) _listener: TcpListener,
    pub(crate) stopped: bool,
}

impl Capture {
    /// Captures `tcp port P` for each of `ports` and of `listener`'s port into `file`; returns
    /// once the capture is live. `Err` holds tshark's stderr when it exited instead (no
    /// permission, ...).
    pub(crate) fn start(
        ports: &[u16],
        listener: TcpListener,
        file: &Path,
    ) -> Result<Capture, String> {
        let marker_port = listener.local_addr().expect("addr").port();
        let filter = ports
            .iter()
            .chain([&marker_port])
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut child = tshark_command()
            .args(["-i", "lo", "-f", &filter, "-w"])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn tshark");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let pipe = child.stderr.take().expect("stderr piped");
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if std::env::var_os("TEST_ECHO").is_some() {
                    eprintln!("tshark | {line}");
                }
                sink.lock().expect("stderr").push(line);
            }
        });
        let marker = TcpStream::connect(("127.0.0.1", marker_port)).expect("connect marker");
        let mut capture = Capture {
            child,
            stderr,
            file: file.to_path_buf(),
            marker,
            _listener: listener,
            stopped: false,
        };
        capture.sync("capture started")?;
        Ok(capture)
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").join("\n")
    }

    pub(crate) fn signal_group(&self, signal: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
    }

    /// Sends `label` on the marker connection (again every 100 ms) until the capture file holds
    /// it. `Err` with tshark's stderr when tshark exits first.
    pub(crate) fn sync(&mut self, label: &str) -> Result<(), String> {
        let marker = format!("[bittorrent-sim test marker: {label}]");
        let deadline = Instant::now() + DEADLINE;
        let mut sent = Instant::now() - Duration::from_secs(1);
        loop {
            if sent.elapsed() >= Duration::from_millis(100) {
                self.marker
                    .write_all(marker.as_bytes())
                    .expect("write marker");
                sent = Instant::now();
            }
            thread::sleep(POLL);
            let bytes = std::fs::read(&self.file).unwrap_or_default();
            if bytes.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.stopped = true;
                // let the reader thread take the last lines
                thread::sleep(Duration::from_millis(100));
                return Err(format!("tshark exited ({status}):\n{}", self.stderr()));
            }
            assert!(
                Instant::now() < deadline,
                "the marker {marker:?} did not reach {} within {DEADLINE:?}; tshark:\n{}",
                self.file.display(),
                self.stderr()
            );
        }
    }

    /// Ctrl-C, as in a terminal: tshark and dumpcap finish the file and exit.
    pub(crate) fn stop(&mut self) {
        self.signal_group("-INT");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.stopped = true;
                assert!(status.success(), "tshark: {status}\n{}", self.stderr());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tshark did not stop within {DEADLINE:?}"
            );
            thread::sleep(POLL);
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if !self.stopped {
            self.signal_group("-KILL");
            let _ = self.child.wait();
        }
    }
}

/// Whether a capture may run here; otherwise says why on stderr (or fails under CI).
pub(crate) fn may_run(capture: &Result<Capture, String>) -> bool {
    let Err(why) = capture else {
        return true;
    };
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let denied = why.contains("ermission") || why.contains("not permitted");
    assert!(!ci && denied, "tshark cannot capture on lo: {why}");
    eprintln!(
        "skipped: tshark may not capture on lo (run as root or give dumpcap CAP_NET_RAW): {why}"
    );
    false
}

/// What the dissector made of one frame.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) number: u64,
    pub(crate) handshakes: usize,
    /// (message id, length prefix) of each message, keep-alives left out.
    pub(crate) messages: Vec<(u8, u32)>,
    pub(crate) keep_alives: usize,
    pub(crate) bitfields: Vec<String>,
    pub(crate) piece_indices: Vec<u32>,
    pub(crate) block_lengths: Vec<u32>,
    /// "Continuation data": bytes the dissector could not frame as a message.
    pub(crate) continuation: bool,
    pub(crate) malformed: bool,
    /// Cut short by the capture's snapshot length, so not fully dissected.
    pub(crate) truncated: bool,
    /// The texts of the frame's expert infos at error level.
    pub(crate) errors: Vec<String>,
}

pub(crate) const FIELDS: [&str; 12] = [
    "frame.number",
    "bittorrent.protocol.name",
    "bittorrent.msg.type",
    "bittorrent.msg.length",
    "bittorrent.msg.bitfield",
    "bittorrent.piece.index",
    "bittorrent.piece.length",
    "bittorrent.continuous_data",
    "_ws.malformed",
    "_ws.short",
    "_ws.expert.severity",
    "_ws.expert.message",
];

/// Expert info severity `error` (`PI_ERROR`).
pub(crate) const SEVERITY_ERROR: u32 = 0x0080_0000;

/// `tshark -r` arguments: every peer port decoded as BitTorrent, and only the frames to or from
/// one shown (not the test's marker connection), those that also match `filter` if given.
pub(crate) fn read_args(ports: &[u16], filter: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ports
        .iter()
        .flat_map(|p| ["-d".to_string(), format!("tcp.port=={p},bittorrent")])
        .collect();
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let peers = format!("tcp.port in {{{}}}", list.join(", "));
    args.push("-Y".to_string());
    args.push(match filter {
        Some(filter) => format!("({peers}) && ({filter})"),
        None => peers,
    });
    args
}

/// Decodes `file` with every peer port dissected as BitTorrent; one entry per frame.
pub(crate) fn dissect(file: &Path, ports: &[u16]) -> Vec<Frame> {
    let mut command = tshark_command();
    command.arg("-r").arg(file).args(read_args(ports, None));
    command.args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;"]);
    for field in FIELDS {
        command.args(["-e", field]);
    }
    let output = command.output().expect("run tshark -r");
    assert!(
        output.status.success(),
        "tshark -r failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list = |text: &str| -> Vec<String> {
        text.split(';')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let numbers = |text: &str| -> Vec<u32> {
        list(text)
            .iter()
            .map(|n| match n.strip_prefix("0x") {
                // fields shown in hex (piece index, begin, length) come as 0x0000001b
                Some(hex) => u32::from_str_radix(hex, 16).expect("hex number"),
                None => n.parse().expect("number"),
            })
            .collect()
    };
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), FIELDS.len(), "tshark line {line:?}");
            let types = numbers(cols[2]);
            let lengths = numbers(cols[3]);
            let keep_alives = lengths.iter().filter(|&&l| l == 0).count();
            let lengths: Vec<u32> = lengths.into_iter().filter(|&l| l != 0).collect();
            assert_eq!(types.len(), lengths.len(), "types and lengths of {line:?}");
            let severities = numbers(cols[10]);
            let texts = list(cols[11]);
            let errors = severities
                .iter()
                .zip(
                    texts
                        .iter()
                        .map(String::as_str)
                        .chain(std::iter::repeat("?")),
                )
                .filter(|(s, _)| **s >= SEVERITY_ERROR)
                .map(|(_, t)| t.to_string())
                .collect();
            Frame {
                number: cols[0].parse().expect("frame number"),
                handshakes: list(cols[1]).len(),
                messages: types.iter().map(|&t| t as u8).zip(lengths).collect(),
                keep_alives,
                bitfields: list(cols[4]),
                piece_indices: numbers(cols[5]),
                block_lengths: numbers(cols[6]),
                continuation: !cols[7].is_empty(),
                malformed: !cols[8].is_empty(),
                truncated: !cols[9].is_empty(),
                errors,
            }
        })
        .collect()
}

/// The text summary of the frames matching `filter` (for failure messages).
pub(crate) fn summary(file: &Path, ports: &[u16], filter: &str) -> String {
    let output = tshark_command()
        .arg("-r")
        .arg(file)
        .args(read_args(ports, Some(filter)))
        .output()
        .expect("run tshark -r");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
