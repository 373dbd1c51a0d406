//! The short text on each arrow: the message type plus its key fields.
//!
//! `JOIN 7001 0-9`, `PEERS 3`, `PING`, `request #3 @16384`, `piece #3 @16384 (16384)`,
//! `have #3`, `bitfield (10 pieces)`, `QUERY ttl=3 [5,6,7]`, `RESPONSE #5 (1024)`; a folded
//! arrow says how many it stands for: `PING x12`, `request #3 x16`, `piece #3 x16 (262144)`.
//! Any other type shows its field values in trace order, `key=value` for counters whose bare
//! number would say nothing (`left=0`), without hashes and peer ids. Labels are plain text:
//! escaping for Mermaid or SVG is the renderers' job.

use super::json::Value;
use super::order::Message;

/// Fields never shown: long and the same on every line.
const HIDDEN: [&str; 3] = ["info_hash", "peer_id", "client"];
/// Fields shown as `key=value`.
const KEYED: [&str; 7] = [
    "ttl",
    "left",
    "uploaded",
    "downloaded",
    "interval",
    "numwant",
    "compact",
];
/// Fields shown as a `[list]`, whether a JSON array or a comma-separated string.
const LISTS: [&str; 3] = ["ids", "chunks", "list"];
/// Longest label, in characters.
const MAX_CHARS: usize = 60;
/// Longest list before it is shortened.
const MAX_ITEMS: usize = 8;

/// The label of one arrow.
pub fn label(message: &Message) -> String {
    let text = base(message);
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let mut short: String = text.chars().take(MAX_CHARS - 3).collect();
    short.push_str("...");
    short
}

fn base(message: &Message) -> String {
    let field = |key: &str| {
        message
            .fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| show(key, v))
    };
    let piece_ref = || field("index").map(|i| format!(" #{i}")).unwrap_or_default();
    let times = if message.count > 1 {
        format!(" x{}", message.count)
    } else {
        String::new()
    };
    let kind = message.kind.as_str();
    match kind.to_ascii_lowercase().as_str() {
        "request" | "cancel" | "piece" if message.count > 1 => {
            let total = if kind.eq_ignore_ascii_case("piece") {
                format!(" ({})", message.total_length)
            } else {
                String::new()
            };
            format!("{kind}{}{times}{total}", piece_ref())
        }
        "request" | "cancel" => format!("{kind}{}{}", piece_ref(), at(field("begin"))),
        "piece" => {
            let length = field("length")
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("{kind}{}{}{length}", piece_ref(), at(field("begin")))
        }
        "have" => format!("{kind}{}{times}", piece_ref()),
        "bitfield" => {
            let held = field("pieces")
                .map(|n| format!(" ({n} pieces)"))
                .unwrap_or_default();
            format!("{kind}{held}{times}")
        }
        "ping" => format!("{kind}{times}"),
        "response" if field("id").is_some() => {
            let size = field("size")
                .or_else(|| field("length"))
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!("{kind} #{}{size}{times}", field("id").unwrap_or_default())
        }
        _ => {
            let mut text = kind.to_string();
            for (key, value) in &message.fields {
                if HIDDEN.contains(&key.as_str()) {
                    continue;
                }
                text.push(' ');
                if KEYED.contains(&key.as_str()) {
                    text.push_str(key);
                    text.push('=');
                }
                text.push_str(&show(key, value));
            }
            text + &times
        }
    }
}

fn at(begin: Option<String>) -> String {
    begin.map(|b| format!(" @{b}")).unwrap_or_default()
}

/// A field value as text.
fn show(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(b) => b.to_string(),
        Value::Num(n) => n.clone(),
        Value::Str(s) if LISTS.contains(&key) => {
            list(s.split(',').map(|item| item.trim().to_string()).collect())
        }
        Value::Str(s) => s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
        Value::Array(items) => list(items.iter().map(|item| show("", item)).collect()),
        Value::Object(_) => "{...}".into(),
    }
}

/// `[5,6,7]`, or `[1,2,3,4,5,6,...+14]` when long.
fn list(items: Vec<String>) -> String {
    if items.len() <= MAX_ITEMS {
        return format!("[{}]", items.join(","));
    }
    format!(
        "[{},...+{}]",
        items[..MAX_ITEMS - 2].join(","),
        items.len() - (MAX_ITEMS - 2)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::json;

    fn message(kind: &str, fields: &str, count: usize) -> Message {
        let Ok(json::Value::Object(fields)) = json::parse(fields) else {
            panic!("fields")
        };
        Message {
            time: 0.0,
            from: "a".into(),
            to: "b".into(),
            protocol: "x".into(),
            kind: kind.into(),
            fields,
            lost: false,
            count,
            total_length: 32768,
        }
    }

    #[test]
    fn labels_are_short() {
        let cases = [
            (
                "JOIN",
                r#"{"info_hash":"fe4a","port":7001,"pieces":"0-9"}"#,
                1,
                "JOIN 7001 0-9",
            ),
            ("PEERS", r#"{"count":3}"#, 1, "PEERS 3"),
            (
                "PING",
                r#"{"info_hash":"fe4a","port":7001}"#,
                12,
                "PING x12",
            ),
            ("PONG", "{}", 3, "PONG x3"),
            (
                "request",
                r#"{"index":3,"begin":16384,"length":16384}"#,
                1,
                "request #3 @16384",
            ),
            (
                "request",
                r#"{"index":3,"begin":0,"length":16384}"#,
                2,
                "request #3 x2",
            ),
            (
                "piece",
                r#"{"index":3,"begin":16384,"length":16384}"#,
                1,
                "piece #3 @16384 (16384)",
            ),
            (
                "piece",
                r#"{"index":3,"begin":0,"length":16384}"#,
                2,
                "piece #3 x2 (32768)",
            ),
            ("have", r#"{"index":3}"#, 1, "have #3"),
            ("bitfield", r#"{"pieces":10}"#, 1, "bitfield (10 pieces)"),
            (
                "handshake",
                r#"{"info_hash":"fe4a","peer_id":"-BS0100-abc"}"#,
                1,
                "handshake",
            ),
            (
                "QUERY",
                r#"{"client":"127.0.0.1:6000","ttl":3,"ids":"5,6,7"}"#,
                1,
                "QUERY ttl=3 [5,6,7]",
            ),
            (
                "HELLO",
                r#"{"ids":[1,2,3,4,5,6,7,8,9,10]}"#,
                1,
                "HELLO [1,2,3,4,5,6,...+4]",
            ),
            (
                "RESPONSE",
                r#"{"id":5,"size":1024}"#,
                1,
                "RESPONSE #5 (1024)",
            ),
            (
                "announce",
                r#"{"port":6881,"left":0,"event":"started"}"#,
                1,
                "announce 6881 left=0 started",
            ),
        ];
        for (kind, fields, count, want) in cases {
            assert_eq!(label(&message(kind, fields, count)), want);
        }
        let long = label(&message(
            "OK",
            &format!("{{\"text\":\"{}\"}}", "x".repeat(100)),
            1,
        ));
        assert_eq!((long.chars().count(), long.ends_with("...")), (60, true));
    }
}
