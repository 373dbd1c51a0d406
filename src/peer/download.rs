//! Fetching one piece from one holder over the BitTorrent peer wire protocol.
//!
//! The blocking calls, in order ([`fetch_piece`]):
//!
//! 1. `connect` to the holder (from our own address).
//! 2. `write_all` our handshake, `read_exact` theirs; a different info-hash ends it here.
//! 3. `write_all` our bitfield (if we hold anything) and `interested`.
//! 4. `read_exact` frames until `unchoke` (their bitfield and haves arrive meanwhile).
//! 5. Pipelined requests: keep up to `pipeline` 16 KiB `request`s in flight, `read_exact` each
//!    `piece` frame, and send the next request as each block lands. A `choke` drops what was in
//!    flight; the blocks are asked again after the next `unchoke`.
//! 6. SHA-1 of the whole piece against the metainfo: a mismatch throws the piece away.
//! 7. `write_all_at` the piece at its offset in the file; the connection closes when dropped.

use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::SocketAddr;
use std::time::Duration;

use log::{debug, info};

use crate::infohash::sha1;
use crate::net::{self, Timeouts};
use crate::peer::Shared;
use crate::pieces::PieceSet;
use crate::wire::{BLOCK_LEN, Handshake, Message, WireError};

/// Timeouts of a download connection: a holder that stops answering for this long is left.
pub const DOWNLOAD_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    read: Duration::from_secs(15),
    write: Duration::from_secs(15),
};

/// Why a piece was not fetched from a holder.
#[derive(Debug)]
pub enum FetchError {
    Connect(io::Error),
    Wire(WireError),
    /// The holder answered for another swarm.
    WrongSwarm,
    /// The holder's own bitfield or haves say it lacks the piece (the tracker's list was stale).
    NotHeld,
    /// A `piece` frame we did not ask for, or of the wrong size.
    UnrequestedBlock {
        begin: u32,
        len: usize,
    },
    /// The assembled piece failed its SHA-1.
    HashMismatch,
    /// The piece verified but could not be written.
    Storage(io::Error),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Connect(e) => write!(f, "cannot connect: {e}"),
            FetchError::Wire(e) => write!(f, "{e}"),
            FetchError::WrongSwarm => f.write_str("handshake names another swarm"),
            FetchError::NotHeld => f.write_str("holder does not have the piece"),
            FetchError::UnrequestedBlock { begin, len } => {
                write!(
                    f,
                    "sent a block we did not request (begin {begin}, {len} bytes)"
                )
            }
            FetchError::HashMismatch => f.write_str("piece failed its sha-1 check"),
            FetchError::Storage(e) => write!(f, "cannot write the piece: {e}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl From<WireError> for FetchError {
    fn from(e: WireError) -> Self {
        FetchError::Wire(e)
    }
}

impl From<io::Error> for FetchError {
    fn from(e: io::Error) -> Self {
        FetchError::Wire(WireError::Io(e))
    }
}

/// Fetches piece `index` from `from`, verifies it and writes it to disk. Returns the bytes
/// received.
pub fn fetch_piece(shared: &Shared, index: u32, from: SocketAddr) -> Result<u64, FetchError> {
    let metainfo = &shared.metainfo;
    // 1. connect
    let stream =
        net::connect(from, shared.local_ip, DOWNLOAD_TIMEOUTS).map_err(FetchError::Connect)?;
    info!("{from}: connected to fetch piece {index}");
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    let mut writer = BufWriter::with_capacity(16 * 1024, &stream);

    // 2. handshakes
    Handshake::new(metainfo.info_hash, shared.peer_id).write_to(&mut writer)?;
    writer.flush()?;
    let theirs = Handshake::read_from(&mut reader)?;
    if theirs.info_hash != metainfo.info_hash {
        return Err(FetchError::WrongSwarm);
    }
    info!(
        "{from}: handshake done, peer id {}",
        String::from_utf8_lossy(&theirs.peer_id[..8])
    );

    // 3. bitfield and interested
    let held = shared.have_snapshot();
    if !held.is_empty() {
        send(&mut writer, from, &Message::Bitfield(held.to_bitfield()))?;
    }
    send(&mut writer, from, &Message::Interested)?;
    writer.flush()?;

    // 4 and 5. wait for unchoke, then keep `pipeline` requests in flight
    let piece_len = metainfo.piece_len(index);
    let blocks = piece_len.div_ceil(BLOCK_LEN);
    let mut piece = vec![0u8; piece_len as usize];
    let mut received = vec![false; blocks as usize];
    let mut in_flight: Vec<u32> = Vec::new(); // block numbers asked and not yet answered
    let mut next_block = 0u32;
    let mut remaining = blocks;
    let mut choked = true;
    let mut remote_pieces = PieceSet::empty(metainfo.num_pieces());
    let mut bytes = 0u64;
    while remaining > 0 {
        if !choked {
            while in_flight.len() < shared.pipeline && next_block < blocks {
                if !received[next_block as usize] {
                    let begin = next_block * BLOCK_LEN;
                    let length = BLOCK_LEN.min(piece_len - begin);
                    send(
                        &mut writer,
                        from,
                        &Message::Request {
                            index,
                            begin,
                            length,
                        },
                    )?;
                    in_flight.push(next_block);
                }
                next_block += 1;
            }
            writer.flush()?;
        }
        let message = Message::read_from(&mut reader)?;
        info!("{from}: received {message:?}");
        match message {
            Message::Unchoke => choked = false,
            Message::Choke => {
                debug!("{from}: choked: {} requests dropped", in_flight.len());
                choked = true;
                in_flight.clear();
                next_block = 0; // ask again for every block not received
            }
            Message::Bitfield(bits) => {
                remote_pieces =
                    PieceSet::from_bitfield(&bits, metainfo.num_pieces()).map_err(|_| {
                        FetchError::Wire(WireError::BadLength {
                            id: 5,
                            len: bits.len() as u32,
                        })
                    })?;
                if !remote_pieces.contains(index) {
                    return Err(FetchError::NotHeld);
                }
            }
            Message::Have { index: had } => {
                remote_pieces.insert(had);
            }
            Message::Piece {
                index: got,
                begin,
                block,
            } => {
                let block_no = begin / BLOCK_LEN;
                let position = in_flight.iter().position(|&b| b == block_no);
                let expected_len = BLOCK_LEN.min(piece_len.saturating_sub(begin)) as usize;
                let (Some(position), true, true) = (
                    position,
                    got == index && begin % BLOCK_LEN == 0,
                    block.len() == expected_len,
                ) else {
                    return Err(FetchError::UnrequestedBlock {
                        begin,
                        len: block.len(),
                    });
                };
                in_flight.swap_remove(position);
                let start = begin as usize;
                piece[start..start + block.len()].copy_from_slice(&block);
                if !received[block_no as usize] {
                    received[block_no as usize] = true;
                    remaining -= 1;
                }
                bytes += block.len() as u64;
            }
            Message::KeepAlive
            | Message::Interested
            | Message::NotInterested
            | Message::Request { .. }
            | Message::Cancel { .. } => {}
        }
    }

    // 6. verify
    if &sha1(&piece) != metainfo.piece_hash(index) {
        return Err(FetchError::HashMismatch);
    }
    // 7. write at the piece's offset
    shared
        .storage
        .write_piece(index, &piece)
        .map_err(FetchError::Storage)?;
    debug!("{from}: piece {index} written, closing");
    Ok(bytes)
}

fn send(writer: &mut impl Write, remote: SocketAddr, message: &Message) -> io::Result<()> {
    info!("{remote}: send {message:?}");
    message.write_to(writer)
}
