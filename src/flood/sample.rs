//! The assignment's sample data, generated: ten chunk files `BigBuckBunny_1.m4s` to
//! `BigBuckBunny_10.m4s` and the five key-values files of its test topology.
//!
//! The chunks are not video: each is a short text header followed by bytes from a xorshift
//! generator seeded with the chunk id, so every run (and every machine) makes the same bytes and
//! a corrupted copy is easy to spot. Sizes differ from chunk to chunk; chunk 10 is exactly 1024
//! bytes, the largest a RESPONSE carries. No sockets here.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::output::chunk_file_name;

/// The chunks of the sample video.
pub const CHUNKS: std::ops::RangeInclusive<u16> = 1..=10;

/// Which chunks each sample peer holds (peer numbers 1 to 5); chunk 4 is held by nobody.
pub const HOLDINGS: [(u8, &[u16]); 5] = [
    (1, &[5, 6, 7, 8]),
    (2, &[1, 2]),
    (3, &[3, 6, 7, 8]),
    (4, &[6, 7, 8]),
    (5, &[9, 10]),
];

/// The overlay links of the assignment's topology.
pub const LINKS: [(u8, u8); 5] = [(1, 2), (1, 3), (2, 5), (3, 5), (4, 5)];

/// Peer `peer`'s neighbours in the sample topology, in increasing order.
pub fn neighbours(peer: u8) -> Vec<u8> {
    let mut list: Vec<u8> = LINKS
        .iter()
        .filter_map(|&(a, b)| {
            if a == peer {
                Some(b)
            } else if b == peer {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    list.sort_unstable();
    list
}

/// The chunks peer `peer` holds in the sample (empty for an unknown peer).
pub fn holdings(peer: u8) -> &'static [u16] {
    HOLDINGS
        .iter()
        .find(|(p, _)| *p == peer)
        .map_or(&[], |(_, ids)| ids)
}

/// The name of peer `peer`'s key-values file, as the assignment spells it.
pub fn key_values_name(peer: u8) -> String {
    format!("key-values-files_peer{peer}")
}

/// The bytes of sample chunk `id`: deterministic, at most 1024 bytes.
pub fn chunk_bytes(id: u16) -> Vec<u8> {
    let size = if id == 10 {
        1024
    } else {
        600 + 37 * usize::from(id % 11)
    };
    let mut data = format!("BigBuckBunny chunk {id} (bittorrent-sim sample data)\n").into_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(id);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.push((state >> 24) as u8);
    }
    data.truncate(size);
    data
}

/// Writes the chunks and key-values files into `dir` (created if needed). Returns the files
/// written.
pub fn write(dir: &Path) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for id in CHUNKS {
        let path = dir.join(chunk_file_name(id));
        fs::write(&path, chunk_bytes(id))?;
        written.push(path);
    }
    for (peer, ids) in HOLDINGS {
        let text: String = ids
            .iter()
            .map(|id| format!("{id}: {}\n", chunk_file_name(*id)))
            .collect();
        let path = dir.join(key_values_name(peer));
        fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_deterministic_distinct_and_fit_a_response() {
        for id in CHUNKS {
            let data = chunk_bytes(id);
            assert!(
                data.len() <= 1024 && data.len() >= 600,
                "chunk {id}: {}",
                data.len()
            );
            assert_eq!(data, chunk_bytes(id));
        }
        assert_eq!(chunk_bytes(10).len(), 1024);
        assert_ne!(chunk_bytes(1)[60..], chunk_bytes(2)[60..]);
    }

    #[test]
    fn topology_matches_the_assignment() {
        assert_eq!(neighbours(1), vec![2, 3]);
        assert_eq!(neighbours(2), vec![1, 5]);
        assert_eq!(neighbours(3), vec![1, 5]);
        assert_eq!(neighbours(4), vec![5]);
        assert_eq!(neighbours(5), vec![2, 3, 4]);
        assert!(HOLDINGS.iter().all(|(_, ids)| !ids.contains(&4)));
    }
}
