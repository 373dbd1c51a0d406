//! Test helper: loads a page in headless Chromium and returns the DOM after its scripts ran
//! (`chromium --headless --dump-dom`), for tests that check what a browser shows: Mermaid's
//! drawing of `bittorrent-sim diagram` output (`tests/browser/mermaid.html`), or the tracker's
//! status page.
//!
//! Flow of its blocking calls: 1. spawn chromium with a fresh profile directory; 2. poll
//! `try_wait` until it exits or the deadline passes (then kill it); 3. read its stdout (the DOM).
//!
//! It installs nothing and reaches no network but the URL it is given: Chromium comes from the
//! system (`scripts/setup.sh`, or `BTSIM_CHROMIUM=/path`), Mermaid from `tests/browser/node_modules`
//! (`npm ci` in `tests/browser`, which `scripts/setup.sh` runs). When either is missing the
//! caller gets `None` and a loud `SKIPPED` line on stderr, not a failure.
//!
//! Use from a test file: `#[path = "browser/chromium.rs"] mod chromium;`

#![allow(dead_code)]

use std::env;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one page load may take before Chromium is killed.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Says on stderr, past the test harness's capture so it shows in every log, that a browser
/// test did not run, and why.
pub fn skipped(test: &str, why: &str) {
    let banner = "=".repeat(78);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{banner}\nSKIPPED ({test}): {why}; nothing was tested in a browser.\n{banner}"
    );
}

/// The Chromium binary: `BTSIM_CHROMIUM`, else the first of the usual names on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = env::var_os("BTSIM_CHROMIUM") {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let path = env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// `tests/browser`, where the test pages and their `node_modules` live.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The Mermaid test page, if the npm package is installed next to it.
pub fn mermaid_page() -> Option<PathBuf> {
    let dir = dir();
    dir.join("node_modules/mermaid/dist/mermaid.min.js")
        .is_file()
        .then(|| dir.join("mermaid.html"))
}

/// Loads `url` in headless Chromium, lets its scripts run for up to `budget` of virtual time
/// (zero: returns once the page loaded, for a page that reloads itself, which would use up
/// any budget), and returns the serialized DOM. `Err` says what went wrong (Chromium missing, hung, failed).
pub fn dump_dom(url: &str, budget: Duration) -> Result<String, String> {
    dump_dom_with(url, budget, &[])
}

/// [`dump_dom`] in a window of `width` x `height` pixels (headless Chromium's default is
/// 800 x 600), for a page whose layout follows the window.
pub fn dump_dom_sized(
    url: &str,
    budget: Duration,
    width: u32,
    height: u32,
) -> Result<String, String> {
    dump_dom_with(url, budget, &[format!("--window-size={width},{height}")])
}

fn dump_dom_with(url: &str, budget: Duration, extra: &[String]) -> Result<String, String> {
    let binary = chromium().ok_or("no chromium on PATH (scripts/setup.sh installs it)")?;
    let profile = tempfile::tempdir().map_err(|e| format!("temp profile: {e}"))?;
    let mut child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args((!budget.is_zero()).then(|| format!("--virtual-time-budget={}", budget.as_millis())))
        .args(extra)
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    // Read stdout on a thread so a large DOM cannot fill the pipe while we wait.
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = thread::spawn(move || {
        let mut dom = String::new();
        stdout.read_to_string(&mut dom).map(|_| dom)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < DEADLINE => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "chromium still running after {DEADLINE:?} on {url}"
                ));
            }
            Err(e) => return Err(format!("waiting for chromium: {e}")),
        }
    };
    let dom = reader
        .join()
        .map_err(|_| "the stdout reader panicked".to_string())?
        .map_err(|e| format!("reading chromium's output: {e}"))?;
    if !status.success() || dom.is_empty() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        // A refused load (`net::ERR_UNSAFE_PORT`, `net::ERR_CONNECTION_REFUSED`) exits 0 with
        // an empty DOM and says why on stderr among D-Bus noise.
        if let Some(at) = err.find("Page load failed: ") {
            let reason = err[at..].lines().next().unwrap_or_default();
            return Err(format!("{reason} ({url})"));
        }
        return Err(format!("chromium exited with {status} on {url}: {err}"));
    }
    Ok(dom)
}

/// Loads an `http://` page as a user's Chromium would, with no flags that relax its rules: the
/// DOM after the page's scripts ran, `Err` with Chromium's reason when the load failed
/// (`Page load failed: net::ERR_UNSAFE_PORT`), `None` after a SKIPPED line without Chromium.
pub fn load_page(test: &str, url: &str) -> Option<Result<String, String>> {
    if chromium().is_none() {
        skipped(test, "no chromium on PATH (scripts/setup.sh installs it)");
        return None;
    }
    Some(dump_dom(url, Duration::from_secs(5)))
}

/// Like [`load_page`], for a page that reloads itself (`<meta http-equiv="refresh">`, the
/// tracker's status page): the DOM as soon as it loaded.
pub fn load_reloading_page(test: &str, url: &str) -> Option<Result<String, String>> {
    if chromium().is_none() {
        skipped(test, "no chromium on PATH (scripts/setup.sh installs it)");
        return None;
    }
    Some(dump_dom(url, Duration::ZERO))
}

/// Percent-encodes `text` for a URL fragment (everything but ASCII letters and digits).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What Mermaid drew for `mermaid_text`: each text element of the drawing, in document order,
/// or `Err` with Mermaid's complaint. `None` (after a SKIPPED line) when Chromium or the npm
/// package is missing.
pub fn render_mermaid(test: &str, mermaid_text: &str) -> Option<Result<Vec<String>, String>> {
    let Some(page) = mermaid_page() else {
        skipped(
            test,
            "tests/browser/node_modules/mermaid is missing (run scripts/setup.sh or `npm ci` in tests/browser)",
        );
        return None;
    };
    if chromium().is_none() {
        skipped(test, "no chromium on PATH (scripts/setup.sh installs it)");
        return None;
    }
    let url = format!("file://{}#{}", page.display(), percent_encode(mermaid_text));
    let dom = match dump_dom(&url, Duration::from_secs(20)) {
        Ok(dom) => dom,
        Err(e) => return Some(Err(e)),
    };
    Some(read_result(&dom))
}

/// The `<pre id="result">` that mermaid.html fills in, as lines.
fn read_result(dom: &str) -> Result<Vec<String>, String> {
    let start = dom
        .find("<pre id=\"result\">")
        .ok_or_else(|| format!("no result element in the page:\n{dom}"))?
        + "<pre id=\"result\">".len();
    let end = dom[start..]
        .find("</pre>")
        .ok_or("the result element is not closed")?;
    let text = unescape_html(&dom[start..start + end]);
    match text.strip_prefix("ok") {
        Some(rest) => Ok(rest.lines().skip(1).map(str::to_string).collect()),
        None => Err(text),
    }
}

fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
