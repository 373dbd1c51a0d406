//! The headless-Chromium helper (`tests/browser/chromium.rs`) on a page served from loopback:
//! the DOM it returns is the one after the page's scripts ran, and a page on a port browsers
//! refuse (`ERR_UNSAFE_PORT`, the fate of the tracker's status page on its default port 6000)
//! comes back as that error, not as an empty success. Prints SKIPPED without Chromium.

#[path = "browser/chromium.rs"]
mod chromium;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;

/// Serves `page` to every request on `listener`, from a thread that lives as long as the test.
fn serve(listener: TcpListener, page: &'static str) -> SocketAddr {
    let addr = listener.local_addr().expect("addr");
    thread::Builder::new()
        .name("test-http".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
            }
        })
        .expect("spawn the test server");
    addr
}

const PAGE: &str = "<!DOCTYPE html><html><body><p id=\"out\">static</p>\
    <script>document.getElementById('out').textContent = 'script ' + (6 * 7);</script>\
    </body></html>";

#[test]
fn a_loopback_page_is_returned_after_its_script_ran() {
    let addr = serve(TcpListener::bind("127.0.0.1:0").expect("bind"), PAGE);
    let Some(dom) = chromium::load_page(
        "a_loopback_page_is_returned_after_its_script_ran",
        &format!("http://{addr}/"),
    ) else {
        return;
    };
    let dom = dom.unwrap_or_else(|e| panic!("the page did not load: {e}"));
    assert!(dom.contains("<p id=\"out\">script 42</p>"), "{dom}");
}

#[test]
fn a_page_on_a_port_browsers_refuse_is_an_error() {
    // Ports on Chromium's and Firefox's blocked list, like 6000 (X11); not 6000 itself, which
    // a tracker started at its defaults may hold.
    let Some(listener) = [6665, 6666, 6667, 6668, 6669, 6697, 10080]
        .iter()
        .find_map(|port| TcpListener::bind(("127.0.0.1", *port)).ok())
    else {
        chromium::skipped(
            "a_page_on_a_port_browsers_refuse_is_an_error",
            "every unsafe port tried is in use",
        );
        return;
    };
    let addr = serve(listener, PAGE);
    let Some(result) = chromium::load_page(
        "a_page_on_a_port_browsers_refuse_is_an_error",
        &format!("http://{addr}/"),
    ) else {
        return;
    };
    let err = result.expect_err("Chromium loaded a page on an unsafe port");
    assert!(err.contains("ERR_UNSAFE_PORT"), "{err}");
}
