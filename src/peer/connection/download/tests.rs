//! Unit tests of `peer/connection/download.rs`.

use super::*;

#[test]
fn requests_are_aligned_16_kib_blocks_and_the_last_is_short() {
    let mut d = Downloads::default();
    d.add(3, 40_000); // 16384 + 16384 + 7232
    assert!(d.next_requests(10).is_empty(), "choked at start");
    d.unchoked();
    assert_eq!(
        d.next_requests(10),
        vec![(3, 0, 16384), (3, 16384, 16384), (3, 32768, 7232)]
    );
    assert!(!d.can_request(10));
}

#[test]
fn the_pipeline_caps_requests_in_flight() {
    let mut d = Downloads::default();
    d.unchoked();
    d.add(0, 4 * BLOCK_LEN);
    d.add(1, 4 * BLOCK_LEN);
    assert_eq!(d.next_requests(3).len(), 3);
    assert!(d.next_requests(3).is_empty());
    assert_eq!(d.receive(0, 0, &[1; BLOCK_LEN as usize]), Received::Stored);
    assert_eq!(d.next_requests(3), vec![(0, 3 * BLOCK_LEN, BLOCK_LEN)]);
}

#[test]
fn a_piece_completes_when_every_block_arrived_in_any_order() {
    let mut d = Downloads::default();
    d.unchoked();
    d.add(7, 20_000);
    d.next_requests(8);
    assert_eq!(d.receive(7, 16384, &[2; 3616]), Received::Stored);
    match d.receive(7, 0, &[1; 16384]) {
        Received::Complete { index: 7, data } => {
            assert_eq!(data.len(), 20_000);
            assert_eq!((data[0], data[16384]), (1, 2));
        }
        other => panic!("{other:?}"),
    }
    assert!(d.is_empty());
}

#[test]
fn unrequested_misaligned_and_wrong_size_blocks_are_told_apart_from_late_ones() {
    let mut d = Downloads::default();
    d.unchoked();
    d.add(1, 2 * BLOCK_LEN);
    assert_eq!(
        d.receive(1, 0, &[0; 16384]),
        Received::Unrequested,
        "not yet requested"
    );
    d.next_requests(1);
    assert_eq!(
        d.receive(1, 1, &[0; 16384]),
        Received::Unrequested,
        "misaligned"
    );
    assert_eq!(
        d.receive(1, 0, &[0; 100]),
        Received::Unrequested,
        "wrong size"
    );
    assert_eq!(
        d.receive(9, 0, &[0; 16384]),
        Received::Unrequested,
        "other piece"
    );
    assert_eq!(d.cancel(1), vec![(1, 0, 16384)]);
    assert_eq!(
        d.receive(1, 0, &[0; 16384]),
        Received::Late,
        "cancelled, still arriving"
    );
}

#[test]
fn a_choke_drops_requests_in_flight_to_be_asked_again() {
    let mut d = Downloads::default();
    d.unchoked();
    d.add(0, 3 * BLOCK_LEN);
    assert_eq!(d.next_requests(10).len(), 3);
    d.receive(0, 0, &[0; 16384]);
    assert_eq!(d.choked(), 2);
    assert!(!d.can_request(10));
    d.unchoked();
    assert_eq!(
        d.next_requests(10),
        vec![(0, BLOCK_LEN, BLOCK_LEN), (0, 2 * BLOCK_LEN, BLOCK_LEN)]
    );
}
