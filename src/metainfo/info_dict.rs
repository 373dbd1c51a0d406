//! A torrent's `info` dictionary on its own, the "metadata" of BEP 9: read back out of a
//! [`Metainfo`] (what a peer serves to magnet links), and, in tests, a [`Metainfo`] made from
//! one by [`Metainfo::from_info_bytes`] (what a magnet link's peer does with what it fetched).
//!
//! What it does not do: fetch or verify anything (`peer/magnet.rs` checks the SHA-1 first), or
//! parse the dictionary (the one parser every way in shares does).

use super::Metainfo;
use crate::bencode;

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
