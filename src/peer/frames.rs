//! Reading peer wire frames from a socket whose reads time out.
//!
//! A connection thread must wake up now and then (to send a keep-alive, to take a new piece to
//! fetch) even when the remote is silent, so its socket has a short read timeout. A timeout in
//! the middle of `read_exact` would lose the bytes already read, so this reader keeps them: it
//! appends whatever `read` returns to its own buffer and hands out a [`Message`](crate::wire::Message) only once the
//! whole frame is there, decoded by `wire::Frame::decode`: a `piece` frame's block is lent
//! straight out of this buffer (no copy, no allocation per block), any other frame becomes a
//! `Message`.
//!
//! No protocol decisions here. One blocking call: [`FrameReader::next`] makes one `read` on
//! the caller's reader (which times out, or does not block at all), then decodes what the
//! buffer holds.

use std::io::{self, Read};

use crate::wire::{Frame, MAX_FRAME_LEN, WireError};

/// What one call to [`FrameReader::next`] found.
#[derive(Debug)]
pub enum Next<'a> {
    /// A whole frame; a `piece` borrows its block from the reader's buffer.
    Frame(Frame<'a>),
    /// The read timed out before a whole frame arrived; nothing is lost.
    Idle,
}

/// A frame buffer over a reader whose reads may time out.
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    pub fn new() -> FrameReader {
        FrameReader {
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
        }
    }

    /// Bytes buffered and not yet handed out.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// A whole frame from the buffer, if one is there (never reads).
    pub fn buffered_frame(&mut self) -> Result<Option<Frame<'_>>, WireError> {
        let Some(total) = self.whole_frame()? else {
            return Ok(None);
        };
        let frame = &self.buf[self.start..self.start + total];
        self.start += total;
        Frame::decode(frame).map(Some)
    }

    /// The next frame: from the buffer if whole, else after one `read` (which may time out).
    pub fn next(&mut self, input: &mut impl Read) -> Result<Next<'_>, WireError> {
        if self.whole_frame()?.is_none() {
            self.make_room();
            match input.read(&mut self.buf[self.end..]) {
                Ok(0) => return Err(WireError::Io(io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => self.end += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    return Ok(Next::Idle);
                }
                Err(e) => return Err(WireError::Io(e)),
            }
        }
        Ok(self.buffered_frame()?.map_or(Next::Idle, Next::Frame))
    }

    /// The length (prefix included) of the first buffered frame if all of it is here; steps 1
    /// and 2 of reading a frame: the length, checked against the cap before anything waits
    /// for the body.
    fn whole_frame(&self) -> Result<Option<usize>, WireError> {
        let pending = &self.buf[self.start..self.end];
        let Some(prefix) = pending.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix);
        if len > MAX_FRAME_LEN {
            return Err(WireError::FrameTooLong(len));
        }
        let total = 4 + len as usize;
        Ok((pending.len() >= total).then_some(total))
    }

    /// Moves pending bytes to the front, and grows the buffer when a frame announced as larger
    /// than it (at most `MAX_FRAME_LEN`, checked already) is coming.
    fn make_room(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let needed = self.buf[..self.end]
            .first_chunk::<4>()
            .map_or(0, |p| 4 + u32::from_be_bytes(*p) as usize);
        if needed > self.buf.len() {
            self.buf.resize(needed, 0);
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Message;

    /// Hands out the scripted chunks one per `read`, with a timeout between them.
    struct Script(Vec<Option<Vec<u8>>>);

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            match self.0.remove(0) {
                Some(chunk) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    Ok(chunk.len())
                }
                None => Err(io::ErrorKind::WouldBlock.into()),
            }
        }
    }

    #[test]
    fn a_timeout_in_the_middle_of_a_frame_loses_nothing() {
        // have piece 7, split 3 ways with timeouts between the parts, then unchoke
        let mut input = Script(vec![
            Some(vec![0, 0]),
            None,
            Some(vec![0, 5, 4, 0]),
            None,
            Some(vec![0, 0, 7, /* unchoke */ 0, 0, 0, 1, 1]),
        ]);
        let mut frames = FrameReader::new();
        let mut got = Vec::new();
        for _ in 0..6 {
            if let Next::Frame(f) = frames.next(&mut input).expect("no error") {
                got.push(f.into_message());
            }
        }
        assert_eq!(got, vec![Message::Have { index: 7 }, Message::Unchoke]);
    }

    #[test]
    fn frames_larger_than_the_buffer_arrive_whole() {
        let mut frame = vec![0, 1, 0, 9, 7, 0, 0, 0, 1, 0, 0, 0, 0];
        frame[..4].copy_from_slice(&(9u32 + 100_000).to_be_bytes());
        frame.extend(vec![0xab; 100_000]);
        let chunks: Vec<Option<Vec<u8>>> = frame.chunks(7000).map(|c| Some(c.to_vec())).collect();
        let mut input = Script(chunks);
        let mut frames = FrameReader::new();
        let message = loop {
            if let Next::Frame(f) = frames.next(&mut input).expect("no error") {
                break f.into_message();
            }
        };
        assert!(
            matches!(message, Message::Piece { index: 1, begin: 0, ref block } if block.len() == 100_000)
        );
    }

    #[test]
    fn an_oversized_length_is_refused_before_reading_on() {
        let mut input = Script(vec![Some(vec![0xff, 0xff, 0xff, 0xff])]);
        let mut frames = FrameReader::new();
        assert!(matches!(
            frames.next(&mut input),
            Err(WireError::FrameTooLong(_))
        ));
    }
}
