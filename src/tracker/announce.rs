//! Serving HTTP on the tracker's port: BEP 3 announces and BEP 48 scrapes from real BitTorrent
//! clients, and the live status page (`/`) for people.
//!
//! The blocking calls, for one connection: `read` a request head (capped), update or read the
//! peer table (its lock let go before replying), `write_all` the response, and repeat while
//! the client keeps the connection alive. A head that is not HTTP, or an oversized one, gets a
//! `400` and the connection is closed (`net::close_after_refusal`). An announce or scrape with
//! a bad query (missing `port`, an `info_hash` not 20 bytes...) gets status 200 with a bencoded
//! `failure reason`, as clients expect; the table is untouched either way.

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use log::{info, warn};

use super::http::{self, HttpError};
use super::page;
use super::table::PeerTable;
use crate::admission::Ticket;
use crate::infohash::to_hex;
use crate::net;
use crate::net::traced::{Traced, slow_motion};
use crate::status::SwarmView;
use crate::trace::{self, Dir};

/// Serves HTTP requests on one connection until it closes.
pub fn serve(
    reader: &mut BufReader<Traced<'_>>,
    stream: &TcpStream,
    remote: SocketAddr,
    table: &PeerTable,
    interval: Duration,
    ticket: &mut Ticket,
) -> io::Result<()> {
    let mut idle = false;
    loop {
        super::idle_timeout(stream, ticket, &mut idle)?;
        let request = match http::read_request(reader) {
            Ok(request) => {
                if !super::established(remote, ticket) {
                    return Ok(());
                }
                request
            }
            Err(HttpError::Closed) => return Ok(()),
            Err(HttpError::Io(e)) => return Err(e),
            Err(e) => {
                warn!("{remote}: bad http request: {e}");
                let body = format!("bad request: {e}\n");
                let response = http::response(400, "text/plain", body.as_bytes(), false);
                Traced::new(stream, remote).write_all(&response)?;
                net::close_after_refusal(stream);
                return Ok(());
            }
        };
        // Only a trace or the status page needs our own address: no `getsockname` otherwise.
        let local = (trace::enabled() || request.path() == "/" || request.path() == "/status")
            .then(|| stream.local_addr().ok())
            .flatten();
        let (status, content_type, body) = respond(&request, local, remote, table, interval);
        // A 400 closes the connection, so its head must say `Connection: close`.
        let keep_alive = request.keep_alive && status != 400;
        slow_motion(remote, "http response");
        let response = http::response(status, content_type, &body, keep_alive);
        Traced::new(stream, remote).write_all(&response)?;
        if status == 400 {
            net::close_after_refusal(stream);
        }
        if !keep_alive {
            return Ok(());
        }
    }
}

/// The status, content type and body for one request.
fn respond(
    request: &http::Request,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    table: &PeerTable,
    interval: Duration,
) -> (u16, &'static str, Vec<u8>) {
    if request.method != "GET" {
        return (405, "text/plain", b"only GET is served\n".to_vec());
    }
    match request.path() {
        "/announce" => {}
        "/scrape" => return scrape(request, local, remote, table),
        "/" | "/status" => {
            let swarms: Vec<SwarmView> =
                table.status().iter().map(SwarmView::from_status).collect();
            let name = local.map_or_else(|| "tracker".to_string(), |a| a.to_string());
            info!("{remote}: sent the status page");
            return (
                200,
                "text/html; charset=utf-8",
                page::render(&swarms, &name).into_bytes(),
            );
        }
        _ => {
            let body = b"not found: the announce URL is /announce, the scrape URL /scrape, the status page /\n";
            return (404, "text/plain", body.to_vec());
        }
    }
    let announce = match http::parse_announce(request.query()) {
        Ok(announce) => announce,
        Err(e) => {
            warn!("{remote}: bad announce: {e}");
            let reason = format!("bad announce: {e}");
            return (200, "text/plain", http::failure_reply(&reason));
        }
    };
    let addr = SocketAddr::new(remote.ip(), announce.port);
    let outcome = match table.announce(&announce, addr) {
        Ok(outcome) => outcome,
        Err(e) => {
            warn!("{remote}: refused announce: {e}");
            return (200, "text/plain", http::failure_reply(&e.message));
        }
    };
    info!(
        "{remote}: received announce {} for {} from port {} (peer id {}, left {}), sent {} peers",
        announce.event.as_str(),
        announce.info_hash.short(),
        announce.port,
        to_hex(&announce.peer_id[..8]),
        announce.left.map_or("?".to_string(), |l| l.to_string()),
        outcome.peers.len()
    );
    if trace::enabled() {
        let left = announce
            .left
            .map_or_else(|| "?".to_string(), |l| l.to_string());
        let fields = [
            ("info_hash", announce.info_hash.short().into()),
            ("event", announce.event.as_str().into()),
            ("port", announce.port.into()),
            ("left", left.into()),
        ];
        trace::record(Dir::Recv, "http", local, remote, "announce", &fields);
        trace::record(
            Dir::Send,
            "http",
            local,
            remote,
            "announce-reply",
            &[("peers", outcome.peers.len().into())],
        );
    }
    let seconds = interval.as_secs().max(1) as u32;
    let body = http::announce_reply(
        seconds,
        outcome.complete,
        outcome.incomplete,
        &outcome.peers,
        announce.compact,
    );
    (200, "text/plain", body)
}

/// A BEP 48 scrape: the counts of each swarm asked for that the tracker knows.
fn scrape(
    request: &http::Request,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    table: &PeerTable,
) -> (u16, &'static str, Vec<u8>) {
    let hashes = match http::parse_scrape(request.query()) {
        Ok(hashes) => hashes,
        Err(e) => {
            warn!("{remote}: bad scrape: {e}");
            let reason = format!("bad scrape: {e}");
            return (200, "text/plain", http::failure_reply(&reason));
        }
    };
    let files = table.scrape(&hashes);
    info!(
        "{remote}: received scrape for {} swarm(s), sent {} known",
        hashes.len(),
        files.len()
    );
    if trace::enabled() {
        let asked = [("info_hashes", hashes.len().into())];
        trace::record(Dir::Recv, "http", local, remote, "scrape", &asked);
        let known = [("files", files.len().into())];
        trace::record(Dir::Send, "http", local, remote, "scrape-reply", &known);
    }
    (200, "text/plain", http::scrape_reply(&files))
}
