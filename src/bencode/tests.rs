//! Unit tests for the bencode codec. Decoder inputs are hand-written literals, never output of
//! the encoder under test; encoder outputs are compared with literals.

use std::collections::BTreeMap;

use super::*;
use crate::testutil::XorShift;
use crate::testutil::cat;

fn err(input: &[u8]) -> BencodeError {
    match decode(input) {
        Ok(node) => panic!(
            "accepted {:?} as {node:?}",
            input.escape_ascii().to_string()
        ),
        Err(e) => e,
    }
}

#[test]
fn decodes_integers() {
    assert_eq!(decode(b"i0e").unwrap().as_int(), Some(0));
    assert_eq!(decode(b"i42e").unwrap().as_int(), Some(42));
    assert_eq!(decode(b"i-7e").unwrap().as_int(), Some(-7));
    assert_eq!(
        decode(b"i9223372036854775807e").unwrap().as_int(),
        Some(i64::MAX)
    );
    assert_eq!(
        decode(b"i-9223372036854775808e").unwrap().as_int(),
        Some(i64::MIN)
    );
}

#[test]
fn decodes_strings() {
    assert_eq!(decode(b"4:spam").unwrap().as_bytes(), Some(&b"spam"[..]));
    assert_eq!(decode(b"0:").unwrap().as_bytes(), Some(&b""[..]));
    assert_eq!(
        decode(b"3:\x00\xff:").unwrap().as_bytes(),
        Some(&b"\x00\xff:"[..])
    );
    assert_eq!(decode(b"3:\xff\xfe\xfd").unwrap().as_str(), None);
}

#[test]
fn decodes_nested_values_with_spans() {
    let input = &cat(&[
        b"d",      // offset 0: top dictionary
        b"4:info", // key "info"
        b"d",      // offset 7: its value, a dictionary
        b"4:list", //   key "list"
        b"l",      //   offset 14: its value, a list
        b"i1e",    //     offset 15: 1
        b"0:",     //     offset 18: ""
        b"e",      //   end of list
        b"e",      // end of "info"
        b"4:spam", // key "spam"
        b"i-3e",   // -3
        b"e",      // end of top dictionary
    ]);
    assert_eq!(input, b"d4:infod4:listli1e0:ee4:spami-3ee");
    let top = decode(input).unwrap();
    assert_eq!(top.offset, 0);
    assert_eq!(top.raw, input);
    let info = top.get(b"info").unwrap();
    assert_eq!(info.offset, 7);
    assert_eq!(info.raw, b"d4:listli1e0:ee");
    let list = info.get(b"list").unwrap().as_list().unwrap();
    assert_eq!(list[0].raw, b"i1e");
    assert_eq!(list[0].offset, 15);
    assert_eq!(list[1].as_bytes(), Some(&b""[..]));
    assert_eq!(top.get(b"spam").unwrap().as_int(), Some(-3));
    assert_eq!(top.get(b"spam").unwrap().raw, b"i-3e");
    assert!(top.get(b"missing").is_none());
    assert_eq!(top.as_dict().unwrap().len(), 2);
    assert_eq!(top.kind_name(), "a dictionary");
}

#[test]
fn keys_sort_as_raw_bytes() {
    // "Z" (0x5a) < "a" (0x61) < "a\x00" < "\xc3" (0xc3): byte order, not alphabetical.
    let node = decode(b"d1:Zi1e1:ai2e2:a\x00i3e1:\xc3i4ee").unwrap();
    let keys: Vec<&[u8]> = node.as_dict().unwrap().keys().copied().collect();
    assert_eq!(keys, [&b"Z"[..], b"a", b"a\x00", b"\xc3"]);
}

#[test]
fn encodes_canonically() {
    assert_eq!(encode(&Value::Int(0)), b"i0e");
    assert_eq!(encode(&Value::Int(-42)), b"i-42e");
    assert_eq!(encode(&Value::Int(i64::MIN)), b"i-9223372036854775808e");
    assert_eq!(encode(&Value::from("")), b"0:");
    assert_eq!(encode(&Value::from(&b"\x00\xff"[..])), b"2:\x00\xff");
    let list = Value::List(vec![
        Value::from("spam"),
        Value::Int(7),
        Value::List(vec![]),
    ]);
    assert_eq!(encode(&list), b"l4:spami7elee");
    // Inserted out of order; written sorted as raw bytes.
    let dict = Value::dict([
        ("piece length", Value::Int(16384)),
        ("name", Value::from("a.bin")),
        ("length", Value::Int(5)),
        ("Z", Value::Dict(BTreeMap::new())),
    ]);
    assert_eq!(
        encode(&dict),
        cat(&[
            b"d",               // dictionary
            b"1:Z",             // "Z" (0x5a) sorts before lower case
            b"de",              // {}
            b"6:length",        // "length"
            b"i5e",             // 5
            b"4:name",          // "name"
            b"5:a.bin",         // "a.bin"
            b"12:piece length", // "piece length"
            b"i16384e",         // 16384
            b"e",               // end
        ])
    );
}

#[test]
fn to_value_then_encode_gives_back_the_input() {
    let input = b"d3:bar4:spam3:fooi42e4:listl1:ai-1edeee";
    assert_eq!(encode(&decode(input).unwrap().to_value()), input);
}

#[test]
fn garbage_never_panics_and_anything_accepted_is_canonical() {
    const SEED: &[u8] = b"d8:announce30:http://127.0.0.1:6000/announce4:infod6:lengthi5e\
        4:name5:a.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
    const ALPHABET: &[u8] = b"ilde0123456789:-ab";
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for round in 0..10_000 {
        let input: Vec<u8> = if round % 2 == 0 {
            // Random bytes, mostly from the bencode alphabet so parsing gets somewhere.
            let len = rng.below(40);
            (0..len)
                .map(|_| match rng.below(4) {
                    0 => rng.next() as u8,
                    _ => ALPHABET[rng.below(ALPHABET.len())],
                })
                .collect()
        } else {
            // A valid torrent with a few bytes changed, inserted, removed or cut off.
            let mut input = SEED.to_vec();
            for _ in 0..=rng.below(3) {
                let at = rng.below(input.len() + 1);
                match rng.below(4) {
                    0 if at < input.len() => input[at] = ALPHABET[rng.below(ALPHABET.len())],
                    1 => input.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                    2 if at < input.len() => {
                        input.remove(at);
                    }
                    _ => input.truncate(at),
                }
            }
            input
        };
        // The lenient decoder agrees with the strict one on canonical input, and reads nothing
        // the strict one refuses except what it reports.
        let lenient = decode_lenient(&input);
        match (&lenient, decode(&input)) {
            (Ok(read), Ok(node)) => assert!(read.notes.is_empty() && read.node == node),
            (Ok(read), Err(_)) => assert!(read.count > 0, "{}", input.escape_ascii()),
            (Err(_), Ok(_)) => panic!("lenient refused canonical {}", input.escape_ascii()),
            (Err(_), Err(_)) => {}
        }
        if let Ok(node) = decode(&input) {
            accepted += 1;
            assert_eq!(node.raw, &input[..]);
            assert_eq!(
                encode(&node.to_value()),
                input,
                "accepted non-canonical input"
            );
        }
    }
    // The test means little if everything was refused.
    assert!(accepted > 100, "only {accepted} inputs decoded");
}

#[test]
fn lenient_reads_unsorted_and_same_value_repeated_keys_and_says_so() {
    // Golden: {"b": 1, "a": {"y": "x", "x": "y"}, "b": 1}, raw spans as found.
    let input = b"d1:bi1e1:ad1:y1:x1:x1:ye1:bi1ee";
    assert_eq!(
        err(input),
        BencodeError::UnsortedKey {
            offset: 7,
            key: "a".into()
        }
    );
    let read = decode_lenient(input).expect("lenient");
    assert_eq!(read.node.raw, &input[..]);
    let inner = read.node.get(b"a").expect("a");
    assert_eq!(inner.raw, b"d1:y1:x1:x1:ye");
    assert_eq!(inner.get(b"x").and_then(Node::as_bytes), Some(&b"y"[..]));
    assert_eq!(read.node.get(b"b").and_then(Node::as_int), Some(1));
    assert_eq!(
        read.notes,
        vec![
            NonCanonical::UnsortedKey {
                offset: 7,
                key: "a".into()
            },
            NonCanonical::UnsortedKey {
                offset: 17,
                key: "x".into()
            },
            NonCanonical::RepeatedKey {
                offset: 24,
                key: "b".into()
            },
        ]
    );
    assert_eq!(read.count, 3);
    assert_eq!(
        read.notes[0].to_string(),
        "at byte 7: dictionary key \"a\" is out of order"
    );
}

#[test]
fn lenient_refuses_a_key_repeated_with_another_value_and_all_else_strict_refuses() {
    let conflict = b"d1:ai1e1:bi2e1:ai2ee";
    assert_eq!(
        decode_lenient(conflict).unwrap_err(),
        BencodeError::ConflictingKey {
            offset: 13,
            key: "a".into()
        }
    );
    // Same key, same number, different bytes would need a non-canonical integer: refused anyway.
    for bad in [
        &b"d1:ai01ee"[..],
        b"i-0e",
        b"d1:a",
        b"d1:ai1ee1",
        b"di1ei2ee",
    ] {
        assert!(decode_lenient(bad).is_err(), "{}", bad.escape_ascii());
    }
    // The notes are capped, the count is not.
    let mut many = b"d".to_vec();
    for key in (0..40u8).rev() {
        many.extend(format!("2:{key:02}i0e").as_bytes());
    }
    many.push(b'e');
    let read = decode_lenient(&many).unwrap();
    assert_eq!((read.notes.len(), read.count), (MAX_NOTES, 39));
}

mod refusals;
