//! Fetching the metadata (the info dictionary) from one peer, BEP 9 over BEP 10, before this
//! peer knows anything of the torrent but its info-hash.
//!
//! The blocking calls, in order, all before one deadline ([`METADATA_PEER_TIMEOUT`]):
//!
//! 1. `connect` to the peer.
//! 2. `write_all` our handshake (extension bit set) and `read_exact` theirs: the same swarm,
//!    and BEP 10 spoken, or we stop here.
//! 3. `write_all` our extension handshake (`ut_metadata` offered, no `metadata_size`: we have
//!    none), then `read` frames until theirs arrives: it must offer `ut_metadata` and say a
//!    `metadata_size` under the cap.
//! 4. `write_all` a `request` for every 16 KiB piece at once (8 MiB of metadata is 512), then
//!    `read` frames until every piece has come as `data`. A `reject` ends the exchange (the
//!    peer has no metadata to give, like another magnet peer); a request *to us* is answered
//!    with `reject`; other frames (bitfield, have, choke) are skipped.
//! 5. Close; the caller checks the SHA-1 of the bytes against the info-hash.
//!
//! What it does not do: choose peers, retry, or build the torrent (`peer/magnet.rs`).

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Instant;

use log::{debug, info};

use crate::defaults::{CONNECT_TIMEOUTS, METADATA_PEER_TIMEOUT};
use crate::infohash::InfoHash;
use crate::net::{self, ReadBefore, traced::Traced};
use crate::wire::extension::{self, remote_metadata};
use crate::wire::metadata::{self, LOCAL_ID, MetadataError, MetadataMessage, piece_range};
use crate::wire::{Handshake, Message, WireError};

/// Who we are, to the peers we ask.
#[derive(Debug, Clone, Copy)]
pub struct Asker {
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
    /// Our listening port, told in the extension handshake.
    pub port: u16,
    pub local_ip: Option<IpAddr>,
}

/// Why one peer gave us no metadata.
#[derive(Debug)]
pub enum FetchError {
    Wire(WireError),
    /// The peer answered for another swarm.
    WrongSwarm,
    /// No BEP 10 bit in its handshake.
    NoExtensions,
    /// Its extension handshake offers no `ut_metadata`, or no `metadata_size` (it has none).
    NoMetadata,
    /// A `metadata_size` or `total_size` out of bounds.
    BadSize(MetadataError),
    /// A `ut_metadata` message that does not decode.
    Bad(MetadataError),
    /// It would not send this piece.
    Rejected(u32),
    /// A `data` message that does not fit the metadata it announced.
    BadPiece {
        piece: u32,
        len: usize,
    },
    /// Its size differs from the one its extension handshake announced.
    SizeChanged {
        announced: u32,
        now: u32,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Wire(e) => write!(f, "{e}"),
            FetchError::WrongSwarm => f.write_str("it answered for another swarm"),
            FetchError::NoExtensions => f.write_str("it does not speak the extension protocol"),
            FetchError::NoMetadata => f.write_str("it offers no metadata (ut_metadata)"),
            FetchError::BadSize(e) | FetchError::Bad(e) => write!(f, "{e}"),
            FetchError::Rejected(piece) => write!(f, "it rejected metadata piece {piece}"),
            FetchError::BadPiece { piece, len } => {
                write!(f, "metadata piece {piece} of {len} bytes does not fit")
            }
            FetchError::SizeChanged { announced, now } => write!(
                f,
                "metadata size {now} differs from the {announced} it announced"
            ),
        }
    }
}

impl From<io::Error> for FetchError {
    fn from(e: io::Error) -> Self {
        FetchError::Wire(WireError::Io(e))
    }
}

impl From<WireError> for FetchError {
    fn from(e: WireError) -> Self {
        FetchError::Wire(e)
    }
}

impl FetchError {
    /// The peer simply has nothing for us (another magnet peer, a client without BEP 9):
    /// worth an `info!`, not a warning.
    pub fn is_no_metadata(&self) -> bool {
        matches!(
            self,
            FetchError::NoExtensions | FetchError::NoMetadata | FetchError::Rejected(_)
        )
    }
}

/// Steps 1 to 5 with the peer at `addr`: the metadata's bytes, not yet checked.
pub fn fetch_from(addr: SocketAddr, asker: &Asker) -> Result<Vec<u8>, FetchError> {
    let stream = net::connect(addr, asker.local_ip, CONNECT_TIMEOUTS)?; // 1
    let result = exchange(&stream, addr, asker);
    net::close(&stream, addr); // 5
    result
}

fn exchange(stream: &TcpStream, addr: SocketAddr, asker: &Asker) -> Result<Vec<u8>, FetchError> {
    let mut writer = BufWriter::new(Traced::new(stream, addr));
    let mut reader = ReadBefore {
        inner: Traced::new(stream, addr),
        stream,
        deadline: Instant::now() + METADATA_PEER_TIMEOUT,
    };
    // 2. the handshakes
    Handshake::new(asker.info_hash, asker.peer_id)
        .with_extensions()
        .write_to(&mut writer)?;
    writer.flush()?;
    let theirs = Handshake::read_from(&mut reader)?;
    if theirs.info_hash != asker.info_hash {
        return Err(FetchError::WrongSwarm);
    }
    if !theirs.supports_extensions() {
        return Err(FetchError::NoExtensions);
    }
    // 3. the extension handshakes
    let ours = extension::handshake_payload(asker.port, None);
    send(&mut writer, addr, extension::HANDSHAKE_ID, ours)?;
    writer.flush()?;
    let remote = loop {
        match Message::read_from(&mut reader)? {
            Message::Extended {
                id: extension::HANDSHAKE_ID,
                payload,
            } => break remote_metadata(&payload),
            other => debug!("{addr}: received {other}, skipped while fetching the metadata"),
        }
    };
    let (Some(their_id), Some(size)) = (remote.id, remote.size) else {
        return Err(FetchError::NoMetadata);
    };
    let size = metadata::check_size(size).map_err(FetchError::BadSize)?;
    let pieces = metadata::num_pieces(size as usize);
    info!("{addr}: has the metadata, {size} bytes in {pieces} pieces; requesting them");
    // 4. every piece requested at once, then the answers
    for piece in 0..pieces {
        let request = MetadataMessage::Request { piece };
        send(&mut writer, addr, their_id, request.to_payload())?;
    }
    writer.flush()?;
    let mut info = vec![0u8; size as usize];
    let mut got = vec![false; pieces as usize];
    let mut missing = pieces;
    while missing > 0 {
        let payload = match Message::read_from(&mut reader)? {
            Message::Extended {
                id: LOCAL_ID,
                payload,
            } => payload,
            other => {
                debug!("{addr}: received {other}, skipped while fetching the metadata");
                continue;
            }
        };
        let message = MetadataMessage::decode(&payload).map_err(FetchError::Bad)?;
        debug!("{addr}: received {message}");
        match message {
            MetadataMessage::Data {
                piece,
                total_size,
                data,
            } => {
                if total_size != size {
                    return Err(FetchError::SizeChanged {
                        announced: size,
                        now: total_size,
                    });
                }
                let bad = || FetchError::BadPiece {
                    piece,
                    len: data.len(),
                };
                let range = piece_range(size as usize, piece).ok_or_else(bad)?;
                if range.len() != data.len() {
                    return Err(bad());
                }
                if !got[piece as usize] {
                    got[piece as usize] = true;
                    missing -= 1;
                    info[range].copy_from_slice(&data);
                }
            }
            MetadataMessage::Reject { piece } => return Err(FetchError::Rejected(piece)),
            MetadataMessage::Request { piece } => {
                // We have no metadata to give yet.
                let reject = MetadataMessage::Reject { piece };
                send(&mut writer, addr, their_id, reject.to_payload())?;
                writer.flush()?;
            }
        }
    }
    Ok(info)
}

fn send(out: &mut impl Write, addr: SocketAddr, id: u8, payload: Vec<u8>) -> io::Result<()> {
    let message = Message::Extended { id, payload };
    debug!("{addr}: send {message}");
    message.write_to(out)
}
