//! The 20-byte SHA-1 digests of BitTorrent: the info-hash that names a swarm and the piece
//! hashes that verify data. Printed and parsed as 40 lowercase hex digits.
//!
//! No I/O here.

use std::fmt;
use std::str::FromStr;

use sha1::{Digest, Sha1};

/// SHA-1 of `bytes` (BEP 3 fixes SHA-1 for both info-hashes and piece hashes).
pub fn sha1(bytes: &[u8]) -> [u8; 20] {
    Sha1::digest(bytes).into()
}

/// The SHA-1 of a torrent's raw `info` dictionary: the swarm's name on the tracker and in the
/// peer wire handshake.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

impl InfoHash {
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Lowercase hex, as written in tracker lines and logs.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// The first 8 hex digits, for log lines.
    pub fn short(&self) -> String {
        to_hex(&self.0[..4])
    }
}

/// Lowercase hex of any byte string.
pub fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({self})")
    }
}

/// Why a text is not an info-hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInfoHash(pub String);

impl fmt::Display for BadInfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not an info-hash (40 hex digits)", self.0)
    }
}

impl std::error::Error for BadInfoHash {}

impl FromStr for InfoHash {
    type Err = BadInfoHash;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadInfoHash(text.chars().take(60).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 40 {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(bad)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(bad)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(InfoHash(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_abc_is_the_fips_vector() {
        assert_eq!(
            to_hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let text = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let hash: InfoHash = text.parse().expect("valid hex");
        assert_eq!(hash.to_string(), text);
        assert_eq!(hash.short(), "a9993e36");
        assert!("a9993e".parse::<InfoHash>().is_err());
        assert!(
            "z9993e364706816aba3e25717850c26c9cd0d89d"
                .parse::<InfoHash>()
                .is_err()
        );
        assert!(
            "é9993e364706816aba3e25717850c26c9cd0d89"
                .parse::<InfoHash>()
                .is_err()
        );
    }
}
