//! The status page opens in a browser (issue 17, item 1): browsers refuse the tracker's port
//! 6000 (`ERR_UNSAFE_PORT`), so the tracker serves the page on a port of its own,
//! `--page-port` (8080), printed at start as `status page: http://HOST:PORT/`. Loaded in
//! headless Chromium with no flags that relax its rules, at the defaults when ports 6000 and
//! 8080 are free (SKIPPED loudly otherwise), and on free ports always. On a projector-sized
//! window (1920 x 1080) its piece cells and text are big enough to read from the back of a
//! room (item 5).

#[path = "browser/chromium.rs"]
mod chromium;
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use std::time::Duration;

use common::{FAST, Proc, sample};

/// A tracker on loopback with both ports chosen by the system.
const FREE_PORTS: [&str; 7] = [
    "tracker",
    "--port",
    "0",
    "--page-port",
    "0",
    "--bind",
    "127.0.0.1",
];

/// The URL of the `status page: ` line.
fn page_url(tracker: &Proc) -> String {
    let line = tracker.wait_for("status page: ");
    let rest = &line[line.find("status page: ").expect("needle") + "status page: ".len()..];
    rest.split_whitespace().next().expect("url").to_string()
}

fn assert_page_opens(test: &str, url: &str) {
    let Some(dom) = chromium::load_reloading_page(test, url) else {
        return;
    };
    let dom = dom.unwrap_or_else(|e| panic!("Chromium did not open {url}: {e}"));
    assert!(dom.contains("<h1>bittorrent-sim tracker"), "{dom}");
    assert!(dom.contains("No swarm yet"), "{dom}");
}

#[test]
fn the_status_page_opens_in_chromium_at_the_default_ports() {
    let test = "the_status_page_opens_in_chromium_at_the_default_ports";
    let free = |port: u16| TcpListener::bind(("0.0.0.0", port)).is_ok();
    if !free(6000) || !free(8080) {
        chromium::skipped(
            test,
            "port 6000 or 8080 is in use, the defaults cannot be tried",
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // No option at all, and no BTSIM_PAGE_PORT: what a teacher types.
    let tracker = Proc::start(
        "tracker",
        dir.path(),
        &["tracker"],
        &[("BTSIM_PAGE_PORT", "")],
    );
    tracker.wait_for("tracker listening on 0.0.0.0:6000");
    let url = page_url(&tracker);
    assert_eq!(url, "http://127.0.0.1:8080/");
    assert_page_opens(test, &url);
    // The page is still on 6000 for curl and the older docs; browsers refuse that one.
    let mut stream = TcpStream::connect("127.0.0.1:6000").expect("connect 6000");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("read");
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    if let Some(refused) = chromium::load_reloading_page(test, "http://127.0.0.1:6000/") {
        let err = refused.expect_err("Chromium opened port 6000: the page port is not needed?");
        assert!(err.contains("ERR_UNSAFE_PORT"), "{err}");
    }
}

#[test]
fn a_free_page_port_is_printed_and_opens_in_chromium() {
    let test = "a_free_page_port_is_printed_and_opens_in_chromium";
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = Proc::start("tracker", dir.path(), &FREE_PORTS, &[]);
    let url = page_url(&tracker);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    assert!(
        !url.ends_with(":0/"),
        "the printed port is the real one: {url}"
    );
    assert_page_opens(test, &url);
    // The page port's connections have threads of their own name.
    let lines = tracker.lines();
    assert!(
        lines.iter().any(|l| l.contains("sent the status page")),
        "{lines:?}"
    );
}

#[test]
fn without_a_page_port_the_tracker_says_where_curl_finds_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "tracker",
        "--port",
        "0",
        "--no-page-port",
        "--bind",
        "127.0.0.1",
    ];
    let tracker = Proc::start("tracker", dir.path(), &args, &[]);
    let line = tracker.wait_for("status page: ");
    assert!(line.contains("(for curl: browsers refuse port"), "{line}");
}

#[test]
fn a_taken_page_port_is_a_warning_not_a_failure() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "tracker",
        "--port",
        "0",
        "--page-port",
        &port,
        "--bind",
        "127.0.0.1",
    ];
    let tracker = Proc::start("tracker", dir.path(), &args, &[]);
    tracker.wait_for("status page: cannot listen on");
    let line = tracker.wait_for("status page: http://");
    assert!(line.contains("for curl"), "{line}");
}

#[test]
fn on_a_projector_the_piece_cells_and_text_are_big() {
    let test = "on_a_projector_the_piece_cells_and_text_are_big";
    if chromium::chromium().is_none() {
        chromium::skipped(test, "no chromium on PATH (scripts/setup.sh installs it)");
        return;
    }
    // The demo's shape: 32 pieces, one seed.
    let s = sample(32 * common::PIECE, 5, common::PIECE, "seed", "s.torrent");
    let tracker = Proc::start("tracker", s.dir.path(), &FREE_PORTS, &[]);
    let line = tracker.wait_for("tracker listening on ");
    let addr = format!(
        "127.0.0.1:{}",
        common::port_after(&line, "tracker listening on ")
    );
    let url = page_url(&tracker);
    let (_seed, _) = s.seed("seed", addr.parse().expect("addr"), &FAST);
    tracker.wait_for("received REPORT");
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the page port");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("read");
    let html = &page[page.find("<!DOCTYPE").expect("html body")..];
    assert!(html.contains("class=\"c h\""), "the seed's map: {html}");
    // The same page with a measuring script, and without its reload (a file has no server).
    let measure = "<script>const c=document.querySelector('.c.h').getBoundingClientRect();\
        const l=getComputedStyle(document.querySelector('.legend')).fontSize;\
        document.body.insertAdjacentHTML('beforeend','<pre id=\"m\">'+c.width+' '+c.height+' '+parseFloat(l)+'</pre>');</script></body>";
    let html = html
        .replace("<meta http-equiv=\"refresh\" content=\"1\">", "")
        .replace("</body>", measure);
    let file = s.dir.path().join("page.html");
    std::fs::write(&file, html).expect("write the page");
    let dom = chromium::dump_dom_sized(
        &format!("file://{}", file.display()),
        Duration::from_secs(2),
        1920,
        1080,
    )
    .unwrap_or_else(|e| panic!("Chromium: {e}"));
    let start = dom.rfind("<pre id=\"m\">").expect("the measure") + "<pre id=\"m\">".len();
    let numbers: Vec<f64> = dom[start..dom[start..].find("</pre>").expect("end") + start]
        .split(' ')
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("a number: {n:?} in {dom}"))
        })
        .collect();
    let (width, height, legend) = (numbers[0], numbers[1], numbers[2]);
    assert!(width >= 20.0, "piece cells {width} px wide at 1920x1080");
    assert!(height >= 20.0, "piece cells {height} px high at 1920x1080");
    assert!(legend >= 18.0, "legend text {legend} px at 1920x1080");
}
