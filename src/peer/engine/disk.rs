//! A full disk: the first piece that cannot be written for lack of space (ENOSPC, or a quota)
//! pauses downloading for [`DISK_FULL_RETRY`] with one error line; every fetch in flight is
//! cancelled, so remotes stop sending blocks we cannot keep. Uploads go on: what we hold is
//! still served. When the pause ends, one piece at a time is tried until one is written; then
//! downloads resume at full width. A disk still full pauses again, with one line per try.
//!
//! Why not exit: the pieces already held are worth serving to the class, the space may come
//! back (a teacher deletes a file), and a peer that exits leaves its partial download to a
//! restart that must check it again. Bookkeeping only; no I/O.

use std::io;
use std::time::Instant;

use log::{debug, error, info, warn};

use super::Engine;
use crate::defaults::DISK_FULL_RETRY;
use crate::peer::connection::Command;

/// Whether downloads are paused for a full disk.
#[derive(Debug, Default)]
pub(super) struct DiskPause {
    /// No fetch starts before this instant.
    until: Option<Instant>,
    /// The pause ended: one piece at a time until one is written.
    probing: bool,
}

/// ENOSPC (28) or EDQUOT (122): no room to write.
fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull
        || e.kind() == io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}

impl Engine {
    /// Whether downloads are paused now (a full disk, not yet retried).
    pub(super) fn disk_paused(&mut self) -> bool {
        match self.disk.until {
            Some(until) if until > Instant::now() => true,
            Some(_) => {
                self.disk.until = None;
                self.disk.probing = true;
                info!("disk full: trying one piece again");
                false
            }
            None => false,
        }
    }

    /// While probing after a pause, one piece in flight at most.
    pub(super) fn disk_limit(&self, limit: usize) -> usize {
        if self.disk.probing {
            limit.min(1)
        } else {
            limit
        }
    }

    /// A piece was written: a probe that worked resumes downloads.
    pub(super) fn disk_written(&mut self) {
        if self.disk.probing {
            self.disk.probing = false;
            info!("disk has room again: downloads resumed");
        }
    }

    /// A verified piece could not be written (`e`). On a full disk, pauses downloads and
    /// cancels every fetch; other errors are warned about as any failed piece.
    pub(super) fn storage_failed(&mut self, from: std::net::SocketAddr, index: u32, e: &io::Error) {
        if !is_disk_full(e) {
            warn!("{from}: piece {index} not fetched: cannot write the piece: {e}");
            return;
        }
        if self.disk.until.is_some() {
            debug!("{from}: piece {index} not written either: disk full");
            return;
        }
        let path = self.shared.storage.path().display().to_string();
        if self.disk.probing {
            info!(
                "disk still full writing {path}; next try in {}s",
                DISK_FULL_RETRY.as_secs()
            );
        } else {
            error!(
                "disk full writing {path}: downloads paused; serving what we have (next try in {}s)",
                DISK_FULL_RETRY.as_secs()
            );
        }
        self.disk.probing = false;
        self.disk.until = Some(Instant::now() + DISK_FULL_RETRY);
        for conn in self.conns.values_mut() {
            for index in conn.fetching.drain() {
                let _ = conn.commands.send(Command::Cancel(index));
            }
        }
        self.in_flight.clear();
    }
}
