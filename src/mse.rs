//! Message Stream Encryption (MSE, also "protocol encryption" or PE): the obfuscated handshake
//! libtorrent, qBittorrent, Deluge, rtorrent, Transmission and aria2 speak before, or instead
//! of, the plain BEP 3 handshake. A Diffie-Hellman exchange gives both sides a secret; the
//! torrent's info hash (SKEY) is proved without being shown; then the BitTorrent stream goes
//! on RC4-encrypted (or, when both agree, in plaintext after the obfuscated handshake).
//!
//! * `mse/dh.rs`: the 768-bit key exchange;
//! * `mse/keys.rs`: the hashes and the RC4 keystreams derived from the secret;
//! * `mse/input.rs`: buffered reads, and the search for a marker after random padding;
//! * `mse/handshake.rs`: the five messages, initiator (A) and receiver (B);
//! * `mse/stream.rs`: the connection's reading and writing halves afterwards.
//!
//! This file: the `--encryption` policy, the methods, and the error. No sockets anywhere in
//! this module: the peer's connection code (`peer/connection/secure.rs`) drives it.

pub mod dh;
pub mod handshake;
mod input;
pub mod keys;
pub mod stream;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;

pub use handshake::{Negotiated, initiate, respond};
pub use stream::{Decryptor, Encrypting};

/// crypto_provide / crypto_select bit: plaintext after the handshake.
pub const PLAINTEXT: u32 = 0x01;
/// crypto_provide / crypto_select bit: RC4 after the handshake.
pub const RC4: u32 = 0x02;

/// What the stream after an MSE handshake is: crypto_select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Plaintext,
    Rc4,
}

impl Method {
    pub fn bit(self) -> u32 {
        match self {
            Method::Plaintext => PLAINTEXT,
            Method::Rc4 => RC4,
        }
    }

    /// The initiator's check of crypto_select: one bit, one it provided.
    pub fn from_select(select: u32, provided: u32) -> Result<Method, MseError> {
        match select {
            PLAINTEXT if provided & PLAINTEXT != 0 => Ok(Method::Plaintext),
            RC4 if provided & RC4 != 0 => Ok(Method::Rc4),
            _ => Err(MseError::BadSelect { select, provided }),
        }
    }

    /// For logs: `rc4` or `plaintext`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Plaintext => "plaintext",
            Method::Rc4 => "rc4",
        }
    }
}

/// Which handshake a connection attempt starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    Plain,
    Encrypted,
}

impl Handshake {
    pub fn name(self) -> &'static str {
        match self {
            Handshake::Plain => "plain",
            Handshake::Encrypted => "encrypted",
        }
    }
}

/// `peer --encryption`: which handshakes we try and accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain BEP 3 only; an incoming MSE handshake is refused.
    Off,
    /// Plain first, MSE if the remote closed the plain handshake; both accepted incoming, and
    /// an MSE remote that offers plaintext gets it.
    Allow,
    /// MSE first (offering RC4 and plaintext, selecting RC4), plain if MSE failed; both
    /// accepted incoming.
    Prefer,
    /// MSE with RC4 only, both ways; a plain handshake is refused.
    Require,
}

impl Encryption {
    /// The handshakes an outgoing connection tries, in order, each on a new connection.
    pub fn attempts(self) -> &'static [Handshake] {
        match self {
            Encryption::Off => &[Handshake::Plain],
            Encryption::Allow => &[Handshake::Plain, Handshake::Encrypted],
            Encryption::Prefer => &[Handshake::Encrypted, Handshake::Plain],
            Encryption::Require => &[Handshake::Encrypted],
        }
    }

    /// crypto_provide when we initiate.
    pub fn provide(self) -> u32 {
        match self {
            Encryption::Require => RC4,
            _ => RC4 | PLAINTEXT,
        }
    }

    /// Whether an incoming handshake of this kind may go on.
    pub fn accepts(self, handshake: Handshake) -> bool {
        match handshake {
            Handshake::Plain => self != Encryption::Require,
            Handshake::Encrypted => self != Encryption::Off,
        }
    }

    /// crypto_select when we receive: `allow` gives plaintext when offered, `prefer` and
    /// `require` RC4; `require` nothing but RC4.
    pub fn select(self, provide: u32) -> Option<Method> {
        let rc4 = (provide & RC4 != 0).then_some(Method::Rc4);
        let plain = (provide & PLAINTEXT != 0).then_some(Method::Plaintext);
        match self {
            Encryption::Off => None,
            Encryption::Allow => plain.or(rc4),
            Encryption::Prefer => rc4.or(plain),
            Encryption::Require => rc4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encryption::Off => "off",
            Encryption::Allow => "allow",
            Encryption::Prefer => "prefer",
            Encryption::Require => "require",
        }
    }
}

/// Why an MSE handshake failed.
#[derive(Debug)]
pub enum MseError {
    Io(io::Error),
    /// The remote's public key is 0, 1, or P-1 and above.
    BadPublicKey,
    /// The marker (`HASH('req1', S)` or the encrypted VC) was not within its window.
    NoSync {
        window: usize,
    },
    /// `HASH('req2', SKEY) xor HASH('req3', S)` names a torrent we do not serve.
    UnknownTorrent,
    /// The decrypted VC is not 8 zero bytes.
    BadVc,
    /// A padding or payload length over its limit.
    BadLength(&'static str, u16),
    /// crypto_select is not one of the methods we provided.
    BadSelect {
        select: u32,
        provided: u32,
    },
    /// crypto_provide has no method our `--encryption` accepts.
    NoCommonMethod {
        provide: u32,
    },
    /// `--encryption` refuses this kind of handshake.
    Refused {
        handshake: Handshake,
        policy: Encryption,
    },
}

impl fmt::Display for MseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MseError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                f.write_str("encrypted handshake: the remote closed the connection")
            }
            MseError::Io(e) => write!(f, "encrypted handshake: {e}"),
            MseError::BadPublicKey => f.write_str("encrypted handshake: degenerate public key"),
            MseError::NoSync { window } => write!(
                f,
                "encrypted handshake: no sync marker within {window} bytes"
            ),
            MseError::UnknownTorrent => {
                f.write_str("encrypted handshake: the remote asks for another torrent")
            }
            MseError::BadVc => f.write_str("encrypted handshake: bad verification constant"),
            MseError::BadLength(what, len) => {
                write!(f, "encrypted handshake: {what} length {len} too long")
            }
            MseError::BadSelect { select, provided } => write!(
                f,
                "encrypted handshake: crypto_select {select:#x} not among {provided:#x}"
            ),
            MseError::NoCommonMethod { provide } => write!(
                f,
                "encrypted handshake: crypto_provide {provide:#x} has no method we accept"
            ),
            MseError::Refused { handshake, policy } => write!(
                f,
                "{} handshake refused (--encryption {})",
                handshake.name(),
                policy.name()
            ),
        }
    }
}

impl From<io::Error> for MseError {
    fn from(e: io::Error) -> Self {
        MseError::Io(e)
    }
}
