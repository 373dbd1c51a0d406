//! The decoder refuses what is not canonical bencode, with the offset and what it expected;
//! garbage never panics. Inputs are hand-written literals.

use super::*;

#[test]
fn rejects_non_canonical_integers() {
    assert_eq!(err(b"i03e"), BencodeError::LeadingZero { offset: 1 });
    assert_eq!(err(b"i00e"), BencodeError::LeadingZero { offset: 1 });
    assert_eq!(err(b"i-03e"), BencodeError::LeadingZero { offset: 2 });
    assert_eq!(err(b"i-0e"), BencodeError::NegativeZero { offset: 0 });
    assert!(matches!(
        err(b"ie"),
        BencodeError::Unexpected {
            offset: 1,
            found: b'e',
            ..
        }
    ));
    assert!(matches!(
        err(b"i-e"),
        BencodeError::Unexpected {
            offset: 2,
            found: b'e',
            ..
        }
    ));
    assert!(matches!(
        err(b"i+1e"),
        BencodeError::Unexpected {
            offset: 1,
            found: b'+',
            ..
        }
    ));
    assert!(matches!(
        err(b"i1.5e"),
        BencodeError::Unexpected {
            offset: 2,
            found: b'.',
            ..
        }
    ));
    assert!(matches!(
        err(b"i--1e"),
        BencodeError::Unexpected {
            offset: 2,
            found: b'-',
            ..
        }
    ));
    assert!(matches!(
        err(b"i 1e"),
        BencodeError::Unexpected { offset: 1, .. }
    ));
    assert_eq!(
        err(b"i9223372036854775808e"),
        BencodeError::IntOverflow { offset: 0 }
    );
    assert_eq!(
        err(b"i-9223372036854775809e"),
        BencodeError::IntOverflow { offset: 0 }
    );
    assert_eq!(
        err(b"i99999999999999999999999999e"),
        BencodeError::IntOverflow { offset: 0 }
    );
}

#[test]
fn rejects_bad_string_lengths() {
    assert_eq!(err(b"03:abc"), BencodeError::LeadingZero { offset: 0 });
    assert_eq!(err(b"00:"), BencodeError::LeadingZero { offset: 0 });
    assert_eq!(
        err(b"5:abc"),
        BencodeError::StringPastEnd {
            offset: 0,
            declared: 5,
            remaining: 3
        }
    );
    // A huge length must be refused before any allocation.
    assert_eq!(
        err(b"99999999999999999999999999:x"),
        BencodeError::StringPastEnd {
            offset: 0,
            declared: u64::MAX,
            remaining: 1
        }
    );
    assert!(matches!(
        err(b"3abc"),
        BencodeError::Unexpected {
            offset: 1,
            found: b'a',
            ..
        }
    ));
    assert!(matches!(
        err(b"-1:a"),
        BencodeError::Unexpected {
            offset: 0,
            found: b'-',
            ..
        }
    ));
}

#[test]
fn rejects_bad_dictionaries() {
    // Unsorted: "b" then "a".
    assert_eq!(
        err(&cat(&[b"d", b"1:b", b"i1e", b"1:a", b"i2e", b"e"])),
        BencodeError::UnsortedKey {
            offset: 7,
            key: "a".into()
        }
    );
    // Sorted by raw bytes, "a" (0x61) comes after "Z" (0x5a), so this is unsorted too.
    assert!(matches!(
        err(b"d1:ai1e1:Zi2ee"),
        BencodeError::UnsortedKey { offset: 7, .. }
    ));
    // A prefix sorts first: "ab" before "a" is out of order.
    assert!(matches!(
        err(b"d2:abi1e1:ai2ee"),
        BencodeError::UnsortedKey { offset: 8, .. }
    ));
    assert_eq!(
        err(&cat(&[b"d", b"1:a", b"i1e", b"1:a", b"i2e", b"e"])),
        BencodeError::DuplicateKey {
            offset: 7,
            key: "a".into()
        }
    );
    // Keys must be byte strings.
    assert!(matches!(
        err(b"di1ei2ee"),
        BencodeError::Unexpected {
            offset: 1,
            found: b'i',
            ..
        }
    ));
    assert!(matches!(
        err(b"dlei2ee"),
        BencodeError::Unexpected {
            offset: 1,
            found: b'l',
            ..
        }
    ));
    // A key without a value.
    assert!(matches!(
        err(b"d1:ae"),
        BencodeError::Unexpected {
            offset: 4,
            found: b'e',
            ..
        }
    ));
}

#[test]
fn rejects_truncated_input() {
    for input in [
        &b""[..],
        b"i",
        b"i12",
        b"i-",
        b"4",
        b"4:",
        b"4:spa",
        b"l",
        b"li1e",
        b"d",
        b"d1:a",
        b"d1:ai1e",
        b"d4:infod",
    ] {
        match decode(input) {
            Err(BencodeError::UnexpectedEnd { offset, .. }) => assert_eq!(offset, input.len()),
            Err(BencodeError::StringPastEnd { .. }) => assert!(input.starts_with(b"4:")),
            other => panic!("{:?}: {other:?}", input.escape_ascii().to_string()),
        }
    }
}

#[test]
fn rejects_trailing_bytes_and_garbage() {
    assert_eq!(
        err(b"i1ei2e"),
        BencodeError::TrailingBytes {
            offset: 3,
            count: 3
        }
    );
    assert_eq!(
        err(b"dee"),
        BencodeError::TrailingBytes {
            offset: 2,
            count: 1
        }
    );
    assert_eq!(
        err(b"4:spam\n"),
        BencodeError::TrailingBytes {
            offset: 6,
            count: 1
        }
    );
    assert!(matches!(
        err(b"e"),
        BencodeError::Unexpected {
            offset: 0,
            found: b'e',
            ..
        }
    ));
    assert!(matches!(
        err(b"x"),
        BencodeError::Unexpected {
            offset: 0,
            found: b'x',
            ..
        }
    ));
    assert!(matches!(
        err(b"<html>"),
        BencodeError::Unexpected { offset: 0, .. }
    ));
}

#[test]
fn caps_nesting_depth() {
    let ok = [vec![b'l'; MAX_DEPTH], vec![b'e'; MAX_DEPTH]].concat();
    assert!(decode(&ok).is_ok());
    let deep = [vec![b'l'; MAX_DEPTH + 1], vec![b'e'; MAX_DEPTH + 1]].concat();
    assert_eq!(err(&deep), BencodeError::TooDeep { offset: MAX_DEPTH });
    // Far deeper than any stack would survive without the cap.
    let mut very_deep = b"d1:a".repeat(100_000);
    very_deep.extend(vec![b'e'; 100_000]);
    assert!(matches!(err(&very_deep), BencodeError::TooDeep { .. }));
}

#[test]
fn errors_display_the_offset_and_what_was_expected() {
    assert_eq!(
        err(b"li1e").to_string(),
        "input ends at byte 4, expected a value or `e`"
    );
    assert_eq!(
        err(b"i0x").to_string(),
        "at byte 2: expected a digit, found `x`"
    );
    assert_eq!(
        err(b"d1:bi1e1:ai2ee").to_string(),
        "at byte 7: dictionary key \"a\" is out of order (keys must be sorted as raw bytes)"
    );
    assert_eq!(err(b"i1ex").offset(), 3);
}
