//! What happened in a scenario run, rebuilt from the traces: which peer held which piece when
//! (its first `have` sent, or a JOIN/REPORT to the tracker naming it), merged with the
//! runner's own actions (joined, left, crashed, rejoined). From that timeline come
//! `events.csv` and the three charts. Pure: trace lines in, text and [`Chart`]s out; it reads
//! no file and never looks at log text.

use std::fmt::Write as _;

use super::chart::{Chart, Series};
use super::plan::{Action, PlannedPeer};
use crate::diagram::model::Line;
use crate::pieces::PieceSet;
use crate::trace::Dir;

/// One event of `events.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Action(Action),
    Piece(u32),
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Seconds since the scenario started.
    pub t: f64,
    pub peer: usize,
    pub kind: Kind,
}

/// The run, in time order.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub events: Vec<Event>,
    /// Seconds from the start to the end of the run.
    pub end: f64,
    pub pieces: u32,
}

/// The pieces a trace line says its peer holds, if it says any.
fn pieces_named(line: &Line, n: u32) -> Vec<u32> {
    if line.dir != Dir::Send {
        return Vec::new();
    }
    let field = |key: &str| line.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    match (line.protocol.as_str(), line.kind.as_str()) {
        ("bittorrent", "have") => field("index")
            .and_then(|v| v.as_u64())
            .and_then(|i| u32::try_from(i).ok())
            .filter(|i| *i < n)
            .into_iter()
            .collect(),
        ("tracker", "JOIN" | "REPORT") => field("pieces")
            .and_then(|v| v.as_str())
            .and_then(|text| PieceSet::from_ranges(text, n).ok())
            .map(|set| set.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Builds the timeline. `actions` are the runner's, in seconds since the start; `traces` the
/// lines of each peer's trace files (every run of it); `t0` the start as Unix seconds.
pub fn build(
    peers: &[PlannedPeer],
    pieces: u32,
    actions: &[(f64, usize, Action)],
    traces: &[Vec<Line>],
    t0: f64,
    end: f64,
) -> Timeline {
    let mut events: Vec<Event> = actions
        .iter()
        .map(|&(t, peer, action)| Event {
            t,
            peer,
            kind: Kind::Action(action),
        })
        .collect();
    for (peer, lines) in traces.iter().enumerate() {
        let mut held = peers[peer].start.clone();
        let mut named: Vec<(f64, u32)> = lines
            .iter()
            .flat_map(|l| {
                pieces_named(l, pieces)
                    .into_iter()
                    .map(move |i| (l.time - t0, i))
            })
            .collect();
        named.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (t, index) in named {
            if held.insert(index) {
                events.push(Event {
                    t: t.max(0.0),
                    peer,
                    kind: Kind::Piece(index),
                });
                if held.is_complete() {
                    events.push(Event {
                        t: t.max(0.0),
                        peer,
                        kind: Kind::Completed,
                    });
                }
            }
        }
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    Timeline {
        events,
        end,
        pieces,
    }
}

impl Timeline {
    /// When `peer` completed, in seconds since the start.
    pub fn completed(&self, peer: usize) -> Option<f64> {
        self.events
            .iter()
            .find(|e| e.peer == peer && e.kind == Kind::Completed)
            .map(|e| e.t)
    }

    /// `time_s,peer,group,event,piece`, one line per event.
    pub fn csv(&self, peers: &[PlannedPeer], groups: &[String]) -> String {
        let mut out = String::from("time_s,peer,group,event,piece\n");
        for e in &self.events {
            let p = &peers[e.peer];
            let (word, piece) = match e.kind {
                Kind::Action(a) => (a.word(), String::new()),
                Kind::Piece(i) => ("piece", i.to_string()),
                Kind::Completed => ("completed", String::new()),
            };
            let _ = writeln!(
                out,
                "{:.3},{},{},{word},{piece}",
                e.t, p.name, groups[p.group]
            );
        }
        out
    }

    /// Pieces held over time, one line per peer (from when it first joined).
    pub fn download_curve(&self, peers: &[PlannedPeer]) -> Chart {
        let series = peers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let joined = self
                    .events
                    .iter()
                    .find(|e| e.peer == i && e.kind == Kind::Action(Action::Join))?;
                let mut count = p.start.count();
                let mut points = vec![(joined.t, f64::from(count))];
                for e in self.events.iter().filter(|e| e.peer == i) {
                    if let Kind::Piece(_) = e.kind {
                        count += 1;
                        points.push((e.t, f64::from(count)));
                    }
                }
                points.push((self.end, f64::from(count)));
                Some(Series {
                    name: p.name.clone(),
                    points,
                })
            })
            .collect();
        Chart {
            title: "Pieces held over time".into(),
            x_label: "seconds since the start".into(),
            y_label: format!("pieces held (of {})", self.pieces),
            series,
            steps: true,
            dots: false,
        }
    }

    /// Copies of the rarest and of the median piece among the peers running, over time.
    pub fn availability(&self, peers: &[PlannedPeer]) -> Chart {
        let mut held: Vec<PieceSet> = peers.iter().map(|p| p.start.clone()).collect();
        let mut live = vec![false; peers.len()];
        let mut rarest = Vec::new();
        let mut median = Vec::new();
        for e in &self.events {
            match e.kind {
                Kind::Action(Action::Join | Action::Rejoin) => live[e.peer] = true,
                Kind::Action(Action::Leave | Action::Crash) => live[e.peer] = false,
                Kind::Piece(i) => {
                    held[e.peer].insert(i);
                }
                Kind::Completed => continue,
            }
            let mut copies: Vec<usize> = (0..self.pieces)
                .map(|i| {
                    (0..peers.len())
                        .filter(|&p| live[p] && held[p].contains(i))
                        .count()
                })
                .collect();
            copies.sort_unstable();
            let low = copies.first().copied().unwrap_or(0) as f64;
            let mid = copies.get(copies.len() / 2).copied().unwrap_or(0) as f64;
            // A point only where a value changes: the chart is drawn in steps.
            for (line, y) in [(&mut rarest, low), (&mut median, mid)] {
                if line.last().is_none_or(|&(_, last): &(f64, f64)| last != y) {
                    line.push((e.t, y));
                }
            }
        }
        for line in [&mut rarest, &mut median] {
            if let Some(&(_, y)) = line.last() {
                line.push((self.end, y));
            }
        }
        Chart {
            title: "Piece availability (copies among running peers)".into(),
            x_label: "seconds since the start".into(),
            y_label: "copies".into(),
            series: vec![
                Series {
                    name: "rarest piece".into(),
                    points: rarest,
                },
                Series {
                    name: "median piece".into(),
                    points: median,
                },
            ],
            steps: true,
            dots: false,
        }
    }

    /// Each completing peer's download time (completed minus first joined), sorted.
    pub fn completion(&self, peers: &[PlannedPeer]) -> Chart {
        let mut times: Vec<f64> = (0..peers.len())
            .filter_map(|i| {
                let joined = self
                    .events
                    .iter()
                    .find(|e| e.peer == i && e.kind == Kind::Action(Action::Join))?;
                Some(self.completed(i)? - joined.t)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let points = times
            .iter()
            .enumerate()
            .map(|(i, t)| ((i + 1) as f64, *t))
            .collect();
        Chart {
            title: "Download time per peer, sorted".into(),
            x_label: "peers, fastest first".into(),
            y_label: "seconds from joining to complete".into(),
            series: vec![Series {
                name: "download time".into(),
                points,
            }],
            steps: false,
            dots: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::model::parse_line;

    fn peer(name: &str, start: &str) -> PlannedPeer {
        let start = if start.is_empty() { "-" } else { start };
        PlannedPeer {
            name: name.into(),
            group: 0,
            start: PieceSet::from_ranges(start, 4).expect("ranges"),
            stays: true,
        }
    }

    fn line(t: f64, protocol: &str, kind: &str, fields: &str) -> Line {
        parse_line(&format!(
            r#"{{"time":{t},"process":"peer-1","local":"127.0.0.1:1","remote":"127.0.0.1:2","protocol":"{protocol}","dir":"send","type":"{kind}","fields":{{{fields}}}}}"#
        ))
        .expect("line")
    }

    #[test]
    fn pieces_come_from_haves_and_reports_once_each_then_completed() {
        let peers = [peer("seed", "0-3"), peer("leech", "")];
        let traces = vec![
            vec![],
            vec![
                line(100.5, "tracker", "JOIN", r#""pieces":"-""#),
                line(101.0, "bittorrent", "have", r#""index":2"#),
                line(101.2, "bittorrent", "have", r#""index":2"#),
                line(102.0, "tracker", "REPORT", r#""pieces":"0-2""#),
                line(103.0, "bittorrent", "have", r#""index":3"#),
            ],
        ];
        let actions = [
            (0.0, 0, Action::Join),
            (0.2, 1, Action::Join),
            (2.5, 0, Action::Crash),
        ];
        let t = build(&peers, 4, &actions, &traces, 100.0, 4.0);
        let csv = t.csv(&peers, &["g".into()]);
        assert_eq!(
            csv,
            "time_s,peer,group,event,piece\n0.000,seed,g,joined,\n0.200,leech,g,joined,\n\
             1.000,leech,g,piece,2\n2.000,leech,g,piece,0\n2.000,leech,g,piece,1\n\
             2.500,seed,g,crashed,\n3.000,leech,g,piece,3\n3.000,leech,g,completed,\n"
        );
        assert_eq!(t.completed(1), Some(3.0));
        let curve = t.download_curve(&peers);
        assert_eq!(curve.series[1].points.last(), Some(&(4.0, 4.0)));
        let avail = t.availability(&peers);
        // After the seed's crash, piece 3 has no copy; then the leecher gets it.
        let rarest = &avail.series[0].points;
        assert!(
            rarest.contains(&(2.5, 0.0)) && rarest.contains(&(3.0, 1.0)),
            "{rarest:?}"
        );
        let done = t.completion(&peers);
        assert_eq!(done.series[0].points, vec![(1.0, 2.8)]);
    }
}
