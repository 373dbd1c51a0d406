//! One peer wire connection, in its own thread, carrying both directions of BEP 3: the pieces
//! the engine asks us to fetch, and the blocks the remote asks us for.
//!
//! The blocking calls, in order ([`run`]):
//!
//! 1. `connect` (an outgoing connection) or `accept` (done by the listener, `peer/listener.rs`).
//! 2. The handshakes, all of it within `--handshake-timeout` however slowly it trickles in:
//!    * plain BEP 3 or MSE-encrypted (`connection/secure.rs`, `mse.rs`), as `--encryption`
//!      says: an outgoing connection tries its handshakes in turn, each on a new connection
//!      (`prefer`: encrypted, then plain); an accepted one is told by its first 20 bytes;
//!    * `write_all` our BitTorrent handshake and `read_exact` theirs (the side that connected
//!      writes first), through the encrypting and decrypting halves when RC4 was chosen;
//!      garbage or another swarm's info-hash ends it here. An accepted connection then takes
//!      an established slot (`admission.rs`; refused when all are taken).
//!
//!    Then `write_all` our bitfield.
//! 3. The loop, until the remote leaves, misbehaves, or the engine says close:
//!    * take the engine's commands (fetch a piece, cancel one, announce a `have`, and the
//!      choker's `choke` / `unchoke`);
//!    * `write_all` requests: up to `pipeline` 16 KiB blocks in flight, only while unchoked;
//!    * `write_all` the blocks the remote asked for, from a bounded queue served in order; with
//!      `--upload-rate` each block is first charged to the process's token bucket
//!      (`ratelimit.rs`), and when the bucket says wait, the block waits in the queue while the
//!      loop goes on (the read below then times out when the block may go);
//!    * a keep-alive when nothing was sent for `--keepalive` (5 s: rqbit drops a connection
//!      silent for 10 s);
//!    * right after the last assigned piece completed, wait for the engine's next one on the
//!      command channel (`connection/download.rs`), so small pieces do not wait a tick each;
//!    * `read` with a short timeout ([`TICK`]) and handle every whole frame (`peer/frames.rs`):
//!      bitfield and have teach us the remote's pieces, choke and unchoke gate our requests
//!      (the stall timer stops while we are choked), interested and not interested go to the
//!      engine's choker, request and cancel feed the upload queue, and a
//!      piece's block lands in its buffer. A completed piece is checked against its SHA-1 and
//!      written at its offset before the engine hears of it. With `--download-rate` each block
//!      is charged after it is read, and the socket is not read again until the bucket's wait
//!      is over: TCP flow control then slows the sender. Keep-alives, commands and uploads go
//!      on meanwhile, so a throttled connection never looks dead to either side.
//! 4. Close: dropping the socket. The engine hears why.
//!
//! An unknown message id, an oversized frame, a malformed bitfield or a request that is not a
//! 16 KiB block inside a piece we hold ends the connection (that is what real clients do).
//! A `have` for a piece that does not exist is ignored (libtorrent disconnects; ignoring costs
//! nothing and keeps a merely buggy peer), as is a repeated one: a flood of them costs one
//! bounds check each. A fetch with no block for `--stall-timeout` ends the connection, and the
//! engine fetches the piece from another holder.
//!
//! This file holds the steps in order ([`run`]) and the loop; beside it,
//! `connection/secure.rs` does step 2's first half (plain or MSE), `connection/handshake.rs`
//! its second, `connection/receive.rs` reads and handles frames (`connection/metadata.rs` the
//! extended ones: BEP 10, BEP 9), `connection/download.rs` fetches pieces, `connection/upload.rs` serves
//! blocks, and `connection/error.rs` says why a connection ended.

mod download;
mod error;
mod handshake;
mod metadata;
mod receive;
mod secure;
mod upload;

use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::info;

use super::PeerState;
use super::frames::FrameReader;
use crate::admission::Ticket;
use crate::defaults::CONNECT_TIMEOUTS;
use crate::mse::{Decryptor, Encrypting, Handshake};
use crate::net::{
    self,
    traced::{Traced, slow_motion},
};
use crate::pieces::PieceSet;
use crate::trace::{self, Dir};
use crate::wire::{Message, extension};
use download::Downloads;
pub use error::{ConnError, PieceFailure};
use upload::Uploads;

pub use crate::defaults::{PEER_IDLE_TIMEOUT as IDLE_TIMEOUT, TICK};

/// Which side opened the connection.
pub enum Side {
    /// We connected: we write the handshake first.
    Outgoing,
    /// The listener accepted it: pending in the listener's admission gate until the handshake
    /// completes, then established (or refused when every slot is taken).
    Incoming(Ticket),
}

mod channel;
pub use channel::{Command, ConnId, Counters, Event};

/// Everything one connection thread owns.
struct Connection<'a> {
    id: ConnId,
    remote: SocketAddr,
    local: Option<SocketAddr>,
    shared: &'a PeerState,
    stream: &'a TcpStream,
    /// The writing half: RC4-encrypting after an MSE handshake that chose it, else plain.
    writer: BufWriter<Encrypting<Traced<'a>>>,
    /// The reading half: its keystream (or none) and bytes the handshake read ahead.
    input: Decryptor,
    frames: FrameReader,
    events: &'a Sender<Event>,
    counters: Arc<Counters>,
    /// The remote's pieces as it told us (bitfield, haves).
    remote_pieces: PieceSet,
    /// Our pieces as the remote knows them.
    advertised: PieceSet,
    am_interested: bool,
    downloads: Downloads,
    uploads: Uploads,
    last_sent: Instant,
    last_received: Instant,
    nonblocking: bool,
    /// The read timeout set on the socket now.
    read_timeout: Duration,
    /// The blocks being sent, read from the file (allocated at the first upload).
    upload_blocks: Option<Vec<u8>>,
    /// `--upload-rate`: the oldest queued block is paid for and may go at this instant.
    upload_paid_until: Option<Instant>,
    /// `--download-rate`: the socket is not read until this instant (TCP flow control then
    /// slows the sender).
    download_paused_until: Option<Instant>,
    /// The extended id the remote wants `ut_metadata` messages sent with (its extension
    /// handshake's `m`), if it offers BEP 9.
    remote_ut_metadata: Option<u8>,
    /// Metadata pieces sent on this connection (capped).
    metadata_served: u32,
}

/// Steps 2 to 4 on a connected socket. `Side::Outgoing`: we connected, so we write first.
pub fn run(
    stream: TcpStream,
    remote: SocketAddr,
    side: Side,
    id: ConnId,
    shared: Arc<PeerState>,
    events: Sender<Event>,
    commands: (Sender<Command>, Receiver<Command>),
) {
    let mut stream = stream;
    let result = handshake_and_serve(&mut stream, remote, side, id, &shared, &events, commands);
    // 4. close, whatever ended the connection; the engine hears why
    net::close(&stream, remote);
    trace::record(
        Dir::Send,
        "bittorrent",
        stream.local_addr().ok(),
        remote,
        "close",
        &[],
    );
    let reason = match result {
        Ok(()) => "closed".to_string(),
        Err(e) if e.is_disconnect() => {
            info!("{remote}: disconnected");
            "disconnected".to_string()
        }
        Err(e) => {
            log::warn!("{remote}: closing connection: {e}");
            e.to_string()
        }
    };
    let _ = events.send(Event::Closed {
        id,
        addr: remote,
        reason,
    });
}

/// Steps 2 and 3 on a connected socket; `run` does step 4 whatever they return. An outgoing
/// connection whose handshake failed is replaced by a new one for the next handshake
/// `--encryption` tries.
fn handshake_and_serve(
    stream: &mut TcpStream,
    remote: SocketAddr,
    mut side: Side,
    id: ConnId,
    shared: &PeerState,
    events: &Sender<Event>,
    (commands_tx, commands): (Sender<Command>, Receiver<Command>),
) -> Result<(), ConnError> {
    let outgoing = matches!(side, Side::Outgoing);
    // 2. the handshakes (plain or encrypted, then BitTorrent's), then our bitfield
    let attempts = shared.encryption.attempts();
    let mut tried = 0;
    let (input, writer, extensions) = loop {
        let attempt = attempts.get(tried).copied().unwrap_or(Handshake::Plain);
        tried += 1;
        let e = match secure::handshakes(stream, remote, &mut side, attempt, shared) {
            Ok(done) => break done,
            Err(e) => e,
        };
        if !(outgoing && tried < attempts.len() && e.is_handshake_failure()) {
            return Err(e);
        }
        info!(
            "{remote}: {} handshake failed ({e}); trying a {} handshake on a new connection",
            attempt.name(),
            attempts[tried].name()
        );
        net::close(stream, remote);
        *stream = net::connect(remote, shared.local_ip, CONNECT_TIMEOUTS)?;
    };
    let mut conn = Connection::new(id, remote, stream, writer, input, shared, events);
    conn.send_bitfield()?;
    if extensions {
        // BEP 10, after the bitfield (which BEP 3 wants first): our listening port, and the
        // metadata we serve to magnet links (BEP 9).
        let metadata_size = Some(shared.info_bytes.len()).filter(|&n| n > 0);
        let payload = extension::handshake_payload(shared.port, metadata_size);
        conn.send(&Message::Extended {
            id: extension::HANDSHAKE_ID,
            payload,
        })?;
    }
    let _ = events.send(Event::Ready {
        id,
        addr: remote,
        outgoing,
        commands: commands_tx,
        counters: Arc::clone(&conn.counters),
    });
    // 3. the loop
    conn.serve(&commands)
}

impl<'a> Connection<'a> {
    /// The state of a connection whose handshake is done.
    fn new(
        id: ConnId,
        remote: SocketAddr,
        stream: &'a TcpStream,
        writer: BufWriter<Encrypting<Traced<'a>>>,
        input: Decryptor,
        shared: &'a PeerState,
        events: &'a Sender<Event>,
    ) -> Connection<'a> {
        let advertised = shared.have_snapshot();
        Connection {
            id,
            remote,
            local: stream.local_addr().ok(),
            shared,
            stream,
            writer,
            input,
            frames: FrameReader::new(),
            events,
            counters: Arc::default(),
            remote_pieces: PieceSet::empty(shared.metainfo.num_pieces()),
            advertised,
            am_interested: false,
            downloads: Downloads::default(),
            uploads: Uploads::default(),
            last_sent: Instant::now(),
            last_received: Instant::now(),
            nonblocking: false,
            read_timeout: TICK,
            upload_blocks: None,
            upload_paid_until: None,
            download_paused_until: None,
            remote_ut_metadata: None,
            metadata_served: 0,
        }
    }
}

impl Connection<'_> {
    /// The end of step 2: `write_all` our bitfield (with the handshake still buffered on an
    /// accepted connection), then the loop's short read timeout.
    fn send_bitfield(&mut self) -> Result<(), ConnError> {
        if !self.advertised.is_empty() {
            self.send(&Message::Bitfield(self.advertised.to_bitfield()))?;
        }
        self.writer.flush()?;
        self.stream.set_read_timeout(Some(TICK))?;
        Ok(())
    }

    /// Step 3: the loop, until the remote leaves, misbehaves, or the engine says close.
    fn serve(&mut self, commands: &Receiver<Command>) -> Result<(), ConnError> {
        loop {
            while let Ok(command) = commands.try_recv() {
                if !self.obey(command)? {
                    return Ok(());
                }
            }
            self.send_requests()?;
            self.send_blocks()?;
            if self.last_sent.elapsed() >= self.shared.keepalive {
                self.send(&Message::KeepAlive)?;
            }
            self.writer.flush()?;
            if let Some(command) = self.await_assignment(commands)? {
                if !self.obey(command)? {
                    return Ok(());
                }
                continue;
            }
            self.read_and_handle()?;
            if self.last_received.elapsed() >= IDLE_TIMEOUT {
                return Err(ConnError::Idle);
            }
            if self.downloads.stalled(self.shared.stall_timeout) {
                return Err(ConnError::Stalled(self.shared.stall_timeout));
            }
        }
    }

    /// Applies one command; false means close.
    fn obey(&mut self, command: Command) -> Result<bool, ConnError> {
        match command {
            Command::Fetch(index) => {
                let len = self.shared.metainfo.piece_len(index);
                self.downloads.add(index, len);
                self.update_interest()?;
            }
            Command::Cancel(index) => {
                for (index, begin, length) in self.downloads.cancel(index) {
                    self.send(&Message::Cancel {
                        index,
                        begin,
                        length,
                    })?;
                }
            }
            Command::Have(index) => {
                if self.advertised.insert(index) {
                    self.send(&Message::Have { index })?;
                }
                self.update_interest()?;
            }
            Command::Choke => {
                if self.uploads.choke() {
                    self.send(&Message::Choke)?;
                    self.writer.flush()?;
                }
                let _ = self.events.send(Event::ChokeSent { id: self.id });
            }
            Command::Unchoke => {
                if self.uploads.unchoke() {
                    self.send(&Message::Unchoke)?;
                }
            }
            Command::Close => return Ok(false),
        }
        Ok(true)
    }

    fn send(&mut self, message: &Message) -> Result<(), ConnError> {
        slow_motion(self.remote, message.name());
        info!("{}: send {message}", self.remote);
        trace::wire(Dir::Send, self.local, self.remote, message);
        message.write_to(&mut self.writer)?;
        self.last_sent = Instant::now();
        Ok(())
    }
}

/// The log line and trace record of a `piece` sent or received, as `Message::Piece`'s would
/// be: the block paths never build one (a block is lent from the frame buffer on receipt and
/// sent from the block buffer).
fn log_piece(
    dir: Dir,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    index: u32,
    begin: u32,
    len: usize,
) {
    let verb = match dir {
        Dir::Send => "send",
        Dir::Recv => "received",
    };
    info!("{remote}: {verb} piece {index} begin {begin} ({len} bytes)");
    trace::wire_piece(dir, local, remote, index, begin, len);
}
