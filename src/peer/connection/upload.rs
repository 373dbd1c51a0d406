//! The serving half of a connection: whether the remote is interested and unchoked, and its
//! queue of block requests, served in order and bounded.
//!
//! [`Uploads`] is pure bookkeeping; the `impl Connection` block below checks each request against
//! the torrent and our pieces, and sends the blocks: positioned reads from the file into one
//! reused buffer, then each block behind its frame header in one `writev`, so a block is
//! copied only by the kernel (file to buffer, buffer to socket).
//!
//! Its blocking calls, in order: 1. `pread` the queued blocks from the file; 2. `writev` them,
//! each behind its frame header; with `--upload-rate`, a block waits in the queue (no sleep)
//! until the token bucket lets it go.

use std::collections::VecDeque;
use std::io::{IoSlice, Write};
use std::sync::atomic::Ordering;
use std::time::Instant;

use log::debug;

use super::{ConnError, Connection, log_piece};
use crate::net::traced::{slow_motion, write_all_vectored};
use crate::trace::Dir;
use crate::wire::{BLOCK_LEN, PIECE_HEADER_LEN, piece_header};

/// Blocks sent per turn of the connection loop before it reads again.
const BURST: usize = 16;
/// Blocks read from the file and sent in one vectored write (64 KiB, the connection's block
/// buffer, allocated when it first uploads).
const BATCH: usize = 4;

impl Connection<'_> {
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

    /// Sends up to [`BURST`] queued blocks, oldest first, [`BATCH`] per vectored write. With
    /// `--upload-rate`, each block is charged to the process's bucket before it goes; when the
    /// bucket says wait, the block stays queued, paid for, and the loop goes on reading until
    /// its time comes.
    pub(super) fn send_blocks(&mut self) -> Result<(), ConnError> {
        let mut sent = 0;
        while sent < BURST {
            let batch = self.send_batch(BATCH.min(BURST - sent))?;
            if batch == 0 {
                break;
            }
            sent += batch;
        }
        Ok(())
    }

    /// Reads up to `max` blocks from the file into the connection's block buffer (allocated at
    /// its first upload), then writes every block behind its frame header in one `writev`,
    /// after whatever the buffered writer holds (frames stay in order). Returns how many.
    fn send_batch(&mut self, max: usize) -> Result<usize, ConnError> {
        let mut blocks = self
            .upload_blocks
            .take()
            .unwrap_or_else(|| vec![0; BATCH * BLOCK_LEN as usize]);
        let result = self.read_and_write_batch(&mut blocks, max);
        self.upload_blocks = Some(blocks);
        result
    }

    fn read_and_write_batch(&mut self, blocks: &mut [u8], max: usize) -> Result<usize, ConnError> {
        let mut heads = [[0u8; PIECE_HEADER_LEN]; BATCH];
        let mut lens = [0usize; BATCH];
        let mut count = 0;
        while count < max {
            let Some((index, begin, length)) = self.next_paid_block() else {
                break;
            };
            slow_motion(self.remote, "piece");
            let at = count * BLOCK_LEN as usize;
            let block = &mut blocks[at..at + length as usize];
            self.shared.storage.read_block(index, begin, block)?;
            log_piece(
                Dir::Send,
                self.local,
                self.remote,
                index,
                begin,
                length as usize,
            );
            heads[count] = piece_header(index, begin, length);
            lens[count] = length as usize;
            count += 1;
        }
        if count == 0 {
            return Ok(0);
        }
        self.writer.flush()?;
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(2 * count);
        for (i, (head, len)) in heads.iter().zip(lens).take(count).enumerate() {
            let at = i * BLOCK_LEN as usize;
            slices.push(IoSlice::new(head));
            slices.push(IoSlice::new(&blocks[at..at + len]));
        }
        write_all_vectored(self.writer.get_mut(), &mut slices)?;
        self.last_sent = Instant::now();
        let bytes: usize = lens.iter().sum();
        self.shared
            .uploaded
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.counters
            .sent
            .fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(count)
    }

    /// The oldest queued block, once `--upload-rate` allows it (None: queue empty, or wait).
    fn next_paid_block(&mut self) -> Option<(u32, u32, u32)> {
        let (_, _, length) = self.uploads.front()?;
        if let Some(limit) = &self.shared.upload_limit {
            let now = Instant::now();
            let at = match self.upload_paid_until {
                Some(at) => at,
                None => now + limit.take(u64::from(length)),
            };
            if at > now {
                self.upload_paid_until = Some(at);
                return None;
            }
            self.upload_paid_until = None;
        }
        self.uploads.pop()
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
    /// Records the remote's interest; returns whether it changed. Who is unchoked is the
    /// choker's decision (`peer/choker.rs`), taken by the engine.
    pub fn set_interested(&mut self, interested: bool) -> bool {
        std::mem::replace(&mut self.interested, interested) != interested
    }

    pub fn is_choking(&self) -> bool {
        self.choking
    }

    /// We choke the remote: its queued requests are dropped (BEP 3). Returns false when it
    /// was choked already.
    pub fn choke(&mut self) -> bool {
        self.queue.clear();
        !std::mem::replace(&mut self.choking, true)
    }

    /// We unchoke the remote. Returns false when it was unchoked already.
    pub fn unchoke(&mut self) -> bool {
        std::mem::replace(&mut self.choking, false)
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
        assert!(u.is_choking(), "every connection starts choked");
        assert!(u.set_interested(true));
        assert!(!u.set_interested(true), "no change");
        assert!(u.unchoke());
        assert!(!u.unchoke(), "unchoked once");
        for begin in [0, 16384, 32768] {
            assert!(u.push((1, begin, 16384)));
        }
        u.cancel(1, 16384, 16384);
        assert_eq!(u.pop(), Some((1, 0, 16384)));
        assert_eq!(u.pop(), Some((1, 32768, 16384)));
        assert_eq!(u.pop(), None);
    }

    #[test]
    fn choking_drops_the_queued_requests() {
        let mut u = Uploads::default();
        u.unchoke();
        assert!(u.push((1, 0, 16384)));
        assert!(u.choke());
        assert!(!u.choke(), "choked once");
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
