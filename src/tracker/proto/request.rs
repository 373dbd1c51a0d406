//! Requests of the tracker's line protocol: parsing a line (positional words, then the
//! optional `key=value` words of `options.rs`), printing it back, and its name, log line and
//! trace fields. Pure codec, no sockets.

use super::options::write_options;
use super::{
    InfoHash, Options, ProtoError, Request, Secret, TraceValue, bad, format_unchoked,
    parse_unchoked, truncate,
};

impl Request {
    /// Parses one request line. Commands are case-insensitive (students type `join`).
    pub fn parse(line: &str) -> Result<Request, ProtoError> {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some((command, rest)) = words.split_first() else {
            return Err(bad("empty line"));
        };
        let command = command.to_ascii_uppercase();
        match command.as_str() {
            "HELP" => return Ok(Request::Help),
            "QUIT" => return Ok(Request::Quit),
            _ => {}
        }
        // Positional words never hold `=`: the options start at the first word that does.
        let split = rest
            .iter()
            .position(|w| w.contains('='))
            .unwrap_or(rest.len());
        let (args, options) = rest.split_at(split);
        let options = Options::parse(options)?;
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
        let key = || options.typed("key", Secret::parse, "8 to 64 letters and digits");
        let numwant = || options.typed("numwant", |v| v.parse::<usize>().ok(), "a number of peers");
        Ok(match command.as_str() {
            "JOIN" => {
                want(
                    3,
                    "JOIN <info-hash> <port> <pieces> [key=SECRET] [numwant=N]",
                )?;
                Request::Join {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    pieces: args[2].to_string(),
                    key: key()?,
                    numwant: numwant()?,
                }
            }
            "PING" => {
                want(2, "PING <info-hash> <port> [key=SECRET]")?;
                Request::Ping {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    key: key()?,
                }
            }
            "REPORT" => {
                want(
                    3,
                    "REPORT <info-hash> <port> <pieces> [key=SECRET] [unchoked=PORT,...]",
                )?;
                Request::Report {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    pieces: args[2].to_string(),
                    key: key()?,
                    unchoked: options.typed(
                        "unchoked",
                        parse_unchoked,
                        "`-` or at most 64 ports or ip:port addresses",
                    )?,
                }
            }
            "LIST" => {
                want(2, "LIST <info-hash> <port> [numwant=N]")?;
                Request::List {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    numwant: numwant()?,
                }
            }
            "LEAVE" => {
                want(2, "LEAVE <info-hash> <port> [key=SECRET]")?;
                Request::Leave {
                    info_hash: hash(0)?,
                    port: port(1)?,
                    key: key()?,
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
        let key = |k: &Option<Secret>| ("key", k.as_ref().map(|k| k.as_str().to_string()));
        let numwant = |n: &Option<usize>| ("numwant", n.map(|n| n.to_string()));
        let (mut line, options) = match self {
            Request::Join {
                info_hash,
                port,
                pieces,
                key: k,
                numwant: n,
            } => (
                format!("JOIN {info_hash} {port} {pieces}"),
                vec![key(k), numwant(n)],
            ),
            Request::Ping {
                info_hash,
                port,
                key: k,
            } => (format!("PING {info_hash} {port}"), vec![key(k)]),
            Request::Report {
                info_hash,
                port,
                pieces,
                key: k,
                unchoked,
            } => (
                format!("REPORT {info_hash} {port} {pieces}"),
                vec![
                    key(k),
                    ("unchoked", unchoked.as_deref().map(format_unchoked)),
                ],
            ),
            Request::List {
                info_hash,
                port,
                numwant: n,
            } => (format!("LIST {info_hash} {port}"), vec![numwant(n)]),
            Request::Leave {
                info_hash,
                port,
                key: k,
            } => (format!("LEAVE {info_hash} {port}"), vec![key(k)]),
            Request::Swarms => ("SWARMS".to_string(), Vec::new()),
            Request::Status => ("STATUS".to_string(), Vec::new()),
            Request::Metainfo { info_hash } => (format!("METAINFO {info_hash}"), Vec::new()),
            Request::Publish { info_hash, length } => {
                (format!("PUBLISH {info_hash} {length}"), Vec::new())
            }
            Request::Help => ("HELP".to_string(), Vec::new()),
            Request::Quit => ("QUIT".to_string(), Vec::new()),
        };
        write_options(&mut line, &options);
        line
    }

    /// The request line for logs: as [`Request::to_line`], with a secret shown as `key=...`.
    pub fn to_log_line(&self) -> String {
        let line = self.to_line();
        match line.split_once(" key=") {
            Some((head, tail)) => {
                let rest = tail.split_once(' ').map_or("", |(_, rest)| rest);
                truncate(format!("{head} key=... {rest}").trim_end())
            }
            None => truncate(&line),
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
                ..
            }
            | Request::Report {
                info_hash,
                port,
                pieces,
                ..
            } => {
                vec![
                    hash(info_hash),
                    ("port", (*port).into()),
                    ("pieces", pieces.as_str().into()),
                ]
            }
            Request::Ping {
                info_hash, port, ..
            }
            | Request::List {
                info_hash, port, ..
            }
            | Request::Leave {
                info_hash, port, ..
            } => {
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
