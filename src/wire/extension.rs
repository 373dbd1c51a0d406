//! BEP 10's extension handshake: its dictionary tells the remote our listening port (`p`), and
//! the remote's tells us its own, so a connection the remote opened (from an ephemeral port)
//! can still be named by the peer's listening address in logs, `status` and the status page.
//! Its `m` offers one extension, BEP 9's `ut_metadata` (`wire/metadata.rs`), and a peer that
//! holds the metadata says its size (`metadata_size`).
//!
//! Pure: bencoded bytes in, bencoded bytes out. No sockets here.

use super::metadata;
use crate::bencode::{self, Value};

/// Byte 5 of the handshake's reserved bytes, bit `0x10`: "I speak BEP 10".
pub const RESERVED_BYTE: usize = 5;
pub const RESERVED_BIT: u8 = 0x10;
/// The extended message id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;

/// Our extension handshake: `d1:md11:ut_metadatai3ee13:metadata_sizei<size>e1:pi<port>e
/// 1:v<len>:bittorrent-sim <version>e`; `metadata_size` only when we hold the metadata (a
/// magnet peer still fetching it leaves it out).
pub fn handshake_payload(port: u16, metadata_size: Option<usize>) -> Vec<u8> {
    let version = format!("bittorrent-sim {}", env!("CARGO_PKG_VERSION"));
    let mut entries = vec![
        (
            "m",
            Value::dict([(metadata::NAME, Value::Int(i64::from(metadata::LOCAL_ID)))]),
        ),
        ("p", Value::Int(i64::from(port))),
        ("v", Value::Bytes(version.into_bytes())),
    ];
    if let Some(size) = metadata_size {
        entries.push(("metadata_size", Value::Int(size as i64)));
    }
    bencode::encode(&Value::dict(entries))
}

/// What a remote's extension handshake says about `ut_metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteMetadata {
    /// The extended id to send it `ut_metadata` messages with; `None` when it offers none
    /// (absent, or 0: "disabled").
    pub id: Option<u8>,
    /// `metadata_size` as stated, unchecked ([`metadata::check_size`]).
    pub size: Option<i64>,
}

/// The `ut_metadata` part of a remote's extension handshake. Junk is "nothing offered", never
/// an error, like [`listen_port`].
pub fn remote_metadata(payload: &[u8]) -> RemoteMetadata {
    let Ok(decoded) = bencode::decode_lenient(payload) else {
        return RemoteMetadata {
            id: None,
            size: None,
        };
    };
    let id = decoded
        .node
        .get(b"m")
        .and_then(|m| m.get(metadata::NAME.as_bytes()))
        .and_then(|id| id.as_int())
        .and_then(|id| u8::try_from(id).ok())
        .filter(|&id| id != 0);
    let size = decoded.node.get(b"metadata_size").and_then(|n| n.as_int());
    RemoteMetadata { id, size }
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
    fn our_handshake_names_our_port_and_ut_metadata() {
        let version = env!("CARGO_PKG_VERSION");
        let expected = |size: &str| {
            format!(
                "d\
                 1:m d 11:ut_metadata i3e e\
                 {size}\
                 1:p i7001e\
                 1:v {}:bittorrent-sim {version}\
                 e",
                15 + version.len()
            )
            .replace(' ', "")
            .replace("bittorrent-sim", "bittorrent-sim ")
        };
        // a peer still fetching the metadata: no metadata_size
        let payload = handshake_payload(7001, None);
        assert_eq!(String::from_utf8_lossy(&payload), expected(""));
        // a peer holding 16389 bytes of info dictionary
        let payload = handshake_payload(7001, Some(16389));
        assert_eq!(
            String::from_utf8_lossy(&payload),
            expected("13:metadata_size i16389e")
        );
        assert_eq!(
            remote_metadata(&payload),
            RemoteMetadata {
                id: Some(3),
                size: Some(16389)
            }
        );
    }

    #[test]
    fn a_remotes_ut_metadata_id_and_size() {
        // libtorrent's, holding the metadata
        let libtorrent =
            b"d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e1:v4:lt2xe";
        assert_eq!(
            remote_metadata(libtorrent),
            RemoteMetadata {
                id: Some(2),
                size: Some(31235)
            }
        );
        let none = RemoteMetadata {
            id: None,
            size: None,
        };
        assert_eq!(remote_metadata(b"d1:mdee"), none);
        assert_eq!(
            remote_metadata(b"d1:md11:ut_metadatai0eee"),
            none,
            "0: disabled"
        );
        assert_eq!(
            remote_metadata(b"d1:md11:ut_metadatai300eee"),
            none,
            "not a byte"
        );
        assert_eq!(remote_metadata(b"junk"), none);
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
