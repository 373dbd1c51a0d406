//! The serving half of a connection: whether the remote is interested and unchoked, and its
//! queue of block requests, served in order and bounded.
//!
//! [`Uploads`] is pure bookkeeping; the `impl Conn` block below checks each request against
//! the torrent and our pieces, and sends the blocks with positioned reads from the file.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;

use log::debug;

use super::{Conn, ConnError};
use crate::net::traced::slow_motion;
use crate::trace::{self, Dir};
use crate::wire::{BLOCK_LEN, write_piece};

/// Blocks sent per turn of the connection loop before it reads again.
const BURST: usize = 16;

impl Conn<'_> {
    /// Checks a request and queues it. A request outside the torrent, for a piece we do not
    /// have, or over 16 KiB ends the connection; one made while choked is dropped (BEP 3).
    pub(super) fn queue_request(
        &mut self,
        index: u32,
        begin: u32,
        length: u32,
    ) -> Result<(), ConnError> {
        let metainfo = &self.shared.metainfo;
        let valid = index < metainfo.num_pieces()
            && self.shared.has(index)
            && length > 0
            && length <= BLOCK_LEN
            && u64::from(begin) + u64::from(length) <= u64::from(metainfo.piece_len(index));
        if !valid {
            return Err(ConnError::BadRequest {
                index,
                begin,
                length,
            });
        }
        if self.uploads.is_choking() {
            debug!("{}: request while choked, dropped", self.remote);
            return Ok(());
        }
        if !self.uploads.push((index, begin, length)) {
            return Err(ConnError::QueueFull);
        }
        Ok(())
    }

    /// Sends up to [`BURST`] queued blocks, oldest first. With `--upload-rate`, each block is
    /// charged to the process's bucket before it goes; when the bucket says wait, the block
    /// stays queued, paid for, and the loop goes on reading until its time comes.
    pub(super) fn send_blocks(&mut self) -> Result<(), ConnError> {
        let mut block = [0u8; BLOCK_LEN as usize];
        for _ in 0..BURST {
            let Some((_, _, length)) = self.uploads.front() else {
                return Ok(());
            };
            if let Some(limit) = &self.shared.upload_limit {
                let now = Instant::now();
                let at = match self.upload_paid_until {
                    Some(at) => at,
                    None => now + limit.take(u64::from(length)),
                };
                if at > now {
                    self.upload_paid_until = Some(at);
                    return Ok(());
                }
                self.upload_paid_until = None;
            }
            let Some((index, begin, length)) = self.uploads.pop() else {
                return Ok(());
            };
            slow_motion(self.remote, "piece");
            let data = &mut block[..length as usize];
            self.shared.storage.read_block(index, begin, data)?;
            log::info!(
                "{}: send piece {index} begin {begin} ({length} bytes)",
                self.remote
            );
            let fields = [
                ("index", index.into()),
                ("begin", begin.into()),
                ("length", length.into()),
            ];
            trace::record(
                Dir::Send,
                "bittorrent",
                self.local,
                self.remote,
                "piece",
                &fields,
            );
            write_piece(&mut self.writer, index, begin, data)?;
            self.last_sent = Instant::now();
            self.shared
                .uploaded
                .fetch_add(u64::from(length), Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Most block requests one remote may have queued (libtorrent keeps up to 500 in flight).
pub const MAX_QUEUED: usize = 2048;

/// The requests one remote has made of us.
pub struct Uploads {
    queue: VecDeque<(u32, u32, u32)>,
    interested: bool,
    choking: bool,
}

impl Default for Uploads {
    fn default() -> Self {
        // Every connection starts choked (BEP 3).
        Uploads {
            queue: VecDeque::new(),
            interested: false,
            choking: true,
        }
    }
}

impl Uploads {
    /// Records the remote's interest; returns true when it should be unchoked now. Every
    /// interested peer is served: the connection cap is the upload slot count.
    pub fn interested(&mut self, interested: bool) -> bool {
        self.interested = interested;
        if interested && self.choking {
            self.choking = false;
            return true;
        }
        false
    }

    pub fn is_choking(&self) -> bool {
        self.choking
    }

    /// Queues a checked request. Returns false when the queue is full.
    pub fn push(&mut self, request: (u32, u32, u32)) -> bool {
        if self.queue.len() >= MAX_QUEUED {
            return false;
        }
        self.queue.push_back(request);
        true
    }

    /// Removes a queued request (BEP 3 cancel); a request already served is simply gone.
    pub fn cancel(&mut self, index: u32, begin: u32, length: u32) {
        self.queue.retain(|r| *r != (index, begin, length));
    }

    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The oldest queued request, left in the queue.
    pub fn front(&self) -> Option<(u32, u32, u32)> {
        self.queue.front().copied()
    }

    /// The oldest queued request.
    pub fn pop(&mut self) -> Option<(u32, u32, u32)> {
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_served_in_order_and_cancel_removes_one() {
        let mut u = Uploads::default();
        assert!(u.interested(true));
        assert!(!u.interested(true), "unchoked once");
        for begin in [0, 16384, 32768] {
            assert!(u.push((1, begin, 16384)));
        }
        u.cancel(1, 16384, 16384);
        assert_eq!(u.pop(), Some((1, 0, 16384)));
        assert_eq!(u.pop(), Some((1, 32768, 16384)));
        assert_eq!(u.pop(), None);
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut u = Uploads::default();
        for i in 0..MAX_QUEUED {
            assert!(u.push((i as u32, 0, 1)));
        }
        assert!(!u.push((0, 0, 2)));
    }
}
