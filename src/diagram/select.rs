//! Which messages are drawn: the type and time filters, folding, and the cap.
//!
//! Filters apply first (`--types`, `--exclude-types`, `--from`/`--to`), then `--fold-pings`,
//! then `--max-messages`. Folding looks at the messages between each two participants in order
//! and folds a run of identical ones (`request #3` x16) or of an identical exchange repeated
//! (`PING`/`PONG` x12) into one arrow per message of the exchange, drawn where the run starts;
//! traffic between other participants in between does not break a run. An exchange starts with
//! its question: a message followed after a pause by one that is answered at once is the answer
//! to something before, so `PEERS 1`, `LIST`, `PEERS 1`, `LIST`, `PEERS 1` folds to `PEERS 1`,
//! `LIST x2`, `PEERS 1 x2` and no folded answer is drawn before its question. Identical means same
//! sender, receiver, type and fields, except that the blocks of one piece (`begin`, `length`)
//! count as identical. This file neither reads traces nor renders.

use std::collections::HashMap;

use super::order::Message;

/// What to keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Keep only these types (lower case); empty keeps all.
    pub types: Vec<String>,
    /// Drop these types (lower case).
    pub exclude: Vec<String>,
    /// Seconds since the first traced message.
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub fold: bool,
    /// At most this many arrows; 0 draws all.
    pub max_messages: usize,
}

/// The arrows to draw and how many were cut by `max_messages`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub messages: Vec<Message>,
    pub omitted: usize,
}

pub fn select(messages: Vec<Message>, selection: &Selection) -> Selected {
    let mut messages: Vec<Message> = messages
        .into_iter()
        .filter(|m| keep(m, selection))
        .collect();
    if selection.fold {
        messages = fold(messages);
    }
    let mut omitted = 0;
    if selection.max_messages > 0 && messages.len() > selection.max_messages {
        omitted = messages.len() - selection.max_messages;
        messages.truncate(selection.max_messages);
    }
    Selected { messages, omitted }
}

fn keep(message: &Message, selection: &Selection) -> bool {
    let kind = message.kind.to_lowercase();
    (selection.types.is_empty() || selection.types.contains(&kind))
        && !selection.exclude.contains(&kind)
        && selection.from.is_none_or(|from| message.time >= from)
        && selection.to.is_none_or(|to| message.time <= to)
}

/// Whether `b` repeats `a` for folding.
fn same(a: &Message, b: &Message) -> bool {
    let blocks = ["request", "piece", "cancel"]
        .iter()
        .any(|k| a.kind.eq_ignore_ascii_case(k));
    let key_fields = |m: &Message| {
        m.fields
            .iter()
            .filter(|(k, _)| !(blocks && (k == "begin" || k == "length")))
            .cloned()
            .collect::<Vec<_>>()
    };
    a.from == b.from
        && a.to == b.to
        && a.kind == b.kind
        && a.lost == b.lost
        && key_fields(a) == key_fields(b)
}

fn fold(mut messages: Vec<Message>) -> Vec<Message> {
    let mut pairs: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, m) in messages.iter().enumerate() {
        let key = if m.from <= m.to {
            (m.from.as_str(), m.to.as_str())
        } else {
            (m.to.as_str(), m.from.as_str())
        };
        pairs.entry(key).or_default().push(index);
    }
    // For each message: None if folded into another, else the indices it stands for.
    let mut runs: Vec<Option<Vec<usize>>> = (0..messages.len()).map(|i| Some(vec![i])).collect();
    for seq in pairs.values() {
        let at = |i: usize| &messages[seq[i]];
        let mut i = 0;
        // How many times the exchange seq[i], seq[i+1] repeats from i on.
        let exchanges = |i: usize| {
            let mut double = 0;
            if i + 1 < seq.len() && !same(at(i), at(i + 1)) {
                while i + 2 * double + 1 < seq.len()
                    && same(at(i), at(i + 2 * double))
                    && same(at(i + 1), at(i + 2 * double + 1))
                {
                    double += 1;
                }
            }
            double
        };
        // seq[i] answers an earlier message rather than asks: seq[i+1] follows it after a pause
        // and is answered at once, and the exchange from i+1 repeats as well. Folding from i
        // would draw the answers before the first question (`PEERS 1 x3` before any `LIST`).
        let answers = |i: usize| {
            i + 2 < seq.len()
                && at(i + 1).time - at(i).time > at(i + 2).time - at(i + 1).time
                && exchanges(i + 1) >= 2
        };
        while i < seq.len() {
            let single = (i..seq.len()).take_while(|&j| same(at(i), at(j))).count();
            let double = if answers(i) { 0 } else { exchanges(i) };
            let (period, repeats) = if double >= 2 && 2 * double > single {
                (2, double)
            } else {
                (1, single)
            };
            if repeats < 2 {
                i += 1;
                continue;
            }
            for offset in 0..period {
                let members: Vec<usize> =
                    (0..repeats).map(|r| seq[i + offset + r * period]).collect();
                for &m in &members[1..] {
                    runs[m] = None;
                }
                runs[seq[i + offset]] = Some(members);
            }
            i += period * repeats;
        }
    }
    for (index, run) in runs.iter().enumerate() {
        if let Some(members) = run.as_ref().filter(|m| m.len() > 1) {
            let total = members.iter().map(|&m| messages[m].total_length).sum();
            messages[index].count = members.len();
            messages[index].total_length = total;
        }
    }
    messages
        .into_iter()
        .zip(runs)
        .filter(|(_, run)| run.is_some())
        .map(|(m, _)| m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(time: f64, from: &str, to: &str, kind: &str, begin: u64) -> Message {
        Message {
            time,
            from: from.into(),
            to: to.into(),
            protocol: "x".into(),
            kind: kind.into(),
            fields: vec![(
                "begin".into(),
                super::super::json::Value::Num(begin.to_string()),
            )],
            lost: false,
            count: 1,
            total_length: 10,
        }
    }

    fn kinds(selected: &Selected) -> Vec<String> {
        selected
            .messages
            .iter()
            .map(|m| format!("{}{}>{} x{}", m.kind, m.from, m.to, m.count))
            .collect()
    }

    #[test]
    fn exchanges_fold_across_other_traffic() {
        let messages = vec![
            m(0.0, "a", "t", "PING", 0),
            m(0.1, "t", "a", "PONG", 0),
            m(0.2, "b", "a", "have", 0),
            m(0.3, "a", "t", "PING", 0),
            m(0.4, "t", "a", "PONG", 0),
            m(0.5, "a", "t", "PING", 0),
            m(0.6, "t", "a", "PONG", 0),
            m(0.7, "a", "b", "request", 0),
            m(0.8, "a", "b", "request", 16384),
            m(0.9, "a", "b", "have", 0),
            m(1.0, "a", "b", "have", 1),
        ];
        let selected = select(
            messages,
            &Selection {
                fold: true,
                ..Selection::default()
            },
        );
        assert_eq!(
            kinds(&selected),
            [
                "PINGa>t x3",
                "PONGt>a x3",
                "haveb>a x1",
                "requesta>b x2",
                "havea>b x1",
                "havea>b x1"
            ]
        );
        assert_eq!(selected.messages[3].total_length, 20);
    }

    #[test]
    fn a_folded_answer_is_never_drawn_before_its_question() {
        // JOIN is answered by PEERS 1, then every second a LIST is answered by PEERS 1.
        let mut messages = vec![m(0.0, "a", "t", "JOIN", 0), m(0.001, "t", "a", "PEERS", 0)];
        for round in 1..4u32 {
            messages.push(m(f64::from(round), "a", "t", "LIST", 0));
            messages.push(m(f64::from(round) + 0.001, "t", "a", "PEERS", 0));
        }
        let fold = Selection {
            fold: true,
            ..Selection::default()
        };
        assert_eq!(
            kinds(&select(messages.clone(), &fold)),
            ["JOINa>t x1", "PEERSt>a x1", "LISTa>t x3", "PEERSt>a x3"]
        );
        // With one LIST fewer the run from the first PEERS is as long: still not taken.
        messages.truncate(6);
        assert_eq!(
            kinds(&select(messages, &fold)),
            ["JOINa>t x1", "PEERSt>a x1", "LISTa>t x2", "PEERSt>a x2"]
        );
        // A question left unanswered at the end does not shift the exchange.
        let pings: Vec<Message> = (0..5u32)
            .map(|k| {
                let (from, to, kind) = if k % 2 == 0 {
                    ("a", "t", "PING")
                } else {
                    ("t", "a", "PONG")
                };
                m(
                    f64::from(k / 2) + f64::from(k % 2) * 0.001,
                    from,
                    to,
                    kind,
                    0,
                )
            })
            .collect();
        assert_eq!(
            kinds(&select(pings, &fold)),
            ["PINGa>t x2", "PONGt>a x2", "PINGa>t x1"]
        );
    }

    #[test]
    fn filters_then_cap() {
        let messages: Vec<Message> = (0..10u32)
            .map(|i| {
                m(
                    f64::from(i),
                    "a",
                    "b",
                    if i % 2 == 0 { "PING" } else { "have" },
                    i.into(),
                )
            })
            .collect();
        let only = |selection: Selection| kinds(&select(messages.clone(), &selection));
        assert_eq!(
            only(Selection {
                types: vec!["ping".into()],
                from: Some(3.0),
                to: Some(6.0),
                ..Selection::default()
            }),
            ["PINGa>b x1", "PINGa>b x1"]
        );
        assert_eq!(
            only(Selection {
                exclude: vec!["ping".into()],
                to: Some(3.0),
                ..Selection::default()
            })
            .len(),
            2
        );
        let capped = select(
            messages,
            &Selection {
                max_messages: 4,
                ..Selection::default()
            },
        );
        assert_eq!((capped.messages.len(), capped.omitted), (4, 6));
    }
}
