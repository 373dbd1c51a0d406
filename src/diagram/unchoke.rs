//! The unchoke view: who unchoked whom, and for how long, as an SVG matrix drawn from the
//! traces of a run (`OUT-unchoke.svg`, written by `diagram` beside the sequence diagram when
//! some traced process sent an `unchoke`).
//!
//! * An *interval* opens when a process sends `unchoke` on a connection and closes at the next
//!   `choke` it sends on that connection, or else at the connection's end: the last line the
//!   uploader traced on that connection, which is its `close` record (or, in a trace cut short
//!   by a kill, the last message, at most a keep-alive interval before the end).
//! * A cell is the fraction of the run that the row (uploader) kept the column (downloader)
//!   unchoked: the sum of its intervals inside the run, over the run's length. The run is the
//!   span of all traces (first to last line of any file), narrowed by `--from`/`--to`.
//! * Peers are sorted by their configured upload rate, fastest first, from the
//!   `"protocol":"process","type":"config"` record a peer writes at start (`upload_rate` in
//!   bytes/s, 0 = unlimited; `choking`): unlimited first, free riders (`choking` `free-ride`)
//!   as rate 0, peers without a record last. Ties in name order. The rates label both axes.
//!
//! Under tit-for-tat, peers of similar upload capacity end up unchoking each other (Legout et
//! al., SIGMETRICS 2007): with this order that shows as dark blocks along the diagonal. This
//! file draws; it does not pair messages (`order.rs`) nor name remote ends (`resolve.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;

use super::model::Line;
use super::resolve::{Resolver, natural_key};
use crate::trace::Dir;

/// One row and column of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub name: String,
    /// Configured upload rate in bytes/s (0 = unlimited); None without a config record.
    pub upload_rate: Option<u64>,
    /// `tit-for-tat`, `unchoke-all` or `free-ride`, when recorded.
    pub choking: Option<String>,
}

impl Peer {
    /// The axis label: `peer-7002 · 512 KiB/s`.
    pub fn label(&self) -> String {
        let rate = match (self.choking.as_deref(), self.upload_rate) {
            (Some("free-ride"), _) => "free rider".to_string(),
            (_, Some(0)) => "unlimited".to_string(),
            (_, Some(rate)) => rate_text(rate),
            (_, None) => "rate ?".to_string(),
        };
        format!("{} · {rate}", self.name)
    }

    /// Sort key: fastest first (unlimited before any rate, free riders as 0, unknown last).
    fn order(&self) -> (u8, std::cmp::Reverse<u64>, Vec<(String, u64)>) {
        let (class, rate) = match (self.choking.as_deref(), self.upload_rate) {
            (Some("free-ride"), _) => (0, 0),
            (_, Some(0)) => (0, u64::MAX),
            (_, Some(rate)) => (0, rate),
            (_, None) => (1, 0),
        };
        (class, std::cmp::Reverse(rate), natural_key(&self.name))
    }
}

/// The matrix: `fraction[row][column]` of the run that peer `row` unchoked peer `column`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub peers: Vec<Peer>,
    pub fraction: Vec<Vec<f64>>,
    /// The run's length in seconds.
    pub span: f64,
}

/// The matrix of `lines`, or None when no traced process sent an `unchoke`. `from`/`to` are
/// seconds after the first line of all traces.
pub fn matrix(
    lines: &[Line],
    resolver: &Resolver,
    from: Option<f64>,
    to: Option<f64>,
) -> Option<Matrix> {
    let first = lines.iter().map(|l| l.time).min_by(f64::total_cmp)?;
    let last = lines.iter().map(|l| l.time).max_by(f64::total_cmp)?;
    let start = first + from.unwrap_or(0.0);
    let end = to.map_or(last, |to| (first + to).min(last));

    type Key = (String, Option<SocketAddr>, SocketAddr);
    let mut connection_end: HashMap<Key, f64> = HashMap::new();
    let mut peers: BTreeMap<String, Peer> = BTreeMap::new();
    let mut switches: Vec<&Line> = Vec::new();
    for line in lines {
        if line.protocol == "process" && line.kind == "config" {
            let field = |name: &str| line.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            peers.insert(
                line.process.clone(),
                Peer {
                    name: line.process.clone(),
                    upload_rate: field("upload_rate").and_then(|v| v.as_u64()),
                    choking: field("choking").and_then(|v| v.as_str()).map(String::from),
                },
            );
        }
        if line.protocol != "bittorrent" {
            continue;
        }
        let key = (line.process.clone(), line.local, line.remote);
        let end = connection_end.entry(key).or_insert(line.time);
        *end = end.max(line.time);
        if line.dir == Dir::Send && (line.kind == "unchoke" || line.kind == "choke") {
            switches.push(line);
        }
    }
    if !switches.iter().any(|l| l.kind == "unchoke") {
        return None;
    }
    switches.sort_by(|a, b| a.time.total_cmp(&b.time));

    let mut open: HashMap<Key, f64> = HashMap::new();
    let mut total: HashMap<(String, String), f64> = HashMap::new();
    let mut add = |line: &Line, from: f64, until: f64| {
        let length = (until.min(end) - from.max(start)).max(0.0);
        let pair = (line.process.clone(), resolver.remote_name(line));
        *total.entry(pair).or_default() += length;
    };
    for line in &switches {
        let key = (line.process.clone(), line.local, line.remote);
        match line.kind.as_str() {
            "unchoke" => {
                open.entry(key).or_insert(line.time);
            }
            _ => {
                if let Some(since) = open.remove(&key) {
                    add(line, since, line.time);
                }
            }
        }
    }
    for line in &switches {
        let key = (line.process.clone(), line.local, line.remote);
        if let Some(since) = open.remove(&key) {
            add(line, since, connection_end[&key]);
        }
    }

    for (uploader, downloader) in total.keys() {
        for name in [uploader, downloader] {
            peers.entry(name.clone()).or_insert_with(|| Peer {
                name: name.clone(),
                upload_rate: None,
                choking: None,
            });
        }
    }
    let mut peers: Vec<Peer> = peers.into_values().collect();
    peers.sort_by_cached_key(Peer::order);
    let span = (end - start).max(0.0);
    let fraction = peers
        .iter()
        .map(|row| {
            peers
                .iter()
                .map(|column| {
                    let time = total
                        .get(&(row.name.clone(), column.name.clone()))
                        .copied()
                        .unwrap_or(0.0);
                    if span > 0.0 {
                        (time / span).min(1.0)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    Some(Matrix {
        peers,
        fraction,
        span,
    })
}

/// `262144` as `256 KiB/s`, `1048576` as `1 MiB/s`.
fn rate_text(rate: u64) -> String {
    let trim = |v: f64| {
        let text = format!("{v:.1}");
        text.strip_suffix(".0").map_or(text.clone(), String::from)
    };
    if rate >= 1 << 20 {
        format!("{} MiB/s", trim(rate as f64 / 1048576.0))
    } else if rate >= 1 << 10 {
        format!("{} KiB/s", trim(rate as f64 / 1024.0))
    } else {
        format!("{rate} B/s")
    }
}

const CELL: usize = 34;
const TOP: usize = 60;
/// Estimated width of one character at 12 px, in tenths of a pixel (as in `svg.rs`).
const CHAR_W10: usize = 68;

/// The SVG document: one `<rect class="cell">` per (row, column) pair of distinct peers with
/// `data-from`, `data-to` and `data-fraction` (three decimals), row labels of class `row` and
/// column labels of class `col`, in matrix order.
pub fn render(matrix: &Matrix) -> String {
    let labels: Vec<String> = matrix.peers.iter().map(Peer::label).collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) * CHAR_W10 / 10 + 16;
    let n = matrix.peers.len();
    let left = label_w + 10;
    let top = TOP + label_w * 7 / 10;
    let title = format!(
        "Who unchoked whom: share of the {:.1} s run (rows upload to columns; sorted by \
         configured upload rate)",
        matrix.span
    );
    // Column labels lean right by about their length over the square root of two.
    let width = (left + n * CELL + label_w * 3 / 4 + 20).max(20 + title.len() * CHAR_W10 / 10);
    let height = top + n * CELL + 70;
    let escape = super::svg::escape;

    let mut out = super::svg::open(width, height);
    let _ = writeln!(
        out,
        "<title>unchoke matrix: fraction of the run each row unchoked each column</title>"
    );
    out.push_str(
        "<style>\n.row { text-anchor: end; }\n.col { text-anchor: start; }\n\
         .pct { text-anchor: middle; font-size: 10px; }\n.head { font-weight: bold; }\n\
         .cell { stroke: #ccd; stroke-width: 0.5; }\n</style>\n",
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text class=\"head\" x=\"10\" y=\"20\">{}</text>",
        escape(&title)
    );
    for (i, label) in labels.iter().enumerate() {
        let y = top + i * CELL + CELL / 2 + 4;
        let _ = writeln!(
            out,
            "<text class=\"row\" x=\"{}\" y=\"{y}\">{}</text>",
            left - 6,
            escape(label)
        );
        let x = left + i * CELL + CELL / 2;
        let _ = writeln!(
            out,
            "<text class=\"col\" x=\"{x}\" y=\"{}\" transform=\"rotate(-45 {x} {})\">{}</text>",
            top - 6,
            top - 6,
            escape(label)
        );
    }
    for (r, row) in matrix.peers.iter().enumerate() {
        for (c, column) in matrix.peers.iter().enumerate() {
            let (x, y) = (left + c * CELL, top + r * CELL);
            if r == c {
                let _ = writeln!(
                    out,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"#e4e4e4\"/>"
                );
                continue;
            }
            let f = matrix.fraction[r][c];
            let _ = writeln!(
                out,
                "<rect class=\"cell\" x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" \
                 fill=\"{}\" data-from=\"{}\" data-to=\"{}\" data-fraction=\"{f:.3}\">\
                 <title>{} unchoked {} for {:.0}% of the run ({:.1} s)</title></rect>",
                shade(f),
                escape(&row.name),
                escape(&column.name),
                escape(&row.name),
                escape(&column.name),
                f * 100.0,
                f * matrix.span
            );
            if f >= 0.005 {
                let colour = if f > 0.5 { "#fff" } else { "#123" };
                let _ = writeln!(
                    out,
                    "<text class=\"pct\" x=\"{}\" y=\"{}\" fill=\"{colour}\">{:.0}</text>",
                    x + CELL / 2,
                    y + CELL / 2 + 4,
                    f * 100.0
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "<text x=\"{left}\" y=\"{}\">cell: % of the run the row kept the column unchoked \
         (white 0, dark blue 100)</text>",
        top + n * CELL + 24
    );
    out.push_str("</svg>\n");
    out
}

/// White (0) to dark blue (1).
fn shade(f: f64) -> String {
    let f = f.clamp(0.0, 1.0);
    let mix = |white: f64, dark: f64| (white + (dark - white) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(255.0, 16.0),
        mix(255.0, 52.0),
        mix(255.0, 120.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(rate_text(262144), "256 KiB/s");
        assert_eq!(rate_text(1048576), "1 MiB/s");
        assert_eq!(rate_text(1572864), "1.5 MiB/s");
        assert_eq!(rate_text(500), "500 B/s");
        assert_eq!(shade(0.0), "#ffffff");
        assert_eq!(shade(1.0), "#103478");
    }
}
