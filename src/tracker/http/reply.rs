//! The bytes the tracker's HTTP side sends: the bencoded announce reply (BEP 3, compact per
//! BEP 23), the `failure reason` reply, and the response head around any body. Pure: no
//! sockets, no peer table.

use std::net::{IpAddr, SocketAddr};

use crate::bencode::{Value, encode};

/// A peer as an announce reply lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedPeer {
    pub addr: SocketAddr,
    /// The id it announced with; `None` for a line-protocol peer, which never tells the
    /// tracker one (its dictionary then has no `peer id`).
    pub peer_id: Option<[u8; 20]>,
}

impl From<SocketAddr> for ListedPeer {
    fn from(addr: SocketAddr) -> ListedPeer {
        ListedPeer {
            addr,
            peer_id: None,
        }
    }
}

/// The announce reply: `interval`, seed and leecher counts, and the peers (compact: 6 bytes
/// each, IPv4 only; otherwise BEP 3's list of `{ip, peer id, port}` dictionaries).
///
/// Written directly, keys in bencode's sorted order, rather than built as a [`Value`] and
/// encoded: this is the reply to every announce (the dictionary list still goes through
/// [`encode`]). The golden tests check the bytes are the canonical encoding.
pub fn announce_reply(
    interval: u32,
    complete: usize,
    incomplete: usize,
    peers: &[ListedPeer],
    compact: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + peers.len() * 6);
    out.extend_from_slice(b"d8:completei");
    push_decimal(&mut out, complete as u64);
    out.extend_from_slice(b"e10:incompletei");
    push_decimal(&mut out, incomplete as u64);
    out.extend_from_slice(b"e8:intervali");
    push_decimal(&mut out, u64::from(interval));
    out.extend_from_slice(b"e12:min intervali");
    push_decimal(&mut out, u64::from(interval / 2));
    out.extend_from_slice(b"e5:peers");
    if compact {
        let v4 = peers.iter().filter(|p| p.addr.is_ipv4()).count();
        push_decimal(&mut out, (v4 * 6) as u64);
        out.push(b':');
        for peer in peers {
            if let IpAddr::V4(ip) = peer.addr.ip() {
                out.extend_from_slice(&ip.octets());
                out.extend_from_slice(&peer.addr.port().to_be_bytes());
            }
        }
    } else {
        let list = Value::List(
            peers
                .iter()
                .map(|p| {
                    let id = p.peer_id.map(|id| ("peer id", Value::from(&id[..])));
                    let entries = [
                        ("ip", Value::from(p.addr.ip().to_string())),
                        ("port", Value::Int(i64::from(p.addr.port()))),
                    ];
                    Value::dict(entries.into_iter().chain(id))
                })
                .collect(),
        );
        out.extend_from_slice(&encode(&list));
    }
    out.push(b'e');
    out
}

/// Appends `n` in decimal, as `format!` would, without the formatting machinery.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A `failure reason` reply (sent with status 200, as BEP 3 clients expect).
pub fn failure_reply(reason: &str) -> Vec<u8> {
    encode(&Value::dict([("failure reason", Value::from(reason))]))
}

/// A whole response: status line, headers and body.
pub fn response(status: u16, content_type: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let connection: &[u8] = if keep_alive { b"keep-alive" } else { b"close" };
    // One buffer, head and body, so the whole response goes out in one `write`.
    let mut out = Vec::with_capacity(128 + content_type.len() + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(&mut out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(&mut out, body.len() as u64);
    out.extend_from_slice(b"\r\nConnection: ");
    out.extend_from_slice(connection);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out
}
