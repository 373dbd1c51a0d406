//! The extended messages a connection receives (BEP 10): the remote's extension handshake (its
//! listening port, and the id it wants `ut_metadata` messages sent with), and BEP 9's metadata
//! requests, each answered at once with a 16 KiB `data` piece of our info dictionary, or a
//! `reject` for a piece past its end (or past
//! [`METADATA_REQUESTS_PER_CONNECTION`] answers on one connection).
//!
//! Metadata is served whether or not the remote is choked, as libtorrent and aria2 expect (they
//! ask before they are interested); with `--upload-rate` its bytes are charged to the token
//! bucket, so the blocks after them wait their turn. No socket calls of its own: answers go
//! through `Connection::send`.

use log::debug;

use super::{ConnError, Connection, Event};
use crate::defaults::METADATA_REQUESTS_PER_CONNECTION;
use crate::wire::Message;
use crate::wire::extension::{self, remote_metadata};
use crate::wire::metadata::{LOCAL_ID, MetadataMessage, piece_range};

impl Connection<'_> {
    /// An extended message: `id` 0 is the remote's extension handshake, [`LOCAL_ID`] a
    /// `ut_metadata` message; any other is ignored.
    pub(super) fn handle_extended(&mut self, id: u8, payload: &[u8]) -> Result<(), ConnError> {
        let remote = self.remote;
        if id == extension::HANDSHAKE_ID {
            if let Some(port) = extension::listen_port(payload) {
                debug!("{remote}: listens on port {port}");
                let _ = self.events.send(Event::ListenPort { id: self.id, port });
            }
            self.remote_ut_metadata = remote_metadata(payload).id;
            return Ok(());
        }
        if id != LOCAL_ID {
            debug!("{remote}: extended message {id} ignored");
            return Ok(());
        }
        match MetadataMessage::decode(payload) {
            Ok(MetadataMessage::Request { piece }) => self.serve_metadata(piece),
            Ok(other) => {
                debug!("{remote}: {other} ignored (we hold the metadata)");
                Ok(())
            }
            Err(e) => {
                debug!("{remote}: {e}; ignored");
                Ok(())
            }
        }
    }

    /// Answers a request for metadata piece `piece`.
    fn serve_metadata(&mut self, piece: u32) -> Result<(), ConnError> {
        let remote = self.remote;
        let Some(their_id) = self.remote_ut_metadata else {
            debug!("{remote}: metadata request without ut_metadata in its handshake, ignored");
            return Ok(());
        };
        let info = &self.shared.info_bytes;
        let range = piece_range(info.len(), piece)
            .filter(|_| self.metadata_served < METADATA_REQUESTS_PER_CONNECTION);
        let reply = match range {
            Some(range) => {
                self.metadata_served += 1;
                if let Some(limit) = &self.shared.upload_limit {
                    // Charged, not waited for: the next blocks wait instead.
                    let _ = limit.take(range.len() as u64);
                }
                MetadataMessage::Data {
                    piece,
                    total_size: info.len() as u32,
                    data: info[range].to_vec(),
                }
            }
            None => MetadataMessage::Reject { piece },
        };
        debug!("{remote}: send {reply}");
        self.send(&Message::Extended {
            id: their_id,
            payload: reply.to_payload(),
        })
    }
}
