//! Reads `--trace` files into [`Line`]s: one per non-blank line, checked against the schema
//! that `crate::trace` writes (see there).
//!
//! A line that is not JSON, lacks a field, has one of the wrong kind or an address that is not
//! `IP:PORT` is an error naming the file and the line number. Unknown extra keys are allowed so
//! the format can grow. This file does not decide who talks to whom (`resolve.rs`), nor pair
//! sends with receives (`order.rs`).

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::DiagramError;
use super::json::{self, Value};
use crate::trace::Dir;

/// One traced message, as one process saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub process: String,
    pub local: Option<SocketAddr>,
    pub remote: SocketAddr,
    pub protocol: String,
    pub dir: Dir,
    pub kind: String,
    /// The message's key fields, in trace order.
    pub fields: Vec<(String, Value)>,
}

/// Reads every file, in order; all lines of all files in one list (file order kept).
pub fn read_traces(paths: &[PathBuf]) -> Result<Vec<Line>, DiagramError> {
    let mut lines = Vec::new();
    for path in paths {
        lines.extend(read_trace(path)?);
    }
    Ok(lines)
}

/// Reads one trace file.
pub fn read_trace(path: &Path) -> Result<Vec<Line>, DiagramError> {
    let bytes = fs::read(path).map_err(|source| DiagramError::Input {
        path: path.to_path_buf(),
        source,
    })?;
    parse_trace(path, &bytes)
}

/// Parses the bytes of a trace file; `path` only names it in errors.
pub fn parse_trace(path: &Path, bytes: &[u8]) -> Result<Vec<Line>, DiagramError> {
    let mut lines = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let error = |reason: String| DiagramError::Parse {
            path: path.to_path_buf(),
            line: index + 1,
            reason,
        };
        let text = std::str::from_utf8(raw).map_err(|_| error("not UTF-8".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        lines.push(parse_line(text).map_err(error)?);
    }
    Ok(lines)
}

/// Parses one line of a trace.
pub fn parse_line(text: &str) -> Result<Line, String> {
    let value = json::parse(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(members) = value else {
        return Err("not a JSON object".into());
    };
    let get = |key: &str| members.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let need = |key: &str| get(key).ok_or_else(|| format!("missing \"{key}\""));
    let text_of = |key: &str| -> Result<String, String> {
        match need(key)? {
            Value::Str(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("\"{key}\" must be a non-empty string")),
        }
    };
    let address = |key: &str, text: &str| -> Result<SocketAddr, String> {
        text.parse()
            .map_err(|_| format!("\"{key}\" is not IP:PORT: {text:?}"))
    };

    let time = need("time")?
        .as_f64()
        .filter(|t| *t >= 0.0)
        .ok_or("\"time\" must be a non-negative number of seconds")?;
    let local = match need("local")? {
        Value::Null => None,
        Value::Str(s) => Some(address("local", s)?),
        _ => return Err("\"local\" must be a string or null".into()),
    };
    let remote = address("remote", &text_of("remote")?)?;
    let dir = match text_of("dir")?.as_str() {
        "send" => Dir::Send,
        "recv" => Dir::Recv,
        other => {
            return Err(format!(
                "\"dir\" must be \"send\" or \"recv\", not {other:?}"
            ));
        }
    };
    let fields = match need("fields")? {
        Value::Object(fields) => fields.clone(),
        _ => return Err("\"fields\" must be an object".into()),
    };
    Ok(Line {
        time,
        process: text_of("process")?,
        local,
        remote,
        protocol: text_of("protocol")?,
        dir,
        kind: text_of("type")?,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace;

    #[test]
    fn reads_what_trace_writes() {
        let text = trace::to_line(
            1795300000.5,
            "peer-7001",
            Dir::Recv,
            "bittorrent",
            None,
            "127.0.0.1:7002".parse().expect("addr"),
            "have",
            &[("index", 3u32.into())],
        );
        let line = parse_line(&text).expect("valid");
        assert_eq!(line.time, 1795300000.5);
        assert_eq!(line.process, "peer-7001");
        assert_eq!(
            (line.local, line.dir, line.kind.as_str()),
            (None, Dir::Recv, "have")
        );
        assert_eq!(line.remote, "127.0.0.1:7002".parse().expect("addr"));
        assert_eq!(
            line.fields,
            vec![("index".to_string(), Value::Num("3".into()))]
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let good = r#"{"time":1,"process":"tracker","local":"127.0.0.1:6000","remote":"127.0.0.1:50100","protocol":"tracker","dir":"recv","type":"PING","fields":{}}"#;
        let cases = [
            ("{\"time\":1", "not JSON: column 10: expected ',' or '}'"),
            ("[1]", "not a JSON object"),
            (&good.replace("\"type\":\"PING\",", ""), "missing \"type\""),
            (
                &good.replace("\"recv\"", "\"sent\""),
                "\"dir\" must be \"send\" or \"recv\", not \"sent\"",
            ),
            (
                &good.replace("127.0.0.1:50100", "localhost"),
                "\"remote\" is not IP:PORT: \"localhost\"",
            ),
            (
                &good.replace("\"time\":1", "\"time\":\"1\""),
                "\"time\" must be a non-negative number of seconds",
            ),
            (&good.replace("{}", "[]"), "\"fields\" must be an object"),
        ];
        for (bad, reason) in cases {
            let bytes = format!("{good}\n\n{bad}\n");
            let e = parse_trace(Path::new("t.jsonl"), bytes.as_bytes()).expect_err(bad);
            assert_eq!(e.to_string(), format!("t.jsonl line 3: {reason}"));
        }
        assert_eq!(
            parse_trace(Path::new("t"), format!("{good}\n\n").as_bytes())
                .map(|l| l.len())
                .ok(),
            Some(1)
        );
    }
}
