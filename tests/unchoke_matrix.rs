//! The unchoke view of `bittorrent-sim diagram` (`OUT-unchoke.svg`) on hand-written traces of
//! four peers: every cell's fraction read back from the SVG (parsed with roxmltree) against
//! what the trace says, the rows and columns sorted by configured upload rate with the rates on
//! the axes, the `--from`/`--to` window, and the sequence diagram ignoring the
//! `"protocol":"process"` configuration records.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bittorrent_sim::diagram;
use bittorrent_sim::diagram::select::Selection;

const BIN: &str = env!("CARGO_BIN_EXE_bittorrent-sim");

fn line(
    time: f64,
    process: &str,
    local: Option<&str>,
    remote: &str,
    dir: &str,
    kind: &str,
) -> String {
    let local = local.map_or("null".to_string(), |l| format!("\"{l}\""));
    format!(
        "{{\"time\":{time:.3},\"process\":\"{process}\",\"local\":{local},\"remote\":\"{remote}\",\
         \"protocol\":\"bittorrent\",\"dir\":\"{dir}\",\"type\":\"{kind}\",\"fields\":{{}}}}"
    )
}

fn config(process: &str, port: u16, rate: u64, choking: &str) -> String {
    format!(
        "{{\"time\":1000.000,\"process\":\"{process}\",\"local\":\"127.0.0.1:{port}\",\
         \"remote\":\"127.0.0.1:{port}\",\"protocol\":\"process\",\"dir\":\"send\",\"type\":\"config\",\
         \"fields\":{{\"upload_rate\":{rate},\"download_rate\":0,\"choking\":\"{choking}\",\"unchoke_slots\":4}}}}"
    )
}

/// A 10 s run (1000.000 to 1010.000) of four peers:
/// * peer-7001 (1 MiB/s) unchokes peer-7002 (connected in from 127.0.0.1:50002) over 1-3 s and
///   again from 5 s to that connection's last line at 8 s: 5 s, 0.5;
///   and peer-7003 (free rider) from 9 s to its connection's last line at 9.5 s: 0.05;
/// * peer-7004 (unlimited) unchokes peer-7002 at 2 s (and again at 3 s, no double count), never
///   chokes, the connection's last line at 10 s: 0.8;
/// * peer-7002 (256 KiB/s) unchokes peer-7004 over 4-5 s: 0.1;
/// * peer-7003 (free rider) unchokes nobody.
fn traces(dir: &Path) -> Vec<PathBuf> {
    let files = [
        (
            "peer-7001.jsonl",
            vec![
                config("peer-7001", 7001, 1048576, "tit-for-tat"),
                line(
                    1001.0,
                    "peer-7001",
                    Some("127.0.0.1:7001"),
                    "127.0.0.1:50002",
                    "send",
                    "unchoke",
                ),
                line(
                    1003.0,
                    "peer-7001",
                    Some("127.0.0.1:7001"),
                    "127.0.0.1:50002",
                    "send",
                    "choke",
                ),
                line(
                    1005.0,
                    "peer-7001",
                    Some("127.0.0.1:7001"),
                    "127.0.0.1:50002",
                    "send",
                    "unchoke",
                ),
                line(
                    1008.0,
                    "peer-7001",
                    Some("127.0.0.1:7001"),
                    "127.0.0.1:50002",
                    "recv",
                    "keep-alive",
                ),
                line(
                    1009.0,
                    "peer-7001",
                    Some("127.0.0.1:50010"),
                    "127.0.0.1:7003",
                    "send",
                    "unchoke",
                ),
                line(
                    1009.5,
                    "peer-7001",
                    Some("127.0.0.1:50010"),
                    "127.0.0.1:7003",
                    "send",
                    "keep-alive",
                ),
            ],
        ),
        (
            "peer-7002.jsonl",
            vec![
                config("peer-7002", 7002, 262144, "tit-for-tat"),
                line(
                    1001.0,
                    "peer-7002",
                    Some("127.0.0.1:50002"),
                    "127.0.0.1:7001",
                    "recv",
                    "unchoke",
                ),
                line(
                    1004.0,
                    "peer-7002",
                    Some("127.0.0.1:50003"),
                    "127.0.0.1:7004",
                    "send",
                    "unchoke",
                ),
                line(
                    1005.0,
                    "peer-7002",
                    Some("127.0.0.1:50003"),
                    "127.0.0.1:7004",
                    "send",
                    "choke",
                ),
            ],
        ),
        (
            "peer-7003.jsonl",
            vec![
                config("peer-7003", 7003, 524288, "free-ride"),
                line(
                    1009.0,
                    "peer-7003",
                    Some("127.0.0.1:7003"),
                    "127.0.0.1:50010",
                    "recv",
                    "unchoke",
                ),
            ],
        ),
        (
            "peer-7004.jsonl",
            vec![
                config("peer-7004", 7004, 0, "unchoke-all"),
                line(
                    1002.0,
                    "peer-7004",
                    None,
                    "127.0.0.1:7002",
                    "send",
                    "unchoke",
                ),
                line(
                    1003.0,
                    "peer-7004",
                    None,
                    "127.0.0.1:7002",
                    "send",
                    "unchoke",
                ),
                line(
                    1010.0,
                    "peer-7004",
                    None,
                    "127.0.0.1:7002",
                    "send",
                    "keep-alive",
                ),
            ],
        ),
    ];
    files
        .into_iter()
        .map(|(name, lines)| {
            let path = dir.join(name);
            fs::write(&path, lines.join("\n") + "\n").expect("write trace");
            path
        })
        .collect()
}

/// Runs `diagram` and reads OUT-unchoke.svg: the row labels, the column labels and every
/// cell's fraction by (from, to).
#[allow(clippy::type_complexity)]
fn matrix(args: &[&str]) -> (Vec<String>, Vec<String>, HashMap<(String, String), f64>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let traces = traces(dir.path());
    let out = dir.path().join("run");
    let output = Command::new(BIN)
        .arg("diagram")
        .args(&traces)
        .arg("-o")
        .arg(&out)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run diagram");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("run-unchoke.svg"), "{stdout}");
    let svg = fs::read_to_string(dir.path().join("run-unchoke.svg")).expect("OUT-unchoke.svg");
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    assert!(
        !svg.contains("<script") && !svg.contains("href"),
        "not self-contained"
    );
    let texts = |class: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .map(|n| n.text().unwrap_or_default().to_string())
            .collect()
    };
    let cells = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("cell"))
        .map(|n| {
            let get = |a: &str| n.attribute(a).unwrap_or_else(|| panic!("cell without {a}"));
            let fraction: f64 = get("data-fraction").parse().expect("a number");
            (
                (get("data-from").to_string(), get("data-to").to_string()),
                fraction,
            )
        })
        .collect();
    (texts("row"), texts("col"), cells)
}

fn pair(from: &str, to: &str) -> (String, String) {
    (from.to_string(), to.to_string())
}

#[test]
fn cells_are_the_fraction_of_the_run_each_row_unchoked_each_column() {
    let (rows, columns, cells) = matrix(&[]);
    let order = [
        "peer-7004 · unlimited",
        "peer-7001 · 1 MiB/s",
        "peer-7002 · 256 KiB/s",
        "peer-7003 · free rider",
    ];
    assert_eq!(rows, order, "rows sorted by configured upload rate");
    assert_eq!(columns, order, "columns in the same order");
    assert_eq!(
        cells.len(),
        12,
        "every ordered pair of distinct peers: {cells:?}"
    );
    let expected = [
        ("peer-7001", "peer-7002", 0.5),
        ("peer-7001", "peer-7003", 0.05),
        ("peer-7004", "peer-7002", 0.8),
        ("peer-7002", "peer-7004", 0.1),
    ];
    for ((from, to), fraction) in &cells {
        let want = expected
            .iter()
            .find(|(f, t, _)| f == from && t == to)
            .map_or(0.0, |e| e.2);
        assert!(
            (fraction - want).abs() < 1e-9,
            "{from} -> {to}: {fraction}, want {want}"
        );
    }
}

#[test]
fn from_and_to_narrow_the_run() {
    // 2 s to 6 s: 7001 -> 7002 over 2-3 and 5-6 (2 of 4 s), 7004 -> 7002 all 4 s, 7002 ->
    // 7004 over 4-5 (1 of 4 s), 7001 -> 7003 not in the window.
    let (_, _, cells) = matrix(&["--from", "2", "--to", "6"]);
    assert_eq!(cells[&pair("peer-7001", "peer-7002")], 0.5);
    assert_eq!(cells[&pair("peer-7004", "peer-7002")], 1.0);
    assert_eq!(cells[&pair("peer-7002", "peer-7004")], 0.25);
    assert_eq!(cells[&pair("peer-7001", "peer-7003")], 0.0);
}

#[test]
fn the_sequence_diagram_ignores_process_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drawn = diagram::build(&traces(dir.path()), &Selection::default()).expect("valid");
    let kinds: Vec<&str> = drawn
        .selected
        .messages
        .iter()
        .map(|m| m.kind.as_str())
        .collect();
    assert!(!kinds.contains(&"config"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "unchoke").count(),
        6,
        "{kinds:?}"
    );
    // The config record's address still names peer-7001's end of the accepted connection.
    assert!(
        drawn
            .selected
            .messages
            .iter()
            .all(|m| m.from.starts_with("peer-") && m.to.starts_with("peer-")),
        "{:?}",
        drawn.selected.messages
    );
}

#[test]
fn no_unchoke_no_matrix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.jsonl");
    fs::write(
        &trace,
        line(1.0, "peer-7001", None, "127.0.0.1:7002", "send", "have") + "\n",
    )
    .expect("write");
    let out = dir.path().join("run");
    let status = Command::new(BIN)
        .arg("diagram")
        .arg(&trace)
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .expect("run");
    assert!(status.success());
    assert!(dir.path().join("run.svg").exists());
    assert!(!dir.path().join("run-unchoke.svg").exists());
}
