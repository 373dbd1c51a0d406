//! `bittorrent-sim scenario FILE`: its options and their copy into [`ScenarioConfig`].

use std::path::PathBuf;

use clap::Args;

use crate::scenario::ScenarioConfig;

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario file (see scenarios/ for ready ones; each says what to observe).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Run the file's `[quick]` profile: a smaller file, fewer peers, shorter timers.
    #[arg(long)]
    pub quick: bool,
    /// Directory the run directory NAME-TIMESTAMP/ is written in.
    #[arg(long, value_name = "DIR", default_value = "scenario-runs")]
    pub out: PathBuf,
    /// Write the run (logs, traces, events.csv, charts) exactly in DIR instead.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub run_dir: Option<PathBuf>,
}

impl From<ScenarioArgs> for ScenarioConfig {
    fn from(args: ScenarioArgs) -> ScenarioConfig {
        ScenarioConfig {
            file: args.file,
            quick: args.quick,
            out: args.out,
            run_dir: args.run_dir,
        }
    }
}
