//! What Mermaid itself draws from `bittorrent-sim diagram`'s Markdown: the Mermaid text of the
//! sample traces (`tests/data/diagram/`), plain and folded, and of a trace whose fields hold
//! every character Mermaid treats specially, rendered by the npm package `mermaid` in headless
//! Chromium (`tests/browser/`). Each drawn label must read exactly as the label the program
//! made, piece numbers (`request #1 x2`) included.
//!
//! Needs `chromium` and `npm ci` in `tests/browser` (both done by `scripts/setup.sh`); without
//! them each test prints a SKIPPED line and passes.

#[path = "browser/chromium.rs"]
mod chromium;

use std::fs;
use std::path::{Path, PathBuf};

use bittorrent_sim::diagram::label::label;
use bittorrent_sim::diagram::select::Selection;
use bittorrent_sim::diagram::{self, Diagram};

fn sample() -> Vec<PathBuf> {
    ["tracker.jsonl", "peer-7001.jsonl", "peer-7002.jsonl"]
        .map(|name| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/diagram")
                .join(name)
        })
        .to_vec()
}

/// The text inside the ```mermaid fence of the Markdown file, as GitHub hands it to Mermaid.
fn fenced(diagram: &Diagram) -> String {
    let md = diagram.mermaid();
    let start = md.find("```mermaid\n").expect("a mermaid fence") + "```mermaid\n".len();
    let end = md[start..].find("```").expect("a closed fence");
    md[start..start + end].to_string()
}

/// Renders the diagram and checks that every arrow's label is drawn as the program wrote it.
fn assert_drawn_as_labelled(test: &str, diagram: &Diagram) -> Option<Vec<String>> {
    let drawn = chromium::render_mermaid(test, &fenced(diagram))?
        .unwrap_or_else(|e| panic!("Mermaid did not draw the diagram: {e}"));
    for message in &diagram.selected.messages {
        let wanted = label(message);
        assert!(
            drawn.contains(&wanted),
            "{wanted:?} is not drawn as such; Mermaid drew {drawn:#?}"
        );
    }
    for name in &diagram.participants {
        assert!(
            drawn.contains(name),
            "participant {name:?} not in {drawn:#?}"
        );
    }
    Some(drawn)
}

#[test]
fn mermaid_draws_the_piece_numbers_of_the_sample() {
    let all = diagram::build(&sample(), &Selection::default()).expect("sample");
    let Some(drawn) =
        assert_drawn_as_labelled("mermaid_draws_the_piece_numbers_of_the_sample", &all)
    else {
        return;
    };
    for expected in ["request #1 @0", "have #2", "REPORT 7002 1-2"] {
        assert!(
            drawn.iter().any(|t| t == expected),
            "{expected:?} in {drawn:#?}"
        );
    }
}

#[test]
fn mermaid_draws_the_folded_sample() {
    let folded = diagram::build(
        &sample(),
        &Selection {
            fold: true,
            ..Selection::default()
        },
    )
    .expect("sample");
    let Some(drawn) = assert_drawn_as_labelled("mermaid_draws_the_folded_sample", &folded) else {
        return;
    };
    for expected in ["request #1 x2", "piece #2 x2 (32768)", "PING x3"] {
        assert!(
            drawn.iter().any(|t| t == expected),
            "{expected:?} in {drawn:#?}"
        );
    }
}

#[test]
fn mermaid_draws_special_characters_as_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("odd.jsonl");
    let line = |time: u32, process: &str, text: &str| {
        format!(
            r#"{{"time":{time},"process":"{process}","local":"127.0.0.1:1","remote":"127.0.0.1:2","protocol":"tracker","dir":"send","type":"ERR","fields":{{"text":"{text}"}}}}"#
        )
    };
    let lines = [
        line(1, "p#1", "#3 a;b #59; c"),
        line(2, "p#1", "<br> x <b>y</b> %% z"),
        line(3, "p#1", "a: b & c {d} [e] (f) -x ->> end"),
    ];
    fs::write(&trace, lines.join("\n") + "\n").expect("write");
    let odd = diagram::build(&[trace], &Selection::default()).expect("odd trace");
    assert_eq!(odd.selected.messages.len(), 3);
    assert_drawn_as_labelled("mermaid_draws_special_characters_as_they_are", &odd);
}
