//! The peer's listening socket, on its own thread (`peer-PORT-accept`). The blocking calls,
//! in order ([`start`]):
//!
//! 1. `accept()` blocks until another peer connects.
//! 2. Set the socket's timeouts (`net::configure`; the read timeout is the handshake's).
//! 3. Admit it (below): the oldest pending connection may be shut down to make room.
//! 4. Spawn its own named thread (`peer-PORT-in-N`), running the same connection steps as an
//!    outgoing one from the handshake on (`connection.rs`), and loop to 1. The first 20 bytes
//!    tell a plain BEP 3 handshake from an encrypted one (MSE), both on this one port, as
//!    `--encryption` allows (`connection/secure.rs`).
//!
//! Admission (`admission.rs`): an accepted connection is *pending* until its handshake is
//! read, with a budget of [`MAX_PENDING`] such connections; one more evicts (shuts down) the
//! oldest pending, so thousands of silent connections cannot keep an honest peer, whose
//! handshake takes milliseconds, waiting. A completed handshake takes one of the
//! `max_connections` established slots, or the connection is refused when all are taken. A
//! pending connection also ends when its handshake is not complete within
//! `--handshake-timeout` ([`HANDSHAKE_TIMEOUT`] by default), which ends slowloris senders.
//! Connection threads are therefore at most `max_connections + MAX_PENDING`.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossbeam_channel::{Sender, unbounded};
use log::{debug, warn};

use super::PeerState;
use super::connection::{self, Event, Side};
use crate::admission::{Gate, MAX_PENDING};
use crate::net::{self, Timeouts};
use crate::threads::{self, ThreadCap};

/// Starts the accept thread.
pub fn start(
    listener: TcpListener,
    shared: Arc<PeerState>,
    events: Sender<Event>,
    max_connections: usize,
    handshake_timeout: Duration,
) -> io::Result<()> {
    let gate = Gate::new(max_connections, MAX_PENDING);
    let cap = ThreadCap::new(gate.threads());
    let name = format!("{}-accept", shared.name);
    threads::spawn_named(&name, move || {
        loop {
            let (stream, remote) = match net::accept(&listener) {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!("accept failed: {e}");
                    std::thread::sleep(net::ACCEPT_BACKOFF);
                    continue;
                }
            };
            let (pending, established) = gate.counts();
            debug!(
                "{remote}: accepted ({pending} pending, {established} of {max_connections} established)"
            );
            if let Err(e) = net::configure(
                &stream,
                Timeouts {
                    read: handshake_timeout,
                    ..Timeouts::EXCHANGE
                },
            ) {
                warn!("{remote}: cannot configure the socket: {e}");
                continue;
            }
            let ticket = match gate.admit(&stream, remote) {
                Ok(ticket) => ticket,
                Err(e) => {
                    warn!("{remote}: cannot admit the connection: {e}");
                    continue;
                }
            };
            let id = shared.next_conn_id.fetch_add(1, Ordering::Relaxed);
            let thread = format!("{}-in-{id}", shared.name);
            let shared = Arc::clone(&shared);
            let events = events.clone();
            let spawned = cap.spawn(thread, move || {
                let side = Side::Incoming(ticket);
                connection::run(stream, remote, side, id, shared, events, unbounded());
            });
            if let Err(e) = spawned {
                warn!("{remote}: cannot start a connection thread: {e}");
            }
        }
    })?;
    Ok(())
}
