//! What MSE derives from the shared secret `S` and the torrent's info hash `SKEY`, all with
//! SHA-1 (`HASH(a, b)` is SHA-1 of the concatenation):
//!
//! * `HASH('req1', S)`: sent in the clear by the initiator; the receiver finds the start of
//!   message 3 by it (the padding before it has a random length);
//! * `HASH('req2', SKEY) xor HASH('req3', S)`: names the torrent without showing its info hash;
//! * the RC4 keys: `HASH('keyA', S, SKEY)` encrypts what the initiator (A) sends,
//!   `HASH('keyB', S, SKEY)` what the receiver (B) sends; each keystream's first 1024 bytes
//!   are thrown away (RC4's first bytes leak its key).
//!
//! RC4 itself is RustCrypto's `rc4` crate. No I/O here.

use rc4::{KeyInit, Rc4, StreamCipher};
use sha1::{Digest, Sha1};

use super::dh::KEY_LEN;

/// How many keystream bytes are discarded before the first byte is encrypted.
pub const DISCARD: usize = 1024;

/// `HASH(parts...)`: SHA-1 of the concatenation.
pub fn hash(parts: &[&[u8]]) -> [u8; 20] {
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part);
    }
    sha.finalize().into()
}

/// `HASH('req1', S)`.
pub fn req1(s: &[u8; KEY_LEN]) -> [u8; 20] {
    hash(&[b"req1", s])
}

/// `HASH('req2', SKEY) xor HASH('req3', S)`.
pub fn req2_xor_req3(skey: &[u8; 20], s: &[u8; KEY_LEN]) -> [u8; 20] {
    let req2 = hash(&[b"req2", skey]);
    let req3 = hash(&[b"req3", s]);
    std::array::from_fn(|i| req2[i] ^ req3[i])
}

/// Which side's sending key: A's (the initiator's) or B's (the receiver's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    A,
    B,
}

/// `HASH('keyA', S, SKEY)` or `HASH('keyB', S, SKEY)`.
pub fn key(sender: Sender, s: &[u8; KEY_LEN], skey: &[u8; 20]) -> [u8; 20] {
    let label: &[u8] = match sender {
        Sender::A => b"keyA",
        Sender::B => b"keyB",
    };
    hash(&[label, s, skey])
}

/// One direction's RC4 keystream, its first [`DISCARD`] bytes already thrown away.
pub struct Cipher(Rc4);

impl Cipher {
    /// The keystream of what `sender` sends in session `S` of torrent `SKEY`.
    pub fn new(sender: Sender, s: &[u8; KEY_LEN], skey: &[u8; 20]) -> Cipher {
        let mut cipher = Cipher::from_key(&key(sender, s, skey));
        cipher.apply(&mut [0u8; DISCARD]);
        cipher
    }

    /// Plain RC4 with `key` (nothing discarded), for the published test vectors.
    fn from_key(key: &[u8]) -> Cipher {
        // Every key here is 1..=256 bytes long, which is all `new_from_slice` checks.
        Cipher(Rc4::new_from_slice(key).unwrap_or_else(|_| unreachable!("rc4 key length")))
    }

    /// Encrypts or decrypts `data` in place (RC4 is its own inverse), moving the keystream on.
    pub fn apply(&mut self, data: &mut [u8]) {
        self.0.apply_keystream(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// The fixed session of the golden values: S = 00 01 02 ... 5f, SKEY = 64 65 ... 77.
    /// The expected values were computed with Python's hashlib and a textbook RC4.
    fn session() -> ([u8; 96], [u8; 20]) {
        (
            std::array::from_fn(|i| i as u8),
            std::array::from_fn(|i| 100 + i as u8),
        )
    }

    #[test]
    fn rc4_matches_the_published_test_vectors() {
        for (key, plain, cipher) in [
            ("Key", "Plaintext", "bbf316e8d940af0ad3"),
            ("Wiki", "pedia", "1021bf0420"),
            ("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"),
        ] {
            let mut data = plain.as_bytes().to_vec();
            Cipher::from_key(key.as_bytes()).apply(&mut data);
            assert_eq!(data, hex(cipher), "key {key}");
        }
    }

    #[test]
    fn hashes_match_values_computed_independently() {
        let (s, skey) = session();
        assert_eq!(
            req1(&s).to_vec(),
            hex("ed37476cccf63496894d66db14b9806c8c9efe3e")
        );
        assert_eq!(
            req2_xor_req3(&skey, &s).to_vec(),
            hex("b70eed1f9125a064b5b14f8a94d4169a393b7f83")
        );
        assert_eq!(
            key(Sender::A, &s, &skey).to_vec(),
            hex("440a1bb8b1b33dbc78ea810aa9372179da90a5be")
        );
        assert_eq!(
            key(Sender::B, &s, &skey).to_vec(),
            hex("c409a3d1b427f3d1dc43eb9141b49cbf70254941")
        );
    }

    #[test]
    fn the_first_1024_keystream_bytes_are_discarded() {
        // VC (8 zero bytes) encrypted: keystream bytes 1024..1032 of each key.
        let (s, skey) = session();
        let mut vc = [0u8; 8];
        Cipher::new(Sender::A, &s, &skey).apply(&mut vc);
        assert_eq!(vc.to_vec(), hex("52c18994385a358c"));
        let mut vc = [0u8; 8];
        Cipher::new(Sender::B, &s, &skey).apply(&mut vc);
        assert_eq!(vc.to_vec(), hex("45fc837c421cf38c"));
    }
}
