//! The bencode decoder: one recursive-descent pass over a byte slice, building a tree of
//! [`Node`]s that borrow from the input and know their own raw bytes. [`decode`] is strict
//! (canonical bencode only); [`decode_lenient`] also reads dictionaries whose keys are out of
//! order or repeated with the same value, as `.torrent` files in the wild have them, and says
//! what it let through.
//!
//! It does not interpret keys, does not copy string contents, and does not define the tree
//! ([`Node`] and its accessors live in `node.rs`).

use std::collections::BTreeMap;

use super::{BencodeError, Kind, MAX_DEPTH, Node, NonCanonical};

/// At most this many departures are listed by [`decode_lenient`] (the rest are only counted).
pub const MAX_NOTES: usize = 16;

/// Decodes exactly one canonical bencoded value filling the whole of `input`.
pub fn decode(input: &[u8]) -> Result<Node<'_>, BencodeError> {
    let mut decoder = Decoder {
        input,
        pos: 0,
        lenient: None,
    };
    decoder.whole()
}

/// What [`decode_lenient`] read, and how it departs from canonical bencode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lenient<'a> {
    pub node: Node<'a>,
    /// The first [`MAX_NOTES`] departures, in input order; empty for canonical input.
    pub notes: Vec<NonCanonical>,
    /// How many departures there were in all.
    pub count: usize,
}

/// Decodes one value filling `input` like [`decode`], except that a dictionary may list its
/// keys in any order, and may repeat a key whose value is byte-for-byte the same (the first
/// copy is kept); both are reported in [`Lenient::notes`]. A key repeated with another value
/// is refused ([`BencodeError::ConflictingKey`]): two readers could see two different files.
/// Everything else is as strict as [`decode`], and every node's `raw` is the bytes as found.
pub fn decode_lenient(input: &[u8]) -> Result<Lenient<'_>, BencodeError> {
    let mut decoder = Decoder {
        input,
        pos: 0,
        lenient: Some(Notes::default()),
    };
    let node = decoder.whole()?;
    let notes = decoder.lenient.unwrap_or_default();
    Ok(Lenient {
        node,
        notes: notes.listed,
        count: notes.count,
    })
}

/// Decodes the one value at the start of `input`, leniently as [`decode_lenient`], and leaves
/// whatever follows it: the caller reads the value's `raw` length to find where it ended. For
/// BEP 9's `data` message, a bencoded dictionary followed by raw bytes.
pub fn decode_prefix(input: &[u8]) -> Result<Node<'_>, BencodeError> {
    let mut decoder = Decoder {
        input,
        pos: 0,
        lenient: Some(Notes::default()),
    };
    decoder.value(0)
}

#[derive(Default)]
struct Notes {
    listed: Vec<NonCanonical>,
    count: usize,
}

impl Notes {
    fn add(&mut self, note: NonCanonical) {
        self.count += 1;
        if self.listed.len() < MAX_NOTES {
            self.listed.push(note);
        }
    }
}

/// Keys in error messages: printable, and short even when the key is not.
fn shown_key(key: &[u8]) -> String {
    let mut shown: String = key.escape_ascii().to_string();
    if shown.len() > 60 {
        shown.truncate(60);
        shown.push_str("...");
    }
    shown
}

struct Decoder<'a> {
    input: &'a [u8],
    /// Next byte to read; always `<= input.len()`.
    pos: usize,
    /// `Some` when decoding leniently: the departures let through so far.
    lenient: Option<Notes>,
}

impl<'a> Decoder<'a> {
    /// One value and nothing after it.
    fn whole(&mut self) -> Result<Node<'a>, BencodeError> {
        let node = self.value(0)?;
        if self.pos < self.input.len() {
            return Err(BencodeError::TrailingBytes {
                offset: self.pos,
                count: self.input.len() - self.pos,
            });
        }
        Ok(node)
    }

    fn peek(&self, expected: &'static str) -> Result<u8, BencodeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(BencodeError::UnexpectedEnd {
                offset: self.pos,
                expected,
            })
    }

    /// `depth` is how many lists and dictionaries enclose this value.
    fn value(&mut self, depth: usize) -> Result<Node<'a>, BencodeError> {
        let start = self.pos;
        let kind = match self.peek("a value")? {
            b'i' => Kind::Int(self.int()?),
            b'0'..=b'9' => Kind::Bytes(self.bytes()?),
            b'l' | b'd' if depth >= MAX_DEPTH => {
                return Err(BencodeError::TooDeep { offset: start });
            }
            b'l' => self.list(depth + 1)?,
            b'd' => self.dict(depth + 1)?,
            found => {
                return Err(BencodeError::Unexpected {
                    offset: start,
                    found,
                    expected: "a value (`i`, `l`, `d` or a string length)",
                });
            }
        };
        Ok(Node {
            offset: start,
            raw: &self.input[start..self.pos],
            kind,
        })
    }

    /// `i<digits>e`, at `self.pos` on the `i`.
    fn int(&mut self) -> Result<i64, BencodeError> {
        let start = self.pos;
        self.pos += 1;
        let negative = self.peek("a digit or `-`")? == b'-';
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        loop {
            match self.peek("a digit or `e`")? {
                b'0'..=b'9' => self.pos += 1,
                b'e' if self.pos > digits_start => break,
                found => {
                    return Err(BencodeError::Unexpected {
                        offset: self.pos,
                        found,
                        expected: "a digit",
                    });
                }
            }
        }
        let digits = &self.input[digits_start..self.pos];
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(BencodeError::LeadingZero {
                offset: digits_start,
            });
        }
        if negative && digits == b"0" {
            return Err(BencodeError::NegativeZero { offset: start });
        }
        // Accumulate as a negative number so that i64::MIN fits.
        let mut n: i64 = 0;
        for &d in digits {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_sub(i64::from(d - b'0')))
                .ok_or(BencodeError::IntOverflow { offset: start })?;
        }
        if !negative {
            n = n
                .checked_neg()
                .ok_or(BencodeError::IntOverflow { offset: start })?;
        }
        self.pos += 1; // the `e`
        Ok(n)
    }

    /// `<length>:<bytes>`, at `self.pos` on the first digit.
    fn bytes(&mut self) -> Result<&'a [u8], BencodeError> {
        let start = self.pos;
        // Saturates instead of overflowing: any length past the input is refused below anyway.
        let mut declared: u64 = 0;
        loop {
            match self.peek("a digit or `:`")? {
                d @ b'0'..=b'9' => {
                    if self.pos > start && self.input[start] == b'0' {
                        return Err(BencodeError::LeadingZero { offset: start });
                    }
                    declared = declared
                        .saturating_mul(10)
                        .saturating_add(u64::from(d - b'0'));
                    self.pos += 1;
                }
                b':' => break,
                found => {
                    return Err(BencodeError::Unexpected {
                        offset: self.pos,
                        found,
                        expected: "a digit or `:` in a string length",
                    });
                }
            }
        }
        self.pos += 1; // the `:`
        let remaining = self.input.len() - self.pos;
        let len = match usize::try_from(declared) {
            Ok(len) if len <= remaining => len,
            _ => {
                return Err(BencodeError::StringPastEnd {
                    offset: start,
                    declared,
                    remaining,
                });
            }
        };
        let bytes = &self.input[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    /// `l<values>e`, at `self.pos` on the `l`.
    fn list(&mut self, depth: usize) -> Result<Kind<'a>, BencodeError> {
        self.pos += 1;
        let mut items = Vec::new();
        while self.peek("a value or `e`")? != b'e' {
            items.push(self.value(depth)?);
        }
        self.pos += 1;
        Ok(Kind::List(items))
    }

    /// `d<key><value>...e`, at `self.pos` on the `d`.
    fn dict(&mut self, depth: usize) -> Result<Kind<'a>, BencodeError> {
        self.pos += 1;
        let mut entries = BTreeMap::new();
        let mut previous: Option<&'a [u8]> = None;
        loop {
            let key_start = self.pos;
            let key = match self.peek("a dictionary key or `e`")? {
                b'e' => break,
                b'0'..=b'9' => self.bytes()?,
                found => {
                    return Err(BencodeError::Unexpected {
                        offset: key_start,
                        found,
                        expected: "a byte-string dictionary key or `e`",
                    });
                }
            };
            let Some(notes) = &mut self.lenient else {
                if let Some(previous) = previous {
                    if key == previous {
                        let key = shown_key(key);
                        return Err(BencodeError::DuplicateKey {
                            offset: key_start,
                            key,
                        });
                    }
                    if key < previous {
                        let key = shown_key(key);
                        return Err(BencodeError::UnsortedKey {
                            offset: key_start,
                            key,
                        });
                    }
                }
                let value = self.value(depth)?;
                entries.insert(key, value);
                previous = Some(key);
                continue;
            };
            let repeated = entries.contains_key(key);
            if !repeated && previous.is_some_and(|previous| key < previous) {
                notes.add(NonCanonical::UnsortedKey {
                    offset: key_start,
                    key: shown_key(key),
                });
            }
            let value = self.value(depth)?;
            match entries.get(key) {
                Some(first) if first.raw != value.raw => {
                    return Err(BencodeError::ConflictingKey {
                        offset: key_start,
                        key: shown_key(key),
                    });
                }
                Some(_) => {
                    if let Some(notes) = &mut self.lenient {
                        notes.add(NonCanonical::RepeatedKey {
                            offset: key_start,
                            key: shown_key(key),
                        });
                    }
                }
                None => {
                    entries.insert(key, value);
                }
            }
            previous = Some(key);
        }
        self.pos += 1;
        Ok(Kind::Dict(entries))
    }
}
