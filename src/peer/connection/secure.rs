//! The first half of step 2 of a connection (`connection.rs`), before the BitTorrent
//! handshake: which handshake this connection speaks, plain BEP 3 or MSE-encrypted
//! (`mse.rs`), as `--encryption` allows.
//!
//! * Outgoing: the handshake of this attempt (`Encryption::attempts`; `connection.rs` retries
//!   on a new connection with the next one). MSE carries our BitTorrent handshake as its
//!   initial payload.
//! * Incoming: the first 20 bytes tell. `\x13BitTorrent protocol` is a plain handshake (those
//!   bytes are handed on, still unread, to `connection/handshake.rs`); anything else is the
//!   start of an MSE public key, and we answer as MSE's receiver.
//!
//! [`handshakes`] then runs the BitTorrent handshake (`connection/handshake.rs`) through the
//! halves chosen. Both ways, every read ends by `--handshake-timeout` however slowly bytes trickle in. What
//! it returns: the connection's reading half (keystream and bytes read ahead) and writing
//! half's keystream, both none for plain.

use std::io::{BufWriter, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use log::info;

use super::{ConnError, Side};
use crate::mse::{self, Decryptor, Encrypting, Handshake, Method, keys::Cipher};
use crate::net::{self, traced::Traced};
use crate::peer::PeerState;
use crate::wire::{self, PROTOCOL};

/// A connection whose handshake kind is settled.
pub(super) struct Secured {
    pub input: Decryptor,
    pub output: Option<Cipher>,
    /// Which handshake, and with MSE which method followed.
    pub handshake: Handshake,
    pub method: Option<Method>,
    /// Our BitTorrent handshake already went, as MSE's initial payload.
    pub handshake_sent: bool,
}

impl Secured {
    fn plain(read_ahead: Vec<u8>) -> Secured {
        Secured {
            input: Decryptor::new(None, read_ahead),
            output: None,
            handshake: Handshake::Plain,
            method: None,
            handshake_sent: false,
        }
    }

    fn encrypted(negotiated: mse::Negotiated, handshake_sent: bool) -> Secured {
        Secured {
            input: negotiated.input,
            output: negotiated.output,
            handshake: Handshake::Encrypted,
            method: Some(negotiated.method),
            handshake_sent,
        }
    }

    /// For logs: `plain`, `encrypted, rc4` or `encrypted, plaintext`.
    pub fn describe(&self) -> String {
        match self.method {
            None => self.handshake.name().to_string(),
            Some(method) => format!("{}, {}", self.handshake.name(), method.name()),
        }
    }

    /// The trace's `encryption` field: `none`, `rc4` or `plaintext` (MSE's).
    pub fn trace_name(&self) -> &'static str {
        self.method.map_or("none", Method::name)
    }
}

/// The halves of a connection whose handshakes are done, and whether the remote speaks BEP 10.
pub(super) type Handshaken<'a> = (Decryptor, BufWriter<Encrypting<Traced<'a>>>, bool);

/// Step 2: plain or encrypted (`attempt`, outgoing; the remote's choice, incoming), then the
/// BitTorrent handshake through the halves that chose.
pub(super) fn handshakes<'a>(
    stream: &'a TcpStream,
    remote: SocketAddr,
    side: &mut Side,
    attempt: Handshake,
    shared: &PeerState,
) -> Result<Handshaken<'a>, ConnError> {
    let mut secured = match side {
        Side::Outgoing => outgoing(stream, remote, attempt, shared)?,
        Side::Incoming(_) => incoming(stream, remote, shared)?,
    };
    let output = Encrypting::new(Traced::new(stream, remote), secured.output.take());
    let mut writer = BufWriter::with_capacity(64 * 1024, output);
    let extensions =
        super::handshake::exchange(stream, remote, side, shared, &mut secured, &mut writer)?;
    Ok((secured.input, writer, extensions))
}

/// An outgoing attempt with `handshake`.
pub(super) fn outgoing(
    stream: &TcpStream,
    remote: SocketAddr,
    handshake: Handshake,
    shared: &PeerState,
) -> Result<Secured, ConnError> {
    if handshake == Handshake::Plain {
        return Ok(Secured::plain(Vec::new()));
    }
    let mut ours = Vec::with_capacity(wire::HANDSHAKE_LEN);
    wire::Handshake::new(shared.metainfo.info_hash, shared.peer_id)
        .with_extensions()
        .write_to(&mut ours)?;
    let negotiated = mse::initiate(
        &mut reader(stream, remote, shared),
        &mut Traced::new(stream, remote),
        &shared.metainfo.info_hash.0,
        shared.encryption.provide(),
        &ours,
    )?;
    info!(
        "{remote}: encrypted handshake ({}) negotiated, we initiated",
        negotiated.method.name()
    );
    Ok(Secured::encrypted(negotiated, true))
}

/// An accepted connection: plain or MSE by its first 20 bytes.
pub(super) fn incoming(
    stream: &TcpStream,
    remote: SocketAddr,
    shared: &PeerState,
) -> Result<Secured, ConnError> {
    let mut reader = reader(stream, remote, shared);
    let mut first = [0u8; 20];
    reader.read_exact(&mut first)?;
    let plain = usize::from(first[0]) == PROTOCOL.len() && &first[1..] == PROTOCOL;
    let handshake = if plain {
        Handshake::Plain
    } else {
        Handshake::Encrypted
    };
    let policy = shared.encryption;
    if !policy.accepts(handshake) {
        return Err(mse::MseError::Refused { handshake, policy }.into());
    }
    if plain {
        return Ok(Secured::plain(first.to_vec()));
    }
    let negotiated = mse::respond(
        &mut reader,
        &mut Traced::new(stream, remote),
        &first,
        &shared.metainfo.info_hash.0,
        |provide| policy.select(provide),
    )?;
    info!(
        "{remote}: encrypted handshake ({}) negotiated, the remote initiated",
        negotiated.method.name()
    );
    Ok(Secured::encrypted(negotiated, false))
}

/// The socket's reads, all ending by one `--handshake-timeout` deadline.
fn reader<'a>(
    stream: &'a TcpStream,
    remote: SocketAddr,
    shared: &PeerState,
) -> net::ReadBefore<'a, Traced<'a>> {
    net::ReadBefore {
        inner: Traced::new(stream, remote),
        stream,
        deadline: Instant::now() + shared.handshake_timeout,
    }
}
