//! Golden tests of BEP 9's `ut_metadata` messages: literal bytes, annotated field by field,
//! decoded (whole frames even one byte per read) and compared with what we write; and the
//! caps on sizes and piece indices.

use super::*;
use crate::testutil::OneByte;
use crate::wire::Message;

#[test]
fn a_request_is_a_two_key_dictionary() {
    let bytes: Vec<u8> = [
        &b"d"[..],         // a dictionary
        b"8:msg_type i0e", // msg_type 0: request
        b"5:piece i2e",    // piece 2
        b"e",
    ]
    .concat()
    .into_iter()
    .filter(|&b| b != b' ') // the spaces above are for the eye only
    .collect();
    assert_eq!(bytes, b"d8:msg_typei0e5:piecei2ee");
    let message = MetadataMessage::decode(&bytes).unwrap();
    assert_eq!(message, MetadataMessage::Request { piece: 2 });
    assert_eq!(message.to_payload(), bytes);
}

#[test]
fn a_reject_names_its_piece() {
    let bytes = b"d8:msg_typei2e5:piecei0ee";
    let message = MetadataMessage::decode(bytes).unwrap();
    assert_eq!(message, MetadataMessage::Reject { piece: 0 });
    assert_eq!(message.to_payload(), bytes);
}

#[test]
fn a_data_frame_read_one_byte_at_a_time() {
    // The whole extended frame, as a remote sends it:
    let frame: Vec<u8> = [
        &[0, 0, 0, 52][..],       // length: id 1 + extended id 1 + dictionary 45 + data 5
        &[20],                    // id 20: extended
        &[3],                     // extended id 3: our ut_metadata (LOCAL_ID)
        b"d8:msg_typei1e",        // msg_type 1: data
        b"5:piecei1e",            // piece 1
        b"10:total_sizei16389ee", // total_size 16389: the last piece is 5 bytes
        b"hello",                 // the piece's raw bytes, after the dictionary
    ]
    .concat();
    let Message::Extended { id, payload } = Message::read_from(&mut OneByte(&frame)).unwrap()
    else {
        panic!("not an extended message");
    };
    assert_eq!(id, LOCAL_ID);
    let message = MetadataMessage::decode(&payload).unwrap();
    assert_eq!(
        message,
        MetadataMessage::Data {
            piece: 1,
            total_size: 16389,
            data: b"hello".to_vec()
        }
    );
    assert_eq!(message.to_payload(), payload);
    assert_eq!(
        message.to_string(),
        "metadata data piece 1 (5 bytes of 16389)"
    );
}

#[test]
fn libtorrents_keys_in_another_order_are_read() {
    // Not sorted (piece before msg_type): read leniently, as real clients do.
    let message = MetadataMessage::decode(b"d5:piecei0e8:msg_typei0ee").unwrap();
    assert_eq!(message, MetadataMessage::Request { piece: 0 });
}

#[test]
fn bad_messages_are_refused() {
    let err = |bytes: &[u8]| MetadataMessage::decode(bytes).unwrap_err();
    assert_eq!(err(b"d5:piecei0ee"), MetadataError::Missing("msg_type"));
    assert_eq!(err(b"d8:msg_typei0ee"), MetadataError::Missing("piece"));
    assert_eq!(
        err(b"d8:msg_typei7e5:piecei0ee"),
        MetadataError::UnknownType(7)
    );
    assert_eq!(
        err(b"d8:msg_typei0e5:piecei-1ee"),
        MetadataError::BadPiece(-1)
    );
    // 8 MiB is 512 pieces: piece 512 cannot exist
    assert_eq!(
        err(b"d8:msg_typei0e5:piecei512ee"),
        MetadataError::BadPiece(512)
    );
    assert_eq!(
        err(b"d8:msg_typei1e5:piecei0ee"),
        MetadataError::Missing("total_size")
    );
    // total_size 8 MiB + 1: over the cap
    assert_eq!(
        err(b"d8:msg_typei1e5:piecei0e10:total_sizei8388609ee"),
        MetadataError::BadSize(8_388_609)
    );
    assert_eq!(
        err(b"d8:msg_typei1e5:piecei0e10:total_sizei0ee"),
        MetadataError::BadSize(0)
    );
    // a request with bytes after it
    assert_eq!(
        err(b"d8:msg_typei0e5:piecei0eexyz"),
        MetadataError::BadLength(3)
    );
    // a data piece over 16 KiB
    let mut big = b"d8:msg_typei1e5:piecei0e10:total_sizei99999ee".to_vec();
    big.extend(vec![0u8; PIECE_LEN + 1]);
    assert_eq!(err(&big), MetadataError::BadLength(PIECE_LEN + 1));
    assert_eq!(err(b"li1ee"), MetadataError::NotDict);
    assert!(matches!(err(b"d8:msg_type"), MetadataError::Bencode(_)));
    assert!(matches!(err(b""), MetadataError::Bencode(_)));
}

#[test]
fn pieces_of_metadata() {
    assert_eq!(num_pieces(1), 1);
    assert_eq!(num_pieces(PIECE_LEN), 1);
    assert_eq!(num_pieces(PIECE_LEN + 1), 2);
    assert_eq!(piece_range(16389, 0), Some(0..16384));
    assert_eq!(piece_range(16389, 1), Some(16384..16389));
    assert_eq!(piece_range(16389, 2), None);
    assert_eq!(piece_range(16384, 1), None);
    assert_eq!(piece_range(10, u32::MAX), None);
    assert_eq!(check_size(1), Ok(1));
    assert_eq!(check_size(MAX_METADATA_SIZE as i64), Ok(8 << 20));
    assert_eq!(check_size(-5), Err(MetadataError::BadSize(-5)));
    assert_eq!(check_size(1 << 40), Err(MetadataError::BadSize(1 << 40)));
}
