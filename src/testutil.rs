//! Helpers shared by the unit tests of the codecs (compiled for tests only).

use std::io::{self, Read};

/// Joins literal pieces, so a golden input can be written field by field, each annotated.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

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

/// xorshift64: a tiny deterministic PRNG for the garbage-input tests, so a failure reproduces
/// exactly.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `input` with one to three bytes changed (to one of `alphabet` or to anything), inserted,
    /// removed, or the rest cut off.
    pub fn mutate(&mut self, mut input: Vec<u8>, alphabet: &[u8]) -> Vec<u8> {
        for _ in 0..=self.below(3) {
            let at = self.below(input.len() + 1);
            match self.below(5) {
                0 if at < input.len() => input[at] = alphabet[self.below(alphabet.len())],
                1 if at < input.len() => input[at] = self.next() as u8,
                2 => input.insert(at, alphabet[self.below(alphabet.len())]),
                3 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.truncate(at),
            }
        }
        input
    }
}
