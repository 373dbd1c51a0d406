//! Wireshark reads our wire format: a small swarm (tracker, seed, two leechers) runs on loopback
//! while `tshark` captures the peers' ports, then Wireshark's BitTorrent dissector decodes the
//! capture. Every message type a download uses must show up, decoded with the lengths BEP 3
//! gives it, and the dissector must report nothing malformed.
//!
//! The peers listen on fixed free ports so the capture filter (`tcp port P or ...`, loopback
//! only) and the "Decode As" rules (`-d tcp.port==P,bittorrent`) can name them up front: tracker
//! traffic is not captured. (Wireshark's `bittorrent_tcp` heuristic would also spot our
//! connections by their handshakes; the rules make the decoding independent of it.)
//!
//! Wireshark's dissector rarely calls a BitTorrent frame malformed: a message whose length does
//! not fit its id is shown as "Continuation data" instead (and framing is lost from there on),
//! so that counts as a failure too, as do expert infos at error level and truncated frames.
//!
//! A missing `tshark`, or one that may not capture (no root or CAP_NET_RAW), skips the test with
//! a message, or fails it when `CI=true`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Enough pieces that the second leecher, picking a random holder for each piece, fetches from
/// the first leecher too (it would miss it with probability 2^-PIECES).
const PIECES: usize = 24;
const POLL: Duration = Duration::from_millis(20);

/// BEP 3 message ids, and what a download must show of each.
const CHOKE: u8 = 0;
const UNCHOKE: u8 = 1;
const INTERESTED: u8 = 2;
const NOT_INTERESTED: u8 = 3;
const HAVE: u8 = 4;
const BITFIELD: u8 = 5;
const REQUEST: u8 = 6;
const PIECE_MSG: u8 = 7;
const CANCEL: u8 = 8;
/// BEP 10: the extension handshake carries each side's listening port.
const EXTENDED: u8 = 20;
const EXPECTED: [(u8, &str); 6] = [
    (BITFIELD, "bitfield"),
    (INTERESTED, "interested"),
    (UNCHOKE, "unchoke"),
    (REQUEST, "request"),
    (PIECE_MSG, "piece"),
    (HAVE, "have"),
];

fn tshark_command() -> Command {
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
struct Capture {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    file: PathBuf,
    /// The test's own connection, to `_listener`, that carries the markers.
    marker: TcpStream,
    _listener: TcpListener,
    stopped: bool,
}

impl Capture {
    /// Captures `tcp port P` for each of `ports` and of `listener`'s port into `file`; returns
    /// once the capture is live. `Err` holds tshark's stderr when it exited instead (no
    /// permission, ...).
    fn start(ports: &[u16], listener: TcpListener, file: &Path) -> Result<Capture, String> {
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

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").join("\n")
    }

    fn signal_group(&self, signal: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
    }

    /// Sends `label` on the marker connection (again every 100 ms) until the capture file holds
    /// it. `Err` with tshark's stderr when tshark exits first.
    fn sync(&mut self, label: &str) -> Result<(), String> {
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
    fn stop(&mut self) {
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
fn may_run(capture: &Result<Capture, String>) -> bool {
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
struct Frame {
    number: u64,
    handshakes: usize,
    /// (message id, length prefix) of each message, keep-alives left out.
    messages: Vec<(u8, u32)>,
    keep_alives: usize,
    bitfields: Vec<String>,
    piece_indices: Vec<u32>,
    block_lengths: Vec<u32>,
    /// "Continuation data": bytes the dissector could not frame as a message.
    continuation: bool,
    malformed: bool,
    /// Cut short by the capture's snapshot length, so not fully dissected.
    truncated: bool,
    /// The texts of the frame's expert infos at error level.
    errors: Vec<String>,
}

const FIELDS: [&str; 12] = [
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
const SEVERITY_ERROR: u32 = 0x0080_0000;

/// `tshark -r` arguments: every peer port decoded as BitTorrent, and only the frames to or from
/// one shown (not the test's marker connection), those that also match `filter` if given.
fn read_args(ports: &[u16], filter: Option<&str>) -> Vec<String> {
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
fn dissect(file: &Path, ports: &[u16]) -> Vec<Frame> {
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
fn summary(file: &Path, ports: &[u16], filter: &str) -> String {
    let output = tshark_command()
        .arg("-r")
        .arg(file)
        .args(read_args(ports, Some(filter)))
        .output()
        .expect("run tshark -r");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn tshark_decodes_a_swarm_run_without_malformed_packets() {
    if !have_tool("tshark", &["-v"], "tshark") {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_bytes(PIECES * PIECE - 1000, 7);
    let file = write_file(&dir.path().join("orig"), "sample.bin", &data);
    let torrent = create_torrent(&file, PIECE, &dir.path().join("sample.torrent"));

    // the port of the test's marker connection (see `Capture`), then the peers' fixed ports
    let marker_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let marker_port = marker_listener.local_addr().expect("addr").port();
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() < 3 {
        let port = free_port();
        if port != marker_port && !ports.contains(&port) {
            ports.push(port);
        }
    }
    let (seed_port, first_port, second_port) = (ports[0], ports[1], ports[2]);

    let pcap = dir.path().join("swarm.pcapng");
    let mut capture = Capture::start(&ports, marker_listener, &pcap);
    if !may_run(&capture) {
        return;
    }
    let capture = capture.as_mut().expect("capturing");

    let (_tracker, addr) = tracker(dir.path(), &[]);
    let start_peer = |name: &str, port: u16, peer_dir: &Path| -> Proc {
        let extra = [
            "--torrent",
            torrent.to_str().expect("utf-8"),
            "--dir",
            peer_dir.to_str().expect("utf-8"),
            "--min-peers",
            "1",
            "--parallel",
            "2",
        ];
        let args = peer_args(port, addr, &[&extra[..], &FAST].concat());
        let proc = Proc::start(name, dir.path(), &args, &[]);
        proc.wait_for("joined swarm");
        proc
    };
    let seed_dir = dir.path().join("seed");
    write_file(&seed_dir, "sample.bin", &data);
    let _seed = start_peer("seed", seed_port, &seed_dir);
    let first_dir = dir.path().join("first");
    let first = start_peer("first", first_port, &first_dir);
    first.wait_for("download complete");
    // the second leecher starts once the first is complete: it picks a random holder for each
    // piece, so it fetches from the first leecher too (only from the seed: odds 2^-PIECES)
    let second_dir = dir.path().join("second");
    let second = start_peer("second", second_port, &second_dir);
    second.wait_for("download complete");
    for peer_dir in [&first_dir, &second_dir] {
        assert!(
            std::fs::read(peer_dir.join("sample.bin")).is_ok_and(|copy| copy == data),
            "{} holds a different copy",
            peer_dir.display()
        );
    }
    let sources: Vec<String> = verified_pieces(&second)
        .into_iter()
        .map(|(_, from)| from)
        .collect();
    assert!(
        sources.contains(&format!("127.0.0.1:{first_port}")),
        "the second leecher fetched nothing from the first: {sources:?}"
    );

    // every packet of the run is in the file once this marker is
    capture
        .sync("swarm complete")
        .expect("tshark still capturing");
    capture.stop();
    let captured = started.elapsed();

    let peer_ports = [seed_port, first_port, second_port];
    let frames = dissect(&pcap, &peer_ports);
    let bad: Vec<u64> = frames
        .iter()
        .filter(|f| f.malformed || f.truncated || f.continuation || !f.errors.is_empty())
        .map(|f| f.number)
        .collect();
    assert!(
        bad.is_empty(),
        "Wireshark reports malformed or truncated packets, expert errors or continuation data \
         in frames {bad:?}:\n{}\nexpert errors: {:?}",
        summary(
            &pcap,
            &peer_ports,
            "_ws.malformed || _ws.short || _ws.expert.severity >= error \
             || bittorrent.continuous_data"
        ),
        frames
            .iter()
            .flat_map(|f| f.errors.iter().map(move |e| (f.number, e)))
            .collect::<Vec<_>>()
    );

    let handshakes: usize = frames.iter().map(|f| f.handshakes).sum();
    let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
    let mut block_bytes = 0u64;
    let bitfield_len = PIECES.div_ceil(8) as u32;
    for frame in &frames {
        for &(id, len) in &frame.messages {
            *counts.entry(id).or_default() += 1;
            let expected = match id {
                CHOKE | UNCHOKE | INTERESTED | NOT_INTERESTED => Some(1),
                HAVE => Some(5),
                BITFIELD => Some(1 + bitfield_len),
                REQUEST | CANCEL => Some(13),
                PIECE_MSG => {
                    assert!(
                        len > 9 && len <= 9 + PIECE as u32,
                        "frame {}: piece of length {len}",
                        frame.number
                    );
                    block_bytes += u64::from(len - 9);
                    None
                }
                EXTENDED => {
                    // BEP 10's extension handshake: id, extended id 0, a bencoded dictionary.
                    assert!(len > 2, "frame {}: extended of length {len}", frame.number);
                    None
                }
                other => panic!("frame {}: message id {other}", frame.number),
            };
            if let Some(expected) = expected {
                assert_eq!(
                    len, expected,
                    "frame {}: message {id} has length {len}",
                    frame.number
                );
            }
        }
        for bitfield in &frame.bitfields {
            let hex = bitfield.replace(':', "");
            assert_eq!(
                hex.len(),
                2 * bitfield_len as usize,
                "frame {}: bitfield {bitfield}",
                frame.number
            );
        }
        for &index in &frame.piece_indices {
            assert!(
                (index as usize) < PIECES,
                "frame {}: piece index {index}",
                frame.number
            );
        }
        for &length in &frame.block_lengths {
            assert!(
                length > 0 && length as usize <= PIECE,
                "frame {}: block length {length}",
                frame.number
            );
        }
    }
    let keep_alives: usize = frames.iter().map(|f| f.keep_alives).sum();
    eprintln!(
        "{} frames: {handshakes} handshakes, messages by id {counts:?}, {keep_alives} \
         keep-alives, {block_bytes} block bytes (capture {captured:?}, total {:?})",
        frames.len(),
        started.elapsed()
    );

    // each connection (leecher to seed, twice, and second to first) opens with two handshakes
    assert!(handshakes >= 6, "{handshakes} handshakes decoded");
    for (id, name) in EXPECTED {
        assert!(
            counts.get(&id).is_some_and(|&n| n > 0),
            "no {name} message (id {id}) decoded; by id: {counts:?}"
        );
    }
    assert!(
        block_bytes >= 2 * data.len() as u64,
        "{block_bytes} bytes of blocks decoded for two downloads of {} bytes",
        data.len()
    );
}
