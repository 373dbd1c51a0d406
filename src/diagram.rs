//! `bittorrent-sim diagram TRACE... -o OUT`: draws the messages of one or more `--trace` files
//! as a sequence diagram, `OUT.md` (Mermaid, in a fence) and `OUT.svg` (self-contained), and
//! when a traced peer sent `unchoke`, `OUT-unchoke.svg`: who unchoked whom for how long.
//!
//! This file holds the configuration, the error type and [`run`] (the command line that fills
//! the configuration is `cli/diagram.rs`); the work lives in:
//!
//! * [`json`]: a strict JSON parser for trace lines;
//! * [`model`]: reading traces into lines, with file and line number in every error;
//! * [`resolve`]: naming the remote end of each line (`tracker`, `peer-7001`, or an address);
//! * [`order`]: pairing sends with receives and the causal order of the messages;
//! * [`select`]: type and time filters, folding of repeated exchanges, the cap;
//! * [`label`]: the text of each arrow;
//! * [`mermaid`] and [`svg`]: the two renderings;
//! * [`unchoke`]: who unchoked whom and for how long, a matrix written as `OUT-unchoke.svg`
//!   when a traced process sent `unchoke`.
//!
//! It draws what the traces say and nothing more: it never connects to anything.

pub mod json;
pub mod label;
pub mod mermaid;
pub mod model;
pub mod order;
pub mod resolve;
pub mod select;
pub mod svg;
pub mod unchoke;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use resolve::Resolver;
use select::{Selected, Selection};

/// What `diagram` is told.
#[derive(Debug, Clone, Default)]
pub struct DiagramConfig {
    /// Trace files written with `--trace`, one per process (their order does not matter).
    pub traces: Vec<PathBuf>,
    /// Output base name: OUT.md and OUT.svg are written (a trailing .md or .svg is dropped).
    pub output: PathBuf,
    /// Draw only these message types (any case; empty: all).
    pub types: Vec<String>,
    /// Leave out these message types (any case).
    pub exclude_types: Vec<String>,
    /// Seconds after the first traced message to start and to end at.
    pub from: Option<f64>,
    pub to: Option<f64>,
    /// Fold runs of repeated identical exchanges into one arrow.
    pub fold_pings: bool,
    /// Draw at most this many arrows (0: all).
    pub max_messages: usize,
}

/// Why no diagram was drawn.
#[derive(Debug)]
pub enum DiagramError {
    /// A trace file cannot be read.
    Input { path: PathBuf, source: io::Error },
    /// A trace line is not what `--trace` writes.
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// An output file cannot be written.
    Output { path: PathBuf, source: io::Error },
    /// The options contradict each other.
    Usage(String),
}

impl fmt::Display for DiagramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiagramError::Input { path, source } => {
                write!(f, "cannot read the trace {}: {source}", path.display())
            }
            DiagramError::Parse { path, line, reason } => {
                write!(f, "{} line {line}: {reason}", path.display())
            }
            DiagramError::Output { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            DiagramError::Usage(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for DiagramError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiagramError::Input { source, .. } | DiagramError::Output { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// A drawn diagram: the participants, in column order, and the arrows.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub participants: Vec<String>,
    pub selected: Selected,
}

impl Diagram {
    pub fn mermaid(&self) -> String {
        mermaid::markdown(&self.participants, &self.selected)
    }

    pub fn svg(&self) -> String {
        svg::render(&self.participants, &self.selected)
    }
}

/// Reads the traces and selects what to draw.
pub fn build(traces: &[PathBuf], selection: &Selection) -> Result<Diagram, DiagramError> {
    Ok(build_from(&model::read_traces(traces)?, selection))
}

/// Selects what to draw from lines already read. A process's own records
/// (`"protocol":"process"`, e.g. its configuration) name its address for the resolver but are
/// no message: they are not drawn.
fn build_from(lines: &[model::Line], selection: &Selection) -> Diagram {
    let resolver = Resolver::new(lines);
    let messages: Vec<model::Line> = lines
        .iter()
        .filter(|l| l.protocol != "process")
        .cloned()
        .collect();
    let selected = select::select(order::messages(&messages, &resolver), selection);
    let mut participants: Vec<String> = Vec::new();
    for message in &selected.messages {
        for name in [&message.from, &message.to] {
            if !participants.contains(name) {
                participants.push(name.clone());
            }
        }
    }
    if selected.messages.is_empty() {
        participants = lines.iter().map(|l| l.process.clone()).collect();
        participants.dedup();
        participants.sort();
        participants.dedup();
    }
    resolve::sort_participants(&mut participants, &resolver);
    Diagram {
        participants,
        selected,
    }
}

/// The subcommand: writes OUT.md, OUT.svg (and OUT-unchoke.svg) and says so.
pub fn run(config: DiagramConfig) -> Result<(), DiagramError> {
    if let (Some(from), Some(to)) = (config.from, config.to)
        && from > to
    {
        return Err(DiagramError::Usage(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let lower = |types: &[String]| -> Vec<String> {
        types
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let selection = Selection {
        types: lower(&config.types),
        exclude: lower(&config.exclude_types),
        from: config.from,
        to: config.to,
        fold: config.fold_pings,
        max_messages: config.max_messages,
    };
    let lines = model::read_traces(&config.traces)?;
    let diagram = build_from(&lines, &selection);
    let (md, svg) = output_paths(&config.output);
    write(&md, &diagram.mermaid())?;
    write(&svg, &diagram.svg())?;
    let matrix = unchoke::matrix(&lines, &Resolver::new(&lines), config.from, config.to);
    let unchoke_note = match matrix {
        Some(matrix) => {
            let path = unchoke_path(&svg);
            write(&path, &unchoke::render(&matrix))?;
            format!(
                "; {} (who unchoked whom, {} peers)",
                path.display(),
                matrix.peers.len()
            )
        }
        None => String::new(),
    };
    println!(
        "wrote {} and {} ({} arrows between {} participants{}){unchoke_note}",
        md.display(),
        svg.display(),
        diagram.selected.messages.len(),
        diagram.participants.len(),
        match diagram.selected.omitted {
            0 => String::new(),
            n => format!(", {n} more cut by --max-messages"),
        }
    );
    Ok(())
}

/// `OUT`, `OUT.md` or `OUT.svg` give `OUT.md` and `OUT.svg`.
pub fn output_paths(output: &Path) -> (PathBuf, PathBuf) {
    let base = match output.extension().and_then(|e| e.to_str()) {
        Some("md" | "svg") => output.with_extension(""),
        _ => output.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut name = base.clone().into_os_string();
        name.push(ext);
        PathBuf::from(name)
    };
    (with(".md"), with(".svg"))
}

/// `OUT.svg` gives `OUT-unchoke.svg`.
pub fn unchoke_path(svg: &Path) -> PathBuf {
    let mut name = svg.with_extension("").into_os_string();
    name.push("-unchoke.svg");
    PathBuf::from(name)
}

fn write(path: &Path, text: &str) -> Result<(), DiagramError> {
    fs::write(path, text).map_err(|source| DiagramError::Output {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_drop_md_and_svg() {
        let both = |out: &str| {
            let (md, svg) = output_paths(Path::new(out));
            (md.display().to_string(), svg.display().to_string())
        };
        assert_eq!(
            both("out/swarm"),
            ("out/swarm.md".into(), "out/swarm.svg".into())
        );
        assert_eq!(both("swarm.md"), ("swarm.md".into(), "swarm.svg".into()));
        assert_eq!(both("swarm.svg"), ("swarm.md".into(), "swarm.svg".into()));
        assert_eq!(both("run.v2"), ("run.v2.md".into(), "run.v2.svg".into()));
        assert_eq!(
            unchoke_path(Path::new("out/run.v2.svg")),
            Path::new("out/run.v2-unchoke.svg")
        );
    }
}
