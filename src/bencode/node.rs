//! The decoded bencode tree: [`Node`] (a value with its offset and raw bytes, borrowed from the
//! input) and [`Kind`] (what it holds), with the accessors callers use to read it.
//!
//! What it does not do: decode (that is [`super::decode`]), copy string contents, or give keys
//! any meaning.

use std::collections::BTreeMap;

use super::Value;

/// One decoded value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// Offset of the value's first byte in the input.
    pub offset: usize,
    /// The value's bytes exactly as they appear in the input (`i42e`, `4:spam`, `d...e`).
    pub raw: &'a [u8],
    pub kind: Kind<'a>,
}

/// What a [`Node`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    List(Vec<Node<'a>>),
    /// Keys are unique; [`super::decode`] checked they were sorted in the input, [`super::decode_lenient`]
    /// only that a repeated key had the same value (the first copy is kept).
    Dict(BTreeMap<&'a [u8], Node<'a>>),
}

impl<'a> Node<'a> {
    /// The value of `key` if this is a dictionary holding it.
    pub fn get(&self, key: &[u8]) -> Option<&Node<'a>> {
        match &self.kind {
            Kind::Dict(entries) => entries.get(key),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            Kind::Int(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The string contents if this is a byte string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn as_list(&self) -> Option<&[Node<'a>]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&BTreeMap<&'a [u8], Node<'a>>> {
        match &self.kind {
            Kind::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// What kind of value this is, in words, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Int(_) => "an integer",
            Kind::Bytes(_) => "a byte string",
            Kind::List(_) => "a list",
            Kind::Dict(_) => "a dictionary",
        }
    }

    /// An owned copy, for example to change it and encode it again.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Int(n) => Value::Int(*n),
            Kind::Bytes(b) => Value::Bytes(b.to_vec()),
            Kind::List(items) => Value::List(items.iter().map(Node::to_value).collect()),
            Kind::Dict(entries) => Value::Dict(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_value()))
                    .collect(),
            ),
        }
    }
}
