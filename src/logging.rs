//! Log set-up: one line per event, so tmux panes show which thread did what. Two formats:
//!
//! * `full` (the default, for files): `2026-12-03T06:19:29.560Z INFO  [peer-7003-out-1] ...`,
//!   the date, time to the millisecond (UTC), level and whole thread name;
//! * `compact` (for narrow tmux panes and projectors): `06:19:29.560 I p7003-out-1 ...`, the
//!   time of day (UTC, the same clock as `full`), the level's initial and the thread name
//!   shortened by [`short_thread`].
//!
//! The format comes from `--log-format` when the command line gives one ([`init_with`]), else
//! from `BTSIM_LOG_FORMAT` (`compact` or `full`), else `full`. `RUST_LOG` selects the level
//! (default `info` for the long-running processes, `warn` for one-shot commands whose output is
//! their result). This file formats and installs; it decides nothing about what is logged.

use std::env;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that picks the format when no option does.
pub const FORMAT_VAR: &str = "BTSIM_LOG_FORMAT";

/// How a log line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `2026-12-03T06:19:29.560Z INFO  [peer-7003-out-1] message`
    #[default]
    Full,
    /// `06:19:29.560 I p7003-out-1 message`
    Compact,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Format::Full),
            "compact" => Ok(Format::Compact),
            _ => Err(format!("`{text}` is not a log format (compact or full)")),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Full => "full",
            Format::Compact => "compact",
        })
    }
}

/// The format `BTSIM_LOG_FORMAT` asks for: `None` when unset or empty, `Err` when it names none.
pub fn format_from_env() -> Option<Result<Format, String>> {
    let value = env::var(FORMAT_VAR).ok()?;
    if value.trim().is_empty() {
        return None;
    }
    Some(value.parse().map_err(|e| format!("{FORMAT_VAR}: {e}")))
}

/// Installs the logger once, at `default` unless `RUST_LOG` says otherwise, in the format of
/// `BTSIM_LOG_FORMAT`; later calls (tests) are ignored.
pub fn init(default: &str) {
    init_with(default, None);
}

/// As [`init`], with the format of `--log-format` when given (it wins over the environment).
/// A bad `BTSIM_LOG_FORMAT` is said on stderr and the full format used.
pub fn init_with(default: &str, option: Option<Format>) {
    let format = option.unwrap_or_else(|| match format_from_env() {
        None => Format::Full,
        Some(Ok(format)) => format,
        Some(Err(e)) => {
            eprintln!("bittorrent-sim: warning: {e}; using the full log format");
            Format::Full
        }
    });
    let env = env_logger::Env::default().default_filter_or(default);
    let _ = env_logger::Builder::from_env(env)
        .format(move |buf, record| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("?");
            write_line(
                buf,
                format,
                SystemTime::now(),
                record.level(),
                name,
                record.args(),
            )
        })
        .try_init();
}

/// One log line, newline included.
pub fn write_line(
    out: &mut impl Write,
    format: Format,
    now: SystemTime,
    level: log::Level,
    thread: &str,
    message: &fmt::Arguments<'_>,
) -> io::Result<()> {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let millis = since_epoch.subsec_millis();
    let (hour, minute, second) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match format {
        Format::Full => {
            let (year, month, day) = civil_date(secs / 86_400);
            writeln!(
                out,
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z \
                 {level:5} [{thread}] {message}"
            )
        }
        Format::Compact => {
            let initial = &level.as_str()[..1];
            let thread = short_thread(thread);
            writeln!(
                out,
                "{hour:02}:{minute:02}:{second:02}.{millis:03} {initial} {thread} {message}"
            )
        }
    }
}

/// A thread name for the compact format: a leading `peer-` before a digit becomes `p`
/// (`peer-7003-out-1` is `p7003-out-1`), a leading `tracker-` becomes `t-` (`tracker-worker-3`
/// is `t-worker-3`); any other name is kept.
pub fn short_thread(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("peer-")
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        return format!("p{rest}");
    }
    if let Some(rest) = name.strip_prefix("tracker-") {
        return format!("t-{rest}");
    }
    name.to_string()
}

/// Year, month, day of the day `days` after 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
pub(crate) fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 2026-12-03T06:19:29.560Z
    fn when() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_796_278_769_560)
    }

    fn line(format: Format, level: log::Level, thread: &str) -> String {
        let mut out = Vec::new();
        write_line(
            &mut out,
            format,
            when(),
            level,
            thread,
            &format_args!("choke 127.0.0.1:7001"),
        )
        .expect("write to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn full_is_the_date_level_and_whole_thread_name() {
        assert_eq!(
            line(Format::Full, log::Level::Info, "peer-7003-out-1"),
            "2026-12-03T06:19:29.560Z INFO  [peer-7003-out-1] choke 127.0.0.1:7001\n"
        );
        assert_eq!(
            line(Format::Full, log::Level::Warn, "main"),
            "2026-12-03T06:19:29.560Z WARN  [main] choke 127.0.0.1:7001\n"
        );
    }

    #[test]
    fn compact_is_time_of_day_initial_and_short_thread() {
        assert_eq!(
            line(Format::Compact, log::Level::Info, "peer-7003-out-1"),
            "06:19:29.560 I p7003-out-1 choke 127.0.0.1:7001\n"
        );
        for (level, initial) in [
            (log::Level::Warn, 'W'),
            (log::Level::Error, 'E'),
            (log::Level::Debug, 'D'),
            (log::Level::Trace, 'T'),
        ] {
            let text = line(Format::Compact, level, "tracker-worker-3");
            assert_eq!(
                text,
                format!("06:19:29.560 {initial} t-worker-3 choke 127.0.0.1:7001\n")
            );
        }
        // The message starts at column 27 instead of 49: half a 54-column tmux pane is left.
        let full = line(Format::Full, log::Level::Info, "peer-7003-out-1");
        let compact = line(Format::Compact, log::Level::Info, "peer-7003-out-1");
        assert_eq!(
            (full.find("choke"), compact.find("choke")),
            (Some(49), Some(27))
        );
    }

    #[test]
    fn thread_names_shorten_only_known_prefixes() {
        assert_eq!(short_thread("peer-7003-in-12"), "p7003-in-12");
        assert_eq!(short_thread("peer-7003-accept"), "p7003-accept");
        assert_eq!(short_thread("tracker-cleanup"), "t-cleanup");
        assert_eq!(short_thread("peer-x"), "peer-x");
        assert_eq!(short_thread("main"), "main");
        assert_eq!(short_thread("peerless"), "peerless");
    }

    #[test]
    fn dates_are_right_across_leap_years_and_month_ends() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(11_017), (2000, 3, 1));
        assert_eq!(civil_date(20_789), (2026, 12, 2));
        assert_eq!(civil_date(20_819), (2027, 1, 1));
    }

    #[test]
    fn formats_parse_in_any_case_and_refuse_others() {
        assert_eq!("compact".parse(), Ok(Format::Compact));
        assert_eq!(" FULL ".parse(), Ok(Format::Full));
        let refused: Result<Format, _> = "short".parse();
        assert_eq!(
            refused,
            Err("`short` is not a log format (compact or full)".to_string())
        );
        assert_eq!(Format::default(), Format::Full);
        assert_eq!(Format::Compact.to_string(), "compact");
    }
}
