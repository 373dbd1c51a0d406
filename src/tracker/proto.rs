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

/// One request line (plus, for `PUBLISH`, the metainfo bytes after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `JOIN <info-hash> <port> <pieces>`: enter a swarm; the reply lists the other peers.
    Join {
        info_hash: InfoHash,
        port: u16,
        pieces: String,
    },
    /// `PING <info-hash> <port>`: proof of life.
    Ping { info_hash: InfoHash, port: u16 },
    /// `REPORT <info-hash> <port> <pieces>`: the pieces held now.
    Report {
        info_hash: InfoHash,
        port: u16,
        pieces: String,
    },
    /// `LIST <info-hash> <port>`: the other peers and their pieces.
    List { info_hash: InfoHash, port: u16 },
    /// `LEAVE <info-hash> <port>`: leave the swarm now rather than at the next clean-up.
    Leave { info_hash: InfoHash, port: u16 },
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

/// One swarm of a `STATUS` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmStatus {
    pub swarm: SwarmEntry,
    /// Each peer, and milliseconds since the tracker last heard of it.
    pub peers: Vec<(PeerEntry, u64)>,
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
    /// A cap is reached: the swarm's peers, or the tracker's swarms.
    Full,
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

impl Request {
    /// Parses one request line. Commands are case-insensitive (students type `join`).
    pub fn parse(line: &str) -> Result<Request, ProtoError> {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some((command, args)) = words.split_first() else {
            return Err(bad("empty line"));
        };
        let command = command.to_ascii_uppercase();
        let want = |n: usize, usage: &str| -> Result<(), ProtoError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(bad(format!("usage: {usage}")))
            }
        };
        let hash = |i: usize| -> Result<InfoHash, ProtoError> {
            args[i]
                .parse()
                .map_err(|e: crate::infohash::BadInfoHash| bad(e.to_string()))
        };
        let port = |i: usize| -> Result<u16, ProtoError> {
            args[i]
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(format!("`{}` is not a port (1-65535)", args[i])))
        };
        Ok(match command.as_str() {
            "JOIN" => {
                want(3, "JOIN <info-hash> <port> <pieces>")?;
                Request::Join {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    pieces: args[2].to_string(),
                }
            }
            "PING" => {
                want(2, "PING <info-hash> <port>")?;
                Request::Ping {
                    info_hash: hash(0)?,
                    port: port(1)?,
                }
            }
            "REPORT" => {
                want(3, "REPORT <info-hash> <port> <pieces>")?;
                Request::Report {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    pieces: args[2].to_string(),
                }
            }
            "LIST" => {
                want(2, "LIST <info-hash> <port>")?;
                Request::List {
                    info_hash: hash(0)?,
                    port: port(1)?,
                }
            }
            "LEAVE" => {
                want(2, "LEAVE <info-hash> <port>")?;
                Request::Leave {
                    info_hash: hash(0)?,
                    port: port(1)?,
                }
            }
            "SWARMS" => {
                want(0, "SWARMS")?;
                Request::Swarms
            }
            "STATUS" => {
                want(0, "STATUS")?;
                Request::Status
            }
            "METAINFO" => {
                want(1, "METAINFO <info-hash>")?;
                Request::Metainfo {
                    info_hash: hash(0)?,
                }
            }
            "PUBLISH" => {
                want(2, "PUBLISH <info-hash> <length>, then the .torrent bytes")?;
                let length = args[1]
                    .parse::<usize>()
                    .map_err(|_| bad(format!("`{}` is not a length", args[1])))?;
                Request::Publish {
                    info_hash: hash(0)?,
                    length,
                }
            }
            "HELP" => Request::Help,
            "QUIT" => Request::Quit,
            _ => {
                return Err(bad(format!(
                    "unknown request `{}` (try HELP)",
                    truncate(words[0])
                )));
            }
        })
    }

    /// The request line, without its newline.
    pub fn to_line(&self) -> String {
        match self {
            Request::Join {
                info_hash,
                port,
                pieces,
            } => format!("JOIN {info_hash} {port} {pieces}"),
            Request::Ping { info_hash, port } => format!("PING {info_hash} {port}"),
            Request::Report {
                info_hash,
                port,
                pieces,
            } => {
                format!("REPORT {info_hash} {port} {pieces}")
            }
            Request::List { info_hash, port } => format!("LIST {info_hash} {port}"),
            Request::Leave { info_hash, port } => format!("LEAVE {info_hash} {port}"),
            Request::Swarms => "SWARMS".to_string(),
            Request::Status => "STATUS".to_string(),
            Request::Metainfo { info_hash } => format!("METAINFO {info_hash}"),
            Request::Publish { info_hash, length } => format!("PUBLISH {info_hash} {length}"),
            Request::Help => "HELP".to_string(),
            Request::Quit => "QUIT".to_string(),
        }
    }

    /// The request's first word, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Join { .. } => "JOIN",
            Request::Ping { .. } => "PING",
            Request::Report { .. } => "REPORT",
            Request::List { .. } => "LIST",
            Request::Leave { .. } => "LEAVE",
            Request::Swarms => "SWARMS",
            Request::Status => "STATUS",
            Request::Metainfo { .. } => "METAINFO",
            Request::Publish { .. } => "PUBLISH",
            Request::Help => "HELP",
            Request::Quit => "QUIT",
        }
    }
}

impl Request {
    /// Key fields for `--trace` (the info-hash shortened, as in logs).
    pub fn trace_fields(&self) -> Vec<(&'static str, TraceValue)> {
        let hash = |h: &InfoHash| ("info_hash", TraceValue::from(h.short()));
        match self {
            Request::Join {
                info_hash,
                port,
                pieces,
            }
            | Request::Report {
                info_hash,
                port,
                pieces,
            } => {
                vec![
                    hash(info_hash),
                    ("port", (*port).into()),
                    ("pieces", pieces.as_str().into()),
                ]
            }
            Request::Ping { info_hash, port }
            | Request::List { info_hash, port }
            | Request::Leave { info_hash, port } => {
                vec![hash(info_hash), ("port", (*port).into())]
            }
            Request::Metainfo { info_hash } => vec![hash(info_hash)],
            Request::Publish { info_hash, length } => {
                vec![hash(info_hash), ("length", (*length).into())]
            }
            Request::Swarms | Request::Status | Request::Help | Request::Quit => Vec::new(),
        }
    }
}

/// The text `HELP` answers with (as `OK` lines would be ambiguous, it is one `OK` line).
pub const HELP: &str = "requests: JOIN <info-hash> <port> <pieces> | PING <info-hash> <port> | REPORT <info-hash> <port> <pieces> | LIST <info-hash> <port> | LEAVE <info-hash> <port> | SWARMS | STATUS | METAINFO <info-hash> | PUBLISH <info-hash> <length> | QUIT; pieces are ranges like 0-3,7 or -";

/// At most 60 characters of untrusted text, for error messages.
pub fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

mod reply;
#[cfg(test)]
mod tests;
