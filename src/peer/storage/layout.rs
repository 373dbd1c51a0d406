//! Where the torrent's bytes live: the data is the files' bytes laid end to end (BEP 3), so a
//! range of it (a block, a piece) maps onto one or more (file, offset, length) segments. A
//! piece may span several files; a zero-length file holds no byte and never appears in a
//! segment.
//!
//! Pure arithmetic: no I/O, no file handles (those are `Storage`'s).

/// A run of bytes inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of the file in torrent order.
    pub file: usize,
    /// Offset inside that file.
    pub offset: u64,
    pub len: usize,
}

/// The files' lengths and where each starts in the torrent's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(start, length)` per file, in torrent order.
    files: Vec<(u64, u64)>,
}

impl Layout {
    pub fn new(lengths: impl IntoIterator<Item = u64>) -> Layout {
        let mut start = 0;
        let files = lengths
            .into_iter()
            .map(|len| {
                let at = start;
                start += len;
                (at, len)
            })
            .collect();
        Layout { files }
    }

    /// Number of files, empty ones included.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there is no file at all (a torrent always has one).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `(start, length)` of file `index`.
    pub fn file(&self, index: usize) -> (u64, u64) {
        self.files[index]
    }

    /// The non-empty file holding byte `at` of the data; `None` past the end.
    pub fn locate(&self, at: u64) -> Option<usize> {
        // The first file that ends after `at` (a zero-length file ends where it starts).
        let index = self.files.partition_point(|(start, len)| start + len <= at);
        (index < self.files.len()).then_some(index)
    }

    /// The segments of the `len` bytes at `at`, in order. Stops at the end of the data: the
    /// segments then add up to less than `len`.
    pub fn segments(&self, at: u64, len: usize) -> Vec<Segment> {
        let mut out = Vec::new();
        let Some(mut index) = self.locate(at) else {
            return out;
        };
        let mut at = at;
        let mut left = len as u64;
        while left > 0 && index < self.files.len() {
            let (start, file_len) = self.files[index];
            let offset = at - start;
            let n = left.min(file_len - offset);
            if n > 0 {
                out.push(Segment {
                    file: index,
                    offset,
                    len: n as usize,
                });
            }
            at += n;
            left -= n;
            index += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(file: usize, offset: u64, len: usize) -> Segment {
        Segment { file, offset, len }
    }

    /// 40 000 + 0 + 1 + 70 000 bytes: a zero-length file between the first two with data.
    fn layout() -> Layout {
        Layout::new([40_000, 0, 1, 70_000])
    }

    #[test]
    fn a_piece_spanning_two_files_and_skipping_an_empty_one() {
        // The third 16 KiB piece: bytes 32 768..49 152, across file 0, the 1-byte file 2, and
        // file 3; file 1 is empty and never appears.
        assert_eq!(
            layout().segments(32_768, 16_384),
            vec![seg(0, 32_768, 7_232), seg(2, 0, 1), seg(3, 0, 9_151)]
        );
    }

    #[test]
    fn ranges_inside_one_file() {
        let layout = layout();
        assert_eq!(layout.segments(0, 16_384), vec![seg(0, 0, 16_384)]);
        assert_eq!(layout.segments(40_000, 1), vec![seg(2, 0, 1)]);
        assert_eq!(layout.segments(40_001, 100), vec![seg(3, 0, 100)]);
        // The last bytes, and a range running past the end: cut short.
        assert_eq!(layout.segments(110_000, 1), vec![seg(3, 69_999, 1)]);
        assert_eq!(layout.segments(109_990, 100), vec![seg(3, 69_989, 11)]);
        assert_eq!(layout.segments(110_001, 1), vec![]);
    }

    #[test]
    fn locate_skips_empty_files() {
        let layout = layout();
        assert_eq!(layout.locate(0), Some(0));
        assert_eq!(layout.locate(39_999), Some(0));
        assert_eq!(layout.locate(40_000), Some(2));
        assert_eq!(layout.locate(40_001), Some(3));
        assert_eq!(layout.locate(110_001), None);
        assert_eq!(Layout::new([0, 5]).locate(0), Some(1));
    }

    #[test]
    fn one_file_is_one_segment() {
        let layout = Layout::new([100]);
        assert_eq!(layout.segments(10, 50), vec![seg(0, 10, 50)]);
        assert_eq!(layout.len(), 1);
        assert_eq!(layout.file(0), (0, 100));
    }
}
