//! Golden tests of magnet links: literal URIs, the fields they must give, and the errors of
//! broken ones. The base32 forms were computed apart from this code (Python's
//! `base64.b32encode`).

use super::*;

const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

fn hash(hex: &str) -> InfoHash {
    hex.parse().unwrap()
}

#[test]
fn a_hex_link_with_name_and_trackers() {
    let magnet = Magnet::parse(
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a\
         &dn=Big+Buck%20Bunny\
         &tr=http%3A%2F%2F127.0.0.1%3A6000%2Fannounce\
         &tr=udp%3A%2F%2Ftracker.example%3A1337\
         &xl=12345&ws=http%3A%2F%2Fseed",
    )
    .unwrap();
    assert_eq!(magnet.info_hash, hash(HEX));
    assert_eq!(magnet.name.as_deref(), Some("Big Buck Bunny"));
    assert_eq!(
        magnet.trackers,
        [
            "http://127.0.0.1:6000/announce",
            "udp://tracker.example:1337"
        ]
    );
}

#[test]
fn a_base32_link_in_either_case_and_upper_case_hex() {
    // base32 of c12fe1c0...: YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK
    let upper = Magnet::parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").unwrap();
    assert_eq!(upper.info_hash, hash(HEX));
    let lower = Magnet::parse("MAGNET:?xt=URN:BTIH:yex6dqdlxisuvhoj6um3gnnkpqjwpkek").unwrap();
    assert_eq!(lower.info_hash, hash(HEX));
    // base32 of 0123456789abcdef...: AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH
    let other = Magnet::parse("magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH").unwrap();
    assert_eq!(
        other.info_hash,
        hash("0123456789abcdef0123456789abcdef01234567")
    );
    let hex = Magnet::parse("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
    assert_eq!(hex.unwrap().info_hash, hash(HEX));
    assert_eq!(upper.name, None);
    assert!(upper.trackers.is_empty());
}

#[test]
fn numbered_trackers_and_a_v2_hash_beside_v1() {
    let magnet = Magnet::parse(
        "magnet:?xt=urn:btmh:1220aaaa&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a\
         &tr.1=http://a/announce&tr.2=http://b/announce",
    )
    .unwrap();
    assert_eq!(magnet.info_hash, hash(HEX));
    assert_eq!(magnet.trackers, ["http://a/announce", "http://b/announce"]);
}

#[test]
fn a_link_is_written_back_percent_encoded() {
    let magnet = Magnet {
        info_hash: hash(HEX),
        name: Some("a b.bin".into()),
        trackers: vec!["http://127.0.0.1:6000/announce".into()],
    };
    assert_eq!(
        magnet.to_uri(),
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a\
         &dn=a%20b.bin\
         &tr=http%3A%2F%2F127.0.0.1%3A6000%2Fannounce"
    );
    assert_eq!(Magnet::parse(&magnet.to_uri()).unwrap(), magnet);
}

#[test]
fn broken_links_say_what_is_wrong() {
    let err = |uri: &str| Magnet::parse(uri).unwrap_err();
    assert_eq!(err("http://example/"), MagnetError::NotMagnet);
    assert_eq!(err("magnet:"), MagnetError::NotMagnet);
    assert_eq!(
        err("magnet:?dn=x&tr=http://a/"),
        MagnetError::NoInfoHash { v2_only: false }
    );
    assert_eq!(
        err("magnet:?xt=urn:btmh:1220abcd"),
        MagnetError::NoInfoHash { v2_only: true }
    );
    // 39 hex digits, a non-hex digit, base32 with a `1` (not in the alphabet)
    for bad in [
        "c12fe1c06bba254a9dc9f519b335aa7c1367a88",
        "g12fe1c06bba254a9dc9f519b335aa7c1367a88a",
        "1EX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK",
    ] {
        assert_eq!(
            err(&format!("magnet:?xt=urn:btih:{bad}")),
            MagnetError::BadInfoHash(bad.into())
        );
    }
    assert_eq!(
        err(&format!("magnet:?xt=urn:btih:{HEX}&dn=%4")),
        MagnetError::BadEscape("%4".into())
    );
    assert_eq!(
        err(&format!("magnet:?xt=urn:btih:{HEX}&tr=%ff")),
        MagnetError::BadEscape("%ff".into())
    );
    assert!(err("magnet:?").to_string().contains("xt=urn:btih:"));
}
