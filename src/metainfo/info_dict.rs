//! A torrent's `info` dictionary on its own, the "metadata" of BEP 9: read back out of a
//! [`Metainfo`] (what a peer serves to magnet links), and a [`Metainfo`] made from one (what a
//! magnet link's peer fetched and checked against the info-hash).
//!
//! What it does not do: fetch or verify anything (`peer/magnet.rs` checks the SHA-1 first), or
//! parse the dictionary itself: [`Metainfo::from_info_bytes`] wraps it in a torrent and hands
//! it to the one parser every way in shares, so every kind of torrent it reads is read here.

use super::{Metainfo, MetainfoError};
use crate::bencode::{self, Value};

impl Metainfo {
    /// The `info` dictionary's bytes exactly as they are in the torrent (their SHA-1 is the
    /// info-hash).
    pub fn info_bytes(&self) -> &[u8] {
        // The torrent parsed when this Metainfo was made, so it parses again.
        bencode::decode_lenient(self.as_bytes())
            .ok()
            .and_then(|top| top.node.get(b"info").map(|info| info.raw))
            .unwrap_or(&[])
    }

    /// A torrent made of `info`, an info dictionary's bytes as fetched (kept exactly, so the
    /// info-hash is their SHA-1), and `announce` when there is a tracker to name.
    pub fn from_info_bytes(info: &[u8], announce: Option<&str>) -> Result<Metainfo, MetainfoError> {
        let mut torrent = b"d".to_vec();
        if let Some(url) = announce {
            bencode::encode_into(&Value::from("announce"), &mut torrent);
            bencode::encode_into(&Value::from(url), &mut torrent);
        }
        bencode::encode_into(&Value::from("info"), &mut torrent);
        torrent.extend_from_slice(info);
        torrent.push(b'e');
        Metainfo::from_bytes(&torrent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infohash::sha1;

    /// A 3-byte file in one piece: `d6:lengthi3e4:name5:a.bin12:piece lengthi16384e6:pieces20:<hash>e`.
    fn info() -> Vec<u8> {
        let mut info = b"d6:lengthi3e4:name5:a.bin12:piece lengthi16384e6:pieces20:".to_vec();
        info.extend_from_slice(&sha1(b"abc"));
        info.push(b'e');
        info
    }

    #[test]
    fn a_torrent_from_fetched_info_bytes_keeps_them_and_their_hash() {
        let info = info();
        let meta =
            Metainfo::from_info_bytes(&info, Some("http://127.0.0.1:6000/announce")).unwrap();
        assert_eq!(meta.info_hash.0, sha1(&info));
        assert_eq!(meta.name, "a.bin");
        assert_eq!(meta.length, 3);
        assert_eq!(
            meta.announce.as_deref(),
            Some("http://127.0.0.1:6000/announce")
        );
        assert_eq!(meta.info_bytes(), &info[..]);
        let mut torrent = b"d8:announce30:http://127.0.0.1:6000/announce4:info".to_vec();
        torrent.extend_from_slice(&info);
        torrent.push(b'e');
        assert_eq!(meta.as_bytes(), &torrent[..]);
        let bare = Metainfo::from_info_bytes(&info, None).unwrap();
        assert_eq!(bare.announce, None);
        assert_eq!(bare.info_hash, meta.info_hash);
    }

    #[test]
    fn junk_info_bytes_are_refused() {
        assert!(Metainfo::from_info_bytes(b"i3e", None).is_err());
        assert!(Metainfo::from_info_bytes(b"d4:name", None).is_err());
        assert!(Metainfo::from_info_bytes(b"de", None).is_err());
    }
}
