//! The Diffie-Hellman half of MSE: a 768-bit key exchange (the prime [`P`] of the spec, the
//! generator 2, random 160-bit private keys), whose shared secret `S` names the session. Public
//! keys and `S` travel and are hashed as 96-byte big-endian numbers, left-padded with zeros.
//!
//! The arithmetic is `num-bigint`'s `modpow`; no sockets, no hashing here (`keys.rs` hashes).

use num_bigint::BigUint;

use super::MseError;

/// A public key or the shared secret on the wire: 768 bits, 96 bytes.
pub const KEY_LEN: usize = 96;

/// The spec's prime P (the 768-bit "First Oakley Group" prime), big-endian.
pub const P: [u8; KEY_LEN] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x3A, 0x36, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x05, 0x63,
];

/// The generator G.
pub const G: u32 = 2;

/// A private key's length: 160 bits, as the spec recommends.
pub const PRIVATE_LEN: usize = 20;

/// One side's key pair: the private X and the public `Y = G^X mod P`.
pub struct KeyPair {
    private: BigUint,
    public: [u8; KEY_LEN],
}

impl KeyPair {
    /// A new key pair from 20 random bytes.
    pub fn random() -> KeyPair {
        KeyPair::from_private(&rand::random::<[u8; PRIVATE_LEN]>())
    }

    /// The key pair of a given private key (big-endian), for tests.
    pub fn from_private(private: &[u8]) -> KeyPair {
        let private = BigUint::from_bytes_be(private);
        let public = BigUint::from(G).modpow(&private, &prime());
        KeyPair {
            private,
            public: to_key_bytes(&public),
        }
    }

    /// `Y`, as sent: 96 bytes big-endian.
    pub fn public(&self) -> &[u8; KEY_LEN] {
        &self.public
    }

    /// `S = Y_other^X mod P`, 96 bytes big-endian. A public key of 0, 1 or P-1 and above would
    /// make S guessable, so it ends the handshake.
    pub fn shared_secret(&self, theirs: &[u8; KEY_LEN]) -> Result<[u8; KEY_LEN], MseError> {
        let p = prime();
        let y = BigUint::from_bytes_be(theirs);
        if y <= BigUint::from(1u32) || y >= &p - 1u32 {
            return Err(MseError::BadPublicKey);
        }
        Ok(to_key_bytes(&y.modpow(&self.private, &p)))
    }
}

fn prime() -> BigUint {
    BigUint::from_bytes_be(&P)
}

/// A number below P as 96 bytes, big-endian, left-padded with zeros.
fn to_key_bytes(n: &BigUint) -> [u8; KEY_LEN] {
    let bytes = n.to_bytes_be();
    let mut out = [0u8; KEY_LEN];
    out[KEY_LEN - bytes.len()..].copy_from_slice(&bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_are_96_bytes_and_both_sides_share_one_secret() {
        let a = KeyPair::random();
        let b = KeyPair::random();
        assert_eq!(a.public().len(), 96);
        let s_a = a.shared_secret(b.public()).expect("valid key");
        let s_b = b.shared_secret(a.public()).expect("valid key");
        assert_eq!(s_a, s_b);
    }

    #[test]
    fn a_small_private_key_gives_the_expected_public_key() {
        // X = 10: Y = 2^10 = 1024 (far below P), i.e. 94 zero bytes then 0x04 0x00.
        let pair = KeyPair::from_private(&[10]);
        let mut expected = [0u8; 96];
        expected[94] = 0x04;
        assert_eq!(pair.public(), &expected);
    }

    #[test]
    fn degenerate_public_keys_are_refused() {
        let pair = KeyPair::random();
        let mut one = [0u8; 96];
        one[95] = 1;
        assert!(pair.shared_secret(&one).is_err());
        assert!(pair.shared_secret(&[0u8; 96]).is_err());
        assert!(pair.shared_secret(&P).is_err());
    }
}
