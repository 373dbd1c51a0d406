//! Golden tests for the peer wire codec: literal bytes from BEP 3, annotated field by field,
//! and a reader that hands out one byte per `read()` to prove short reads work.

use super::*;
use std::io::Cursor;

use crate::testutil::OneByte;

fn golden() -> Vec<(Message, Vec<u8>)> {
    vec![
        (Message::KeepAlive, vec![0, 0, 0, 0]), // length 0, no id
        (Message::Choke, vec![0, 0, 0, 1, /* id */ 0]),
        (Message::Unchoke, vec![0, 0, 0, 1, /* id */ 1]),
        (Message::Interested, vec![0, 0, 0, 1, /* id */ 2]),
        (Message::NotInterested, vec![0, 0, 0, 1, /* id */ 3]),
        (
            Message::Have { index: 0x0102_0304 },
            vec![0, 0, 0, 5, /* id */ 4, /* index */ 1, 2, 3, 4],
        ),
        (
            Message::Bitfield(vec![0b1010_0000, 0b0100_0000]),
            vec![0, 0, 0, 3, /* id */ 5, /* bits */ 0xa0, 0x40],
        ),
        (
            Message::Request {
                index: 7,
                begin: 16384,
                length: 16384,
            },
            vec![
                0, 0, 0, 13, /* id */ 6, /* index */ 0, 0, 0, 7, /* begin */ 0, 0,
                0x40, 0, /* length */ 0, 0, 0x40, 0,
            ],
        ),
        (
            Message::Piece {
                index: 1,
                begin: 32768,
                block: b"abc".to_vec(),
            },
            vec![
                0, 0, 0, 12, /* id */ 7, /* index */ 0, 0, 0, 1, /* begin */ 0, 0,
                0x80, 0, /* block */ b'a', b'b', b'c',
            ],
        ),
        (
            Message::Cancel {
                index: 2,
                begin: 0,
                length: 100,
            },
            vec![
                0, 0, 0, 13, /* id */ 8, /* index */ 0, 0, 0, 2, /* begin */ 0, 0,
                0, 0, /* length */ 0, 0, 0, 100,
            ],
        ),
    ]
}

#[test]
fn messages_encode_to_the_golden_bytes() {
    for (message, bytes) in golden() {
        let mut out = Vec::new();
        message.write_to(&mut out).expect("write to vec");
        assert_eq!(out, bytes, "{message:?}");
    }
}

#[test]
fn golden_bytes_decode_even_one_byte_per_read() {
    for (message, bytes) in golden() {
        assert_eq!(
            Message::read_from(&mut Cursor::new(&bytes)).expect("decode"),
            message
        );
        assert_eq!(
            Message::read_from(&mut OneByte(&bytes)).expect("decode"),
            message
        );
    }
}

#[test]
fn handshake_golden_bytes() {
    let mut bytes = vec![19]; // pstrlen
    bytes.extend_from_slice(b"BitTorrent protocol"); // pstr
    bytes.extend_from_slice(&[0; 8]); // reserved
    bytes.extend_from_slice(&[0xaa; 20]); // info-hash
    bytes.extend_from_slice(b"-BS0100-123456789012"); // peer id
    let handshake = Handshake::new(InfoHash([0xaa; 20]), *b"-BS0100-123456789012");
    let mut out = Vec::new();
    handshake.write_to(&mut out).expect("write");
    assert_eq!(out, bytes);
    assert_eq!(
        Handshake::read_from(&mut OneByte(&bytes)).expect("read"),
        handshake
    );
}

#[test]
fn the_extension_bit_is_bit_0x10_of_reserved_byte_5() {
    let mut bytes = vec![19]; // pstrlen
    bytes.extend_from_slice(b"BitTorrent protocol"); // pstr
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0]); // reserved: BEP 10
    bytes.extend_from_slice(&[0xaa; 20]); // info-hash
    bytes.extend_from_slice(b"-BS0100-123456789012"); // peer id
    let plain = Handshake::new(InfoHash([0xaa; 20]), *b"-BS0100-123456789012");
    assert!(!plain.supports_extensions());
    let ours = plain.with_extensions();
    let mut out = Vec::new();
    ours.write_to(&mut out).expect("write");
    assert_eq!(out, bytes);
    let theirs = Handshake::read_from(&mut OneByte(&bytes)).expect("read");
    assert!(theirs.supports_extensions());
}

#[test]
fn handshake_of_another_protocol_is_refused() {
    let mut bytes = vec![19];
    bytes.extend_from_slice(b"BitTorrent protocoX");
    bytes.extend_from_slice(&[0; 48]);
    assert!(matches!(
        Handshake::read_from(&mut Cursor::new(&bytes)),
        Err(WireError::NotBitTorrent)
    ));
    let http = b"GET /announce HTTP/1.1\r\nHost: x\r\n\r\n..................................";
    assert!(matches!(
        Handshake::read_from(&mut Cursor::new(&http[..])),
        Err(WireError::NotBitTorrent)
    ));
}

#[test]
fn oversized_frame_is_refused_before_allocation() {
    // length 0xffff_ffff (4 GiB), then nothing: the cap is checked before any body is read
    let bytes = [0xff, 0xff, 0xff, 0xff];
    assert!(matches!(
        Message::read_from(&mut Cursor::new(&bytes)),
        Err(WireError::FrameTooLong(0xffff_ffff))
    ));
}

#[test]
fn unknown_ids_and_wrong_lengths_are_refused() {
    let cases: Vec<Vec<u8>> = vec![
        vec![0, 0, 0, 1, 20],            // extension protocol id, never announced
        vec![0, 0, 0, 3, 9, 0x1a, 0xe1], // DHT port, never announced
        vec![0, 0, 0, 2, 1, 0],          // unchoke with a body
        vec![0, 0, 0, 4, 4, 0, 0, 0],    // have with 3 bytes
        vec![0, 0, 0, 12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // request with 11 bytes
        vec![0, 0, 0, 5, 7, 0, 0, 0, 0], // piece without begin
    ];
    for bytes in cases {
        let result = Message::read_from(&mut Cursor::new(&bytes));
        assert!(
            matches!(
                result,
                Err(WireError::UnknownId(_)) | Err(WireError::BadLength { .. })
            ),
            "{bytes:?} gave {result:?}"
        );
    }
}

#[test]
fn truncated_frames_are_io_errors() {
    let bytes = [0, 0, 0, 13, 6, 0, 0];
    let error = Message::read_from(&mut Cursor::new(&bytes)).expect_err("truncated");
    assert!(error.is_disconnect(), "{error}");
}

#[test]
fn garbage_never_panics() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 24) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8).collect();
        if let Some(first) = bytes.first_mut() {
            *first = 0; // keep most lengths small so bodies are reached
        }
        let _ = Message::read_from(&mut Cursor::new(&bytes));
        let _ = Handshake::read_from(&mut Cursor::new(&bytes));
    }
}

#[test]
fn a_piece_frame_decodes_to_a_block_borrowed_from_the_buffer() {
    let bytes = [
        0, 0, 0, 12, /* id */ 7, /* index */ 0, 0, 0, 1, /* begin */ 0, 0, 0x80, 0,
        /* block */ b'a', b'b', b'c',
    ];
    let frame = Frame::decode(&bytes).expect("decode");
    assert_eq!(
        frame,
        Frame::Piece {
            index: 1,
            begin: 32768,
            block: b"abc",
        }
    );
    let Frame::Piece { block, .. } = frame else {
        unreachable!()
    };
    assert!(
        std::ptr::eq(block.as_ptr(), bytes[13..].as_ptr()),
        "no copy"
    );
    assert_eq!(
        Frame::decode(&bytes).expect("decode").into_message(),
        Message::Piece {
            index: 1,
            begin: 32768,
            block: b"abc".to_vec(),
        }
    );
    // an empty block is a (useless) valid piece; a piece without its begin is not
    let empty = [0, 0, 0, 9, 7, 0, 0, 0, 2, 0, 0, 0, 0];
    assert_eq!(
        Frame::decode(&empty).expect("decode"),
        Frame::Piece {
            index: 2,
            begin: 0,
            block: &[],
        }
    );
    let short = [0, 0, 0, 5, 7, 0, 0, 0, 0];
    assert!(matches!(
        Frame::decode(&short),
        Err(WireError::BadLength { id: 7, len: 4 })
    ));
}

#[test]
fn every_other_golden_frame_decodes_as_its_message() {
    for (message, bytes) in golden() {
        assert_eq!(
            Frame::decode(&bytes).expect("decode").into_message(),
            message
        );
    }
}

#[test]
fn a_piece_header_is_the_frame_up_to_its_block() {
    assert_eq!(
        piece_header(1, 32768, 16384),
        [
            0, 0, 0x40, 9, /* length 9 + 16384 */ 7, /* id */ 0, 0, 0, 1,
            /* index */ 0, 0, 0x80, 0, /* begin */
        ]
    );
}

#[test]
fn every_message_id_is_its_byte_and_back() {
    for (message, bytes) in golden() {
        match message.id() {
            Some(id) => {
                assert_eq!(id as u8, bytes[4], "{message}");
                assert_eq!(MessageId::from_byte(bytes[4]), Some(id));
            }
            None => assert_eq!(bytes, [0, 0, 0, 0]),
        }
    }
    assert_eq!(MessageId::from_byte(9), None);
}

#[test]
fn log_words_come_from_display_and_never_show_a_block() {
    let words = [
        (Message::Interested, "interested"),
        (Message::NotInterested, "not interested"),
        (Message::Have { index: 15 }, "have piece 15"),
        (
            Message::Request {
                index: 0,
                begin: 16384,
                length: 16384,
            },
            "request piece 0 begin 16384 length 16384",
        ),
        (
            Message::Piece {
                index: 3,
                begin: 0,
                block: vec![0xAB; 16384],
            },
            "piece 3 begin 0 (16384 bytes)",
        ),
        (
            Message::Bitfield(vec![0b1110_0000]),
            "bitfield (1 bytes, 3 pieces)",
        ),
    ];
    for (message, expected) in words {
        assert_eq!(message.to_string(), expected);
        assert_eq!(format!("{message:?}"), expected);
    }
}
