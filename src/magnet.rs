//! Magnet links (BEP 9's URI form): `magnet:?xt=urn:btih:HASH&dn=NAME&tr=URL`, parsed into the
//! swarm's info-hash, its display name and its trackers, and written back.
//!
//! Accepted: the info-hash as 40 hex digits or 32 base32 characters (RFC 4648, either case),
//! `dn` once, `tr` (or `tr.1`, `tr.2`, ...) any number of times, every value percent-decoded
//! (`+` is a space in `dn`). Unknown parameters (`xl`, `ws`, `x.pe`, ...) are ignored.
//!
//! What it does not do: fetch anything (the metadata comes from peers: `peer/magnet.rs`),
//! BEP 52's `urn:btmh:` (v2) hashes (a link with only those is refused), or check that a
//! tracker URL is one we can speak (the peer's command line does that).

use std::fmt;
use std::str::FromStr;

use crate::infohash::InfoHash;
use crate::metainfo::Metainfo;

/// What a magnet link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    pub info_hash: InfoHash,
    /// `dn`: a display name, until the metadata says the real one.
    pub name: Option<String>,
    /// `tr`: tracker URLs, in the link's order.
    pub trackers: Vec<String>,
}

/// Why a text is not a magnet link we can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MagnetError {
    /// It does not start with `magnet:?`.
    NotMagnet,
    /// No `xt=urn:btih:` parameter (`btmh` only: a v2-only link).
    NoInfoHash { v2_only: bool },
    /// The `urn:btih:` value is neither 40 hex digits nor 32 base32 characters.
    BadInfoHash(String),
    /// A `%` not followed by two hex digits, or a value that is not UTF-8 once decoded.
    BadEscape(String),
}

impl fmt::Display for MagnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MagnetError::NotMagnet => {
                f.write_str("not a magnet link: it must start with `magnet:?`")
            }
            MagnetError::NoInfoHash { v2_only: true } => f.write_str(
                "magnet link names only a v2 hash (urn:btmh:); v1 (urn:btih:) is required",
            ),
            MagnetError::NoInfoHash { v2_only: false } => {
                f.write_str("magnet link has no `xt=urn:btih:INFOHASH` parameter")
            }
            MagnetError::BadInfoHash(text) => write!(
                f,
                "magnet info-hash `{text}` is neither 40 hex digits nor 32 base32 characters"
            ),
            MagnetError::BadEscape(text) => {
                write!(
                    f,
                    "magnet parameter `{text}` has a bad %-escape or is not utf-8"
                )
            }
        }
    }
}

impl std::error::Error for MagnetError {}

impl Magnet {
    /// Parses a magnet URI.
    pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
        let query = uri
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("magnet:?"))
            .map(|_| &uri[8..])
            .ok_or(MagnetError::NotMagnet)?;
        let mut info_hash = None;
        let mut v2 = false;
        let mut name = None;
        let mut trackers = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "xt" => {
                    let value = percent_decode(raw, false)?;
                    let lower = value.to_ascii_lowercase();
                    if let Some(hash) = lower.strip_prefix("urn:btih:") {
                        if info_hash.is_none() {
                            info_hash = Some(parse_hash(&value[value.len() - hash.len()..])?);
                        }
                    } else if lower.starts_with("urn:btmh:") {
                        v2 = true;
                    }
                }
                "dn" if name.is_none() => name = Some(percent_decode(raw, true)?),
                "tr" => trackers.push(percent_decode(raw, false)?),
                key if key.starts_with("tr.") => trackers.push(percent_decode(raw, false)?),
                _ => {}
            }
        }
        let info_hash = info_hash.ok_or(MagnetError::NoInfoHash { v2_only: v2 })?;
        Ok(Magnet {
            info_hash,
            name,
            trackers,
        })
    }

    /// The link to a torrent: its info-hash, name and announce URL.
    pub fn of(metainfo: &Metainfo) -> Magnet {
        Magnet {
            info_hash: metainfo.info_hash,
            name: Some(metainfo.name.clone()),
            trackers: metainfo.announce.iter().cloned().collect(),
        }
    }

    /// The link: `magnet:?xt=urn:btih:HEX`, then `dn` and every `tr`, percent-encoded.
    pub fn to_uri(&self) -> String {
        let mut uri = format!("magnet:?xt=urn:btih:{}", self.info_hash.to_hex());
        if let Some(name) = &self.name {
            uri.push_str("&dn=");
            uri.push_str(&percent_encode(name));
        }
        for tracker in &self.trackers {
            uri.push_str("&tr=");
            uri.push_str(&percent_encode(tracker));
        }
        uri
    }
}

impl FromStr for Magnet {
    type Err = MagnetError;

    fn from_str(uri: &str) -> Result<Magnet, MagnetError> {
        Magnet::parse(uri)
    }
}

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

/// 40 hex digits, or 32 base32 characters (RFC 4648 alphabet, no padding), either case.
fn parse_hash(text: &str) -> Result<InfoHash, MagnetError> {
    let bad = || MagnetError::BadInfoHash(text.to_string());
    let mut hash = [0u8; 20];
    match text.len() {
        40 => {
            for (byte, pair) in hash.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
                *byte = (hex_digit(pair[0]).ok_or_else(bad)? << 4)
                    | hex_digit(pair[1]).ok_or_else(bad)?;
            }
        }
        32 => {
            // 32 characters of 5 bits: 160 bits, exactly the 20 bytes.
            let mut bits: u64 = 0;
            let mut held = 0;
            let mut out = 0;
            for &c in text.as_bytes() {
                let value = match c.to_ascii_uppercase() {
                    c @ b'A'..=b'Z' => c - b'A',
                    c @ b'2'..=b'7' => c - b'2' + 26,
                    _ => return Err(bad()),
                };
                bits = (bits << 5) | u64::from(value);
                held += 5;
                if held >= 8 {
                    held -= 8;
                    hash[out] = (bits >> held) as u8;
                    out += 1;
                }
            }
        }
        _ => return Err(bad()),
    }
    Ok(InfoHash(hash))
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `%XX` escapes decoded (and `+` as a space where `plus_is_space`); the result must be UTF-8.
fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, MagnetError> {
    let bad = || MagnetError::BadEscape(text.to_string());
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' => {
                let high = bytes
                    .get(at + 1)
                    .and_then(|&c| hex_digit(c))
                    .ok_or_else(bad)?;
                let low = bytes
                    .get(at + 2)
                    .and_then(|&c| hex_digit(c))
                    .ok_or_else(bad)?;
                out.push(high << 4 | low);
                at += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                at += 1;
            }
            c => {
                out.push(c);
                at += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Everything but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    use fmt::Write;
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
