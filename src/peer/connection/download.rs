//! The fetching half of a connection: the pieces the engine assigned, which of their blocks
//! are requested and received, the assembly of each piece, and the interest we show the remote
//! (whether it holds pieces we lack).
//!
//! [`Downloads`] is pure bookkeeping; the `impl Connection` block below sends the requests and
//! files the blocks, verifying each completed piece before the engine hears of it.
//!
//! Its blocking calls, in order: 1. the requests are written into the connection's buffered
//! writer (the loop's `flush` is the `write`); 2. a completed piece is hashed and written to
//! the file (`pwrite`, `storage.rs`); 3. when the last assigned piece is done and the engine's
//! next assignment is due, `recv_timeout` on the command channel in short slices, with a
//! non-blocking `peek` of the socket between them ([`Connection::await_assignment`]): the
//! next piece is asked the moment the engine hands it over, not at the next read tick.

use std::io;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use log::{debug, info};

use super::{Command, ConnError, Connection, Event, PieceFailure, TICK};
use crate::infohash::sha1;
use crate::wire::{BLOCK_LEN, Message};

/// While awaiting the engine's next assignment, the socket is peeked this often.
const AWAIT_SLICE: Duration = Duration::from_millis(2);

impl Connection<'_> {
    /// The connection just ran out of pieces to fetch, unchoked, right after completing one:
    /// the engine's next `Fetch` is on its way. Waits for it on the command channel rather than
    /// in a blocking `read` that would only return at the next block or tick (with nothing
    /// requested, no block comes: every small piece would wait a tick). Gives up when a frame
    /// arrives on the socket or after one tick; idle connections never come here, so an idle
    /// peer still sleeps in `read`. Returns the command that came, if one did.
    pub(super) fn await_assignment(
        &mut self,
        commands: &Receiver<Command>,
    ) -> Result<Option<Command>, ConnError> {
        if !self.downloads.awaiting_engine(TICK) {
            return Ok(None);
        }
        let until = Instant::now() + TICK;
        loop {
            match commands.recv_timeout(AWAIT_SLICE) {
                Ok(command) => return Ok(Some(command)),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.socket_has_data()? || Instant::now() >= until {
                break;
            }
        }
        self.downloads.stop_awaiting();
        Ok(None)
    }

    /// Whether bytes wait on the socket or in the reading half (a non-blocking `peek`; a
    /// closed socket counts: the next `read` will see it).
    fn socket_has_data(&self) -> Result<bool, ConnError> {
        if self.input.has_pending() {
            return Ok(true); // read ahead by the handshake
        }
        self.stream.set_nonblocking(true)?;
        let peeked = self.stream.peek(&mut [0; 1]);
        self.stream.set_nonblocking(false)?;
        match peeked {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(_) => Ok(true),
        }
    }

    /// Sends requests up to the pipeline depth, while unchoked.
    pub(super) fn send_requests(&mut self) -> Result<(), ConnError> {
        if !self.downloads.can_request(self.shared.pipeline) {
            return Ok(());
        }
        for (index, begin, length) in self.downloads.next_requests(self.shared.pipeline) {
            self.send(&Message::Request {
                index,
                begin,
                length,
            })?;
        }
        Ok(())
    }

    /// Acts on a block just filed by [`Downloads::receive`]: charges it to `--download-rate`,
    /// and when it completed a piece, verifies, writes and reports the piece.
    pub(super) fn file_block(
        &mut self,
        index: u32,
        begin: u32,
        len: usize,
        received: Received,
    ) -> Result<(), ConnError> {
        self.counters
            .received
            .fetch_add(len as u64, std::sync::atomic::Ordering::Relaxed);
        if let Some(limit) = &self.shared.download_limit {
            let wait = limit.take(len as u64);
            if !wait.is_zero() {
                let until = Instant::now() + wait;
                debug!("{}: download rate: not reading for {wait:?}", self.remote);
                self.download_paused_until = Some(until);
            }
        }
        let data = match received {
            Received::Stored => return Ok(()),
            Received::Late => {
                debug!("{}: late block of piece {index} ignored", self.remote);
                return Ok(());
            }
            Received::Unrequested => return Err(ConnError::UnrequestedBlock { index, begin, len }),
            Received::Complete { data, .. } => data,
        };
        let result = if &sha1(&data) != self.shared.metainfo.piece_hash(index) {
            Err(PieceFailure::HashMismatch)
        } else {
            match self.shared.storage.write_piece(index, &data) {
                Ok(()) => Ok(data.len() as u64),
                Err(e) => Err(PieceFailure::Storage(e)),
            }
        };
        self.downloads.recycle(data);
        if result.is_ok() {
            info!(
                "{}: piece {index} complete and verified, written at offset {}",
                self.remote,
                self.shared.metainfo.piece_offset(index)
            );
        }
        let _ = self.events.send(Event::Piece {
            id: self.id,
            index,
            result,
        });
        Ok(())
    }
}

/// One piece being fetched.
struct Fetch {
    index: u32,
    len: u32,
    data: Vec<u8>,
    requested: Vec<bool>,
    received: Vec<bool>,
    remaining: u32,
}

/// What a received block was.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Stored; the piece still lacks blocks.
    Stored,
    /// The last block: here is the whole piece, no longer tracked.
    Complete { index: u32, data: Vec<u8> },
    /// A block of a piece we cancelled, or one we already had: ignored.
    Late,
    /// A block nobody asked for.
    Unrequested,
}

/// The pieces one connection is fetching.
pub struct Downloads {
    fetches: Vec<Fetch>,
    /// Pieces recently cancelled (blocks for them may still be on the way).
    cancelled: Vec<u32>,
    choked: bool,
    outstanding: usize,
    last_progress: Instant,
    /// The buffer of the last piece completed, reused for the next one: a fresh zeroed piece
    /// buffer per piece (256 KiB is past malloc's mmap threshold) cost a `mmap`, page faults
    /// and a `munmap` each time.
    spare: Option<Vec<u8>>,
    /// When the last piece completed, while the engine's next assignment may be on its way.
    completed_at: Option<Instant>,
}

impl Default for Downloads {
    fn default() -> Self {
        // Every connection starts choked (BEP 3).
        Downloads {
            fetches: Vec::new(),
            cancelled: Vec::new(),
            spare: None,
            choked: true,
            outstanding: 0,
            last_progress: Instant::now(),
            completed_at: None,
        }
    }
}

impl Downloads {
    pub fn is_empty(&self) -> bool {
        self.fetches.is_empty()
    }

    /// Takes on piece `index` of `len` bytes (ignored if already being fetched).
    pub fn add(&mut self, index: u32, len: u32) {
        if self.fetches.iter().any(|f| f.index == index) {
            return;
        }
        if self.fetches.is_empty() {
            self.last_progress = Instant::now();
        }
        let blocks = len.div_ceil(BLOCK_LEN) as usize;
        self.cancelled.retain(|&i| i != index);
        let data = self.buffer(len as usize);
        self.fetches.push(Fetch {
            index,
            len,
            data,
            requested: vec![false; blocks],
            received: vec![false; blocks],
            remaining: blocks as u32,
        });
    }

    /// A buffer of `len` bytes for a piece: the spare one when there is one. Its old bytes are
    /// never read: a piece completes only once every block has overwritten its part.
    fn buffer(&mut self, len: usize) -> Vec<u8> {
        match self.spare.take() {
            Some(mut buf) => {
                buf.truncate(len);
                buf.resize(len, 0);
                buf
            }
            None => vec![0; len],
        }
    }

    /// Takes back a completed piece's buffer once it is written, for the next piece.
    pub fn recycle(&mut self, data: Vec<u8>) {
        self.spare = Some(data);
    }

    /// Drops piece `index`; returns the requests in flight for it, to cancel on the wire.
    pub fn cancel(&mut self, index: u32) -> Vec<(u32, u32, u32)> {
        let Some(position) = self.fetches.iter().position(|f| f.index == index) else {
            return Vec::new();
        };
        let fetch = self.fetches.remove(position);
        let in_flight: Vec<(u32, u32, u32)> = (0..fetch.requested.len())
            .filter(|&b| fetch.requested[b] && !fetch.received[b])
            .map(|b| block_of(fetch.index, fetch.len, b as u32))
            .collect();
        self.outstanding -= in_flight.len();
        self.cancelled.push(index);
        if self.cancelled.len() > 64 {
            self.cancelled.remove(0);
        }
        in_flight
    }

    /// The remote choked us: it drops our requests (BEP 3), so they are asked again later.
    /// Returns how many were dropped.
    pub fn choked(&mut self) -> usize {
        self.choked = true;
        let dropped = self.outstanding;
        for fetch in &mut self.fetches {
            for (requested, received) in fetch.requested.iter_mut().zip(&fetch.received) {
                *requested = *received;
            }
        }
        self.outstanding = 0;
        dropped
    }

    pub fn unchoked(&mut self) {
        self.choked = false;
        self.last_progress = Instant::now();
    }

    /// Whether a request may be sent now (unchoked, fewer than `pipeline` in flight, and a
    /// block not yet asked for).
    pub fn can_request(&self, pipeline: usize) -> bool {
        !self.choked
            && self.outstanding < pipeline
            && self.fetches.iter().any(|f| f.requested.iter().any(|r| !r))
    }

    /// The next requests to send, keeping at most `pipeline` in flight, in piece order.
    pub fn next_requests(&mut self, pipeline: usize) -> Vec<(u32, u32, u32)> {
        let mut out = Vec::new();
        if self.choked {
            return out;
        }
        for fetch in &mut self.fetches {
            for block in 0..fetch.requested.len() {
                if self.outstanding + out.len() >= pipeline {
                    self.outstanding += out.len();
                    return out;
                }
                if !fetch.requested[block] {
                    fetch.requested[block] = true;
                    out.push(block_of(fetch.index, fetch.len, block as u32));
                }
            }
        }
        self.outstanding += out.len();
        out
    }

    /// Files a received block.
    pub fn receive(&mut self, index: u32, begin: u32, block: &[u8]) -> Received {
        let Some(position) = self.fetches.iter().position(|f| f.index == index) else {
            return if self.cancelled.contains(&index) {
                Received::Late
            } else {
                Received::Unrequested
            };
        };
        let fetch = &mut self.fetches[position];
        let number = (begin / BLOCK_LEN) as usize;
        let expected = block_of(index, fetch.len, number as u32);
        if !begin.is_multiple_of(BLOCK_LEN)
            || number >= fetch.requested.len()
            || block.len() != expected.2 as usize
        {
            return Received::Unrequested;
        }
        if !fetch.requested[number] {
            return Received::Unrequested;
        }
        if fetch.received[number] {
            return Received::Late;
        }
        fetch.data[begin as usize..begin as usize + block.len()].copy_from_slice(block);
        fetch.received[number] = true;
        fetch.remaining -= 1;
        self.outstanding -= 1;
        self.last_progress = Instant::now();
        if fetch.remaining > 0 {
            return Received::Stored;
        }
        let fetch = self.fetches.remove(position);
        self.completed_at = Some(Instant::now());
        Received::Complete {
            index,
            data: fetch.data,
        }
    }

    /// True when every assigned piece is done, unchoked, and one completed less than `within`
    /// ago: the engine is about to assign the next.
    pub fn awaiting_engine(&self, within: Duration) -> bool {
        self.fetches.is_empty()
            && !self.choked
            && self.completed_at.is_some_and(|at| at.elapsed() < within)
    }

    /// The wait for the engine is over (it came, or it did not within a tick).
    pub fn stop_awaiting(&mut self) {
        self.completed_at = None;
    }

    /// True when pieces are assigned but nothing arrived for `timeout`.
    /// The timer does not run while the remote chokes us: a choke never ends a connection.
    pub fn stalled(&self, timeout: Duration) -> bool {
        !self.choked && !self.fetches.is_empty() && self.last_progress.elapsed() > timeout
    }
}

/// `(index, begin, length)` of block `number` of a piece of `len` bytes.
fn block_of(index: u32, len: u32, number: u32) -> (u32, u32, u32) {
    let begin = number * BLOCK_LEN;
    (index, begin, BLOCK_LEN.min(len - begin))
}

impl Connection<'_> {
    /// Sends `interested` or `not interested` when the remote has (or no longer has) pieces we
    /// lack.
    pub(super) fn update_interest(&mut self) -> Result<(), ConnError> {
        let wanted = !self.downloads.is_empty()
            || self
                .remote_pieces
                .iter()
                .any(|i| !self.advertised.contains(i));
        if wanted != self.am_interested {
            self.am_interested = wanted;
            let message = if wanted {
                Message::Interested
            } else {
                Message::NotInterested
            };
            self.send(&message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
