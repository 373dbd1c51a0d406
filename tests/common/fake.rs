//! A hand-driven BitTorrent peer for tests: the test decides every message it sends and
//! checks every message it receives, so our peer's behaviour on the wire can be asserted.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::peer::frames::{FrameReader, Next};
use bittorrent_sim::wire::{Handshake, Message, WireError};

use super::DEADLINE;

pub const FAKE_ID: [u8; 20] = *b"-FAKE00-000000000000";

/// One connection driven by the test.
pub struct FakeConn {
    stream: TcpStream,
    frames: FrameReader,
}

impl FakeConn {
    /// Connects to `addr` and exchanges handshakes.
    pub fn connect(addr: SocketAddr, info_hash: InfoHash) -> FakeConn {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        let mut conn = FakeConn::wrap(stream);
        conn.send_raw(&handshake_bytes(info_hash));
        conn.read_handshake();
        conn
    }

    /// Accepts one connection on `listener` (within the deadline) and answers its handshake.
    pub fn accept(listener: &TcpListener, info_hash: InfoHash) -> FakeConn {
        let listener = listener.try_clone().expect("clone listener");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(listener.accept());
        });
        let (stream, _) = rx
            .recv_timeout(DEADLINE)
            .expect("a connection within the deadline")
            .expect("accept");
        let mut conn = FakeConn::wrap(stream);
        conn.read_handshake();
        conn.send_raw(&handshake_bytes(info_hash));
        conn
    }

    fn wrap(stream: TcpStream) -> FakeConn {
        FakeConn {
            stream,
            frames: FrameReader::new(),
        }
    }

    /// The handshake is read whole with a generous timeout, before frames begin.
    fn read_handshake(&mut self) {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Handshake::read_from(&mut BufReader::with_capacity(1, &self.stream))
            .expect("their handshake");
        self.stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
    }

    pub fn send(&mut self, message: &Message) {
        let mut bytes = Vec::new();
        message.write_to(&mut bytes).expect("encode");
        self.send_raw(&bytes);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// The next message within `wait`; `Err` when the connection closed.
    pub fn recv_within(&mut self, wait: Duration) -> Result<Option<Message>, WireError> {
        let until = Instant::now() + wait;
        loop {
            if let Next::Frame(frame) = self.frames.next(&mut &self.stream)? {
                return Ok(Some(frame.into_message()));
            }
            if Instant::now() >= until {
                return Ok(None);
            }
        }
    }

    /// Messages until `stop` returns true (included), within the deadline.
    pub fn recv_until(&mut self, mut stop: impl FnMut(&Message) -> bool) -> Vec<Message> {
        let until = Instant::now() + DEADLINE;
        let mut got = Vec::new();
        while Instant::now() < until {
            if let Some(message) = self
                .recv_within(Duration::from_millis(100))
                .expect("connection open")
            {
                let done = stop(&message);
                got.push(message);
                if done {
                    return got;
                }
            }
        }
        panic!("gave up waiting; received {got:?}");
    }

    /// Waits until the remote closes the connection.
    pub fn expect_closed(&mut self) {
        let until = Instant::now() + DEADLINE;
        while Instant::now() < until {
            match self.recv_within(Duration::from_millis(100)) {
                Err(_) => return,
                Ok(_) => continue,
            }
        }
        panic!("the connection was not closed");
    }
}

/// The 68 handshake bytes, written out field by field.
pub fn handshake_bytes(info_hash: InfoHash) -> Vec<u8> {
    let mut bytes = vec![19];
    bytes.extend_from_slice(b"BitTorrent protocol");
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(info_hash.as_bytes());
    bytes.extend_from_slice(&FAKE_ID);
    bytes
}
