//! The five datagrams of the flooding chunk network, byte for byte as
//! docs/flood.md ("The datagrams, byte by byte") fixes them, and their codec.
//!
//! Every integer is 16 bits, big-endian:
//!
//! | type | name        | layout after the 2-byte type                          |
//! |------|-------------|-------------------------------------------------------|
//! | 1    | HELLO       | count(2) ids(2 x count)                               |
//! | 2    | QUERY       | client-IPv4(4) client-port(2) ttl(2) count(2) ids(..) |
//! | 3    | CHUNKS_INFO | count(2) ids(2 x count)                               |
//! | 4    | GET         | count(2) ids(2 x count)                               |
//! | 5    | RESPONSE    | chunk-id(2) chunk-size(2) chunk bytes (<= 1024)       |
//!
//! This module is a pure codec: no sockets here, no logging, no allocation sized by a number read
//! from the wire before the datagram's length has vouched for it. Decoding is strict: a datagram
//! whose length does not match its own count (or chunk size) is malformed, so every accepted
//! datagram re-encodes to exactly the same bytes.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Largest chunk a RESPONSE may carry.
pub const MAX_CHUNK_SIZE: usize = 1024;
/// Most chunk ids one message may list (a cap of ours, so no datagram exceeds [`MAX_DATAGRAM`]).
pub const MAX_IDS: usize = 512;
/// The largest legal datagram: a QUERY listing [`MAX_IDS`] ids (12 + 2 x 512 = 1036 bytes).
/// Anything longer is refused as oversized.
pub const MAX_DATAGRAM: usize = QUERY_HEADER + 2 * MAX_IDS;

/// Type codes on the wire.
pub const HELLO: u16 = 1;
pub const QUERY: u16 = 2;
pub const CHUNKS_INFO: u16 = 3;
pub const GET: u16 = 4;
pub const RESPONSE: u16 = 5;

const QUERY_HEADER: usize = 12; // type, ip, port, ttl, count
const RESPONSE_HEADER: usize = 6; // type, chunk id, chunk size

/// One datagram of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Client to its contact peer: "who has these chunks?"
    Hello { ids: Vec<u16> },
    /// Peer to its neighbours: the client's question, flooded with a time to live.
    Query {
        client: SocketAddrV4,
        ttl: u16,
        ids: Vec<u16>,
    },
    /// Peer to client: "I hold these of the chunks you asked for."
    ChunksInfo { ids: Vec<u16> },
    /// Client to the holder it chose: "send me these chunks."
    Get { ids: Vec<u16> },
    /// Peer to client: one chunk.
    Response { id: u16, data: Vec<u8> },
}

/// Why a datagram is not a message (or a message cannot be encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloodWireError {
    /// Fewer bytes than the fixed header of the type (or than the type field itself).
    TooShort { needed: usize, got: usize },
    /// Longer than [`MAX_DATAGRAM`].
    Oversized { len: usize },
    /// A type code other than 1 to 5.
    UnknownType(u16),
    /// The count field asks for more ids than [`MAX_IDS`].
    TooManyIds { count: usize },
    /// The datagram's length does not match the count (ids missing or bytes left over).
    CountMismatch { count: usize, id_bytes: usize },
    /// A RESPONSE whose chunk-size field exceeds [`MAX_CHUNK_SIZE`].
    ChunkTooLarge { size: usize },
    /// A RESPONSE whose chunk-size field does not match the bytes that follow it.
    SizeMismatch { size: usize, data_bytes: usize },
}

impl fmt::Display for FloodWireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { needed, got } => {
                write!(f, "too short: {got} bytes, the header needs {needed}")
            }
            Self::Oversized { len } => {
                write!(f, "oversized: {len} bytes, at most {MAX_DATAGRAM} allowed")
            }
            Self::UnknownType(code) => write!(f, "unknown message type {code}"),
            Self::TooManyIds { count } => {
                write!(f, "count {count} exceeds the cap of {MAX_IDS} ids")
            }
            Self::CountMismatch { count, id_bytes } => write!(
                f,
                "count {count} needs {} id bytes, the datagram has {id_bytes}",
                2 * count
            ),
            Self::ChunkTooLarge { size } => {
                write!(f, "chunk size {size} exceeds {MAX_CHUNK_SIZE} bytes")
            }
            Self::SizeMismatch { size, data_bytes } => write!(
                f,
                "chunk size field says {size} bytes, the datagram carries {data_bytes}"
            ),
        }
    }
}

impl std::error::Error for FloodWireError {}

impl Message {
    /// The type code written first on the wire.
    pub fn type_code(&self) -> u16 {
        match self {
            Self::Hello { .. } => HELLO,
            Self::Query { .. } => QUERY,
            Self::ChunksInfo { .. } => CHUNKS_INFO,
            Self::Get { .. } => GET,
            Self::Response { .. } => RESPONSE,
        }
    }

    /// The protocol's name for the type, lower case, as the logs print it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Query { .. } => "query",
            Self::ChunksInfo { .. } => "chunks_info",
            Self::Get { .. } => "get",
            Self::Response { .. } => "response",
        }
    }

    /// The length of the datagram [`Message::encode`] writes, without writing it.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Hello { ids } | Self::ChunksInfo { ids } | Self::Get { ids } => 4 + 2 * ids.len(),
            Self::Query { ids, .. } => QUERY_HEADER + 2 * ids.len(),
            Self::Response { data, .. } => RESPONSE_HEADER + data.len(),
        }
    }

    /// The datagram for this message. Refuses (rather than truncates) an id list longer than
    /// [`MAX_IDS`] or a chunk larger than [`MAX_CHUNK_SIZE`].
    pub fn encode(&self) -> Result<Vec<u8>, FloodWireError> {
        let mut out = Vec::with_capacity(MAX_DATAGRAM);
        put(&mut out, self.type_code());
        match self {
            Self::Hello { ids } | Self::ChunksInfo { ids } | Self::Get { ids } => {
                put_ids(&mut out, ids)?;
            }
            Self::Query { client, ttl, ids } => {
                out.extend_from_slice(&client.ip().octets());
                put(&mut out, client.port());
                put(&mut out, *ttl);
                put_ids(&mut out, ids)?;
            }
            Self::Response { id, data } => {
                if data.len() > MAX_CHUNK_SIZE {
                    return Err(FloodWireError::ChunkTooLarge { size: data.len() });
                }
                put(&mut out, *id);
                put(&mut out, data.len() as u16); // <= 1024, checked above
                out.extend_from_slice(data);
            }
        }
        Ok(out)
    }

    /// Parses one datagram. Never panics, whatever the bytes.
    pub fn decode(datagram: &[u8]) -> Result<Message, FloodWireError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(FloodWireError::Oversized {
                len: datagram.len(),
            });
        }
        let code = get(datagram, 0)?;
        match code {
            HELLO => Ok(Self::Hello {
                ids: get_ids(datagram, 2)?,
            }),
            CHUNKS_INFO => Ok(Self::ChunksInfo {
                ids: get_ids(datagram, 2)?,
            }),
            GET => Ok(Self::Get {
                ids: get_ids(datagram, 2)?,
            }),
            QUERY => {
                need(datagram, QUERY_HEADER)?;
                let ip = Ipv4Addr::new(datagram[2], datagram[3], datagram[4], datagram[5]);
                let port = get(datagram, 6)?;
                let ttl = get(datagram, 8)?;
                Ok(Self::Query {
                    client: SocketAddrV4::new(ip, port),
                    ttl,
                    ids: get_ids(datagram, 10)?,
                })
            }
            RESPONSE => {
                need(datagram, RESPONSE_HEADER)?;
                let id = get(datagram, 2)?;
                let size = usize::from(get(datagram, 4)?);
                if size > MAX_CHUNK_SIZE {
                    return Err(FloodWireError::ChunkTooLarge { size });
                }
                let data = &datagram[RESPONSE_HEADER..];
                if data.len() != size {
                    return Err(FloodWireError::SizeMismatch {
                        size,
                        data_bytes: data.len(),
                    });
                }
                Ok(Self::Response {
                    id,
                    data: data.to_vec(),
                })
            }
            other => Err(FloodWireError::UnknownType(other)),
        }
    }
}

impl fmt::Display for Message {
    /// `hello ids=[5,6,7]`, `query client=1.2.3.4:5 ttl=3 ids=[5]`, `response id=5 size=1024`:
    /// the form every log line uses, so tests and students can grep it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::Hello { ids } | Self::ChunksInfo { ids } | Self::Get { ids } => {
                write!(f, " ids={}", IdList(ids))
            }
            Self::Query { client, ttl, ids } => {
                write!(f, " client={client} ttl={ttl} ids={}", IdList(ids))
            }
            Self::Response { id, data } => write!(f, " id={id} size={}", data.len()),
        }
    }
}

/// Prints ids as `[5,6,7]`.
pub struct IdList<'a>(pub &'a [u16]);

impl fmt::Display for IdList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{id}")?;
        }
        f.write_str("]")
    }
}

fn put(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_ids(out: &mut Vec<u8>, ids: &[u16]) -> Result<(), FloodWireError> {
    if ids.len() > MAX_IDS {
        return Err(FloodWireError::TooManyIds { count: ids.len() });
    }
    put(out, ids.len() as u16); // <= MAX_IDS, checked above
    for id in ids {
        put(out, *id);
    }
    Ok(())
}

fn need(datagram: &[u8], needed: usize) -> Result<(), FloodWireError> {
    if datagram.len() < needed {
        return Err(FloodWireError::TooShort {
            needed,
            got: datagram.len(),
        });
    }
    Ok(())
}

/// The big-endian u16 at `at`; a datagram too short for it is `TooShort`.
fn get(datagram: &[u8], at: usize) -> Result<u16, FloodWireError> {
    need(datagram, at + 2)?;
    Ok(u16::from_be_bytes([datagram[at], datagram[at + 1]]))
}

/// The id list whose count field sits at `at`; the ids must fill the rest of the datagram exactly.
fn get_ids(datagram: &[u8], at: usize) -> Result<Vec<u16>, FloodWireError> {
    let count = usize::from(get(datagram, at)?);
    if count > MAX_IDS {
        return Err(FloodWireError::TooManyIds { count });
    }
    let id_bytes = &datagram[at + 2..];
    if id_bytes.len() != 2 * count {
        return Err(FloodWireError::CountMismatch {
            count,
            id_bytes: id_bytes.len(),
        });
    }
    Ok(id_bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect())
}
