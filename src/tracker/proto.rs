//! The tracker's line protocol: requests and replies as text lines, spoken by our peers and
//! typeable by hand with `nc` (see `PROTOCOL.md` for a transcript).
//!
//! Pure codec: parse and format, read from any `BufRead` and write to any `Write` (replies in
//! `proto/reply.rs`). No sockets, no peer table: the tracker (`tracker.rs`) and the peer's
//! tracker client use this module.
//!
//! Every line is capped at [`MAX_LINE_LEN`] bytes; the only non-line data is a metainfo body,
//! announced by its length first and capped at [`MAX_TORRENT_BYTES`].

use std::fmt;
use std::io::{self, BufRead};
use std::net::IpAddr;

use crate::infohash::InfoHash;
pub use crate::metainfo::MAX_TORRENT_BYTES;
use crate::trace::Value as TraceValue;

/// Longest request or reply line, newline included. A range list of a scattered 10 000-piece
/// torrent fits.
pub const MAX_LINE_LEN: usize = 64 * 1024;
/// Most peers listed in one reply.
pub const MAX_PEERS_PER_REPLY: usize = 200;
/// Most swarms listed in one reply.
pub const MAX_SWARMS_PER_REPLY: usize = 200;
/// Most bytes of a `PEERS` or `SWARMS` reply, header included: peers or swarms past it are
/// left out (the most complete or busiest come first).
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Most bytes of a `STATUS` reply (and so of the status page's data).
pub const MAX_STATUS_BYTES: usize = 1024 * 1024;
/// Longest piece list written in a `PEER` line: a longer one (a scattered list) is written
/// `?`, and a client learns that peer's pieces from the peer itself (its bitfield).
pub const MAX_LISTED_PIECES_LEN: usize = 1024;

/// One request line (plus, for `PUBLISH`, the metainfo bytes after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `JOIN <info-hash> <port> <pieces> [key=S] [numwant=N]`: enter a swarm; the reply lists
    /// the other peers. `key` protects the peer's later requests (1.3).
    Join {
        info_hash: InfoHash,
        port: u16,
        pieces: String,
        key: Option<Secret>,
        numwant: Option<usize>,
    },
    /// `PING <info-hash> <port> [key=S]`: proof of life.
    Ping {
        info_hash: InfoHash,
        port: u16,
        key: Option<Secret>,
    },
    /// `REPORT <info-hash> <port> <pieces> [key=S] [unchoked=LIST]`: the pieces held now, and
    /// optionally whom the peer unchokes now.
    Report {
        info_hash: InfoHash,
        port: u16,
        pieces: String,
        key: Option<Secret>,
        unchoked: Option<Vec<Unchoked>>,
    },
    /// `LIST <info-hash> <port> [numwant=N]`: the other peers and their pieces.
    List {
        info_hash: InfoHash,
        port: u16,
        numwant: Option<usize>,
    },
    /// `LEAVE <info-hash> <port> [key=S]`: leave the swarm now rather than at the next clean-up.
    Leave {
        info_hash: InfoHash,
        port: u16,
        key: Option<Secret>,
    },
    /// `SWARMS`: the swarms this tracker knows.
    Swarms,
    /// `STATUS`: every swarm with every peer, its pieces and when it was last heard of.
    Status,
    /// `METAINFO <info-hash>`: the swarm's .torrent bytes.
    Metainfo { info_hash: InfoHash },
    /// `PUBLISH <info-hash> <length>` then `length` bytes of .torrent.
    Publish { info_hash: InfoHash, length: usize },
    /// `HELP`: the list of requests.
    Help,
    /// `QUIT`: close the connection.
    Quit,
}

/// One peer of a `PEERS` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerEntry {
    pub ip: IpAddr,
    pub port: u16,
    /// Range list (`0-3,7`), `-` for none, `?` when unknown (a client that announced over HTTP).
    pub pieces: String,
}

/// One swarm of a `SWARMS` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmEntry {
    pub info_hash: InfoHash,
    pub pieces: u32,
    pub peers: usize,
    pub name: String,
}

impl PeerEntry {
    /// The `PEER <ip> <port> <pieces>` line's length, newline included.
    pub fn line_len(&self) -> usize {
        format!("PEER {} {} {}\n", self.ip, self.port, self.pieces).len()
    }
}

/// One peer of a `STATUS` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    pub peer: PeerEntry,
    /// Milliseconds since the tracker last heard of it.
    pub seen_ms: u64,
    /// Whom it said it unchokes (`unchoked=` of its last `REPORT`); `None`: never said.
    pub unchoked: Option<Vec<Unchoked>>,
}

impl PeerStatus {
    /// The line as written in a `STATUS` reply, without its newline.
    pub fn to_line(&self) -> String {
        let p = &self.peer;
        let mut line = format!("PEER {} {} {} {}", p.ip, p.port, p.pieces, self.seen_ms);
        let unchoked = self.unchoked.as_deref().map(format_unchoked);
        write_options(&mut line, &[("unchoked", unchoked)]);
        line
    }
}

/// One swarm of a `STATUS` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmStatus {
    pub swarm: SwarmEntry,
    pub peers: Vec<PeerStatus>,
}

/// A torrent name made safe for one protocol line or a terminal: control characters (a
/// newline, ESC, ...) are written as `\u{..}` escapes. Names the tracker accepts have none
/// (`metainfo.rs` refuses them); this guards what it writes anyway.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Machine-readable reason of an `ERR` reply; the rest of the line is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    TooLong,
    UnknownSwarm,
    UnknownPeer,
    NoMetainfo,
    BadMetainfo,
    /// A cap is reached: the swarm's peers, the tracker's swarms or its metainfo budget.
    Full,
    /// A request for a peer that joined with `key=`, without that key.
    WrongKey,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::TooLong => "too-long",
            ErrorCode::UnknownSwarm => "unknown-swarm",
            ErrorCode::UnknownPeer => "unknown-peer",
            ErrorCode::NoMetainfo => "no-metainfo",
            ErrorCode::BadMetainfo => "bad-metainfo",
            ErrorCode::Full => "full",
            ErrorCode::WrongKey => "wrong-key",
        }
    }

    fn parse(text: &str) -> Option<ErrorCode> {
        [
            ErrorCode::BadRequest,
            ErrorCode::TooLong,
            ErrorCode::UnknownSwarm,
            ErrorCode::UnknownPeer,
            ErrorCode::NoMetainfo,
            ErrorCode::BadMetainfo,
            ErrorCode::Full,
            ErrorCode::WrongKey,
        ]
        .into_iter()
        .find(|code| code.as_str() == text)
    }
}

/// A reply: one line, or a header line announcing what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK <text>`
    Ok(String),
    /// `PONG`
    Pong,
    /// `PEERS <n>` then n lines `PEER <ip> <port> <pieces>`.
    Peers(Vec<PeerEntry>),
    /// `SWARMS <n>` then n lines `SWARM <info-hash> <pieces> <peers> <name>`.
    Swarms(Vec<SwarmEntry>),
    /// `STATUS <n>`, then per swarm a `SWARM` line whose peer count is the number of
    /// `PEER <ip> <port> <pieces> <ms since last heard>` lines after it.
    Status(Vec<SwarmStatus>),
    /// `METAINFO <length>`, `length` raw bytes, a newline.
    Metainfo(Vec<u8>),
    /// `ERR <code> <text>`
    Err { code: ErrorCode, message: String },
    /// `BYE`
    Bye,
}

/// Why a line could not be read or understood.
#[derive(Debug)]
pub enum ProtoError {
    Io(io::Error),
    /// The connection ended before a full line.
    Closed,
    /// A line over [`MAX_LINE_LEN`] bytes.
    TooLong,
    /// Not valid UTF-8.
    NotText,
    /// A line that is not a request or reply of this protocol.
    Bad(String),
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::Io(e) => write!(f, "{e}"),
            ProtoError::Closed => f.write_str("connection closed"),
            ProtoError::TooLong => write!(f, "line longer than {MAX_LINE_LEN} bytes"),
            ProtoError::NotText => f.write_str("line is not utf-8 text"),
            ProtoError::Bad(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ProtoError {}

impl From<io::Error> for ProtoError {
    fn from(e: io::Error) -> Self {
        ProtoError::Io(e)
    }
}

fn bad(why: impl Into<String>) -> ProtoError {
    ProtoError::Bad(why.into())
}

/// Reads one line without its `\n` (and `\r`), never buffering more than [`MAX_LINE_LEN`].
/// On [`ProtoError::TooLong`] the rest of the line is left unread: the caller closes.
pub fn read_line(input: &mut impl BufRead) -> Result<String, ProtoError> {
    let mut line = Vec::new();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Err(ProtoError::Closed);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], at + 1),
            None => (available, available.len()),
        };
        if line.len() + chunk.len() >= MAX_LINE_LEN {
            return Err(ProtoError::TooLong);
        }
        line.extend_from_slice(chunk);
        let found = done > chunk.len();
        input.consume(done);
        if found {
            break;
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| ProtoError::NotText)
}

/// The text `HELP` answers with (as `OK` lines would be ambiguous, it is one `OK` line).
pub const HELP: &str = "requests: JOIN <info-hash> <port> <pieces> | PING <info-hash> <port> | REPORT <info-hash> <port> <pieces> | LIST <info-hash> <port> | LEAVE <info-hash> <port> | SWARMS | STATUS | METAINFO <info-hash> | PUBLISH <info-hash> <length> | QUIT; pieces are ranges like 0-3,7 or -; optional key=value words may follow (key=SECRET, numwant=N, unchoked=PORT,...)";

/// At most 60 characters of untrusted text, for error messages.
pub fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

mod options;
mod reply;
mod request;
use options::write_options;
pub use options::{
    MAX_OPTION_KEY_LEN, MAX_OPTION_VALUE_LEN, MAX_OPTIONS, MAX_UNCHOKED, Options, Secret, Unchoked,
    format_unchoked, parse_unchoked,
};
#[cfg(test)]
mod tests;
