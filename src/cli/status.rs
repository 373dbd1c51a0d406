//! `bittorrent-sim status`: its options, and their check and copy into [`StatusConfig`].

use std::time::Duration;

use clap::Args;

use super::Failure;
use crate::defaults;
use crate::net;
use crate::status::StatusConfig;
use crate::units::parse_duration;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The tracker, as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:6000")]
    pub tracker: String,
    /// Redraw in place, this often (default 1s when given without a value).
    #[arg(long, value_name = "EVERY", num_args = 0..=1, default_missing_value = defaults::WATCH_TEXT, value_parser = parse_duration)]
    pub watch: Option<Duration>,
}

impl TryFrom<StatusArgs> for StatusConfig {
    type Error = Failure;

    /// Fails when the tracker is not a HOST:PORT address.
    fn try_from(args: StatusArgs) -> Result<StatusConfig, Failure> {
        let tracker = net::resolve(&args.tracker).map_err(|e| {
            Failure::Usage(format!(
                "tracker `{}` is not a HOST:PORT address: {e}",
                args.tracker
            ))
        })?;
        Ok(StatusConfig {
            tracker,
            watch: args.watch,
        })
    }
}
