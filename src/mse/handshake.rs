//! The MSE handshake's five messages, from either side (A: the initiator, who connected; B:
//! the receiver):
//!
//! 1. A→B `Ya, PadA`: A's public key (96 bytes) and 0..512 random bytes.
//! 2. B→A `Yb, PadB`: the same from B. Both now know `S`.
//! 3. A→B `HASH('req1', S)`, `HASH('req2', SKEY) xor HASH('req3', S)`, then encrypted with
//!    A's key: `VC, crypto_provide, len(PadC), PadC, len(IA)`, then `IA` (the initial
//!    payload: our BitTorrent handshake). B finds the start of message 3 by `HASH('req1', S)`
//!    within 512 + 20 bytes after `Ya`.
//! 4. B→A, encrypted with B's key: `VC, crypto_select, len(PadD), PadD`. A finds it by the
//!    encrypted `VC` within 512 + 8 bytes after `Yb`.
//! 5. Both ways: the BitTorrent stream, RC4-encrypted if `crypto_select` was RC4, else plain.
//!
//! Numbers are big-endian (`crypto_*`: 4 bytes, lengths: 2). We send PadC and PadD empty, as
//! every client does (the spec reserves them), and accept up to 512 bytes of either.
//!
//! Pure: reads from an `impl Read`, writes to an `impl Write`; the caller sets the deadline.

use std::io::{Read, Write};

use super::dh::{KEY_LEN, KeyPair};
use super::input::Input;
use super::keys::{self, Cipher, Sender};
use super::stream::Decryptor;
use super::{Method, MseError};

/// The verification constant: 8 zero bytes, encrypted.
pub const VC: [u8; 8] = [0; 8];
/// The longest PadA, PadB, PadC or PadD.
pub const MAX_PAD: usize = 512;

/// A finished handshake: what each half of the connection needs from here on.
pub struct Negotiated {
    pub method: Method,
    /// The reading half: B's or A's keystream (RC4) or none, and the plaintext already read.
    pub input: Decryptor,
    /// The writing half's keystream (RC4), or none (plaintext).
    pub output: Option<Cipher>,
}

/// `Y` and a random padding of 0..=512 random bytes: message 1 or 2.
fn public_key_message(keys: &KeyPair) -> Vec<u8> {
    let pad_len = rand::random_range(0..=MAX_PAD);
    let mut message = keys.public().to_vec();
    message.extend((0..pad_len).map(|_| rand::random::<u8>()));
    message
}

/// Side A: we connected. `provide` is the crypto_provide bit set; `ia` is sent as the initial
/// payload (our BitTorrent handshake), encrypted whatever B selects.
pub fn initiate(
    reader: &mut impl Read,
    writer: &mut impl Write,
    skey: &[u8; 20],
    provide: u32,
    ia: &[u8],
) -> Result<Negotiated, MseError> {
    let keys = KeyPair::random();
    // 1. Ya, PadA
    writer.write_all(&public_key_message(&keys))?;
    writer.flush()?;
    // 2. Yb (PadB is skipped by the VC search below)
    let mut input = Input::new(reader, &[]);
    let s = keys.shared_secret(&input.take_array::<KEY_LEN>()?)?;
    let mut out = Cipher::new(Sender::A, &s, skey);
    let mut cipher_in = Cipher::new(Sender::B, &s, skey);
    // 3. HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide,
    //    len(PadC) = 0, len(IA)), ENCRYPT(IA)
    let ia_len = u16::try_from(ia.len()).map_err(|_| MseError::BadLength("IA", u16::MAX))?;
    let mut secret = Vec::with_capacity(8 + 4 + 2 + 2 + ia.len());
    secret.extend_from_slice(&VC);
    secret.extend_from_slice(&provide.to_be_bytes());
    secret.extend_from_slice(&0u16.to_be_bytes());
    secret.extend_from_slice(&ia_len.to_be_bytes());
    secret.extend_from_slice(ia);
    out.apply(&mut secret);
    let mut message = keys::req1(&s).to_vec();
    message.extend_from_slice(&keys::req2_xor_req3(skey, &s));
    message.extend_from_slice(&secret);
    writer.write_all(&message)?;
    writer.flush()?;
    // 4. ENCRYPT(VC), found within PadB's 512 bytes, then crypto_select, len(PadD), PadD
    let mut vc = VC;
    cipher_in.apply(&mut vc);
    input.sync(&vc, MAX_PAD + VC.len())?;
    let mut head = input.take_array::<6>()?;
    cipher_in.apply(&mut head);
    let select = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let pad_len = u16::from_be_bytes([head[4], head[5]]);
    let method = Method::from_select(select, provide)?;
    let mut pad = input.take(checked_pad("PadD", pad_len)?)?;
    cipher_in.apply(&mut pad);
    // 5. the stream: what came after PadD is already the payload
    Ok(finish(
        method,
        cipher_in,
        out,
        Vec::new(),
        input.into_rest(),
    ))
}

/// Side B: the remote connected. `prefix`: bytes of message 1 the listener already read;
/// `choose` picks crypto_select from the crypto_provide received (None: no common method).
pub fn respond(
    reader: &mut impl Read,
    writer: &mut impl Write,
    prefix: &[u8],
    skey: &[u8; 20],
    choose: impl Fn(u32) -> Option<Method>,
) -> Result<Negotiated, MseError> {
    let mut input = Input::new(reader, prefix);
    // 1. Ya (PadA is skipped by the req1 search below)
    let ya = input.take_array::<KEY_LEN>()?;
    // 2. Yb, PadB
    let keys = KeyPair::random();
    writer.write_all(&public_key_message(&keys))?;
    writer.flush()?;
    let s = keys.shared_secret(&ya)?;
    // 3. HASH('req1', S) within PadA's 512 bytes, then the torrent, then A's encrypted part
    input.sync(&keys::req1(&s), MAX_PAD + 20)?;
    if input.take_array::<20>()? != keys::req2_xor_req3(skey, &s) {
        return Err(MseError::UnknownTorrent);
    }
    let mut cipher_in = Cipher::new(Sender::A, &s, skey);
    let mut out = Cipher::new(Sender::B, &s, skey);
    let mut head = input.take_array::<14>()?;
    cipher_in.apply(&mut head);
    if head[..8] != VC {
        return Err(MseError::BadVc);
    }
    let provide = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
    let pad_len = u16::from_be_bytes([head[12], head[13]]);
    let mut pad = input.take(checked_pad("PadC", pad_len)?)?;
    cipher_in.apply(&mut pad);
    let mut ia_len = input.take_array::<2>()?;
    cipher_in.apply(&mut ia_len);
    let mut ia = input.take(usize::from(u16::from_be_bytes(ia_len)))?;
    cipher_in.apply(&mut ia);
    let method = choose(provide).ok_or(MseError::NoCommonMethod { provide })?;
    // 4. ENCRYPT(VC, crypto_select, len(PadD) = 0)
    let mut reply = Vec::with_capacity(14);
    reply.extend_from_slice(&VC);
    reply.extend_from_slice(&method.bit().to_be_bytes());
    reply.extend_from_slice(&0u16.to_be_bytes());
    out.apply(&mut reply);
    writer.write_all(&reply)?;
    writer.flush()?;
    Ok(finish(method, cipher_in, out, ia, input.into_rest()))
}

fn checked_pad(name: &'static str, len: u16) -> Result<usize, MseError> {
    if usize::from(len) > MAX_PAD {
        return Err(MseError::BadLength(name, len));
    }
    Ok(usize::from(len))
}

/// The two halves from here on. `ia`: the initial payload, already decrypted; `rest`: bytes
/// read after the handshake, in the selected method.
fn finish(
    method: Method,
    mut cipher_in: Cipher,
    out: Cipher,
    mut ia: Vec<u8>,
    mut rest: Vec<u8>,
) -> Negotiated {
    match method {
        Method::Rc4 => {
            cipher_in.apply(&mut rest);
            ia.extend_from_slice(&rest);
            Negotiated {
                method,
                input: Decryptor::new(Some(cipher_in), ia),
                output: Some(out),
            }
        }
        Method::Plaintext => {
            ia.extend_from_slice(&rest);
            Negotiated {
                method,
                input: Decryptor::new(None, ia),
                output: None,
            }
        }
    }
}
