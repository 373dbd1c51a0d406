//! Shared helpers of the flood integration tests: start the real binary with its log in a file,
//! kill it on drop (even when a test fails), poll with deadlines, find free UDP ports.
#![allow(dead_code)] // each test file uses a different part

use std::fs::{self, File};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

/// A child process whose stdout and stderr go to `log`; killed and reaped on drop.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `bittorrent-sim ARGS` in `dir` with `RUST_LOG=info`, logging into `dir/NAME.log`.
    pub fn start(name: &str, dir: &Path, args: &[String]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `pattern`; panics with the log after `within`.
    pub fn wait_for_log(&self, pattern: &str, within: Duration) {
        let found = poll_until(within, || self.log_text().contains(pattern));
        assert!(
            found,
            "{} never logged `{pattern}`:\n{}",
            self.name,
            self.log_text()
        );
    }

    /// Waits for the process to exit; panics with the log after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running after {within:?}:\n{}",
                self.name,
                self.log_text()
            );
            sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Polls `condition` every 10 ms until it holds or `within` passes.
pub fn poll_until(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(10));
    }
}

/// `n` UDP ports free on 127.0.0.1 right now (all held at once, so they are distinct).
pub fn free_udp_ports(n: usize) -> Vec<u16> {
    let sockets: Vec<UdpSocket> = (0..n)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    sockets
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect()
}

/// Writes a key-values file `name` in `dir` listing `ids`, each chunk file filled with
/// `chunk(id)`.
pub fn write_peer_data(dir: &Path, name: &str, ids: &[u16]) -> PathBuf {
    let mut text = String::new();
    for id in ids {
        fs::write(dir.join(format!("BigBuckBunny_{id}.m4s")), chunk(*id)).unwrap();
        text.push_str(&format!("{id}: BigBuckBunny_{id}.m4s\n"));
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// Test chunk contents: distinct per id, under 1024 bytes.
pub fn chunk(id: u16) -> Vec<u8> {
    (0..500 + usize::from(id))
        .map(|i| (i as u16 ^ id.wrapping_mul(31)) as u8)
        .collect()
}

/// Starts a peer on `127.0.0.1:port` with `kv` and the given neighbour ports, then waits until it
/// listens.
pub fn start_peer(
    name: &str,
    dir: &Path,
    port: u16,
    kv: &str,
    neighbours: &[u16],
    extra: &[&str],
) -> Proc {
    let mut args = vec![
        "flood".to_string(),
        "peer".to_string(),
        format!("127.0.0.1:{port}"),
        kv.to_string(),
    ];
    args.extend(neighbours.iter().map(|p| format!("127.0.0.1:{p}")));
    args.extend(extra.iter().map(|s| s.to_string()));
    let peer = Proc::start(name, dir, &args);
    peer.wait_for_log("listening on", Duration::from_secs(10));
    peer
}

/// Lines of `log` containing every one of `parts`.
pub fn count_lines(log: &str, parts: &[&str]) -> usize {
    log.lines()
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .count()
}

/// A test socket on 127.0.0.1 playing a peer or a client; reads wait at most 5 s.
pub fn socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

pub fn port(socket: &UdpSocket) -> u16 {
    socket.local_addr().unwrap().port()
}

/// The next datagram on `socket` (within its read timeout) and its sender.
pub fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buffer = [0u8; 2048];
    let (len, from) = socket
        .recv_from(&mut buffer)
        .expect("a datagram within 5 s");
    (buffer[..len].to_vec(), from)
}

/// The RESPONSE datagram a peer sends for test chunk `id`, built field by field.
pub fn response(id: u16) -> Vec<u8> {
    let data = chunk(id);
    let mut bytes = vec![0, 5]; // RESPONSE
    bytes.extend(id.to_be_bytes()); // chunk id
    bytes.extend((data.len() as u16).to_be_bytes()); // chunk size
    bytes.extend(data);
    bytes
}

/// The neighbours of peer `i` in a chain of `ports.len()` peers: the ports before and after it.
pub fn chain_neighbours(i: usize, ports: &[u16]) -> Vec<u16> {
    let around = [i.checked_sub(1), Some(i + 1)];
    around
        .into_iter()
        .flatten()
        .filter_map(|j| ports.get(j).copied())
        .collect()
}
