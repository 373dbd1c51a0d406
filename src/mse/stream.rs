//! A connection's two halves after the MSE handshake: [`Decryptor`] (the reading half's
//! keystream and the plaintext already read) lends a [`DecryptingReader`] over the socket for
//! each read, and [`Encrypting`] wraps the writer. Without a keystream (a plain BEP 3
//! connection, or MSE with crypto_select plaintext) both pass bytes through untouched, so the
//! connection code reads and writes through `impl Read` / `impl Write` either way.
//!
//! Pure: generic over the inner reader and writer.

use std::io::{self, IoSlice, Read, Write};

use super::keys::Cipher;

/// The reading half: its keystream (none: plain) and plaintext read ahead by the handshake.
pub struct Decryptor {
    cipher: Option<Cipher>,
    pending: Vec<u8>,
    at: usize,
}

impl Decryptor {
    /// `pending`: plaintext already read (the MSE initial payload, or the listener's look at
    /// a plain handshake), handed out before the socket is read again.
    pub fn new(cipher: Option<Cipher>, pending: Vec<u8>) -> Decryptor {
        Decryptor {
            cipher,
            pending,
            at: 0,
        }
    }

    /// A plain connection with nothing read ahead.
    pub fn plain() -> Decryptor {
        Decryptor::new(None, Vec::new())
    }

    /// Whether plaintext waits that the socket no longer shows.
    pub fn has_pending(&self) -> bool {
        self.at < self.pending.len()
    }

    /// A reader over `inner` for one or more reads.
    pub fn reader<R: Read>(&mut self, inner: R) -> DecryptingReader<'_, R> {
        DecryptingReader { half: self, inner }
    }
}

/// Reads the pending plaintext first, then `inner`, decrypting as it goes.
pub struct DecryptingReader<'d, R> {
    half: &'d mut Decryptor,
    inner: R,
}

impl<R: Read> Read for DecryptingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let half = &mut *self.half;
        if half.has_pending() {
            let n = buf.len().min(half.pending.len() - half.at);
            buf[..n].copy_from_slice(&half.pending[half.at..half.at + n]);
            half.at += n;
            if !half.has_pending() {
                half.pending = Vec::new();
                half.at = 0;
            }
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        if let Some(cipher) = &mut half.cipher {
            cipher.apply(&mut buf[..n]);
        }
        Ok(n)
    }
}

/// The writing half: encrypts everything written (RC4), or passes it through.
pub struct Encrypting<W> {
    inner: W,
    cipher: Option<Cipher>,
    scratch: Vec<u8>,
}

impl<W: Write> Encrypting<W> {
    pub fn new(inner: W, cipher: Option<Cipher>) -> Encrypting<W> {
        Encrypting {
            inner,
            cipher,
            scratch: Vec::new(),
        }
    }
}

/// Encrypts `bufs` into `scratch` and writes all of it: the keystream has moved on, so a
/// short write cannot be reported (an error ends the connection anyway).
fn write_encrypted(
    inner: &mut impl Write,
    cipher: &mut Cipher,
    scratch: &mut Vec<u8>,
    bufs: &[&[u8]],
) -> io::Result<usize> {
    scratch.clear();
    for buf in bufs {
        scratch.extend_from_slice(buf);
    }
    cipher.apply(scratch);
    inner.write_all(scratch)?;
    Ok(scratch.len())
}

impl<W: Write> Write for Encrypting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.cipher {
            None => self.inner.write(buf),
            Some(cipher) => write_encrypted(&mut self.inner, cipher, &mut self.scratch, &[buf]),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &mut self.cipher {
            None => self.inner.write_vectored(bufs),
            Some(cipher) => {
                let slices: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
                write_encrypted(&mut self.inner, cipher, &mut self.scratch, &slices)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
