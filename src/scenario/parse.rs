//! Reads a scenario file: `key: value` lines, `#` comments, and sections. Pure: text in, a
//! [`Scenario`] or the first error (with its line number) out. No file is opened here.
//!
//! ```text
//! # flash-crowd: one seed, twenty leechers at once.
//! name: flash-crowd
//! file: 4MiB                 # a generated file of this size (a unit is required),
//!                            # or the path of an existing file
//! piece-length: 64KiB
//! deadline: 120s             # give up (and fail) after this long
//! expect: complete           # or `incomplete`: the lesson is that the swarm cannot finish
//! ping-interval: 1s          # peer and tracker timers
//! report-interval: 1s
//! cleanup-interval: 3s
//!
//! [group seed]
//! count: 1
//! start: all                 # none | all | 0-9,12 | 50% (random) | first 60% | last 40%
//! up: 1MiB/s                 # upload cap (0: none); down: the download cap
//!
//! [group leechers]
//! count: 20
//! join: 2s                   # also: leave (SIGTERM), crash (SIGKILL), rejoin
//! picker: random             # also: choking, free-ride: yes, bind, args: --parallel 8
//!
//! [quick]                    # what `--quick` changes: top-level keys, or GROUP.KEY
//! file: 256KiB
//! leechers.count: 4
//! ```
//!
//! What it does not do: resolve a file path, draw pieces or start anything (`run.rs`).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::units::parse_rate;

/// The shared file: generated at a size, or an existing file (a path relative to the scenario).
#[derive(Debug, Clone, PartialEq)]
pub enum FileSpec {
    Size(u64),
    Path(String),
}

/// Which pieces a peer holds when it starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    None,
    All,
    /// Piece ranges, `0-9,12`.
    Ranges(String),
    /// This percentage of the pieces, chosen at random (seeded per peer).
    Random(u32),
    /// The first / last percentage of the pieces (the seed's split: `first 60%`, `last 40%`).
    First(u32),
    Last(u32),
}

/// One group of identical peers.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub count: usize,
    pub start: Start,
    /// Bytes per second, 0: unlimited.
    pub up: u64,
    pub down: u64,
    pub picker: Option<String>,
    pub choking: Option<String>,
    pub free_ride: bool,
    pub join: Duration,
    /// Graceful leave: SIGTERM at this time.
    pub leave: Option<Duration>,
    /// SIGKILL at this time.
    pub crash: Option<Duration>,
    /// Start again (same directory: it resumes from what it verified) at this time.
    pub rejoin: Option<Duration>,
    pub bind: Option<IpAddr>,
    /// More `peer` options, as written.
    pub args: Vec<String>,
}

impl Group {
    /// Whether the scenario expects this group's peers to end with the whole file.
    pub fn stays(&self) -> bool {
        (self.leave.is_none() && self.crash.is_none()) || self.rejoin.is_some()
    }
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub file: FileSpec,
    pub piece_length: u64,
    pub deadline: Duration,
    pub ping_interval: Duration,
    pub report_interval: Duration,
    pub round_interval: Duration,
    pub cleanup_interval: Duration,
    pub min_peers: usize,
    /// Cap on the arrows of the sequence diagram.
    pub max_messages: usize,
    /// `expect:` what a PASS means: every staying peer ends with an identical copy (`complete`,
    /// the default), or at least one cannot (`incomplete`: a lesson about a swarm that cannot
    /// finish, which passes when it does not).
    pub expect: Expect,
    pub groups: Vec<Group>,
}

/// What a scenario expects of its staying peers at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Complete,
    Incomplete,
}

/// The first thing wrong with a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// One `key: value` line, with its line number.
#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    key: String,
    value: String,
}

/// Parses `text`; with `quick`, the `[quick]` section's values replace the others. The quick
/// section is checked either way, so a mistake in it shows without `--quick`.
pub fn parse(text: &str, default_name: &str, quick: bool) -> Result<Scenario, ParseError> {
    let (top, groups, quick_entries) = sections(text)?;
    let full = build(top.clone(), groups.clone(), default_name)?;
    let (top, groups) = overlay(top, groups, &quick_entries)?;
    let shrunk = build(top, groups, default_name)?;
    Ok(if quick { shrunk } else { full })
}

/// The entries of each group, in file order.
type Groups = Vec<(String, Vec<Entry>)>;
/// The top-level entries, the groups, the `[quick]` entries.
type Sections = (Vec<Entry>, Groups, Vec<Entry>);

fn sections(text: &str) -> Result<Sections, ParseError> {
    enum Where {
        Top,
        Group,
        Quick,
    }
    let mut top = Vec::new();
    let mut groups: Vec<(String, Vec<Entry>)> = Vec::new();
    let mut quick = Vec::new();
    let mut place = Where::Top;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let err = |reason: String| ParseError { line, reason };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if let Some(header) = content.strip_prefix('[') {
            let header = header
                .strip_suffix(']')
                .ok_or_else(|| {
                    err(format!(
                        "`{content}`: a section is `[group NAME]` or `[quick]`"
                    ))
                })?
                .trim();
            if header == "quick" {
                place = Where::Quick;
            } else if let Some(name) = header.strip_prefix("group ") {
                let name = name.trim();
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(err(format!(
                        "group name `{name}`: letters, digits, - and _"
                    )));
                }
                if groups.iter().any(|(n, _)| n == name) {
                    return Err(err(format!("group `{name}` is defined twice")));
                }
                groups.push((name.to_string(), Vec::new()));
                place = Where::Group;
            } else {
                return Err(err(format!(
                    "`[{header}]`: a section is `[group NAME]` or `[quick]`"
                )));
            }
            continue;
        }
        let (key, value) = content
            .split_once(':')
            .ok_or_else(|| err(format!("`{content}` is not `key: value`")))?;
        let entry = Entry {
            line,
            key: key.trim().to_ascii_lowercase(),
            value: value.trim().to_string(),
        };
        match place {
            Where::Top => top.push(entry),
            Where::Group => groups.last_mut().map(|(_, g)| g.push(entry)).unwrap_or(()),
            Where::Quick => quick.push(entry),
        }
    }
    Ok((top, groups, quick))
}

/// Puts each quick entry in place of the key it names (`key` or `group.key`).
fn overlay(
    mut top: Vec<Entry>,
    mut groups: Groups,
    quick: &[Entry],
) -> Result<(Vec<Entry>, Groups), ParseError> {
    for entry in quick {
        let (target, key) = match entry.key.split_once('.') {
            Some((group, key)) => {
                let Some((_, entries)) = groups.iter_mut().find(|(n, _)| n == group) else {
                    return Err(ParseError {
                        line: entry.line,
                        reason: format!("`{}`: no group `{group}`", entry.key),
                    });
                };
                (entries, key)
            }
            None => (&mut top, entry.key.as_str()),
        };
        target.retain(|e| e.key != key);
        target.push(Entry {
            key: key.to_string(),
            ..entry.clone()
        });
    }
    Ok((top, groups))
}

fn build(top: Vec<Entry>, groups: Groups, default_name: &str) -> Result<Scenario, ParseError> {
    let mut scenario = Scenario {
        name: default_name.to_string(),
        file: FileSpec::Size(1 << 20),
        piece_length: 64 << 10,
        deadline: Duration::from_secs(120),
        ping_interval: Duration::from_secs(1),
        report_interval: Duration::from_secs(1),
        round_interval: Duration::ZERO,
        cleanup_interval: Duration::from_secs(3),
        min_peers: 1,
        max_messages: 300,
        expect: Expect::Complete,
        groups: Vec::new(),
    };
    for e in &top {
        let err = |reason: String| ParseError {
            line: e.line,
            reason,
        };
        let v = e.value.as_str();
        match e.key.as_str() {
            "name" => scenario.name = v.to_string(),
            "file" => scenario.file = file_spec(v),
            "piece-length" => scenario.piece_length = size(v).map_err(err)?,
            "deadline" => scenario.deadline = duration(v).map_err(err)?,
            "ping-interval" => scenario.ping_interval = duration(v).map_err(err)?,
            "report-interval" => scenario.report_interval = duration(v).map_err(err)?,
            "round-interval" => scenario.round_interval = duration(v).map_err(err)?,
            "cleanup-interval" => scenario.cleanup_interval = duration(v).map_err(err)?,
            "min-peers" => scenario.min_peers = number(v).map_err(err)?,
            "max-messages" => scenario.max_messages = number(v).map_err(err)?,
            "expect" => {
                scenario.expect = match v {
                    "complete" => Expect::Complete,
                    "incomplete" => Expect::Incomplete,
                    _ => return Err(err(format!("expect: `{v}` is not complete or incomplete"))),
                }
            }
            other => {
                return Err(err(format!(
                    "unknown key `{other}` (keys: name, file, piece-length, deadline, ping-interval, report-interval, round-interval, cleanup-interval, min-peers, max-messages, expect)"
                )));
            }
        }
    }
    if scenario.piece_length == 0 {
        return Err(ParseError {
            line: 0,
            reason: "piece-length must be above 0".into(),
        });
    }
    for (name, entries) in groups {
        scenario.groups.push(group(name, &entries)?);
    }
    if scenario.groups.iter().map(|g| g.count).sum::<usize>() == 0 {
        return Err(ParseError {
            line: 0,
            reason: "no peers: add a `[group NAME]` with `count: N`".into(),
        });
    }
    Ok(scenario)
}

fn group(name: String, entries: &[Entry]) -> Result<Group, ParseError> {
    let mut g = Group {
        name,
        count: 1,
        start: Start::None,
        up: 0,
        down: 0,
        picker: None,
        choking: None,
        free_ride: false,
        join: Duration::ZERO,
        leave: None,
        crash: None,
        rejoin: None,
        bind: None,
        args: Vec::new(),
    };
    let mut last_line = 0;
    for e in entries {
        last_line = e.line;
        let err = |reason: String| ParseError {
            line: e.line,
            reason,
        };
        let v = e.value.as_str();
        match e.key.as_str() {
            "count" => g.count = number(v).map_err(err)?,
            "start" => g.start = start(v).map_err(err)?,
            "up" => g.up = parse_rate(v).map_err(err)?,
            "down" => g.down = parse_rate(v).map_err(err)?,
            "picker" => g.picker = Some(one_of(v, &["rarest", "random"]).map_err(err)?),
            "choking" => g.choking = Some(one_of(v, &["tit-for-tat", "unchoke-all"]).map_err(err)?),
            "free-ride" => g.free_ride = yes_no(v).map_err(err)?,
            "join" => g.join = duration(v).map_err(err)?,
            "leave" => g.leave = Some(duration(v).map_err(err)?),
            "crash" => g.crash = Some(duration(v).map_err(err)?),
            "rejoin" => g.rejoin = Some(duration(v).map_err(err)?),
            "bind" => {
                g.bind = Some(
                    v.parse()
                        .map_err(|_| err(format!("bind `{v}` is not an IP address")))?,
                )
            }
            "args" => g.args = v.split_whitespace().map(str::to_string).collect(),
            other => {
                return Err(err(format!(
                    "unknown group key `{other}` (keys: count, start, up, down, picker, choking, free-ride, join, leave, crash, rejoin, bind, args)"
                )));
            }
        }
    }
    let err = |reason: String| ParseError {
        line: last_line,
        reason: format!("group `{}`: {reason}", g.name),
    };
    if g.leave.is_some() && g.crash.is_some() {
        return Err(err("give leave or crash, not both".into()));
    }
    if let Some(rejoin) = g.rejoin {
        match g.leave.or(g.crash) {
            Some(gone) if gone < rejoin => {}
            _ => return Err(err("rejoin needs an earlier leave or crash".into())),
        }
    }
    if let Some(gone) = g.leave.or(g.crash)
        && gone < g.join
    {
        return Err(err("leaves before it joins".into()));
    }
    Ok(g)
}

mod values;
use values::{duration, file_spec, number, one_of, size, start, yes_no};

#[cfg(test)]
mod tests;
