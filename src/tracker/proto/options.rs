//! Optional fields of the line protocol: `key=value` words after a request's (or a `STATUS`
//! `PEER` line's) positional words, parsed once here for every line.
//!
//! Grammar (PROTOCOL.md 1.1): a key is 1 to [`MAX_OPTION_KEY_LEN`] characters, a letter then
//! letters, digits, `-` or `_` (case-insensitive, kept in lower case); a value is 1 to
//! [`MAX_OPTION_VALUE_LEN`] printable ASCII characters without spaces (`0x21`-`0x7e`). At most
//! [`MAX_OPTIONS`] options per line; a key given twice is refused; a key the reader does not
//! know is ignored, so older and newer peers and trackers understand each other. Pure codec:
//! no I/O, and no meaning beyond the typed fields below ([`Secret`], [`Unchoked`]).

use std::fmt;
use std::net::SocketAddr;

use super::{ProtoError, bad, truncate};

/// Most `key=value` words on one line.
pub const MAX_OPTIONS: usize = 8;
/// Longest key.
pub const MAX_OPTION_KEY_LEN: usize = 16;
/// Longest value.
pub const MAX_OPTION_VALUE_LEN: usize = 1024;
/// Most entries of an `unchoked=` list.
pub const MAX_UNCHOKED: usize = 64;

/// The `key=value` words of one line, in the order given, keys in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options(Vec<(String, String)>);

impl Options {
    /// Parses the words after the positional ones; every one must be `key=value`.
    pub fn parse(words: &[&str]) -> Result<Options, ProtoError> {
        if words.len() > MAX_OPTIONS {
            return Err(bad(format!(
                "{} options is over the cap of {MAX_OPTIONS}",
                words.len()
            )));
        }
        let mut options: Vec<(String, String)> = Vec::with_capacity(words.len());
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(bad(format!(
                    "`{}` is not an option (key=value)",
                    truncate(word)
                )));
            };
            let key = key.to_ascii_lowercase();
            if !valid_key(&key) {
                return Err(bad(format!(
                    "`{}` is not an option key (a letter, then letters, digits, - or _, at most {MAX_OPTION_KEY_LEN})",
                    truncate(&key)
                )));
            }
            if value.is_empty()
                || value.len() > MAX_OPTION_VALUE_LEN
                || !value.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(bad(format!(
                    "option `{key}` needs a value of 1 to {MAX_OPTION_VALUE_LEN} printable characters"
                )));
            }
            if options.iter().any(|(k, _)| *k == key) {
                return Err(bad(format!("option `{key}` given twice")));
            }
            options.push((key, value.to_string()));
        }
        Ok(Options(options))
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key`'s value parsed by `parse`; a value that does not parse is refused.
    pub fn typed<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        what: &str,
    ) -> Result<Option<T>, ProtoError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => parse(value)
                .map(Some)
                .ok_or_else(|| bad(format!("option `{key}={}` is not {what}", truncate(value)))),
        }
    }
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_OPTION_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Writes ` key=value` for each given option, after a line's positional words.
pub fn write_options(line: &mut String, options: &[(&str, Option<String>)]) {
    for (key, value) in options {
        if let Some(value) = value {
            line.push(' ');
            line.push_str(key);
            line.push('=');
            line.push_str(value);
        }
    }
}

/// A peer's secret (`key=`), drawn by the peer at `JOIN`: 8 to 64 letters and digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 64;

    pub fn parse(text: &str) -> Option<Secret> {
        ((Secret::MIN_LEN..=Secret::MAX_LEN).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| Secret(text.to_string()))
    }

    /// A fresh random secret of 20 letters and digits.
    pub fn random() -> Secret {
        use rand::RngExt;
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut rng = rand::rng();
        let text = (0..20)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        Secret(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never printed: logs show that a key was given, not the key.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// One entry of an `unchoked=` list: a remote the reporting peer unchokes, named by its
/// listening port (development mode: one host) or its full address (`--remote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unchoked {
    Port(u16),
    Addr(SocketAddr),
}

impl fmt::Display for Unchoked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unchoked::Port(port) => write!(f, "{port}"),
            Unchoked::Addr(addr) => write!(f, "{addr}"),
        }
    }
}

/// Parses an `unchoked=` value: `-` for none, else at most [`MAX_UNCHOKED`] comma-separated
/// ports or `ip:port` addresses (`[v6]:port`).
pub fn parse_unchoked(text: &str) -> Option<Vec<Unchoked>> {
    if text == "-" {
        return Some(Vec::new());
    }
    let items: Vec<&str> = text.split(',').collect();
    if items.len() > MAX_UNCHOKED {
        return None;
    }
    items
        .into_iter()
        .map(|item| match item.parse::<u16>() {
            Ok(0) => None,
            Ok(port) => Some(Unchoked::Port(port)),
            Err(_) => item.parse::<SocketAddr>().ok().map(Unchoked::Addr),
        })
        .collect()
}

/// The `unchoked=` value for a set: `-` when empty.
pub fn format_unchoked(set: &[Unchoked]) -> String {
    if set.is_empty() {
        return "-".to_string();
    }
    let items: Vec<String> = set.iter().map(Unchoked::to_string).collect();
    items.join(",")
}
