//! Both sides of the MSE handshake against each other over a socket pair, reading one byte per
//! `read` (so the receiver's search for `HASH('req1', S)` and the initiator's for VC work on
//! short reads), and then the stream halves carrying bytes both ways.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use super::*;

const SKEY: [u8; 20] = [0x5a; 20];

/// Reads at most one byte per `read` from a socket.
struct Trickle<'a>(&'a UnixStream);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = buf.len().min(1);
        let mut socket = self.0;
        socket.read(&mut buf[..end])
    }
}

/// Runs A (`provide`, IA `ia`) against B (`receiver_skey`, `choose`), both on trickling reads.
fn handshake(
    provide: u32,
    receiver_skey: [u8; 20],
    choose: fn(u32) -> Option<Method>,
) -> (
    Result<Negotiated, MseError>,
    Result<Negotiated, MseError>,
    UnixStream,
    UnixStream,
) {
    let (a, b) = UnixStream::pair().expect("pair");
    let b2 = b.try_clone().expect("clone");
    let receiver = thread::spawn(move || {
        let result = respond(&mut Trickle(&b2), &mut &b2, &[], &receiver_skey, choose);
        if result.is_err() {
            let _ = b2.shutdown(std::net::Shutdown::Both);
        }
        result
    });
    let initiated = initiate(
        &mut Trickle(&a),
        &mut &a,
        &SKEY,
        provide,
        b"IA: our handshake",
    );
    if initiated.is_err() {
        let _ = a.shutdown(std::net::Shutdown::Both);
    }
    let responded = receiver.join().expect("receiver thread");
    (initiated, responded, a, b)
}

/// Sends `text` from one side's writing half, reads it back through the other's reading half.
fn carry(text: &[u8], from: &mut Negotiated, to: &mut Negotiated, a: &UnixStream, b: &UnixStream) {
    let mut writer = Encrypting::new(a, from.output.take());
    writer.write_all(text).expect("write");
    let mut got = vec![0u8; text.len()];
    to.input.reader(b).read_exact(&mut got).expect("read");
    assert_eq!(got, text);
}

#[test]
fn rc4_both_ways_after_a_trickled_handshake() {
    let (a_side, b_side, a, b) =
        handshake(RC4 | PLAINTEXT, SKEY, |p| Encryption::Require.select(p));
    let (mut a_side, mut b_side) = (a_side.expect("initiator"), b_side.expect("receiver"));
    assert_eq!((a_side.method, b_side.method), (Method::Rc4, Method::Rc4));
    // B reads the initial payload first, then the encrypted stream.
    let mut ia = [0u8; 17];
    b_side.input.reader(&b).read_exact(&mut ia).expect("ia");
    assert_eq!(&ia, b"IA: our handshake");
    carry(b"interested", &mut a_side, &mut b_side, &a, &b);
    carry(b"unchoke", &mut b_side, &mut a_side, &b, &a);
}

#[test]
fn the_stream_is_really_encrypted_on_the_wire() {
    let (a_side, _b_side, a, mut b) = handshake(RC4, SKEY, |p| Encryption::Prefer.select(p));
    let mut a_side = a_side.expect("initiator");
    Encrypting::new(&a, a_side.output.take())
        .write_all(b"\x13BitTorrent protocol")
        .expect("write");
    let mut raw = [0u8; 20];
    b.read_exact(&mut raw).expect("read");
    assert_ne!(&raw, b"\x13BitTorrent protocol");
}

#[test]
fn plaintext_selected_leaves_the_stream_plain() {
    let (a_side, b_side, a, mut b) =
        handshake(RC4 | PLAINTEXT, SKEY, |p| Encryption::Allow.select(p));
    let (mut a_side, mut b_side) = (a_side.expect("initiator"), b_side.expect("receiver"));
    assert_eq!(a_side.method, Method::Plaintext);
    assert!(a_side.output.is_none() && b_side.output.is_none());
    let mut ia = [0u8; 17];
    b_side.input.reader(&b).read_exact(&mut ia).expect("ia");
    Encrypting::new(&a, a_side.output.take())
        .write_all(b"plain")
        .expect("write");
    let mut raw = [0u8; 5];
    b.read_exact(&mut raw).expect("read");
    assert_eq!(&raw, b"plain");
}

#[test]
fn a_receiver_requiring_rc4_refuses_a_plaintext_only_offer() {
    let (a_side, b_side, _a, _b) = handshake(PLAINTEXT, SKEY, |p| Encryption::Require.select(p));
    assert!(matches!(
        b_side,
        Err(MseError::NoCommonMethod { provide: 1 })
    ));
    assert!(a_side.is_err());
}

#[test]
fn another_torrent_is_refused() {
    let (a_side, b_side, _a, _b) = handshake(RC4, [0x11; 20], |p| Encryption::Prefer.select(p));
    assert!(matches!(b_side, Err(MseError::UnknownTorrent)));
    assert!(a_side.is_err());
}

#[test]
fn policies_choose_as_documented() {
    assert_eq!(
        Encryption::Allow.select(RC4 | PLAINTEXT),
        Some(Method::Plaintext)
    );
    assert_eq!(
        Encryption::Prefer.select(RC4 | PLAINTEXT),
        Some(Method::Rc4)
    );
    assert_eq!(Encryption::Require.select(PLAINTEXT), None);
    assert_eq!(Encryption::Off.select(RC4), None);
    assert_eq!(Encryption::Require.provide(), RC4);
    assert!(!Encryption::Require.accepts(Handshake::Plain));
    assert!(!Encryption::Off.accepts(Handshake::Encrypted));
    assert!(Method::from_select(RC4 | PLAINTEXT, RC4 | PLAINTEXT).is_err());
    assert!(Method::from_select(PLAINTEXT, RC4).is_err());
}
