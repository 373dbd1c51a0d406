//! Golden tests of the scenario format: a whole file in, the exact `Scenario` out; each
//! mistake a teacher may make gives its line number; every file under `scenarios/` parses.

use super::*;

const EXAMPLE: &str = "\
# a comment
name: demo
file: 2MiB
piece-length: 32KiB   # trailing comment
deadline: 60s
ping-interval: 500ms

[group seed]
count: 1
start: all
up: 1MiB/s

[group churners]
count: 3
start: first 50%
picker: random
choking: unchoke-all
crash: 5s
rejoin: 8s
bind: 127.0.0.2
args: --parallel 8 --per-peer 2

[quick]
file: 256KiB
deadline: 20s
churners.count: 2
churners.crash: 1s
";

#[test]
fn the_example_parses_to_exactly_this() {
    let s = parse(EXAMPLE, "stem", false).expect("parses");
    assert_eq!(
        s,
        Scenario {
            name: "demo".into(),
            file: FileSpec::Size(2 << 20),
            piece_length: 32 << 10,
            deadline: Duration::from_secs(60),
            ping_interval: Duration::from_millis(500),
            report_interval: Duration::from_secs(1),
            round_interval: Duration::ZERO,
            cleanup_interval: Duration::from_secs(3),
            min_peers: 1,
            max_messages: 300,
            expect: Expect::Complete,
            groups: vec![
                Group {
                    name: "seed".into(),
                    count: 1,
                    start: Start::All,
                    up: 1 << 20,
                    down: 0,
                    picker: None,
                    choking: None,
                    free_ride: false,
                    join: Duration::ZERO,
                    leave: None,
                    crash: None,
                    rejoin: None,
                    bind: None,
                    args: vec![],
                },
                Group {
                    name: "churners".into(),
                    count: 3,
                    start: Start::First(50),
                    up: 0,
                    down: 0,
                    picker: Some("random".into()),
                    choking: Some("unchoke-all".into()),
                    free_ride: false,
                    join: Duration::ZERO,
                    leave: None,
                    crash: Some(Duration::from_secs(5)),
                    rejoin: Some(Duration::from_secs(8)),
                    bind: Some("127.0.0.2".parse().expect("ip")),
                    args: vec![
                        "--parallel".into(),
                        "8".into(),
                        "--per-peer".into(),
                        "2".into()
                    ],
                },
            ],
        }
    );
    assert!(s.groups.iter().all(Group::stays));
}

#[test]
fn quick_replaces_top_level_and_group_keys() {
    let s = parse(EXAMPLE, "stem", true).expect("parses");
    assert_eq!(s.file, FileSpec::Size(256 << 10));
    assert_eq!(s.deadline, Duration::from_secs(20));
    assert_eq!(s.groups[1].count, 2);
    assert_eq!(s.groups[1].crash, Some(Duration::from_secs(1)));
    assert_eq!(s.groups[1].rejoin, Some(Duration::from_secs(8)));
    assert_eq!(s.piece_length, 32 << 10, "untouched keys stay");
}

#[test]
fn start_forms_and_file_forms() {
    let one = |start: &str| {
        let text = format!("[group g]\nstart: {start}\n");
        parse(&text, "x", false).map(|s| s.groups[0].start.clone())
    };
    assert_eq!(one("none"), Ok(Start::None));
    assert_eq!(one("0-9,12"), Ok(Start::Ranges("0-9,12".into())));
    assert_eq!(one("25%"), Ok(Start::Random(25)));
    assert_eq!(one("last 40%"), Ok(Start::Last(40)));
    assert!(one("half").is_err());
    assert!(one("120%").is_err());
    let file = |v: &str| parse(&format!("file: {v}\n[group g]\n"), "x", false).map(|s| s.file);
    assert_eq!(file("4MiB"), Ok(FileSpec::Size(4 << 20)));
    assert_eq!(file("100B"), Ok(FileSpec::Size(100)));
    assert_eq!(
        file("data/video.bin"),
        Ok(FileSpec::Path("data/video.bin".into()))
    );
    assert_eq!(
        parse("[group g]\n", "stem", false).map(|s| s.name),
        Ok("stem".into())
    );
}

#[test]
fn mistakes_name_their_line() {
    let line_of = |text: &str| parse(text, "x", false).expect_err("refused").line;
    assert_eq!(line_of("file: 1MiB\ncolour: red\n[group g]\n"), 2);
    assert_eq!(line_of("[group g]\ncount: many\n"), 2);
    assert_eq!(line_of("[group g]\nup: fast\n"), 2);
    assert_eq!(line_of("[group g]\n\njoin: 5\n"), 3);
    assert_eq!(line_of("[peers]\n"), 1);
    assert_eq!(line_of("[group g]\nrejoin: 5s\n"), 2);
    assert_eq!(line_of("[group g]\n[group g]\n"), 2);
    assert_eq!(line_of("[group g]\n[quick]\nh.count: 2\n"), 3);
    assert_eq!(line_of("[group g]\njust words\n"), 2);
    let error = parse("[group g]\ncrash: 2s\nrejoin: 1s\n", "x", false).expect_err("refused");
    assert!(error.reason.contains("earlier leave or crash"), "{error}");
    assert!(parse("name: empty\n", "x", false).is_err(), "no peers");
}

#[test]
fn expect_says_whether_the_swarm_should_finish() {
    let peers = "[group g]\n";
    let default = parse(peers, "x", false).expect("parse");
    assert_eq!(default.expect, Expect::Complete);
    let s = parse(&format!("expect: incomplete\n{peers}"), "x", false).expect("parse");
    assert_eq!(s.expect, Expect::Incomplete);
    let s = parse(&format!("expect: complete\n{peers}"), "x", false).expect("parse");
    assert_eq!(s.expect, Expect::Complete);
    let error = parse(&format!("expect: maybe\n{peers}"), "x", false).expect_err("refused");
    assert_eq!(error.line, 1);
    assert!(error.reason.contains("complete or incomplete"), "{error}");
}

#[test]
fn every_shipped_scenario_parses_in_both_profiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("scenario") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for quick in [false, true] {
            let s = parse(&text, "x", quick).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!s.groups.is_empty());
        }
        assert!(
            text.contains("Observe"),
            "{} says what to observe",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} scenarios");
}
