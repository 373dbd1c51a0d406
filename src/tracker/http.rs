//! The tracker's HTTP side: BEP 3 announce requests and their bencoded replies (compact peers
//! per BEP 23, or the dictionary list with `peer id`), and BEP 48 scrape (`http/scrape.rs`),
//! so real clients (libtorrent, Transmission, aria2) can use our tracker.
//!
//! Pure codec: read a request head from any `BufRead`, parse the announce query, build reply
//! bytes. No sockets and no peer table here; `tracker/announce.rs` connects them. Only `GET` is
//! served and a request head is capped at [`MAX_HEAD_LEN`] bytes.

use std::fmt;
use std::io::BufRead;

use crate::infohash::InfoHash;

mod reply;
mod scrape;
pub use reply::{ListedPeer, announce_reply, failure_reply, response};
pub use scrape::{MAX_SCRAPE_HASHES, ScrapeCounts, parse_scrape, scrape_reply, scrape_url};

/// Longest request head (request line plus headers) accepted.
pub const MAX_HEAD_LEN: usize = 8 * 1024;
/// Most peers in one announce reply, whatever `numwant` asks.
pub const MAX_NUMWANT: usize = 200;
/// Peers sent when the client does not say how many it wants (BEP 3 suggests 50).
pub const DEFAULT_NUMWANT: usize = 50;

/// The parts of a request head the tracker uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent: `/announce?info_hash=...`.
    pub target: String,
    /// Whether the connection stays open after the reply (HTTP/1.1 without `Connection: close`,
    /// or HTTP/1.0 with `Connection: keep-alive`).
    pub keep_alive: bool,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Why a request is refused: a head that is not HTTP gets a `400`; a bad announce or scrape
/// query gets status 200 with a bencoded `failure reason`, which clients show.
#[derive(Debug)]
pub enum HttpError {
    Io(std::io::Error),
    /// The connection closed before a request began (not an error: the client is done).
    Closed,
    TooLong,
    Malformed(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Io(e) => write!(f, "{e}"),
            HttpError::Closed => f.write_str("connection closed"),
            HttpError::TooLong => write!(f, "request head over {MAX_HEAD_LEN} bytes"),
            HttpError::Malformed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<std::io::Error> for HttpError {
    fn from(e: std::io::Error) -> Self {
        HttpError::Io(e)
    }
}

fn malformed(why: impl Into<String>) -> HttpError {
    HttpError::Malformed(why.into())
}

/// Reads one request head: the request line and headers up to the blank line.
pub fn read_request(input: &mut impl BufRead) -> Result<Request, HttpError> {
    let mut head_len = 0;
    // Only the request line and the first `Connection` header are kept; one line buffer.
    let mut request_line: Option<String> = None;
    let mut connection: Option<String> = None;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        // `take` bounds what one line may add; the running total bounds the head.
        let limit = (MAX_HEAD_LEN - head_len) as u64 + 1;
        let read = std::io::Read::take(&mut *input, limit).read_until(b'\n', &mut line)?;
        if read == 0 {
            return Err(if request_line.is_none() {
                HttpError::Closed
            } else {
                malformed("head ends early")
            });
        }
        head_len += read;
        if head_len > MAX_HEAD_LEN {
            return Err(HttpError::TooLong);
        }
        if !line.ends_with(b"\n") {
            return Err(malformed("head ends early"));
        }
        let text = std::str::from_utf8(&line).map_err(|_| malformed("head is not text"))?;
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if request_line.is_none() {
                continue; // tolerate blank lines between requests
            }
            break;
        }
        if request_line.is_none() {
            request_line = Some(text.to_string());
        } else if connection.is_none()
            && let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("connection")
        {
            connection = Some(value.trim().to_ascii_lowercase());
        }
    }
    let request_line = request_line.unwrap_or_default();
    let mut words = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(malformed("request line is not `METHOD TARGET HTTP/1.x`"));
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") || !target.starts_with('/') {
        return Err(malformed("request line is not `METHOD /TARGET HTTP/1.x`"));
    }
    let keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
    })
}

/// BEP 3's `event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Started,
    Completed,
    Stopped,
    /// A regular re-announce.
    Update,
}

impl Event {
    /// BEP 3's spelling (`update` for a regular re-announce, which has no `event`).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::Completed => "completed",
            Event::Stopped => "stopped",
            Event::Update => "update",
        }
    }
}

/// A parsed announce query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    /// Bytes still missing; `None` when the client did not say (not taken for a seed).
    pub left: Option<u64>,
    pub event: Event,
    pub numwant: usize,
    pub compact: bool,
}

/// Parses the query of `/announce?...`.
pub fn parse_announce(query: &str) -> Result<Announce, HttpError> {
    let mut info_hash = None;
    let mut peer_id = None;
    let mut port = None;
    let (mut uploaded, mut downloaded, mut left) = (0, 0, None);
    let mut event = Event::Update;
    let mut numwant = DEFAULT_NUMWANT;
    let mut compact = false;
    // One buffer for every decoded value.
    let mut bytes = Vec::with_capacity(64);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        bytes.clear();
        percent_decode_into(value, &mut bytes)?;
        let bytes = &bytes;
        let text =
            || std::str::from_utf8(bytes).map_err(|_| malformed(format!("`{key}` is not text")));
        let number = |name: &str| -> Result<u64, HttpError> {
            text()?
                .parse()
                .map_err(|_| malformed(format!("`{name}` is not a number")))
        };
        match key {
            "info_hash" => info_hash = Some(twenty(bytes, "info_hash")?),
            "peer_id" => peer_id = Some(twenty(bytes, "peer_id")?),
            "port" => {
                port = Some(
                    u16::try_from(number("port")?)
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| malformed("`port` is not 1-65535"))?,
                )
            }
            "uploaded" => uploaded = number("uploaded")?,
            "downloaded" => downloaded = number("downloaded")?,
            "left" => left = Some(number("left")?),
            "numwant" => numwant = (number("numwant")? as usize).min(MAX_NUMWANT),
            "compact" => compact = text()? == "1",
            "event" => {
                event = match text()? {
                    "started" => Event::Started,
                    "completed" => Event::Completed,
                    "stopped" => Event::Stopped,
                    "" | "empty" => Event::Update,
                    _ => return Err(malformed("`event` is not started, completed or stopped")),
                }
            }
            _ => {} // key, ip, supportcrypto, no_peer_id, corrupt, redundant...: not needed
        }
    }
    Ok(Announce {
        info_hash: InfoHash(info_hash.ok_or_else(|| malformed("missing info_hash"))?),
        peer_id: peer_id.ok_or_else(|| malformed("missing peer_id"))?,
        port: port.ok_or_else(|| malformed("missing port"))?,
        uploaded,
        downloaded,
        left,
        event,
        numwant,
        compact,
    })
}

fn twenty(bytes: &[u8], name: &str) -> Result<[u8; 20], HttpError> {
    bytes
        .try_into()
        .map_err(|_| malformed(format!("`{name}` is not 20 bytes")))
}

/// Decodes `%XX` escapes and `+`; any other byte stands for itself.
pub fn percent_decode(text: &str) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::with_capacity(text.len());
    percent_decode_into(text, &mut out)?;
    Ok(out)
}

/// [`percent_decode`], appending to `out`.
fn percent_decode_into(text: &str, out: &mut Vec<u8>) -> Result<(), HttpError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let value = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| malformed("bad %-escape"))?;
                out.push(value);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    Ok(())
}

/// `%XX`-escapes every byte that is not unreserved (RFC 3986), as an announce URL needs.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
