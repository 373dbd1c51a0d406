//! BEP 10's extension handshake, the one extended message we speak: its dictionary tells the
//! remote our listening port (`p`), and the remote's tells us its own, so a connection the
//! remote opened (from an ephemeral port) can still be named by the peer's listening address
//! in logs, `status` and the status page. We offer no extension messages (`m` is empty).
//!
//! Pure: bencoded bytes in, bencoded bytes out. No sockets here.

use crate::bencode::{self, Value};

/// Byte 5 of the handshake's reserved bytes, bit `0x10`: "I speak BEP 10".
pub const RESERVED_BYTE: usize = 5;
pub const RESERVED_BIT: u8 = 0x10;
/// The extended message id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;

/// Our extension handshake: `d1:md1:pi<port>e1:v<len>:bittorrent-sim <version>e`.
pub fn handshake_payload(port: u16) -> Vec<u8> {
    let version = format!("bittorrent-sim {}", env!("CARGO_PKG_VERSION"));
    bencode::encode(&Value::dict([
        ("m", Value::dict(Vec::<(&str, Value)>::new())),
        ("p", Value::Int(i64::from(port))),
        ("v", Value::Bytes(version.into_bytes())),
    ]))
}

/// The listening port a remote's extension handshake names, if it is a dictionary with a
/// `p` between 1 and 65535. Anything else is no port, never an error: the dictionary is
/// optional information.
pub fn listen_port(payload: &[u8]) -> Option<u16> {
    let decoded = bencode::decode_lenient(payload).ok()?;
    let port = decoded.node.get(b"p")?.as_int()?;
    u16::try_from(port).ok().filter(|&p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_handshake_names_our_port_and_no_extension() {
        let payload = handshake_payload(7001);
        let version = env!("CARGO_PKG_VERSION");
        let expected = format!(
            "d\
             1:m de\
             1:p i7001e\
             1:v {}:bittorrent-sim {version}\
             e",
            15 + version.len()
        )
        .replace(' ', "")
        .replace("bittorrent-sim", "bittorrent-sim ");
        assert_eq!(String::from_utf8_lossy(&payload), expected);
    }

    #[test]
    fn a_remote_port_is_read_from_p_and_junk_is_no_port() {
        // libtorrent's: m (with ut_metadata), p, reqq, v, in any order.
        let libtorrent = b"d1:md11:ut_metadatai2ee1:pi6881e4:reqqi500e1:v14:libtorrent 2.0e";
        assert_eq!(listen_port(libtorrent), Some(6881));
        assert_eq!(listen_port(b"d1:pi0ee"), None, "port 0");
        assert_eq!(listen_port(b"d1:pi70000ee"), None, "over 65535");
        assert_eq!(listen_port(b"d1:pi-1ee"), None);
        assert_eq!(listen_port(b"d1:p4:7001e"), None, "not an integer");
        assert_eq!(listen_port(b"de"), None);
        assert_eq!(listen_port(b"li1ee"), None, "not a dictionary");
        assert_eq!(listen_port(b"d1:pi7"), None, "truncated");
    }
}
