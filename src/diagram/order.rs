//! Turns the lines of all traces into the list of messages to draw, in causal order.
//!
//! Every message appears twice when both ends were traced: once `send` in the sender's file,
//! once `recv` in the receiver's. Each such `recv` is paired with a not yet paired `send` of
//! the same type from that sender whose addresses mirror its own (the sender's `local`/`remote`
//! are the receiver's `remote`/`local`), preferring equal fields, and among those the last one
//! sent before the receive (earlier identical ones were lost datagrams), and the message is
//! drawn from the send. A `recv` without a traced sender (a real client) is drawn from the
//! recv. A send to a traced process that never received it while tracing is drawn as lost.
//!
//! The order is a merge of every process's timeline by time in which a receive never comes
//! before its send, so a reply stamped in the same millisecond as its request still comes
//! after it. No filtering here (`select.rs`), no labels (`label.rs`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use super::json::Value;
use super::model::Line;
use super::resolve::Resolver;
use crate::trace::Dir;

/// One message to draw (or several folded into one arrow, see `select.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Seconds since the first line of all traces, to the millisecond.
    pub time: f64,
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub kind: String,
    pub fields: Vec<(String, Value)>,
    /// Sent to a traced process that did not receive it.
    pub lost: bool,
    /// How many messages this arrow stands for (1 unless folded).
    pub count: usize,
    /// The sum of the `length` fields of the messages folded here.
    pub total_length: u64,
}

/// The messages of `lines`, in drawing order.
pub fn messages(lines: &[Line], resolver: &Resolver) -> Vec<Message> {
    let Some(start) = lines.iter().map(|l| l.time).min_by(f64::total_cmp) else {
        return Vec::new();
    };
    let ends: Vec<(String, String)> = lines
        .iter()
        .map(|line| match line.dir {
            Dir::Send => (line.process.clone(), resolver.remote_name(line)),
            Dir::Recv => (resolver.remote_name(line), line.process.clone()),
        })
        .collect();
    let timelines = timelines(lines);
    let sent_by = pair(lines, &ends, &timelines, resolver);

    let mut received = vec![false; lines.len()];
    for send in sent_by.iter().flatten() {
        received[*send] = true;
    }
    let span: HashMap<&str, (f64, f64)> = timelines
        .iter()
        .filter_map(|t| {
            Some((
                lines[*t.first()?].process.as_str(),
                (lines[*t.first()?].time, lines[*t.last()?].time),
            ))
        })
        .collect();

    let mut drawn = Vec::new();
    for index in causal_order(lines, &timelines, &sent_by) {
        let line = &lines[index];
        let (from, to) = &ends[index];
        let lost = match line.dir {
            Dir::Recv if sent_by[index].is_some() => continue,
            Dir::Recv => false,
            Dir::Send => {
                !received[index]
                    && span
                        .get(to.as_str())
                        .is_some_and(|(first, last)| (*first..=*last).contains(&line.time))
            }
        };
        drawn.push(Message {
            // Traces have millisecond precision; epoch seconds in f64 do not subtract exactly.
            time: ((line.time - start) * 1000.0).round() / 1000.0,
            from: from.clone(),
            to: to.clone(),
            protocol: line.protocol.clone(),
            kind: line.kind.clone(),
            fields: line.fields.clone(),
            lost,
            count: 1,
            total_length: line
                .fields
                .iter()
                .find(|(k, _)| k == "length")
                .and_then(|(_, v)| v.as_u64())
                .unwrap_or(0),
        });
    }
    drawn
}

/// The line indices of each process, by time (file order among equal times).
fn timelines(lines: &[Line]) -> Vec<Vec<usize>> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_process: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, line) in lines.iter().enumerate() {
        let entry = by_process.entry(&line.process).or_insert_with(|| {
            order.push(&line.process);
            Vec::new()
        });
        entry.push(index);
    }
    order
        .into_iter()
        .filter_map(|process| by_process.remove(process))
        .map(|mut timeline| {
            timeline.sort_by(|a, b| lines[*a].time.total_cmp(&lines[*b].time));
            timeline
        })
        .collect()
}

/// For each `recv` line, the `send` line it pairs with.
fn pair(
    lines: &[Line],
    ends: &[(String, String)],
    timelines: &[Vec<usize>],
    resolver: &Resolver,
) -> Vec<Option<usize>> {
    let mut pending: HashMap<(&str, &str, &str), VecDeque<usize>> = HashMap::new();
    for &index in timelines.iter().flatten() {
        let (from, to) = &ends[index];
        if lines[index].dir == Dir::Send && resolver.is_traced(to) {
            pending
                .entry((from, to, &lines[index].kind))
                .or_default()
                .push_back(index);
        }
    }
    let mut sent_by = vec![None; lines.len()];
    for &index in timelines.iter().flatten() {
        let recv = &lines[index];
        let (from, to) = &ends[index];
        if recv.dir != Dir::Recv {
            continue;
        }
        let Some(queue) = pending.get_mut(&(from.as_str(), to.as_str(), recv.kind.as_str())) else {
            continue;
        };
        let mirrors = |send: &Line| {
            send.local
                .is_none_or(|local| same_endpoint(local, recv.remote))
                && recv
                    .local
                    .is_none_or(|local| same_endpoint(local, send.remote))
        };
        if let Some(at) = choose(queue, lines, recv, mirrors) {
            sent_by[index] = queue.remove(at);
        }
    }
    sent_by
}

/// Which pending send (by position in `queue`) `recv` received: with equal fields if any,
/// the last one sent before it arrived (earlier identical ones were lost datagrams), else, with
/// clocks that disagree, the first sent after; with other fields only if none is equal. Stops
/// looking once past the receive time with an answer, so long traces stay linear.
fn choose(
    queue: &VecDeque<usize>,
    lines: &[Line],
    recv: &Line,
    mirrors: impl Fn(&Line) -> bool,
) -> Option<usize> {
    let (mut equal_before, mut any_before, mut equal_after, mut any_after) =
        (None, None, None, None);
    for (at, &send) in queue.iter().enumerate() {
        let send = &lines[send];
        let before = send.time <= recv.time;
        if !before && equal_before.is_some() {
            break;
        }
        if !mirrors(send) {
            continue;
        }
        let equal = send.fields == recv.fields;
        match (before, equal) {
            (true, true) => equal_before = Some(at),
            (true, false) => any_before = Some(at),
            (false, true) => {
                equal_after = Some(at);
                break;
            }
            (false, false) => any_after = any_after.or(Some(at)),
        }
    }
    equal_before.or(equal_after).or(any_before).or(any_after)
}

/// Equal, or the same port where one side only knows it bound every address.
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    a == b || (a.port() == b.port() && (a.ip().is_unspecified() || b.ip().is_unspecified()))
}

/// All line indices, merged across timelines by time, a paired `recv` after its `send`.
fn causal_order(lines: &[Line], timelines: &[Vec<usize>], sent_by: &[Option<usize>]) -> Vec<usize> {
    let mut heads = vec![0; timelines.len()];
    let mut done = vec![false; lines.len()];
    let mut order = Vec::with_capacity(lines.len());
    loop {
        // (timeline, line) of the earliest ready head, and of the earliest head at all.
        let mut ready: Option<(usize, usize)> = None;
        let mut earliest: Option<(usize, usize)> = None;
        for (t, timeline) in timelines.iter().enumerate() {
            let Some(&index) = timeline.get(heads[t]) else {
                continue;
            };
            let sooner = |best: Option<(usize, usize)>| {
                best.is_none_or(|(_, b)| lines[index].time < lines[b].time)
            };
            if sooner(earliest) {
                earliest = Some((t, index));
            }
            if sent_by[index].is_none_or(|send| done[send]) && sooner(ready) {
                ready = Some((t, index));
            }
        }
        // With clocks that disagree a cycle is possible; then time alone decides.
        let Some((t, index)) = ready.or(earliest) else {
            break;
        };
        heads[t] += 1;
        done[index] = true;
        order.push(index);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time: f64, process: &str, local: &str, remote: &str, dir: Dir, kind: &str) -> Line {
        Line {
            time,
            process: process.into(),
            local: Some(local.parse().expect("addr")),
            remote: remote.parse().expect("addr"),
            protocol: "flood".into(),
            dir,
            kind: kind.into(),
            fields: Vec::new(),
        }
    }

    fn drawn(lines: &[Line]) -> Vec<String> {
        messages(lines, &Resolver::new(lines))
            .iter()
            .map(|m| {
                format!(
                    "{} {}>{}{}",
                    m.kind,
                    m.from,
                    m.to,
                    if m.lost { " lost" } else { "" }
                )
            })
            .collect()
    }

    const P: &str = "127.0.0.1:5001";
    const Q: &str = "127.0.0.1:5002";

    #[test]
    fn a_reply_in_the_same_millisecond_comes_after_its_request() {
        // The replier's file is read first and every line has the same time.
        let lines = [
            line(1.0, "q", Q, P, Dir::Recv, "HELLO"),
            line(1.0, "q", Q, P, Dir::Send, "CHUNKS_INFO"),
            line(1.0, "p", P, Q, Dir::Send, "HELLO"),
            line(1.0, "p", P, Q, Dir::Recv, "CHUNKS_INFO"),
        ];
        assert_eq!(drawn(&lines), ["HELLO p>q", "CHUNKS_INFO q>p"]);
    }

    #[test]
    fn unreceived_sends_are_lost_and_untraced_senders_drawn_from_recv() {
        let lines = [
            line(0.5, "q", Q, "127.0.0.1:6000", Dir::Recv, "HELLO"),
            line(1.0, "p", P, Q, Dir::Send, "QUERY"),
            line(2.0, "p", P, Q, Dir::Send, "QUERY"),
            line(2.1, "q", Q, P, Dir::Recv, "QUERY"),
            line(3.0, "q", Q, "127.0.0.1:6000", Dir::Recv, "GET"),
            line(9.0, "p", P, Q, Dir::Send, "QUERY"),
        ];
        // The recv at 2.1 is the QUERY of 2.0, so that of 1.0 never arrived; the last was sent
        // after q's trace ended, so nothing is known of it.
        assert_eq!(
            drawn(&lines),
            [
                "HELLO 127.0.0.1:6000>q",
                "QUERY p>q lost",
                "QUERY p>q",
                "GET 127.0.0.1:6000>q",
                "QUERY p>q"
            ]
        );
    }
}
