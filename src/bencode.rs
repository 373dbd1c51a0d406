//! Bencode (BEP 3): a strict decoder that keeps the raw byte span of every value, and a
//! canonical encoder.
//!
//! * [`decode`] reads exactly one value and returns a [`Node`] tree that borrows from the input.
//!   Every node remembers its offset and its raw bytes, so a caller can hash the `info`
//!   dictionary exactly as it appears in a `.torrent` file (the info-hash).
//! * [`encode`] writes a [`Value`] in canonical form (dictionary keys sorted as raw bytes).
//!
//! The decoder is strict: it accepts only canonical bencode, so anything it accepts re-encodes
//! to the same bytes. It rejects leading zeros, `-0`, empty integers, unsorted or duplicate
//! dictionary keys, trailing bytes, truncated input, string lengths past the end of the input
//! and nesting deeper than [`MAX_DEPTH`]. It never allocates from a length read from the input
//! and never panics.
//!
//! [`decode_lenient`] is the same decoder with one relaxation, for `.torrent` files (real ones
//! in the wild break the rule, and real clients read them): dictionary keys in any order, and a
//! key repeated with the same value, each reported as a [`NonCanonical`]; a key repeated with a
//! different value is still refused. Raw spans are the bytes as found, so an info-hash taken
//! from them is the one every other client computes.
//!
//! What it does not do: no I/O, no streaming (the whole value must be in memory), no other
//! leniency (leading zeros, `-0` and the rest stay refused), and no meaning for any key (that is
//! [`crate::metainfo`]'s and the tracker's job).

mod decode;
mod encode;
mod node;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

pub use decode::{Lenient, MAX_NOTES, decode, decode_lenient, decode_prefix};
pub use encode::{encode, encode_into};
pub use node::{Kind, Node};

/// Deepest nesting of lists and dictionaries accepted. Real torrents and tracker replies nest
/// three or four levels; the cap keeps the recursive decoder's stack use bounded.
pub const MAX_DEPTH: usize = 64;

/// A bencoded value built by a program, ready to [`encode`]. Dictionary keys are byte strings
/// kept in a `BTreeMap`, so they come out sorted as raw bytes, as BEP 3 requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>),
}

impl Value {
    /// A dictionary from `(key, value)` pairs; a later duplicate key replaces an earlier one.
    pub fn dict<K: Into<Vec<u8>>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Dict(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Bytes(s.into_bytes())
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Bytes(b.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Bytes(b)
    }
}

/// Why some bytes are not (canonical) bencode. Every variant carries the byte offset in the
/// input where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BencodeError {
    /// The input stopped while `expected` was still to come.
    UnexpectedEnd {
        offset: usize,
        expected: &'static str,
    },
    /// Byte `found` where `expected` should have been.
    Unexpected {
        offset: usize,
        found: u8,
        expected: &'static str,
    },
    /// A number (integer or string length) written with a leading zero, such as `i03e`.
    LeadingZero { offset: usize },
    /// The integer `i-0e`.
    NegativeZero { offset: usize },
    /// An integer outside the range of `i64`.
    IntOverflow { offset: usize },
    /// A string whose declared length runs past the end of the input.
    StringPastEnd {
        offset: usize,
        declared: u64,
        remaining: usize,
    },
    /// A dictionary key not greater than the key before it.
    UnsortedKey { offset: usize, key: String },
    /// A dictionary key equal to the key before it.
    DuplicateKey { offset: usize, key: String },
    /// ([`decode_lenient`]) A dictionary key given twice with different values.
    ConflictingKey { offset: usize, key: String },
    /// Lists and dictionaries nested deeper than [`MAX_DEPTH`].
    TooDeep { offset: usize },
    /// Bytes left over after the one top-level value.
    TrailingBytes { offset: usize, count: usize },
}

impl BencodeError {
    /// Byte offset in the input where the problem was found.
    pub fn offset(&self) -> usize {
        match *self {
            BencodeError::UnexpectedEnd { offset, .. }
            | BencodeError::Unexpected { offset, .. }
            | BencodeError::LeadingZero { offset }
            | BencodeError::NegativeZero { offset }
            | BencodeError::IntOverflow { offset }
            | BencodeError::StringPastEnd { offset, .. }
            | BencodeError::UnsortedKey { offset, .. }
            | BencodeError::DuplicateKey { offset, .. }
            | BencodeError::ConflictingKey { offset, .. }
            | BencodeError::TooDeep { offset }
            | BencodeError::TrailingBytes { offset, .. } => offset,
        }
    }
}

impl fmt::Display for BencodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BencodeError::UnexpectedEnd { offset, expected } => {
                write!(f, "input ends at byte {offset}, expected {expected}")
            }
            BencodeError::Unexpected {
                offset,
                found,
                expected,
            } => write!(
                f,
                "at byte {offset}: expected {expected}, found `{}`",
                found.escape_ascii()
            ),
            BencodeError::LeadingZero { offset } => {
                write!(
                    f,
                    "at byte {offset}: expected a number without leading zeros"
                )
            }
            BencodeError::NegativeZero { offset } => {
                write!(
                    f,
                    "at byte {offset}: expected a canonical integer, found `i-0e`"
                )
            }
            BencodeError::IntOverflow { offset } => {
                write!(f, "at byte {offset}: integer does not fit in 64 bits")
            }
            BencodeError::StringPastEnd {
                offset,
                declared,
                remaining,
            } => write!(
                f,
                "at byte {offset}: string of {declared} bytes runs past the end of the input \
                 ({remaining} bytes left)"
            ),
            BencodeError::UnsortedKey { offset, key } => write!(
                f,
                "at byte {offset}: dictionary key \"{key}\" is out of order \
                 (keys must be sorted as raw bytes)"
            ),
            BencodeError::DuplicateKey { offset, key } => {
                write!(f, "at byte {offset}: duplicate dictionary key \"{key}\"")
            }
            BencodeError::ConflictingKey { offset, key } => write!(
                f,
                "at byte {offset}: dictionary key \"{key}\" is given twice with different values"
            ),
            BencodeError::TooDeep { offset } => write!(
                f,
                "at byte {offset}: lists and dictionaries nested deeper than {MAX_DEPTH}"
            ),
            BencodeError::TrailingBytes { offset, count } => write!(
                f,
                "at byte {offset}: expected the end of the input, found {count} more bytes"
            ),
        }
    }
}

impl std::error::Error for BencodeError {}

/// A departure from canonical bencode that [`decode_lenient`] read anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonCanonical {
    /// A dictionary key smaller (as raw bytes) than the key before it.
    UnsortedKey { offset: usize, key: String },
    /// A dictionary key given again with the same value.
    RepeatedKey { offset: usize, key: String },
}

impl fmt::Display for NonCanonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonCanonical::UnsortedKey { offset, key } => {
                write!(
                    f,
                    "at byte {offset}: dictionary key \"{key}\" is out of order"
                )
            }
            NonCanonical::RepeatedKey { offset, key } => write!(
                f,
                "at byte {offset}: dictionary key \"{key}\" is repeated (same value)"
            ),
        }
    }
}
