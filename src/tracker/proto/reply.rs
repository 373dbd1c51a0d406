//! Replies of the tracker's line protocol: writing them, reading them back (the peer's side),
//! and their names, one-line summaries and trace fields. Pure codec, no sockets.

use std::io::{self, BufRead, Write};

use super::{
    ErrorCode, MAX_PEERS_PER_REPLY, MAX_REPLY_BYTES, MAX_STATUS_BYTES, MAX_SWARMS_PER_REPLY,
    MAX_TORRENT_BYTES, Options, PeerEntry, PeerStatus, ProtoError, Reply, SwarmEntry, SwarmStatus,
    bad, parse_unchoked, printable, read_line, truncate,
};
use crate::trace::Value as TraceValue;

impl Reply {
    /// The reply's first word.
    pub fn name(&self) -> &'static str {
        match self {
            Reply::Ok(_) => "OK",
            Reply::Pong => "PONG",
            Reply::Peers(_) => "PEERS",
            Reply::Swarms(_) => "SWARMS",
            Reply::Status(_) => "STATUS",
            Reply::Metainfo(_) => "METAINFO",
            Reply::Err { .. } => "ERR",
            Reply::Bye => "BYE",
        }
    }

    /// One line for logs: the header line as sent (`PEERS 3`, `ERR unknown-peer ...`).
    pub fn summary(&self) -> String {
        match self {
            Reply::Ok(text) => format!("OK {}", truncate(text)),
            Reply::Peers(peers) => format!("PEERS {}", peers.len()),
            Reply::Swarms(list) => format!("SWARMS {}", list.len()),
            Reply::Status(list) => format!("STATUS {}", list.len()),
            Reply::Metainfo(bytes) => format!("METAINFO {}", bytes.len()),
            Reply::Err { code, message } => format!("ERR {} {message}", code.as_str()),
            Reply::Pong | Reply::Bye => self.name().to_string(),
        }
    }

    /// Key fields for `--trace`.
    pub fn trace_fields(&self) -> Vec<(&'static str, TraceValue)> {
        match self {
            Reply::Peers(peers) => vec![("count", peers.len().into())],
            Reply::Swarms(list) => vec![("count", list.len().into())],
            Reply::Status(list) => vec![("count", list.len().into())],
            Reply::Metainfo(bytes) => vec![("length", bytes.len().into())],
            Reply::Err { code, .. } => vec![("code", code.as_str().into())],
            Reply::Ok(_) | Reply::Pong | Reply::Bye => Vec::new(),
        }
    }
}

impl Reply {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::Err {
            code,
            message: message.into(),
        }
    }

    /// Writes the reply (several lines for lists, raw bytes for metainfo).
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Reply::Ok(text) => writeln!(out, "OK {text}"),
            Reply::Pong => writeln!(out, "PONG"),
            Reply::Bye => writeln!(out, "BYE"),
            Reply::Err { code, message } => writeln!(out, "ERR {} {message}", code.as_str()),
            Reply::Peers(peers) => {
                writeln!(out, "PEERS {}", peers.len())?;
                for peer in peers {
                    writeln!(out, "PEER {} {} {}", peer.ip, peer.port, peer.pieces)?;
                }
                Ok(())
            }
            Reply::Swarms(swarms) => {
                writeln!(out, "SWARMS {}", swarms.len())?;
                for s in swarms {
                    writeln!(
                        out,
                        "SWARM {} {} {} {}",
                        s.info_hash,
                        s.pieces,
                        s.peers,
                        printable(&s.name)
                    )?;
                }
                Ok(())
            }
            Reply::Status(swarms) => {
                writeln!(out, "STATUS {}", swarms.len())?;
                for status in swarms {
                    let s = &status.swarm;
                    writeln!(
                        out,
                        "SWARM {} {} {} {}",
                        s.info_hash,
                        s.pieces,
                        status.peers.len(),
                        printable(&s.name)
                    )?;
                    for peer in &status.peers {
                        writeln!(out, "{}", peer.to_line())?;
                    }
                }
                Ok(())
            }
            Reply::Metainfo(bytes) => {
                writeln!(out, "METAINFO {}", bytes.len())?;
                out.write_all(bytes)?;
                writeln!(out)
            }
        }
    }

    /// Reads one whole reply.
    pub fn read_from(input: &mut impl BufRead) -> Result<Reply, ProtoError> {
        let line = read_line(input)?;
        let mut budget = Budget(line.len() + 1, MAX_REPLY_BYTES);
        if line.starts_with("STATUS") {
            budget.1 = MAX_STATUS_BYTES;
        }
        let mut next_line = || -> Result<String, ProtoError> {
            let line = read_line(input)?;
            budget.take(line.len() + 1)?;
            Ok(line)
        };
        let (head, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match head {
            "OK" => Ok(Reply::Ok(rest.to_string())),
            "PONG" => Ok(Reply::Pong),
            "BYE" => Ok(Reply::Bye),
            "ERR" => {
                let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
                let code = ErrorCode::parse(code)
                    .ok_or_else(|| bad(format!("unknown error code in `{}`", truncate(&line))))?;
                Ok(Reply::Err {
                    code,
                    message: message.to_string(),
                })
            }
            "PEERS" => {
                let count = parse_count(rest, MAX_PEERS_PER_REPLY)?;
                let peers = (0..count)
                    .map(|_| parse_peer(&next_line()?))
                    .collect::<Result<_, _>>()?;
                Ok(Reply::Peers(peers))
            }
            "SWARMS" => {
                let count = parse_count(rest, MAX_SWARMS_PER_REPLY)?;
                let swarms = (0..count)
                    .map(|_| parse_swarm(&next_line()?))
                    .collect::<Result<_, _>>()?;
                Ok(Reply::Swarms(swarms))
            }
            "STATUS" => {
                let count = parse_count(rest, MAX_SWARMS_PER_REPLY)?;
                let mut swarms = Vec::with_capacity(count);
                for _ in 0..count {
                    let swarm = parse_swarm(&next_line()?)?;
                    if swarm.peers > MAX_PEERS_PER_REPLY {
                        return Err(bad(format!(
                            "{} peers in one swarm is over the cap",
                            swarm.peers
                        )));
                    }
                    let peers = (0..swarm.peers)
                        .map(|_| parse_peer_status(&next_line()?))
                        .collect::<Result<_, _>>()?;
                    swarms.push(SwarmStatus { swarm, peers });
                }
                Ok(Reply::Status(swarms))
            }
            "METAINFO" => {
                let length = parse_count(rest, MAX_TORRENT_BYTES)?;
                let mut bytes = vec![0u8; length];
                input.read_exact(&mut bytes)?;
                let end = read_line(input)?;
                if !end.is_empty() {
                    return Err(bad("metainfo body not followed by a newline"));
                }
                Ok(Reply::Metainfo(bytes))
            }
            _ => Err(bad(format!("unexpected reply `{}`", truncate(&line)))),
        }
    }
}

/// Bytes read of a reply so far, and the most it may take.
struct Budget(usize, usize);

impl Budget {
    fn take(&mut self, bytes: usize) -> Result<(), ProtoError> {
        self.0 += bytes;
        if self.0 > self.1 {
            return Err(bad(format!("reply longer than {} bytes", self.1)));
        }
        Ok(())
    }
}

fn parse_count(text: &str, cap: usize) -> Result<usize, ProtoError> {
    match text.parse::<usize>() {
        Ok(n) if n <= cap => Ok(n),
        _ => Err(bad(format!(
            "`{}` is not a count up to {cap}",
            truncate(text)
        ))),
    }
}

fn parse_peer(line: &str) -> Result<PeerEntry, ProtoError> {
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["PEER", ip, port, pieces] => Ok(PeerEntry {
            ip: ip
                .parse()
                .map_err(|_| bad(format!("`{}` is not an ip", truncate(ip))))?,
            port: port
                .parse()
                .map_err(|_| bad(format!("`{}` is not a port", truncate(port))))?,
            pieces: pieces.to_string(),
        }),
        _ => Err(bad(format!(
            "expected `PEER <ip> <port> <pieces>`, got `{}`",
            truncate(line)
        ))),
    }
}

/// `PEER <ip> <port> <pieces> <ms> [unchoked=LIST]` of a `STATUS` reply; other options are
/// ignored.
fn parse_peer_status(line: &str) -> Result<PeerStatus, ProtoError> {
    let words: Vec<&str> = line.split(' ').collect();
    if words.len() < 5 {
        return Err(bad(format!(
            "expected `PEER <ip> <port> <pieces> <ms>`, got `{}`",
            truncate(line)
        )));
    }
    let options = Options::parse(&words[5..])?;
    let seen_ms = words[4].parse().map_err(|_| {
        bad(format!(
            "`{}` is not a number of milliseconds",
            truncate(words[4])
        ))
    })?;
    Ok(PeerStatus {
        peer: parse_peer(&words[..4].join(" "))?,
        seen_ms,
        unchoked: options.typed("unchoked", parse_unchoked, "a list of ports or addresses")?,
    })
}

fn parse_swarm(line: &str) -> Result<SwarmEntry, ProtoError> {
    let mut words = line.splitn(5, ' ');
    let expected = || {
        bad(format!(
            "expected `SWARM <hash> <pieces> <peers> <name>`, got `{}`",
            truncate(line)
        ))
    };
    if words.next() != Some("SWARM") {
        return Err(expected());
    }
    let info_hash = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(expected)?;
    let pieces = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(expected)?;
    let peers = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(expected)?;
    let name = words.next().ok_or_else(expected)?.to_string();
    if name.chars().any(char::is_control) {
        return Err(bad("a swarm name with control characters"));
    }
    Ok(SwarmEntry {
        info_hash,
        pieces,
        peers,
        name,
    })
}
