//! `--trace FILE`: every message a process sends or receives, one JSON object per line, for
//! `bittorrent-sim diagram` and for anyone's own scripts.
//!
//! A line looks like this (one line in the file, wrapped here):
//!
//! ```text
//! {"time":1795300000.123,"process":"peer-7001","local":"127.0.0.1:7001",
//!  "remote":"127.0.0.1:6000","protocol":"tracker","dir":"send","type":"JOIN",
//!  "fields":{"info_hash":"fe4a7d4a","port":7001,"pieces":"0-9"}}
//! ```
//!
//! * `time`: seconds since the Unix epoch, millisecond precision;
//! * `process`: `tracker`, `peer-PORT`, `flood-peer-IP:PORT` or `flood-client-IP`;
//! * `local`, `remote`: the two ends, `IP:PORT`;
//! * `protocol`: `tracker` (our line protocol), `http` (announce), `bittorrent` (peer wire) or
//!   `flood` (the UDP chunk protocol);
//! * `dir`: `send` or `recv`;
//! * `type`: the message's name in its protocol (`JOIN`, `PEERS`, `announce`, `handshake`,
//!   `request`, `piece`, `QUERY`, `RESPONSE`...);
//! * `fields`: its key fields, numbers or strings. Never payload bytes. A peer wire
//!   `handshake` also says `encryption`: `none` (plain BEP 3), `rc4` or `plaintext` (after an
//!   MSE handshake, `mse.rs`).
//!
//! Two records are not messages: a peer's first, `"protocol":"process","type":"config"` (local
//! and remote both its own address), gives its `upload_rate` and `download_rate` (bytes per
//! second, 0 unlimited), `choking` (`tit-for-tat`, `unchoke-all` or `free-ride`) and
//! `unchoke_slots`, for views that compare peers; and `"type":"close"` (protocol `bittorrent`,
//! dir `send`) marks the end of a peer wire connection, whichever side ended it.
//!
//! When no `--trace` was given every call here returns at once. Writing is one line per
//! message under a lock on the file (not on any socket).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, LineWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wire::Message;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(u64),
    Text(String),
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Num(n)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Num(u64::from(n))
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Value {
        Value::Num(u64::from(n))
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::Num(n as u64)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

/// Sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Send,
    Recv,
}

struct Tracer {
    process: String,
    out: Mutex<LineWriter<File>>,
}

static TRACER: OnceLock<Tracer> = OnceLock::new();

/// Starts tracing to `path` (created or truncated) as `process`. Only the first call counts.
pub fn init(path: &Path, process: &str) -> io::Result<()> {
    let file = File::create(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot write the trace {}: {e}", path.display()),
        )
    })?;
    let _ = TRACER.set(Tracer {
        process: process.to_string(),
        out: Mutex::new(LineWriter::new(file)),
    });
    Ok(())
}

/// Whether a trace is being written (to skip building fields for nothing).
pub fn enabled() -> bool {
    TRACER.get().is_some()
}

/// Records one message.
pub fn record(
    dir: Dir,
    protocol: &str,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    kind: &str,
    fields: &[(&str, Value)],
) {
    let Some(tracer) = TRACER.get() else { return };
    let line = to_line(
        now(),
        &tracer.process,
        dir,
        protocol,
        local,
        remote,
        kind,
        fields,
    );
    let mut out = tracer.out.lock().unwrap_or_else(PoisonError::into_inner);
    if let Err(e) = out.write_all(line.as_bytes()) {
        log::warn!("trace write failed: {e}");
    }
}

/// Records a peer wire message.
pub fn wire(dir: Dir, local: Option<SocketAddr>, remote: SocketAddr, message: &Message) {
    if !enabled() {
        return;
    }
    let (kind, fields) = wire_fields(message);
    record(dir, "bittorrent", local, remote, kind, &fields);
}

/// Records a `piece` sent or received without building its `Message` (the block paths lend the
/// block from a buffer): the same record [`wire`] would write for it.
pub fn wire_piece(
    dir: Dir,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    index: u32,
    begin: u32,
    len: usize,
) {
    if !enabled() {
        return;
    }
    let fields = [
        ("index", index.into()),
        ("begin", begin.into()),
        ("length", len.into()),
    ];
    record(dir, "bittorrent", local, remote, "piece", &fields);
}

/// The trace `type` and fields of a peer wire message.
pub fn wire_fields(message: &Message) -> (&'static str, Vec<(&'static str, Value)>) {
    let fields = match message {
        Message::Have { index } => vec![("index", (*index).into())],
        Message::Bitfield(bits) => {
            let held: u32 = bits.iter().map(|b| b.count_ones()).sum();
            vec![("pieces", held.into())]
        }
        Message::Request {
            index,
            begin,
            length,
        }
        | Message::Cancel {
            index,
            begin,
            length,
        } => {
            vec![
                ("index", (*index).into()),
                ("begin", (*begin).into()),
                ("length", (*length).into()),
            ]
        }
        Message::Piece {
            index,
            begin,
            block,
        } => {
            vec![
                ("index", (*index).into()),
                ("begin", (*begin).into()),
                ("length", block.len().into()),
            ]
        }
        Message::Extended { id, payload } => {
            vec![
                ("id", u64::from(*id).into()),
                ("length", payload.len().into()),
            ]
        }
        _ => Vec::new(),
    };
    (message.name(), fields)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0)
}

/// One JSON line (with its newline).
#[allow(clippy::too_many_arguments)]
pub fn to_line(
    time: f64,
    process: &str,
    dir: Dir,
    protocol: &str,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    kind: &str,
    fields: &[(&str, Value)],
) -> String {
    let mut line = String::with_capacity(200);
    let _ = write!(line, "{{\"time\":{time:.3},\"process\":");
    push_str(&mut line, process);
    line.push_str(",\"local\":");
    match local {
        Some(addr) => push_str(&mut line, &addr.to_string()),
        None => line.push_str("null"),
    }
    line.push_str(",\"remote\":");
    push_str(&mut line, &remote.to_string());
    line.push_str(",\"protocol\":");
    push_str(&mut line, protocol);
    line.push_str(if dir == Dir::Send {
        ",\"dir\":\"send\""
    } else {
        ",\"dir\":\"recv\""
    });
    line.push_str(",\"type\":");
    push_str(&mut line, kind);
    line.push_str(",\"fields\":{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_str(&mut line, name);
        line.push(':');
        match value {
            Value::Num(n) => {
                let _ = write!(line, "{n}");
            }
            Value::Text(text) => push_str(&mut line, text),
        }
    }
    line.push_str("}}\n");
    line
}

/// Appends `text` as a JSON string literal.
fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_the_documented_json() {
        let line = to_line(
            1795300000.123,
            "peer-7001",
            Dir::Send,
            "tracker",
            Some("127.0.0.1:7001".parse().expect("addr")),
            "127.0.0.1:6000".parse().expect("addr"),
            "JOIN",
            &[
                ("info_hash", "fe4a7d4a".into()),
                ("port", 7001u16.into()),
                ("pieces", "0-9".into()),
            ],
        );
        assert_eq!(
            line,
            "{\"time\":1795300000.123,\"process\":\"peer-7001\",\"local\":\"127.0.0.1:7001\",\
             \"remote\":\"127.0.0.1:6000\",\"protocol\":\"tracker\",\"dir\":\"send\",\"type\":\"JOIN\",\
             \"fields\":{\"info_hash\":\"fe4a7d4a\",\"port\":7001,\"pieces\":\"0-9\"}}\n"
        );
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn wire_messages_carry_their_key_fields_and_no_bytes() {
        let (kind, fields) = wire_fields(&Message::Piece {
            index: 3,
            begin: 16384,
            block: vec![7; 100],
        });
        assert_eq!(kind, "piece");
        assert_eq!(
            fields,
            vec![
                ("index", Value::Num(3)),
                ("begin", Value::Num(16384)),
                ("length", Value::Num(100))
            ]
        );
        let (kind, fields) = wire_fields(&Message::Bitfield(vec![0b1100_0000]));
        assert_eq!(
            (kind, fields),
            ("bitfield", vec![("pieces", Value::Num(2))])
        );
    }
}
