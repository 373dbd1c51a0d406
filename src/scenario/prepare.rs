//! The files a scenario run starts from, in its run directory:
//!
//! 1. create `NAME-YYYYMMDD-HHMMSS/` with `logs/`, `traces/` and `peers/`;
//! 2. write the shared file (generated: seeded random bytes) or copy the existing one;
//! 3. hash it into `NAME.torrent` announcing the tracker;
//! 4. give each peer its starting copy: its pieces at their offsets, zeros elsewhere (zeros
//!    fail verification, so a peer reports only the pieces written here).
//!
//! Also the free ports. What it does not do: start a process (`run.rs`).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

use super::parse::{FileSpec, Scenario};
use super::plan::PlannedPeer;
use super::{ScenarioError, io_context};
use crate::metainfo::{self, Metainfo};

/// Step 1: `out/NAME-YYYYMMDD-HHMMSS/` (a suffix if it exists) and its subdirectories.
pub fn run_dir(out: &Path, name: &str, exact: Option<&Path>) -> Result<PathBuf, ScenarioError> {
    let dir = match exact {
        Some(dir) => dir.to_path_buf(),
        None => {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (y, m, d) = crate::logging::civil_date(secs / 86_400);
            let s = secs % 86_400;
            let stamp = format!(
                "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
                s / 3600,
                s / 60 % 60,
                s % 60
            );
            let base = out.join(format!("{name}-{stamp}"));
            (1..)
                .map(|i| {
                    if i == 1 {
                        base.clone()
                    } else {
                        PathBuf::from(format!("{}-{i}", base.display()))
                    }
                })
                .find(|p| !p.exists())
                .unwrap_or(base)
        }
    };
    for sub in ["logs", "traces", "peers"] {
        io_context(fs::create_dir_all(dir.join(sub)), || {
            format!("cannot create {}", dir.display())
        })?;
    }
    Ok(dir)
}

/// Steps 2 and 3: the shared file in `dir` and its metainfo, announcing `tracker`.
pub fn shared_file(
    scenario: &Scenario,
    scenario_dir: &Path,
    dir: &Path,
    tracker: SocketAddr,
) -> Result<(PathBuf, PathBuf, Metainfo), ScenarioError> {
    let data = match &scenario.file {
        FileSpec::Size(bytes) => {
            let path = dir.join(format!("{}.bin", scenario.name));
            let mut rng = StdRng::seed_from_u64(0x5eed);
            let mut out = io_context(File::create(&path), || {
                format!("cannot write {}", path.display())
            })?;
            let mut left = *bytes;
            let mut block = vec![0u8; 64 << 10];
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                rng.fill_bytes(&mut block[..n]);
                io_context(out.write_all(&block[..n]), || {
                    format!("cannot write {}", path.display())
                })?;
                left -= n as u64;
            }
            path
        }
        FileSpec::Path(given) => {
            let source = scenario_dir.join(given);
            let name = source
                .file_name()
                .map_or("shared".into(), |n| n.to_string_lossy().into_owned());
            let path = dir.join(name);
            io_context(fs::copy(&source, &path), || {
                format!("cannot copy {}", source.display())
            })?;
            path
        }
    };
    let announce = Some(metainfo::announce_url(&tracker.to_string()));
    let meta =
        Metainfo::build(&data, scenario.piece_length, announce).map_err(|e| ScenarioError::Io {
            what: format!("cannot hash {}", data.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
    let torrent = dir.join(format!("{}.torrent", scenario.name));
    meta.write_to_file(&torrent)
        .map_err(|e| ScenarioError::Io {
            what: format!("cannot write {}", torrent.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
    Ok((data, torrent, meta))
}

/// Step 4: `peers/NAME/` for every peer, holding its starting pieces when it has any.
pub fn starting_copies(
    dir: &Path,
    data: &Path,
    meta: &Metainfo,
    peers: &[PlannedPeer],
) -> Result<Vec<PathBuf>, ScenarioError> {
    let piece_length = meta.piece_length;
    let length = meta.length;
    let mut dirs = Vec::new();
    let mut source = io_context(File::open(data), || {
        format!("cannot read {}", data.display())
    })?;
    let mut buffer = vec![0u8; piece_length as usize];
    for peer in peers {
        let peer_dir = dir.join("peers").join(&peer.name);
        io_context(fs::create_dir_all(&peer_dir), || {
            format!("cannot create {}", peer_dir.display())
        })?;
        if !peer.start.is_empty() {
            let path = peer_dir.join(&meta.name);
            let write = |buffer: &mut Vec<u8>, source: &mut File| -> std::io::Result<()> {
                let mut out = File::create(&path)?;
                out.set_len(length)?;
                for index in peer.start.iter() {
                    let offset = u64::from(index) * piece_length;
                    let n = piece_length.min(length - offset) as usize;
                    source.seek(SeekFrom::Start(offset))?;
                    source.read_exact(&mut buffer[..n])?;
                    out.seek(SeekFrom::Start(offset))?;
                    out.write_all(&buffer[..n])?;
                }
                Ok(())
            };
            io_context(write(&mut buffer, &mut source), || {
                format!("cannot write {}", path.display())
            })?;
        }
        dirs.push(peer_dir);
    }
    Ok(dirs)
}

/// A free TCP port on `ip` below the kernel's ephemeral range, so that a peer that crashes
/// can come back on its port (no outgoing connection takes it as a source port meanwhile).
pub fn free_port(ip: IpAddr, taken: &[u16]) -> Result<u16, ScenarioError> {
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let start = 10_000u16.min(low / 2);
    let span = low.saturating_sub(start).max(1);
    let seed = rand::rng().random_range(0..u32::from(span));
    (0..u32::from(span))
        .map(|i| start + ((seed + i * 613) % u32::from(span)) as u16)
        .find(|&port| !taken.contains(&port) && TcpListener::bind((ip, port)).is_ok())
        .ok_or_else(|| ScenarioError::Io {
            what: format!("no free port on {ip}"),
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        })
}
