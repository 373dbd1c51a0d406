//! Serving pieces to other peers: the peer's listening side.
//!
//! The blocking calls, in order:
//!
//! 1. `accept()` on the peer's port blocks until a downloader connects ([`start`]); each
//!    connection gets its own named thread, at most `max_connections` at once.
//! 2. `read_exact` the downloader's handshake; a swarm we do not serve ends it here.
//! 3. `write_all` our handshake and our bitfield.
//! 4. Loop ([`serve`]): send `have` for pieces completed since the last message, then
//!    `read_exact` the next frame. `interested` is answered with `unchoke` (every interested
//!    peer is served; the thread cap is the upload slot count); each `request` is checked
//!    (a piece we hold, inside the piece, at most 16 KiB), read from disk with `read_at` and
//!    answered with a `piece` frame. Replies are flushed before any read that could block, so a
//!    pipelined burst of requests goes out as one burst of blocks.
//! 5. EOF, an idle timeout or a protocol error closes the connection.

use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use log::{debug, info, warn};

use crate::net::{self, ThreadCap, Timeouts};
use crate::peer::Shared;
use crate::pieces::PieceSet;
use crate::wire::{BLOCK_LEN, Handshake, Message, WireError};

/// An upload connection silent this long is closed (BEP 3: two minutes).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an upload connection was closed.
#[derive(Debug)]
pub enum UploadError {
    Wire(WireError),
    WrongSwarm,
    /// A request outside the torrent, for a piece we lack, or over 16 KiB.
    BadRequest {
        index: u32,
        begin: u32,
        length: u32,
    },
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::Wire(e) => write!(f, "{e}"),
            UploadError::WrongSwarm => f.write_str("handshake for a swarm we do not serve"),
            UploadError::BadRequest {
                index,
                begin,
                length,
            } => {
                write!(
                    f,
                    "bad request: piece {index} begin {begin} length {length}"
                )
            }
        }
    }
}

impl From<WireError> for UploadError {
    fn from(e: WireError) -> Self {
        UploadError::Wire(e)
    }
}

impl From<io::Error> for UploadError {
    fn from(e: io::Error) -> Self {
        UploadError::Wire(WireError::Io(e))
    }
}

/// Starts the accept thread (step 1).
pub fn start(listener: TcpListener, shared: Arc<Shared>, max_connections: usize) -> io::Result<()> {
    let cap = ThreadCap::new(max_connections);
    let name = format!("{}-accept", shared.name);
    net::spawn_named(&name, move || {
        let mut serial = 0u64;
        loop {
            let (stream, remote) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!("accept failed: {e}");
                    continue;
                }
            };
            serial += 1;
            debug!(
                "{remote}: accepted ({} of {} upload threads busy)",
                cap.live(),
                cap.max()
            );
            let shared = Arc::clone(&shared);
            let thread = format!("{}-upload-{serial}", shared.name);
            let spawned = cap.spawn(thread, move || match serve(&stream, remote, &shared) {
                Ok(()) => debug!("{remote}: upload connection closed"),
                Err(UploadError::Wire(e)) if e.is_disconnect() => info!("{remote}: disconnected"),
                Err(e) => warn!("{remote}: closing upload connection: {e}"),
            });
            if let Err(e) = spawned {
                warn!("{remote}: cannot start an upload thread: {e}");
            }
        }
    })?;
    Ok(())
}

/// Steps 2 to 5 for one downloader.
fn serve(stream: &TcpStream, remote: SocketAddr, shared: &Shared) -> Result<(), UploadError> {
    net::configure(
        stream,
        Timeouts {
            read: IDLE_TIMEOUT,
            ..Timeouts::EXCHANGE
        },
    )?;
    let metainfo = &shared.metainfo;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut writer = BufWriter::with_capacity(64 * 1024, stream);

    // 2 and 3. handshakes and bitfield
    let theirs = Handshake::read_from(&mut reader)?;
    if theirs.info_hash != metainfo.info_hash {
        return Err(UploadError::WrongSwarm);
    }
    Handshake::new(metainfo.info_hash, shared.peer_id).write_to(&mut writer)?;
    info!(
        "{remote}: handshake done, peer id {}",
        String::from_utf8_lossy(&theirs.peer_id[..8])
    );
    let mut advertised = shared.have_snapshot();
    if !advertised.is_empty() {
        send(
            &mut writer,
            remote,
            &Message::Bitfield(advertised.to_bitfield()),
        )?;
    }
    writer.flush()?;

    // 4. serve requests
    let mut block = vec![0u8; BLOCK_LEN as usize];
    let mut unchoked = false;
    loop {
        announce_new_pieces(&mut writer, remote, shared, &mut advertised)?;
        if !holds_whole_frame(reader.buffer()) {
            writer.flush()?; // the next read may block: let the burst go first
        }
        let message = Message::read_from(&mut reader)?;
        info!("{remote}: received {message:?}");
        match message {
            Message::Interested if !unchoked => {
                unchoked = true;
                send(&mut writer, remote, &Message::Unchoke)?;
            }
            Message::Request {
                index,
                begin,
                length,
            } => {
                let valid = index < metainfo.num_pieces()
                    && advertised.contains(index)
                    && length > 0
                    && length <= BLOCK_LEN
                    && u64::from(begin) + u64::from(length) <= u64::from(metainfo.piece_len(index));
                if !valid {
                    return Err(UploadError::BadRequest {
                        index,
                        begin,
                        length,
                    });
                }
                if !unchoked {
                    debug!("{remote}: request while choked, ignored");
                    continue;
                }
                let data = &mut block[..length as usize];
                shared.storage.read_block(index, begin, data)?;
                let piece = Message::Piece {
                    index,
                    begin,
                    block: data.to_vec(),
                };
                send(&mut writer, remote, &piece)?;
                shared
                    .uploaded
                    .fetch_add(u64::from(length), Ordering::Relaxed);
            }
            // A request is answered as soon as it is read, so there is never one to cancel.
            Message::Cancel { .. } | Message::KeepAlive | Message::Interested => {}
            Message::NotInterested | Message::Choke | Message::Unchoke => {}
            Message::Have { .. } | Message::Bitfield(_) | Message::Piece { .. } => {}
        }
    }
}

/// True when `buffered` starts with a complete frame, so the next read will not block.
fn holds_whole_frame(buffered: &[u8]) -> bool {
    match buffered.first_chunk::<4>() {
        Some(prefix) => buffered.len() - 4 >= u32::from_be_bytes(*prefix) as usize,
        None => false,
    }
}

/// Sends `have` for every piece completed since this connection last heard of our pieces.
fn announce_new_pieces(
    writer: &mut impl Write,
    remote: SocketAddr,
    shared: &Shared,
    advertised: &mut PieceSet,
) -> io::Result<()> {
    let now = shared.have_snapshot();
    if now.count() == advertised.count() {
        return Ok(());
    }
    for index in now.iter().filter(|&i| !advertised.contains(i)) {
        send(writer, remote, &Message::Have { index })?;
    }
    *advertised = now;
    Ok(())
}

fn send(writer: &mut impl Write, remote: SocketAddr, message: &Message) -> io::Result<()> {
    info!("{remote}: send {message:?}");
    message.write_to(writer)
}
