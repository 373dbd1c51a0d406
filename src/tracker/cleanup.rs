//! Step 4 of `tracker.rs`: the clean-up. The scheduler thread fires `CleanUp` every
//! `cleanup_interval`; the `tracker-cleanup` thread then drops the peers that did not ping
//! since the previous one. No sockets here.
//!
//! Blocking calls: none but the wait for the next tick on the scheduler's channel.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info};

use super::table::PeerTable;
use crate::{scheduler, threads};

#[derive(Debug, Clone, Copy)]
struct CleanUp;

/// Step 4: the scheduler thread fires `CleanUp`; the clean-up thread applies it.
pub(super) fn start(table: Arc<PeerTable>, every: Duration) -> io::Result<()> {
    let ticks = scheduler::start("scheduler", vec![(every, CleanUp)])?;
    threads::spawn_named("tracker-cleanup", move || {
        for CleanUp in ticks {
            let removed = table.remove_stale();
            for gone in &removed {
                info!(
                    "clean-up: dropped {} from swarm {} (silent since the last clean-up)",
                    gone.addr,
                    gone.info_hash.short()
                );
            }
            debug!("clean-up done, {} peers dropped", removed.len());
        }
    })?;
    Ok(())
}
