//! `bittorrent-sim diagram` on the fixed sample traces of `tests/data/diagram/` (a tracker and
//! two peers: JOIN/PEERS, PING/PONG, handshake, bitfield, interested, unchoke, requests and
//! pieces, have, keep-alives, REPORT, LEAVE): golden Mermaid text, well-formed SVG with one
//! arrow per message, filters, folding, errors, one end-to-end run of the binary, and that
//! `docs/diagram-example.md` and `.svg` still show the sample.
//!
//! To accept new golden files after an intended change: `UPDATE_GOLDEN=1 cargo test --test diagram`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bittorrent_sim::cli::ExitStatus;
use bittorrent_sim::diagram::select::Selection;
use bittorrent_sim::diagram::{self, Diagram};

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/diagram")
        .join(name)
}

fn sample() -> Vec<PathBuf> {
    ["tracker.jsonl", "peer-7001.jsonl", "peer-7002.jsonl"]
        .map(data)
        .to_vec()
}

fn build(traces: &[PathBuf], selection: Selection) -> Diagram {
    diagram::build(traces, &selection).expect("the sample traces are valid")
}

/// Compares with a committed golden file, or rewrites it under UPDATE_GOLDEN=1.
fn assert_golden(path: PathBuf, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).expect("write golden");
    }
    let expected = fs::read_to_string(&path).expect("golden file");
    assert_eq!(actual, expected, "differs from {}", path.display());
}

/// Every drawn label, `from>to: label`, read back from the Mermaid text.
fn arrows(diagram: &Diagram) -> Vec<String> {
    diagram
        .mermaid()
        .lines()
        .filter_map(|line| {
            line.trim()
                .split_once("->>")
                .map(|(from, rest)| format!("{from}>{rest}"))
        })
        .collect()
}

/// Parses the SVG as XML and counts the elements of class `msg`.
fn svg_arrows(svg: &str) -> usize {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("SVG is not well-formed XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        !svg.contains("<script") && !svg.contains("href") && !svg.contains("@import"),
        "not self-contained"
    );
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("msg"))
        .count()
}

#[test]
fn sample_mermaid_matches_golden() {
    let all = build(&sample(), Selection::default());
    assert_eq!(all.participants, ["tracker", "peer-7001", "peer-7002"]);
    assert_eq!(all.selected.messages.len(), 39);
    assert_golden(data("expected.md"), &all.mermaid());
    let folded = build(
        &sample(),
        Selection {
            fold: true,
            ..Selection::default()
        },
    );
    assert_golden(data("expected-folded.md"), &folded.mermaid());
}

#[test]
fn the_docs_example_is_the_sample() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let folded = build(
        &sample(),
        Selection {
            fold: true,
            ..Selection::default()
        },
    );
    assert_golden(docs.join("diagram-example.svg"), &folded.svg());
    let page =
        fs::read_to_string(docs.join("diagram-example.md")).expect("docs/diagram-example.md");
    let mermaid = folded.mermaid();
    let fence = &mermaid[mermaid.find("```mermaid").expect("a fence")..];
    assert!(
        page.contains(fence),
        "docs/diagram-example.md does not show the folded sample:\n{fence}"
    );
}

#[test]
fn svg_is_well_formed_with_one_arrow_per_message() {
    for selection in [
        Selection::default(),
        Selection {
            fold: true,
            ..Selection::default()
        },
        Selection {
            max_messages: 7,
            ..Selection::default()
        },
        Selection {
            types: vec!["nothing".into()],
            ..Selection::default()
        },
    ] {
        let diagram = build(&sample(), selection);
        assert_eq!(svg_arrows(&diagram.svg()), diagram.selected.messages.len());
    }
}

#[test]
fn svg_escapes_hostile_names_and_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("evil.jsonl");
    let evil = r#"{"time":5,"process":"<b>&\"x'","local":"127.0.0.1:1","remote":"127.0.0.1:1","protocol":"tracker","dir":"send","type":"OK","fields":{"text":"</text><script>alert(1)</script>;"}}"#;
    fs::write(&trace, format!("{evil}\n")).expect("write");
    let diagram = build(&[trace], Selection::default());
    let svg = diagram.svg();
    assert_eq!(svg_arrows(&svg), 1, "a message to oneself is one arrow too");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.contains(&"<b>&\"x'"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("OK </text><script>")),
        "{texts:?}"
    );
    let mermaid = diagram.mermaid();
    assert!(
        mermaid.contains("OK #60;/text#62;#60;script#62;alert(1)#60;/script#62;#59;"),
        "{mermaid}"
    );
}

#[test]
fn type_filters_are_case_insensitive() {
    let pings = build(
        &sample(),
        Selection {
            types: vec!["ping".into(), "pong".into()],
            ..Selection::default()
        },
    );
    assert_eq!(pings.selected.messages.len(), 12);
    assert!(
        pings
            .selected
            .messages
            .iter()
            .all(|m| m.kind == "PING" || m.kind == "PONG")
    );
    let quiet = build(
        &sample(),
        Selection {
            exclude: vec!["ping".into(), "pong".into(), "keep-alive".into()],
            ..Selection::default()
        },
    );
    assert_eq!(quiet.selected.messages.len(), 39 - 12 - 4);
    assert!(
        quiet
            .selected
            .messages
            .iter()
            .all(|m| !["PING", "PONG", "keep-alive"].contains(&m.kind.as_str()))
    );
}

#[test]
fn time_window_is_relative_to_the_first_message() {
    let wire = build(
        &sample(),
        Selection {
            from: Some(0.6),
            to: Some(0.7),
            ..Selection::default()
        },
    );
    let kinds: Vec<&str> = wire
        .selected
        .messages
        .iter()
        .map(|m| m.kind.as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"handshake"));
    assert_eq!(kinds.last(), Some(&"have"));
    assert_eq!(kinds.len(), 15);
    assert_eq!(wire.participants, ["peer-7001", "peer-7002"]);
}

#[test]
fn folding_keeps_every_message_counted() {
    let folded = build(
        &sample(),
        Selection {
            fold: true,
            ..Selection::default()
        },
    );
    let total: usize = folded.selected.messages.iter().map(|m| m.count).sum();
    assert_eq!((folded.selected.messages.len(), total), (27, 39));
    let arrows = arrows(&folded);
    for expected in [
        "peer_7001>tracker: PING x3",
        "tracker>peer_7001: PONG x3",
        "peer_7002>peer_7001: request #1 x2",
        "peer_7001>peer_7002: piece #1 x2 (32768)",
        "peer_7001>peer_7002: keep-alive x2",
        "peer_7002>tracker: PING",
    ] {
        assert!(
            arrows.iter().any(|a| a == expected),
            "no {expected:?} in {arrows:#?}"
        );
    }
}

#[test]
fn max_messages_cuts_with_a_note() {
    let cut = build(
        &sample(),
        Selection {
            max_messages: 10,
            ..Selection::default()
        },
    );
    assert_eq!(
        (cut.selected.messages.len(), cut.selected.omitted),
        (10, 29)
    );
    assert!(
        cut.mermaid()
            .contains("Note over tracker,peer_7002: 29 more messages not drawn (--max-messages)")
    );
    assert!(cut.svg().contains("29 more messages not drawn"));
}

#[test]
fn one_trace_alone_names_the_other_ends_by_address() {
    let alone = build(
        &[data("peer-7002.jsonl")],
        Selection {
            types: vec!["join".into(), "peers".into(), "request".into()],
            ..Selection::default()
        },
    );
    assert_eq!(
        alone.participants,
        ["peer-7002", "127.0.0.1:6000", "127.0.0.1:7001"]
    );
    assert_eq!(
        arrows(&alone)[..3],
        [
            "peer_7002>a127_0_0_1_6000: JOIN 7002 -",
            "a127_0_0_1_6000>peer_7002: PEERS 1",
            "peer_7002>a127_0_0_1_7001: request #1 @0",
        ]
    );
}

#[test]
fn a_malformed_line_is_named_by_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.jsonl");
    let good = fs::read_to_string(data("tracker.jsonl")).expect("sample");
    let first = good.lines().next().expect("a line");
    fs::write(
        &bad,
        format!("{first}\n{}\n", first.replace("\"dir\":\"recv\",", "")),
    )
    .expect("write");
    let Err(e) = diagram::build(&[data("tracker.jsonl"), bad.clone()], &Selection::default())
    else {
        panic!("a line without dir was accepted");
    };
    assert_eq!(
        e.to_string(),
        format!("{} line 2: missing \"dir\"", bad.display())
    );
    assert_eq!(e.exit_code(), 65);
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn the_binary_writes_md_and_svg_and_maps_errors_to_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let traces: Vec<String> = sample().iter().map(|p| p.display().to_string()).collect();
    let out = dir.path().join("swarm.svg");
    let mut args: Vec<&str> = vec![
        "diagram",
        "-o",
        out.to_str().expect("utf-8"),
        "--fold-pings",
    ];
    args.extend(traces.iter().map(String::as_str));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("swarm.md") && stdout.contains("27 arrows"),
        "{stdout}"
    );
    let md = fs::read_to_string(dir.path().join("swarm.md")).expect("OUT.md");
    assert_eq!(
        md,
        fs::read_to_string(data("expected-folded.md")).expect("golden")
    );
    let svg = fs::read_to_string(&out).expect("OUT.svg");
    assert_eq!(svg_arrows(&svg), 27);

    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, "{\"time\":1,\n").expect("write");
    let bad = bad.to_str().expect("utf-8");
    let nowhere = dir.path().join("no/such/dir/out");
    let nowhere = nowhere.to_str().expect("utf-8");
    let missing = dir.path().join("missing.jsonl");
    let missing = missing.to_str().expect("utf-8");
    let x = dir.path().join("x");
    let x = x.to_str().expect("utf-8");
    for (args, want_code, want_text) in [
        (
            vec!["diagram", bad, "-o", x],
            65,
            "bad.jsonl line 1: not JSON: column 11",
        ),
        (
            vec!["diagram", missing, "-o", x],
            66,
            "cannot read the trace",
        ),
        (
            vec!["diagram", &traces[0], "-o", nowhere],
            73,
            "cannot write",
        ),
        (
            vec!["diagram", &traces[0], "-o", x, "--from", "3", "--to", "1"],
            2,
            "--from 3 is after --to 1",
        ),
    ] {
        let (code, _, stderr) = run(&args);
        assert_eq!(code, want_code, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("bittorrent-sim: error: ") && stderr.contains(want_text),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
