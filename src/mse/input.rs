//! The bytes an MSE handshake reads, buffered: [`Input::take`] exactly `n` bytes, or
//! [`Input::sync`] past a pattern that may start anywhere within a window (the padding before
//! it has a random length). However the bytes arrive (one per `read` or all at once), the
//! result is the same; what was read beyond the handshake is handed back by
//! [`Input::into_rest`].
//!
//! No decryption here: the caller decrypts what it takes.

use std::io::{self, Read};

use super::MseError;

/// How much one `read` asks for.
const CHUNK: usize = 1024;

/// A reader and what was read from it but not yet taken.
pub struct Input<'r, R> {
    inner: &'r mut R,
    buf: Vec<u8>,
    start: usize,
}

impl<'r, R: Read> Input<'r, R> {
    /// `prefix`: bytes already read from `inner` (the listener's first look).
    pub fn new(inner: &'r mut R, prefix: &[u8]) -> Input<'r, R> {
        Input {
            inner,
            buf: prefix.to_vec(),
            start: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// One more `read`; the end of the stream is an error (the handshake is not complete).
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let read = self.inner.read(&mut self.buf[len..]);
        let n = *read.as_ref().unwrap_or(&0);
        self.buf.truncate(len + n);
        match read {
            Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<Vec<u8>, MseError> {
        while self.buffered().len() < n {
            self.fill()?;
        }
        let taken = self.buffered()[..n].to_vec();
        self.start += n;
        Ok(taken)
    }

    /// The next `N` bytes as an array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], MseError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&bytes);
        Ok(out)
    }

    /// Skips to just past `pattern`, which must end within the next `window` bytes.
    pub fn sync(&mut self, pattern: &[u8], window: usize) -> Result<(), MseError> {
        loop {
            let data = self.buffered();
            let limit = data.len().min(window);
            if let Some(at) = data[..limit]
                .windows(pattern.len())
                .position(|w| w == pattern)
            {
                self.start += at + pattern.len();
                return Ok(());
            }
            if data.len() >= window {
                return Err(MseError::NoSync { window });
            }
            self.fill()?;
        }
    }

    /// What was read but not taken.
    pub fn into_rest(self) -> Vec<u8> {
        self.buf[self.start..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::OneByte;

    #[test]
    fn sync_finds_a_pattern_after_padding_one_byte_per_read() {
        let mut bytes = vec![7u8; 300];
        bytes.extend_from_slice(b"MARK");
        bytes.extend_from_slice(b"rest");
        let mut reader = OneByte(&bytes);
        let mut input = Input::new(&mut reader, &[]);
        input.sync(b"MARK", 512 + 4).expect("found");
        assert_eq!(input.take(4).expect("take"), b"rest");
    }

    #[test]
    fn sync_gives_up_past_its_window() {
        let mut bytes = vec![7u8; 600];
        bytes.extend_from_slice(b"MARK");
        let mut reader = OneByte(&bytes);
        let mut input = Input::new(&mut reader, &[]);
        assert!(matches!(
            input.sync(b"MARK", 516),
            Err(MseError::NoSync { window: 516 })
        ));
    }

    #[test]
    fn a_prefix_is_read_first_and_the_rest_handed_back() {
        let mut reader: &[u8] = b"cdefgh";
        let mut input = Input::new(&mut reader, b"ab");
        assert_eq!(input.take(3).expect("take"), b"abc");
        assert_eq!(input.into_rest(), b"defgh");
    }
}
