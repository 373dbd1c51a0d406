//! What a flood client leaves on disk: the chunks it received and `output-<IP>.log`.
//!
//! The log is the file graders compare, so its lines are exactly the assignment's C format
//! `"%s:%d - %d\n"`: `peerIP:peerPort - chunkID` per RESPONSE stored, then `0.0.0.0:0 - chunkID`
//! per chunk that did not come. A chunk is written (to a temporary name, then renamed) before its
//! log line, so a killed client never logs a chunk that is not on disk. No sockets here.

use std::fs::{self, File};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

/// The name of a chunk's file, as the key-values convention has it.
pub fn chunk_file_name(id: u16) -> String {
    format!("BigBuckBunny_{id}.m4s")
}

/// The client's log file name for its own address.
pub fn log_file_name(client_ip: Ipv4Addr) -> String {
    format!("output-{client_ip}.log")
}

/// One line of the log: `peerIP:peerPort - chunkID\n`.
pub fn log_line(peer: SocketAddrV4, id: u16) -> String {
    format!("{}:{} - {}\n", peer.ip(), peer.port(), id)
}

/// The line for a chunk that did not come: `0.0.0.0:0 - chunkID\n`.
pub fn not_found_line(id: u16) -> String {
    log_line(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), id)
}

pub struct OutputLog {
    file: File,
    path: PathBuf,
}

impl OutputLog {
    /// Creates (or empties) `dir/output-<client_ip>.log`.
    pub fn create(dir: &Path, client_ip: Ipv4Addr) -> io::Result<OutputLog> {
        let path = dir.join(log_file_name(client_ip));
        let file = File::create(&path)?;
        Ok(OutputLog { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a line and flushes it, so the file is current even if the client is killed. An
    /// error names the file.
    pub fn append(&mut self, line: &str) -> io::Result<()> {
        let written = self.file.write_all(line.as_bytes());
        written.and_then(|()| self.file.flush()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot write {}: {e}", self.path.display()),
            )
        })
    }
}

/// Writes chunk `id` into `dir` under its conventional name, atomically (temporary file, then
/// rename). Returns the final path; an error names it.
pub fn store_chunk(dir: &Path, id: u16, data: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(chunk_file_name(id));
    let partial = dir.join(format!("{}.part", chunk_file_name(id)));
    fs::write(&partial, data)
        .and_then(|()| fs::rename(&partial, &path))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot store {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_c_format() {
        let peer = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 5003);
        assert_eq!(log_line(peer, 6), "127.0.0.1:5003 - 6\n");
        assert_eq!(not_found_line(4), "0.0.0.0:0 - 4\n");
        assert_eq!(
            log_file_name(Ipv4Addr::new(127, 0, 0, 6)),
            "output-127.0.0.6.log"
        );
    }
}
