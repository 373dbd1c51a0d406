//! The peer's side of an HTTP tracker (BEP 3 announce, BEP 23 compact peers): our own
//! tracker's HTTP endpoint, opentracker, or any tracker named by a torrent's `announce` URL.
//!
//! One exchange per announce, in order:
//!
//! 1. `connect` to the tracker.
//! 2. `write_all` the `GET` request.
//! 3. `read` the whole reply (capped at [`MAX_REPLY_LEN`]).
//! 4. Close.
//!
//! An HTTP tracker knows addresses only: which pieces each peer holds is learned from the
//! peers themselves (bitfield and have).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};

use log::info;

use super::tracker_client::ClientError;
use crate::bencode::{self, Kind};
use crate::infohash::InfoHash;
use crate::net::traced::{Traced, slow_motion};
use crate::net::{self, Timeouts};
use crate::trace::{self, Dir};
use crate::tracker::http::percent_encode;

/// Largest announce reply read.
pub const MAX_REPLY_LEN: usize = 1 << 20;

/// `http://host:port/path` of an announce URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceUrl {
    pub host_port: String,
    pub path: String,
}

impl AnnounceUrl {
    /// Parses `http://HOST[:PORT]/PATH`; `None` for anything else (https is not spoken).
    pub fn parse(url: &str) -> Option<AnnounceUrl> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return None;
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !authority.ends_with(']');
        let host_port = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            path.to_string()
        };
        Some(AnnounceUrl { host_port, path })
    }
}

/// The parameters of one announce.
#[derive(Debug, Clone)]
pub struct AnnounceParams {
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    pub left: u64,
    /// `started`, `completed`, `stopped`, or `None` for a regular update.
    pub event: Option<&'static str>,
}

/// What the tracker answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceReply {
    pub interval: u64,
    pub peers: Vec<SocketAddr>,
}

/// An HTTP tracker, spoken to from `local_ip`.
#[derive(Debug, Clone)]
pub struct HttpTracker {
    pub url: AnnounceUrl,
    pub addr: SocketAddr,
    pub local_ip: Option<IpAddr>,
}

impl HttpTracker {
    /// One announce.
    pub fn announce(&self, params: &AnnounceParams) -> Result<AnnounceReply, ClientError> {
        let mut query = format!(
            "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&numwant=50",
            percent_encode(params.info_hash.as_bytes()),
            percent_encode(&params.peer_id),
            params.port,
            params.uploaded,
            params.downloaded,
            params.left
        );
        if let Some(event) = params.event {
            query.push_str("&event=");
            query.push_str(event);
        }
        let separator = if self.url.path.contains('?') {
            '&'
        } else {
            '?'
        };
        let request = format!(
            "GET {}{separator}{query} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bittorrent-sim/{}\r\nConnection: close\r\n\r\n",
            self.url.path,
            self.url.host_port,
            env!("CARGO_PKG_VERSION")
        );
        let stream = net::connect(self.addr, self.local_ip, Timeouts::EXCHANGE)?;
        slow_motion(self.addr, "announce");
        let event = params.event.unwrap_or("update");
        let local = stream.local_addr().ok();
        let fields = [
            ("info_hash", params.info_hash.short().into()),
            ("event", event.into()),
            ("port", params.port.into()),
            ("left", params.left.to_string().into()),
        ];
        trace::record(Dir::Send, "http", local, self.addr, "announce", &fields);
        Traced::new(&stream, self.addr).write_all(request.as_bytes())?;
        info!(
            "{}: sent announce {event} (left {})",
            self.addr, params.left
        );
        let mut reply = Vec::new();
        Traced::new(&stream, self.addr)
            .take(MAX_REPLY_LEN as u64 + 1)
            .read_to_end(&mut reply)?;
        if reply.len() > MAX_REPLY_LEN {
            return Err(ClientError::Unexpected(format!(
                "reply over {MAX_REPLY_LEN} bytes"
            )));
        }
        let parsed = parse_reply(&reply)?;
        info!(
            "{}: received announce reply: {} peers, interval {} s",
            self.addr,
            parsed.peers.len(),
            parsed.interval
        );
        let peers = [("peers", parsed.peers.len().into())];
        trace::record(
            Dir::Recv,
            "http",
            local,
            self.addr,
            "announce-reply",
            &peers,
        );
        Ok(parsed)
    }
}

/// Parses a whole HTTP response carrying a bencoded announce reply.
pub fn parse_reply(response: &[u8]) -> Result<AnnounceReply, ClientError> {
    let unexpected = |why: &str| ClientError::Unexpected(why.to_string());
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| unexpected("no http head"))?;
    let head = String::from_utf8_lossy(&response[..head_end]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(unexpected(&format!("http status {status}")));
    }
    let mut body = &response[head_end + 4..];
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    if let Some(length) = length {
        body = body
            .get(..length)
            .ok_or_else(|| unexpected("body shorter than its content-length"))?;
    }
    let root =
        bencode::decode(body).map_err(|e| unexpected(&format!("reply is not bencode: {e}")))?;
    if let Some(reason) = root.get(b"failure reason").and_then(|r| r.as_bytes()) {
        return Err(ClientError::Unexpected(format!(
            "tracker failure: {}",
            String::from_utf8_lossy(reason)
        )));
    }
    let interval = root
        .get(b"interval")
        .and_then(|i| i.as_int())
        .filter(|i| *i > 0)
        .unwrap_or(1800) as u64;
    let peers = match root.get(b"peers").map(|p| &p.kind) {
        Some(Kind::Bytes(packed)) => {
            if packed.len() % 6 != 0 {
                return Err(unexpected("compact peers not a multiple of 6 bytes"));
            }
            packed
                .chunks_exact(6)
                .map(|c| {
                    SocketAddr::from(([c[0], c[1], c[2], c[3]], u16::from_be_bytes([c[4], c[5]])))
                })
                .collect()
        }
        Some(Kind::List(list)) => list
            .iter()
            .filter_map(|peer| {
                let ip: IpAddr = peer.get(b"ip")?.as_str()?.parse().ok()?;
                let port = u16::try_from(peer.get(b"port")?.as_int()?).ok()?;
                Some(SocketAddr::new(ip, port))
            })
            .collect(),
        None => Vec::new(),
        Some(_) => return Err(unexpected("`peers` is neither a string nor a list")),
    };
    Ok(AnnounceReply {
        interval,
        peers: peers
            .into_iter()
            .filter(|p: &SocketAddr| p.port() != 0)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announce_urls_parse() {
        assert_eq!(
            AnnounceUrl::parse("http://127.0.0.1:6969/announce"),
            Some(AnnounceUrl {
                host_port: "127.0.0.1:6969".into(),
                path: "/announce".into()
            })
        );
        assert_eq!(
            AnnounceUrl::parse("http://tracker.local").map(|u| u.host_port),
            Some("tracker.local:80".into())
        );
        assert_eq!(AnnounceUrl::parse("udp://x:1/announce"), None);
    }

    #[test]
    fn compact_and_dictionary_replies_parse() {
        let mut compact =
            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nd8:intervali900e5:peers12:"
                .to_vec();
        compact.extend_from_slice(&[127, 0, 0, 1, 0x1b, 0x59, 127, 0, 0, 2, 0x1b, 0x5a]);
        compact.extend_from_slice(b"e");
        let reply = parse_reply(&compact).expect("compact");
        assert_eq!(reply.interval, 900);
        assert_eq!(
            reply.peers,
            vec![
                "127.0.0.1:7001".parse().expect("addr"),
                "127.0.0.2:7002".parse().expect("addr")
            ]
        );

        let dict = b"HTTP/1.1 200 OK\r\nContent-Length: 54\r\n\r\nd8:intervali60e5:peersld2:ip9:127.0.0.14:porti7001eeee";
        assert_eq!(
            parse_reply(dict).expect("dict").peers,
            vec!["127.0.0.1:7001".parse().expect("addr")]
        );
    }

    #[test]
    fn failures_and_garbage_are_errors() {
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\n\r\nd14:failure reason4:nopee").is_err());
        assert!(parse_reply(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        assert!(parse_reply(b"garbage").is_err());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\n\r\nd5:peers5:abcdee").is_err());
    }
}
