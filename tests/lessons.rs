//! The lab handout (docs/lessons/*.md) cannot go stale: every page's `sh lesson` blocks run as
//! written (tests/lesson_support), and each page's expected observation is asserted where it is
//! a figure that does not depend on timing: the log lines of each picker, the swarm serving a
//! newcomer after the seed left (and failing when the seed left too early), the churners'
//! event rows, the exact chunks found at TTL 1, 2 and 3, retransmission under loss, P2P beating
//! client-server, what tshark decodes, and free riders uploading nothing. Wall-clock figures
//! are printed, never asserted.

mod lesson_support;

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::time::Duration;

use lesson_support::*;

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn every_page_has_runnable_blocks_and_the_index_lists_every_page() {
    let dir = root().join("docs/lessons");
    let index = fs::read_to_string(dir.join("README.md")).expect("index");
    let mut pages: Vec<String> = fs::read_dir(&dir)
        .expect("docs/lessons")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "README.md")
        .collect();
    pages.sort();
    assert!(pages.len() >= 6, "{pages:?}");
    for page in &pages {
        let text = fs::read_to_string(dir.join(page)).expect("page");
        assert!(!blocks(&text).is_empty(), "{page} has no `sh lesson` block");
        assert!(
            index.contains(&format!("]({page})")),
            "the index lacks {page}"
        );
        for part in [
            "**Goal.**",
            "## Run it",
            "## What to look at",
            "## Questions",
        ] {
            assert!(text.contains(part), "{page} lacks {part}");
        }
        assert!(
            text.contains("## Expected observation") && text.contains("Measured on this program"),
            "{page} lacks its measured expected observation"
        );
    }
}

#[test]
fn lesson_1_each_picker_logs_its_own_choices_and_both_swarms_finish() {
    let run = run_page("01-rarest-vs-random.md", &[], LIMIT);
    run.assert_ok("01");
    for (picker, other) in [("rarest", "random"), ("random", "rarest")] {
        let dir = format!("lesson-runs/01-{picker}");
        let rows = events(&run, &dir);
        let done = completions(&rows, "leechers");
        assert_eq!(done.len(), 6, "{picker}: {rows:?}");
        eprintln!("01 {picker}: leechers completed at {done:?} s");
        for i in 1..=6 {
            let log = run.read(&format!("{dir}/logs/leechers-{i}.log"));
            assert!(
                log.contains(&format!("round: {picker} missing piece ")),
                "{log}"
            );
            assert!(
                !log.contains(&format!("round: {other} missing piece ")),
                "{log}"
            );
        }
    }
}

#[test]
fn lesson_2_a_late_leecher_finishes_from_the_leechers_after_the_seed_left() {
    let run = run_page("02-seed-leaves-early.md", &[], LIMIT);
    run.assert_ok("02");
    let dir = "lesson-runs/02-early";
    let rows = events(&run, dir);
    assert_eq!(completions(&rows, "leechers").len(), 3, "{rows:?}");
    let left = event_time(&rows, "seed", "left").expect("the seed left");
    let joined = event_time(&rows, "late", "joined").expect("late joined");
    let done = event_time(&rows, "late", "completed").expect("late completed");
    assert!(left < joined && joined < done, "{left} {joined} {done}");
    let seed_log = run.read(&format!("{dir}/logs/seed.log"));
    let port = seed_log
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the seed's port");
    let late = run.read(&format!("{dir}/logs/late.log"));
    assert!(late.contains("fetching from 127.0.0.1:"), "{late}");
    assert!(!late.contains(&format!("127.0.0.1:{port}")), "{late}");

    // Too early: nobody completes, and some piece never reached any leecher.
    assert!(
        run.output.contains("as expected (expect: incomplete)"),
        "{}",
        run.tail()
    );
    let rows = events(&run, "lesson-runs/02-too-early");
    assert!(completions(&rows, "leechers").is_empty(), "{rows:?}");
    let held: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[2] == "leechers" && r[3] == "piece")
        .map(|r| r[4].as_str())
        .collect();
    assert!(held.len() < 16, "the leechers hold all 16 pieces: {held:?}");
    eprintln!(
        "02 too early: the leechers together hold {} of 16",
        held.len()
    );
}

#[test]
fn lesson_3_each_churner_crashes_rejoins_and_completes() {
    let run = run_page("03-churn.md", &[], LIMIT);
    run.assert_ok("03");
    let dir = "lesson-runs/03-churn";
    let rows = events(&run, dir);
    assert_eq!(completions(&rows, "steady").len(), 2, "{rows:?}");
    for churner in ["churners-1", "churners-2"] {
        let seen: Vec<&str> = rows
            .iter()
            .filter(|r| r[1] == churner && r[3] != "piece")
            .map(|r| r[3].as_str())
            .collect();
        assert_eq!(
            seen,
            ["joined", "crashed", "rejoined", "completed"],
            "{churner}"
        );
        assert!(
            run.path(&format!("{dir}/traces/{churner}-2.jsonl"))
                .exists()
        );
    }
}

/// The chunk ids an output-IP.log received (lines not `0.0.0.0:0`).
fn found(log: &str) -> BTreeSet<u16> {
    log.lines()
        .filter(|l| !l.starts_with("0.0.0.0:0 "))
        .filter_map(|l| l.rsplit(" - ").next()?.trim().parse().ok())
        .collect()
}

#[test]
fn lesson_4_ttl_1_2_3_find_exactly_these_chunks() {
    let base = free_udp_base(4).to_string();
    let run = run_page("04-flood-ttl-reach.md", &[("BASE", base)], LIMIT);
    run.assert_ok("04");
    let expected: [&[u16]; 3] = [
        &[6, 7, 8, 9, 10],
        &[1, 2, 3, 6, 7, 8, 9, 10],
        &[1, 2, 3, 5, 6, 7, 8, 9, 10],
    ];
    for (ttl, want) in (1..=3).zip(expected) {
        let log = run.read(&format!("lesson-runs/04-ttl/output-ttl{ttl}.log"));
        let want: BTreeSet<u16> = want.iter().copied().collect();
        assert_eq!(found(&log), want, "TTL {ttl}:\n{log}");
        assert_eq!(
            log.lines().count(),
            10,
            "TTL {ttl}: one line per chunk:\n{log}"
        );
    }
}

#[test]
fn lesson_5_under_30_percent_loss_every_chunk_arrives_after_resends() {
    let base = free_udp_base(5).to_string();
    let run = run_page("05-flood-loss.md", &[("BASE", base)], LIMIT);
    run.assert_ok("05");
    let dir = "lesson-runs/05-loss";
    let log = run.read(&format!("{dir}/output-127.0.0.7.log"));
    assert_eq!(found(&log), BTreeSet::from([1, 3, 5, 9]), "{log}");
    assert_eq!(log.lines().count(), 4, "{log}");
    for id in [1, 3, 5, 9] {
        let copy = fs::read(run.path(&format!("{dir}/chunks-127.0.0.7/BigBuckBunny_{id}.m4s")));
        let source = fs::read(run.path(&format!("{dir}/BigBuckBunny_{id}.m4s")));
        assert_eq!(copy.expect("copy"), source.expect("source"), "chunk {id}");
    }
    let client = run.read(&format!("{dir}/client.log"));
    let resends = client.matches("resend ").count();
    let drops: usize = ["client", "peer1", "peer2", "peer3", "peer4", "peer5"]
        .iter()
        .map(|name| {
            run.read(&format!("{dir}/{name}.log"))
                .matches("drop ")
                .count()
        })
        .sum();
    eprintln!("05: {resends} resends, {drops} drops");
    assert!(resends > 0 && drops > 0, "{resends} resends, {drops} drops");
}

#[test]
fn lesson_6_the_swarm_beats_the_server_alone_at_6_peers() {
    let run = run_page("06-p2p-vs-client-server.md", &[], LIMIT);
    run.assert_ok("06");
    let csv = run.read("lesson-runs/06-p2p/p2p/p2p.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (n, p2p, cs) = (
        column("n"),
        column("median_s"),
        column("client_server_median_s"),
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let ns: Vec<&str> = rows.iter().map(|r| r[n]).collect();
    assert_eq!(ns, ["2", "6"], "{csv}");
    let seconds = |r: &Vec<&str>, i: usize| -> f64 { r[i].parse().expect("a measured time") };
    let six = &rows[1];
    eprintln!("06 N=6: P2P {} s, client-server {} s", six[p2p], six[cs]);
    assert!(seconds(six, p2p) < seconds(six, cs), "{csv}");
    assert!(run.path("lesson-runs/06-p2p/p2p/p2p.svg").exists());
}

#[test]
fn lesson_7_tshark_decodes_handshakes_bitfields_and_pieces() {
    let tshark = Command::new("tshark").arg("-v").output();
    if !tshark.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: tshark is not installed (lesson 7 needs it)");
        return;
    }
    let run = run_page("07-wireshark.md", &[], LIMIT);
    let errors = fs::read_to_string(run.path("lesson-runs/07-wireshark/tshark.err"));
    let errors = errors.unwrap_or_default();
    if run.code != Some(0) && errors.contains("ermission") {
        eprintln!("SKIPPED: tshark may not capture on lo here: {errors}");
        return;
    }
    run.assert_ok("07");
    let count = |filter: &str| -> usize {
        let file = run.path("lesson-runs/07-wireshark/swarm.pcapng");
        let out = Command::new("tshark")
            .arg("-r")
            .arg(file)
            .args(["-Y", filter])
            .output()
            .expect("tshark -r");
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    for filter in [
        "bittorrent.protocol.name",
        "bittorrent.msg.type == 5",
        "bittorrent.msg.type == 7",
    ] {
        let frames = count(filter);
        eprintln!("07: {filter}: {frames} frames");
        assert!(frames > 0, "{filter}: no frame\n{}", run.tail());
    }
    let trouble = "_ws.malformed || _ws.expert.severity >= error || bittorrent.continuous_data";
    assert_eq!(count(trouble), 0, "{trouble}");
}

#[test]
fn lesson_8_free_riders_complete_and_upload_nothing() {
    let run = run_page("08-choking-free-riders.md", &[], LIMIT);
    run.assert_ok("08");
    let dir = "lesson-runs/08-free-riders";
    let rows = events(&run, dir);
    assert_eq!(completions(&rows, "riders").len(), 2, "{rows:?}");
    assert_eq!(completions(&rows, "sharers").len(), 3, "{rows:?}");
    for rider in ["riders-1", "riders-2"] {
        let trace = run.read(&format!("{dir}/traces/{rider}.jsonl"));
        assert_eq!(sent(&trace, "piece"), 0, "{rider} uploaded");
        assert_eq!(sent(&trace, "unchoke"), 0, "{rider} unchoked");
    }
    let shared: usize = (1..=3)
        .map(|i| {
            sent(
                &run.read(&format!("{dir}/traces/sharers-{i}.jsonl")),
                "piece",
            )
        })
        .sum();
    assert!(shared > 0, "the sharers uploaded nothing");
    assert!(
        run.output.contains("preferred neighbours now"),
        "{}",
        run.tail()
    );
}
