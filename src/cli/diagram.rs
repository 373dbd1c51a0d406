//! `bittorrent-sim diagram`: its options, and their copy into [`DiagramConfig`].

use std::path::PathBuf;

use clap::Args;

use crate::defaults;
use crate::diagram::DiagramConfig;

#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// Trace files written with --trace, one per process (their order does not matter).
    #[arg(value_name = "TRACE", required = true)]
    pub traces: Vec<PathBuf>,
    /// Output base name: writes OUT.md and OUT.svg (a trailing .md or .svg is dropped), and
    /// OUT-unchoke.svg, who unchoked whom for how long, when a traced peer sent `unchoke`.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,
    /// Draw only these message types (comma-separated, any case), e.g. JOIN,PEERS,have.
    #[arg(long, value_name = "T,T,...", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Leave out these message types (comma-separated, any case), e.g. PING,PONG,keep-alive.
    #[arg(long, value_name = "T,T,...", value_delimiter = ',')]
    pub exclude_types: Vec<String>,
    /// Start at this many seconds after the first traced message.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub from: Option<f64>,
    /// End at this many seconds after the first traced message.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub to: Option<f64>,
    /// Fold runs of repeated identical exchanges between two participants (PING/PONG,
    /// keep-alives, the blocks of one piece) into one arrow labelled `PING x12`.
    #[arg(long, alias = "fold")]
    pub fold_pings: bool,
    /// Draw at most this many arrows (0: all); the rest is cut with a note.
    #[arg(long, value_name = "N", default_value_t = defaults::MAX_MESSAGES)]
    pub max_messages: usize,
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(secs),
        _ => Err(format!("`{text}` is not a number of seconds (e.g. 2.5)")),
    }
}

impl From<DiagramArgs> for DiagramConfig {
    fn from(args: DiagramArgs) -> DiagramConfig {
        DiagramConfig {
            traces: args.traces,
            output: args.output,
            types: args.types,
            exclude_types: args.exclude_types,
            from: args.from,
            to: args.to,
            fold_pings: args.fold_pings,
            max_messages: args.max_messages,
        }
    }
}
