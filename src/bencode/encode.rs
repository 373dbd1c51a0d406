//! The canonical bencode encoder: integers without leading zeros, strings as `<len>:<bytes>`,
//! dictionary keys in raw byte order (the `BTreeMap` in [`Value::Dict`] keeps them so).
//!
//! It cannot fail and does no I/O; it does not check nesting depth (values come from the program,
//! not from the network).

use std::io::Write;

use super::Value;

/// The canonical encoding of `value`.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Appends the canonical encoding of `value` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Int(n) => {
            // Writing to a Vec cannot fail.
            let _ = write!(out, "i{n}e");
        }
        Value::Bytes(bytes) => encode_bytes(bytes, out),
        Value::List(items) => {
            out.push(b'l');
            for item in items {
                encode_into(item, out);
            }
            out.push(b'e');
        }
        Value::Dict(entries) => {
            out.push(b'd');
            for (key, value) in entries {
                encode_bytes(key, out);
                encode_into(value, out);
            }
            out.push(b'e');
        }
    }
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let _ = write!(out, "{}:", bytes.len());
    out.extend_from_slice(bytes);
}
