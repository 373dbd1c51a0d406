//! The peer's listening socket: `accept()` blocks until another peer connects; each
//! connection gets its own named thread (`peer-PORT-upload-N`), at most `max_connections`
//! at once, running the same connection loop as outgoing ones (`connection.rs`).

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::{Sender, unbounded};
use log::{debug, warn};

use super::Shared;
use super::connection::{self, Event};
use crate::net::{self, Timeouts};
use crate::threads::{self, ThreadCap};

/// Starts the accept thread.
pub fn start(
    listener: TcpListener,
    shared: Arc<Shared>,
    events: Sender<Event>,
    max_connections: usize,
) -> io::Result<()> {
    let cap = ThreadCap::new(max_connections);
    let name = format!("{}-accept", shared.name);
    threads::spawn_named(&name, move || {
        loop {
            let (stream, remote) = match net::accept(&listener) {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!("accept failed: {e}");
                    continue;
                }
            };
            debug!(
                "{remote}: accepted ({} of {} connection threads busy)",
                cap.live(),
                cap.max()
            );
            if let Err(e) = net::configure(
                &stream,
                Timeouts {
                    read: std::time::Duration::from_secs(10),
                    ..Timeouts::EXCHANGE
                },
            ) {
                warn!("{remote}: cannot configure the socket: {e}");
                continue;
            }
            let id = shared.next_conn_id.fetch_add(1, Ordering::Relaxed);
            let thread = format!("{}-upload-{id}", shared.name);
            let shared = Arc::clone(&shared);
            let events = events.clone();
            let spawned = cap.spawn(thread, move || {
                connection::run(stream, remote, false, id, shared, events, unbounded());
            });
            if let Err(e) = spawned {
                warn!("{remote}: cannot start a connection thread: {e}");
            }
        }
    })?;
    Ok(())
}
