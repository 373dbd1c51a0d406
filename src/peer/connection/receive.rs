//! The reading half of a connection's loop: one `read` (non-blocking while there is work to
//! do, else up to a tick), then every whole frame that arrived, each handled as BEP 3 says.
//! A `piece` frame's block is lent straight from the frame buffer to its piece.
//!
//! No socket writes of its own: answers go through `Connection::send`.

use std::time::{Duration, Instant};

use log::{debug, info};

use super::{ConnError, Connection, Event, TICK, log_piece};
use crate::net::traced::Traced;
use crate::peer::frames::Next;
use crate::pieces::PieceSet;
use crate::trace::{self, Dir};
use crate::wire::{Frame, Message};

impl Connection<'_> {
    /// Reads: without blocking while there is work to do now, else for up to one tick (less
    /// when a rate-limited block may go sooner). Handles every whole frame that arrived. While
    /// `--download-rate` pauses reading, waits instead (at most a tick, so commands, blocks
    /// and keep-alives still go out).
    pub(super) fn read_and_handle(&mut self) -> Result<(), ConnError> {
        let now = Instant::now();
        let upload_wait = self
            .upload_paid_until
            .filter(|_| self.uploads.has_queued())
            .map(|at| at.saturating_duration_since(now));
        let upload_ready = self.uploads.has_queued() && upload_wait.is_none_or(|w| w.is_zero());
        let busy = upload_ready || self.downloads.can_request(self.shared.pipeline);
        let idle_for = upload_wait
            .unwrap_or(TICK)
            .clamp(Duration::from_millis(1), TICK);
        if let Some(at) = self.download_paused_until {
            if now < at {
                if !busy {
                    std::thread::sleep(idle_for.min(at - now));
                }
                return Ok(());
            }
            self.download_paused_until = None;
        }
        if busy != self.nonblocking {
            self.stream.set_nonblocking(busy)?;
            self.nonblocking = busy;
        }
        if !busy && idle_for != self.read_timeout {
            self.stream.set_read_timeout(Some(idle_for))?;
            self.read_timeout = idle_for;
        }
        let mut reader = self.input.reader(Traced::polling(self.stream, self.remote));
        let mut next = self.frames.next(&mut reader)?;
        if self.nonblocking {
            self.stream.set_nonblocking(false)?;
            self.nonblocking = false;
        }
        // Every whole frame that arrived. A piece's block is lent from the frame buffer and
        // copied once, into its piece (the frame buffer is a field apart from the downloads).
        while let Next::Frame(frame) = next {
            self.last_received = Instant::now();
            match frame {
                Frame::Message(message) => self.handle(message)?,
                Frame::Piece {
                    index,
                    begin,
                    block,
                } => {
                    let len = block.len();
                    log_piece(Dir::Recv, self.local, self.remote, index, begin, len);
                    let received = self.downloads.receive(index, begin, block);
                    self.file_block(index, begin, len, received)?;
                }
            }
            next = self
                .frames
                .buffered_frame()?
                .map_or(Next::Idle, Next::Frame);
        }
        Ok(())
    }

    /// Handles one frame other than a `piece` (those come lent from the frame buffer, see
    /// [`Connection::read_and_handle`]; an owned one is filed the same way).
    fn handle(&mut self, message: Message) -> Result<(), ConnError> {
        let remote = self.remote;
        info!("{remote}: received {message}");
        trace::wire(Dir::Recv, self.local, remote, &message);
        match message {
            Message::KeepAlive => {}
            Message::Choke => {
                let dropped = self.downloads.choked();
                debug!("{remote}: choked us; {dropped} requests dropped");
                let _ = self.events.send(Event::Choked {
                    id: self.id,
                    choked: true,
                });
            }
            Message::Unchoke => {
                self.downloads.unchoked();
                let _ = self.events.send(Event::Choked {
                    id: self.id,
                    choked: false,
                });
            }
            Message::Interested | Message::NotInterested => {
                let interested = message == Message::Interested;
                if self.uploads.set_interested(interested) {
                    let _ = self.events.send(Event::Interested {
                        id: self.id,
                        interested,
                    });
                }
            }
            Message::Have { index } => {
                if index < self.remote_pieces.len() && self.remote_pieces.insert(index) {
                    let _ = self.events.send(Event::Have { id: self.id, index });
                    self.update_interest()?;
                }
            }
            Message::Bitfield(bits) => {
                let count = self.shared.metainfo.num_pieces();
                self.remote_pieces =
                    PieceSet::from_bitfield(&bits, count).map_err(|_| ConnError::BadBitfield)?;
                let _ = self.events.send(Event::Bitfield {
                    id: self.id,
                    pieces: self.remote_pieces.clone(),
                });
                self.update_interest()?;
            }
            Message::Extended { id, payload } => self.handle_extended(id, &payload)?,
            Message::Request {
                index,
                begin,
                length,
            } => self.queue_request(index, begin, length)?,
            Message::Cancel {
                index,
                begin,
                length,
            } => self.uploads.cancel(index, begin, length),
            Message::Piece {
                index,
                begin,
                block,
            } => {
                let received = self.downloads.receive(index, begin, &block);
                self.file_block(index, begin, block.len(), received)?;
            }
        }
        Ok(())
    }
}
