//! Helpers shared by the unit tests of the codecs (compiled for tests only).

use std::io::{self, Read};

/// A reader that returns at most one byte per `read()`, as a slow TCP stream may: a codec
/// that reads through it proves it handles short reads.
pub struct OneByte<'a>(pub &'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((first, rest)), Some(slot)) => {
                *slot = *first;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}
