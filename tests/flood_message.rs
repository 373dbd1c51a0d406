//! Golden bytes of the five flood datagrams (written by hand from flood-protocol.md, never by the
//! encoder under test), rejection of malformed ones, and a garbage-input run of the decoder.

use std::net::{Ipv4Addr, SocketAddrV4};

use bittorrent_sim::flood::message::{FloodWireError, MAX_DATAGRAM, MAX_IDS, Message};

/// Encoding `message` gives `bytes`, and decoding `bytes` gives `message`.
fn golden(message: Message, bytes: &[u8]) {
    assert_eq!(message.encode().unwrap(), bytes, "encode {message}");
    assert_eq!(message.encoded_len(), bytes.len(), "length of {message}");
    assert_eq!(
        Message::decode(bytes).unwrap(),
        message,
        "decode {bytes:02x?}"
    );
}

#[test]
fn hello_golden_bytes() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x01, // type 1 = HELLO
        0x00, 0x03, // count 3
        0x00, 0x05, // id 5
        0x00, 0x06, // id 6
        0x00, 0x07, // id 7
    ];
    golden(Message::Hello { ids: vec![5, 6, 7] }, &bytes);
}

#[test]
fn query_golden_bytes() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x02,             // type 2 = QUERY
        0x7f, 0x00, 0x00, 0x06, // client IPv4 127.0.0.6
        0xc3, 0x50,             // client port 50000
        0x00, 0x03,             // ttl 3
        0x00, 0x02,             // count 2
        0x01, 0x02,             // id 258 (high byte first)
        0x00, 0x09,             // id 9
    ];
    let client = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 6), 50000);
    golden(
        Message::Query {
            client,
            ttl: 3,
            ids: vec![258, 9],
        },
        &bytes,
    );
}

#[test]
fn chunks_info_golden_bytes() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x03, // type 3 = CHUNKS_INFO
        0x00, 0x02, // count 2
        0x00, 0x06, // id 6
        0x00, 0x07, // id 7
    ];
    golden(Message::ChunksInfo { ids: vec![6, 7] }, &bytes);
}

#[test]
fn get_golden_bytes() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x04, // type 4 = GET
        0x00, 0x01, // count 1
        0xff, 0xff, // id 65535
    ];
    golden(Message::Get { ids: vec![65535] }, &bytes);
}

#[test]
fn response_golden_bytes() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x05,       // type 5 = RESPONSE
        0x00, 0x09,       // chunk id 9
        0x00, 0x04,       // chunk size 4
        b'm', b'4', b's', 0x00, // the chunk
    ];
    golden(
        Message::Response {
            id: 9,
            data: b"m4s\0".to_vec(),
        },
        &bytes,
    );
}

#[test]
fn a_full_1024_byte_response_is_legal() {
    let mut bytes = vec![0x00, 0x05, 0x00, 0x0a, 0x04, 0x00]; // RESPONSE, id 10, size 1024
    bytes.extend(std::iter::repeat_n(0xab, 1024));
    let message = Message::Response {
        id: 10,
        data: vec![0xab; 1024],
    };
    golden(message, &bytes);
}

#[test]
fn empty_lists_are_legal() {
    golden(
        Message::ChunksInfo { ids: vec![] },
        &[0x00, 0x03, 0x00, 0x00],
    );
}

#[test]
fn malformed_datagrams_are_rejected_with_their_reason() {
    use FloodWireError::*;
    let oversized = vec![0u8; MAX_DATAGRAM + 1];
    let mut too_many = vec![0x00, 0x01, 0x02, 0x01]; // HELLO, count 513
    too_many.extend(vec![0u8; 2 * 513]);
    let cases: Vec<(&str, &[u8], FloodWireError)> = vec![
        ("empty", &[], TooShort { needed: 2, got: 0 }),
        ("half a type", &[0x00], TooShort { needed: 2, got: 1 }),
        (
            "hello without count",
            &[0x00, 0x01],
            TooShort { needed: 4, got: 2 },
        ),
        (
            "hello count 2, one id",
            &[0x00, 0x01, 0x00, 0x02, 0x00, 0x05],
            CountMismatch {
                count: 2,
                id_bytes: 2,
            },
        ),
        (
            "get count 1, two ids",
            &[0x00, 0x04, 0x00, 0x01, 0x00, 0x05, 0x00, 0x06],
            CountMismatch {
                count: 1,
                id_bytes: 4,
            },
        ),
        (
            "chunks_info odd byte",
            &[0x00, 0x03, 0x00, 0x01, 0x00, 0x05, 0x00],
            CountMismatch {
                count: 1,
                id_bytes: 3,
            },
        ),
        (
            "query cut after ttl",
            &[0x00, 0x02, 127, 0, 0, 1, 0x13, 0x89, 0x00, 0x03],
            TooShort {
                needed: 12,
                got: 10,
            },
        ),
        (
            "query count 1, no id",
            &[0x00, 0x02, 127, 0, 0, 1, 0x13, 0x89, 0x00, 0x03, 0x00, 0x01],
            CountMismatch {
                count: 1,
                id_bytes: 0,
            },
        ),
        (
            "response without size",
            &[0x00, 0x05, 0x00, 0x01],
            TooShort { needed: 6, got: 4 },
        ),
        (
            "response size 1025",
            &[0x00, 0x05, 0x00, 0x01, 0x04, 0x01],
            ChunkTooLarge { size: 1025 },
        ),
        (
            "response size 3, 2 bytes",
            &[0x00, 0x05, 0x00, 0x01, 0x00, 0x03, 0xaa, 0xbb],
            SizeMismatch {
                size: 3,
                data_bytes: 2,
            },
        ),
        (
            "response size 1, 2 bytes",
            &[0x00, 0x05, 0x00, 0x01, 0x00, 0x01, 0xaa, 0xbb],
            SizeMismatch {
                size: 1,
                data_bytes: 2,
            },
        ),
        ("type 0", &[0x00, 0x00, 0x00, 0x00], UnknownType(0)),
        ("type 6", &[0x00, 0x06, 0x00, 0x00], UnknownType(6)),
        (
            "type 0x0100 (little-endian 1)",
            &[0x01, 0x00, 0x00, 0x00],
            UnknownType(256),
        ),
        (
            "oversized",
            &oversized,
            Oversized {
                len: MAX_DATAGRAM + 1,
            },
        ),
        ("count over the cap", &too_many, TooManyIds { count: 513 }),
    ];
    for (what, bytes, expected) in cases {
        assert_eq!(Message::decode(bytes), Err(expected), "{what}");
    }
}

#[test]
fn the_encoder_refuses_what_the_decoder_would() {
    let big = Message::Response {
        id: 1,
        data: vec![0; 1025],
    };
    assert_eq!(
        big.encode(),
        Err(FloodWireError::ChunkTooLarge { size: 1025 })
    );
    let many = Message::Get {
        ids: vec![1; MAX_IDS + 1],
    };
    assert_eq!(
        many.encode(),
        Err(FloodWireError::TooManyIds { count: MAX_IDS + 1 })
    );
    assert!(
        Message::Get {
            ids: vec![1; MAX_IDS]
        }
        .encode()
        .is_ok()
    );
}

#[test]
fn log_form_names_type_and_fields() {
    let client = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 6), 40000);
    let query = Message::Query {
        client,
        ttl: 2,
        ids: vec![1, 3],
    };
    assert_eq!(
        query.to_string(),
        "query client=127.0.0.6:40000 ttl=2 ids=[1,3]"
    );
    let response = Message::Response {
        id: 5,
        data: vec![0; 10],
    };
    assert_eq!(response.to_string(), "response id=5 size=10");
}

/// xorshift64: a fixed sequence, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_datagrams_never_panic_and_whatever_decodes_reencodes_identically() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut accepted = 0;
    for round in 0..20_000 {
        // Half pure noise, half plausible headers (a real type and a small count) to reach the
        // deeper checks.
        let len = (rng.next() % 1100) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round & 1 == 0 && bytes.len() >= 4 {
            bytes[0] = 0;
            bytes[1] = (rng.next() % 7) as u8;
            if rng.next() & 1 == 0 {
                let ids = (bytes.len() - 4) / 2;
                bytes.truncate(4 + 2 * ids);
                bytes[2..4].copy_from_slice(&(ids as u16).to_be_bytes());
            }
        }
        if let Ok(message) = Message::decode(&bytes) {
            accepted += 1;
            assert_eq!(message.encode().unwrap(), bytes, "round {round}");
            assert_eq!(message.encoded_len(), bytes.len(), "round {round}");
        }
    }
    assert!(
        accepted > 100,
        "the generator should reach valid datagrams too ({accepted})"
    );
}
