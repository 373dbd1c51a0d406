//! `PieceSet`: which pieces of a torrent a peer holds, and its three spellings:
//!
//! * range lists for the tracker's text protocol and logs (`0-3,5,9-12`, `-` when empty),
//!   easy to type with `nc`;
//! * BEP 3 bitfield bytes for the peer wire (byte 0's high bit is piece 0, spare bits zero);
//! * a one-line piece map for the terminal (`#` held, `+` partly held, `.` missing).
//!
//! Pure data, no I/O.

use std::fmt;

/// A set of piece indices below a fixed count.
#[derive(Clone, PartialEq, Eq)]
pub struct PieceSet {
    bits: Vec<u8>,
    len: u32,
    count: u32,
}

/// Why a range list or a bitfield was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceSetError {
    /// A range list item that is not `N` or `N-M` with N <= M.
    BadRange(String),
    /// A piece index at or past the piece count.
    OutOfRange { index: u64, pieces: u32 },
    /// A bitfield of the wrong length or with spare bits set.
    BadBitfield { bytes: usize, pieces: u32 },
}

impl fmt::Display for PieceSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PieceSetError::BadRange(item) => {
                write!(
                    f,
                    "`{item}` is not a piece range (write 5 or 0-9, comma separated, or -)"
                )
            }
            PieceSetError::OutOfRange { index, pieces } => {
                write!(
                    f,
                    "piece {index} does not exist (the torrent has {pieces} pieces)"
                )
            }
            PieceSetError::BadBitfield { bytes, pieces } => write!(
                f,
                "bitfield of {bytes} bytes does not fit {pieces} pieces (needs {} bytes, spare bits zero)",
                pieces.div_ceil(8)
            ),
        }
    }
}

impl std::error::Error for PieceSetError {}

impl PieceSet {
    /// The empty set of a torrent with `len` pieces.
    pub fn empty(len: u32) -> PieceSet {
        PieceSet {
            bits: vec![0; len.div_ceil(8) as usize],
            len,
            count: 0,
        }
    }

    /// Every piece of a torrent with `len` pieces.
    pub fn full(len: u32) -> PieceSet {
        let mut set = PieceSet::empty(len);
        for index in 0..len {
            set.insert(index);
        }
        set
    }

    /// Number of pieces in the torrent (not in the set).
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Pieces held.
    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn is_complete(&self) -> bool {
        self.count == self.len
    }

    pub fn contains(&self, index: u32) -> bool {
        index < self.len && self.bits[(index / 8) as usize] & mask(index) != 0
    }

    /// Adds `index`; returns whether it was new. Indices past the end are ignored.
    pub fn insert(&mut self, index: u32) -> bool {
        if index >= self.len || self.contains(index) {
            return false;
        }
        self.bits[(index / 8) as usize] |= mask(index);
        self.count += 1;
        true
    }

    /// The held indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.contains(i))
    }

    /// The missing indices, ascending.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| !self.contains(i))
    }

    /// Percent complete, 0 to 100.
    pub fn percent(&self) -> u32 {
        if self.len == 0 {
            100
        } else {
            (u64::from(self.count) * 100 / u64::from(self.len)) as u32
        }
    }

    /// The range list: `0-3,5,9-12`, or `-` for the empty set.
    pub fn to_ranges(&self) -> String {
        let mut out = String::new();
        let mut index = 0;
        while index < self.len {
            if !self.contains(index) {
                index += 1;
                continue;
            }
            let start = index;
            while index + 1 < self.len && self.contains(index + 1) {
                index += 1;
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == index {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}-{index}"));
            }
            index += 1;
        }
        if out.is_empty() { "-".to_string() } else { out }
    }

    /// Parses a range list for a torrent of `len` pieces.
    pub fn from_ranges(text: &str, len: u32) -> Result<PieceSet, PieceSetError> {
        let mut set = PieceSet::empty(len);
        if text == "-" {
            return Ok(set);
        }
        for item in text.split(',') {
            let bad = || PieceSetError::BadRange(item.chars().take(40).collect());
            let (first, last) = match item.split_once('-') {
                Some((a, b)) => (
                    parse_index(a).ok_or_else(bad)?,
                    parse_index(b).ok_or_else(bad)?,
                ),
                None => {
                    let n = parse_index(item).ok_or_else(bad)?;
                    (n, n)
                }
            };
            if first > last {
                return Err(bad());
            }
            if last >= u64::from(len) {
                return Err(PieceSetError::OutOfRange {
                    index: last,
                    pieces: len,
                });
            }
            for index in first..=last {
                set.insert(index as u32);
            }
        }
        Ok(set)
    }

    /// The BEP 3 bitfield payload.
    pub fn to_bitfield(&self) -> Vec<u8> {
        self.bits.clone()
    }

    /// Reads a BEP 3 bitfield payload: exactly ceil(len/8) bytes, spare bits zero.
    pub fn from_bitfield(bytes: &[u8], len: u32) -> Result<PieceSet, PieceSetError> {
        let bad = PieceSetError::BadBitfield {
            bytes: bytes.len(),
            pieces: len,
        };
        if bytes.len() != len.div_ceil(8) as usize {
            return Err(bad);
        }
        let mut set = PieceSet::empty(len);
        for (byte_index, byte) in bytes.iter().enumerate() {
            for bit in 0..8u32 {
                if byte & (0x80 >> bit) == 0 {
                    continue;
                }
                let index = byte_index as u32 * 8 + bit;
                if index >= len {
                    return Err(bad);
                }
                set.insert(index);
            }
        }
        Ok(set)
    }

    /// A piece map at most `width` characters wide: `#` every piece of the cell held, `+` some,
    /// `.` none.
    pub fn map(&self, width: usize) -> String {
        let width = width.max(1);
        let len = self.len as usize;
        let cells = len.min(width);
        (0..cells)
            .map(|cell| {
                let start = cell * len / cells;
                let end = ((cell + 1) * len / cells).max(start + 1);
                let held = self.count_in(start, end);
                if held == end - start {
                    '#'
                } else if held > 0 {
                    '+'
                } else {
                    '.'
                }
            })
            .collect()
    }
}

impl PieceSet {
    /// How many of the pieces `start..end` are held: whole bytes by popcount, so a map of a
    /// 100 000-piece set (logged with every verified piece) costs ~12 500 byte counts, not
    /// 100 000 bit tests.
    fn count_in(&self, start: usize, end: usize) -> usize {
        let mut held = 0;
        let mut i = start;
        while i < end && !i.is_multiple_of(8) {
            held += usize::from(self.contains(i as u32));
            i += 1;
        }
        while i + 8 <= end {
            held += self.bits[i / 8].count_ones() as usize;
            i += 8;
        }
        while i < end {
            held += usize::from(self.contains(i as u32));
            i += 1;
        }
        held
    }
}

fn mask(index: u32) -> u8 {
    0x80 >> (index % 8)
}

fn parse_index(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Debug for PieceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PieceSet({}/{}: {})",
            self.count,
            self.len,
            self.to_ranges()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let mut set = PieceSet::empty(13);
        for i in [0, 1, 2, 3, 5, 9, 10, 11, 12] {
            set.insert(i);
        }
        assert_eq!(set.to_ranges(), "0-3,5,9-12");
        assert_eq!(PieceSet::from_ranges("0-3,5,9-12", 13), Ok(set.clone()));
        assert_eq!(PieceSet::empty(4).to_ranges(), "-");
        assert_eq!(PieceSet::from_ranges("-", 4), Ok(PieceSet::empty(4)));
        assert_eq!(set.count(), 9);
    }

    #[test]
    fn bad_ranges_are_refused() {
        for bad in ["", "a", "3-1", "1-", "-1", "1,,2", "1 2", "99999999999"] {
            assert!(PieceSet::from_ranges(bad, 10).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            PieceSet::from_ranges("0-10", 10),
            Err(PieceSetError::OutOfRange {
                index: 10,
                pieces: 10
            })
        );
    }

    #[test]
    fn bitfield_golden_bytes() {
        // 10 pieces, held: 0, 2, 9.
        // byte 0: 1010_0000 (pieces 0..8), byte 1: 0100_0000 (piece 9, then 6 spare bits zero)
        let bytes = [0b1010_0000, 0b0100_0000];
        let set = PieceSet::from_bitfield(&bytes, 10).expect("valid");
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![0, 2, 9]);
        assert_eq!(set.to_bitfield(), bytes.to_vec());
    }

    #[test]
    fn bitfield_with_spare_bits_or_wrong_length_is_refused() {
        assert!(PieceSet::from_bitfield(&[0xff, 0b0110_0000], 10).is_err());
        assert!(PieceSet::from_bitfield(&[0xff], 10).is_err());
        assert!(PieceSet::from_bitfield(&[0xff, 0, 0], 10).is_err());
    }

    #[test]
    fn piece_map_folds_cells() {
        let set = PieceSet::from_ranges("0-3,6", 8).expect("valid");
        assert_eq!(set.map(80), "####..#.");
        // cells of two pieces: {0,1} all, {2,3} all, {4,5} none, {6,7} half
        assert_eq!(set.map(4), "##.+");
    }

    #[test]
    fn counting_by_bytes_agrees_with_testing_each_bit() {
        let mut set = PieceSet::empty(1003);
        for i in (0..1003).filter(|i| i % 7 == 0 || (400..700).contains(i)) {
            set.insert(i);
        }
        for (start, end) in [(0, 1003), (3, 17), (8, 16), (5, 6), (990, 1003), (400, 700)] {
            let bits = (start..end).filter(|&i| set.contains(i as u32)).count();
            assert_eq!(set.count_in(start, end), bits, "{start}..{end}");
        }
    }
}
