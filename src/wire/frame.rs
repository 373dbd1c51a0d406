//! Frames decoded from a buffer that already holds them whole (the peer's `FrameReader` cuts
//! them out of the stream), and the header of a `piece` frame the upload path writes itself:
//! the two places a 16 KiB block is lent, never copied into a message of its own.
//!
//! Pure codec over byte slices: no sockets, no state.

use super::{Message, MessageId, WireError};

/// One whole frame decoded from a buffer that holds all of it. A `piece` borrows its block from
/// that buffer, so the receive path files a 16 KiB block into its piece without first copying
/// it into a `Vec` of its own; every other frame is decoded by [`Message::read_from`].
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Piece {
        index: u32,
        begin: u32,
        block: &'a [u8],
    },
    Message(Message),
}

/// Bytes of a `piece` frame before its block: length (4), id [`MessageId::Piece`] (1),
/// index (4), begin (4).
pub const PIECE_HEADER_LEN: usize = 13;

impl<'a> Frame<'a> {
    /// Decodes `frame`: exactly one frame, length prefix included, its length already checked
    /// against [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN) by whoever cut it out of the stream.
    pub fn decode(frame: &'a [u8]) -> Result<Frame<'a>, WireError> {
        match frame.get(4) {
            Some(&id) if id == MessageId::Piece as u8 && frame.len() >= PIECE_HEADER_LEN => {
                Ok(Frame::Piece {
                    index: u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]),
                    begin: u32::from_be_bytes([frame[9], frame[10], frame[11], frame[12]]),
                    block: &frame[PIECE_HEADER_LEN..],
                })
            }
            // a piece too short for its header is refused by read_from, like any bad length
            _ => Message::read_from(&mut &frame[..]).map(Frame::Message),
        }
    }

    /// The frame as an owned [`Message`] (copies a piece's block).
    pub fn into_message(self) -> Message {
        match self {
            Frame::Piece {
                index,
                begin,
                block,
            } => Message::Piece {
                index,
                begin,
                block: block.to_vec(),
            },
            Frame::Message(message) => message,
        }
    }
}

/// The 13 bytes of a `piece` frame that come before its block of `block_len` bytes. The
/// upload path sends them and the block, read from the file into a reused buffer, in one
/// vectored write: a piece frame is never assembled, nor a block copied, in our memory.
pub fn piece_header(index: u32, begin: u32, block_len: u32) -> [u8; PIECE_HEADER_LEN] {
    let mut head = [0u8; PIECE_HEADER_LEN];
    head[..4].copy_from_slice(&(9 + block_len).to_be_bytes());
    head[4] = MessageId::Piece as u8;
    head[5..9].copy_from_slice(&index.to_be_bytes());
    head[9..13].copy_from_slice(&begin.to_be_bytes());
    head
}
