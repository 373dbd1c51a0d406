//! The second half of step 2 of a connection (`connection.rs`): the BitTorrent handshake,
//! plain or inside MSE as the first half chose (`connection/secure.rs`; reads and writes then
//! go through its halves). `write_all` ours and `read_exact` theirs (the side that connected
//! writes first; over MSE ours already went as the initial payload), all of it within
//! `--handshake-timeout` however slowly it trickles in. Garbage, another swarm's info-hash or
//! our own peer id ends the connection here; an accepted connection takes its established
//! slot (`admission.rs`) before it answers.
//!
//! Nothing after the handshake: the bitfield and the loop are `connection.rs`'s.

use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use log::info;

use super::secure::Secured;
use super::{ConnError, Side};
use crate::mse::Encrypting;
use crate::net::{self, traced::Traced};
use crate::peer::PeerState;
use crate::trace::{self, Dir};
use crate::wire::Handshake;

/// Step 2, second half: `write_all` our handshake and `read_exact` theirs, the side that connected
/// first; an accepted connection takes its established slot before it answers.
pub(super) fn exchange(
    stream: &TcpStream,
    remote: SocketAddr,
    side: &mut Side,
    shared: &PeerState,
    secured: &mut Secured,
    writer: &mut BufWriter<Encrypting<Traced<'_>>>,
) -> Result<bool, ConnError> {
    let metainfo = &shared.metainfo;
    let local = stream.local_addr().ok();
    let encryption = secured.trace_name();
    let trace_handshake = |dir, peer_id: &[u8; 20]| {
        let fields = [
            ("info_hash", metainfo.info_hash.short().into()),
            ("peer_id", printable(peer_id).into()),
            ("encryption", encryption.into()),
        ];
        trace::record(dir, "bittorrent", local, remote, "handshake", &fields);
    };
    let ours = Handshake::new(metainfo.info_hash, shared.peer_id).with_extensions();
    if let Side::Outgoing = side {
        if !secured.handshake_sent {
            ours.write_to(writer)?;
            writer.flush()?;
        }
        trace_handshake(Dir::Send, &shared.peer_id);
    }
    let theirs = Handshake::read_from(&mut secured.input.reader(net::ReadBefore {
        inner: Traced::new(stream, remote),
        stream,
        deadline: Instant::now() + shared.handshake_timeout,
    }))?;
    trace_handshake(Dir::Recv, &theirs.peer_id);
    if theirs.info_hash != metainfo.info_hash {
        return Err(ConnError::WrongSwarm);
    }
    if theirs.peer_id == shared.peer_id {
        return Err(ConnError::Myself);
    }
    if let Side::Incoming(ticket) = side {
        ticket.establish().map_err(ConnError::Refused)?;
        ours.write_to(writer)?;
        trace_handshake(Dir::Send, &shared.peer_id);
    }
    info!(
        "{remote}: handshake done, peer id {} ({})",
        printable(&theirs.peer_id),
        secured.describe()
    );
    Ok(theirs.supports_extensions())
}

/// A peer id for logs: its printable prefix (`-lt2080-`, `-BS0100-`).
fn printable(peer_id: &[u8; 20]) -> String {
    peer_id
        .iter()
        .take(8)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect()
}
