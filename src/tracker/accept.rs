//! The tracker's accept loops (step 2 of `tracker.rs`): `accept`, admit, and a thread per
//! connection. One loop runs on `--port` (`tracker-accept`), one on `--page-port`
//! (`tracker-page-accept`); both share the peer table, the admission budgets and the thread
//! cap. What a connection then does is `tracker.rs`'s `serve_connection`.
//!
//! Blocking calls: `accept` (in `net::accept_next`), then `ThreadCap::spawn`, which blocks
//! while every connection thread slot is taken.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, warn};

use super::serve_connection;
use super::table::PeerTable;
use crate::admission::Gate;
use crate::net;
use crate::threads::ThreadCap;

/// What an accept loop needs; both loops (`--port`, `--page-port`) share the table, the
/// budgets and the thread cap.
#[derive(Clone)]
pub(super) struct Server {
    pub table: Arc<PeerTable>,
    pub gate: Gate,
    pub cap: ThreadCap,
    pub max_connections: usize,
    pub announce_interval: Duration,
}

impl Server {
    /// Step 2: `accept`, admit, and give each connection its own thread, `{prefix}-N`.
    pub fn accept_loop(&self, listener: &TcpListener, prefix: &str) {
        let max_connections = self.max_connections;
        for id in 1u64.. {
            let (stream, remote) = net::accept_next(listener);
            let (pending, established) = self.gate.counts();
            debug!(
                "{remote}: accepted ({pending} pending, {established} of {max_connections} established)"
            );
            let ticket = match self.gate.admit(&stream, remote) {
                Ok(ticket) => ticket,
                Err(e) => {
                    warn!("{remote}: cannot admit the connection: {e}");
                    continue;
                }
            };
            let table = Arc::clone(&self.table);
            let interval = self.announce_interval;
            let spawned = self.cap.spawn(format!("{prefix}-{id}"), move || {
                let served = serve_connection(&stream, remote, &table, interval, ticket);
                if let Err(e) = served {
                    warn!("{remote}: connection ended: {e}");
                }
            });
            if let Err(e) = spawned {
                warn!("{remote}: cannot start a connection thread: {e}");
            }
        }
    }
}
