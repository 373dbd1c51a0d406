//! What each fuzz target checks. Every function takes arbitrary bytes, feeds them to the
//! parsers, and panics (so libFuzzer records a crash) when a parser panics or when something a
//! parser accepted breaks an invariant: mostly "what was decoded encodes back to the same
//! bytes" or "parse(print(x)) == x".

use std::io::{self, BufRead, Cursor, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use bittorrent_sim::bencode;
use bittorrent_sim::flood::message::Message as Datagram;
use bittorrent_sim::infohash::InfoHash;
use bittorrent_sim::metainfo::Metainfo;
use bittorrent_sim::peer::frames::{FrameReader, Next};
use bittorrent_sim::peer::http_tracker;
use bittorrent_sim::pieces::PieceSet;
use bittorrent_sim::tracker::http::{self, Event};
use bittorrent_sim::tracker::proto::{self, MAX_LINE_LEN, Reply, Request};
use bittorrent_sim::tracker::table::{Identity, PeerTable};
use bittorrent_sim::wire::{Handshake, Message};

/// A real .torrent (made by `bittorrent-sim create`), a copy of which seeds the bencode corpus.
const TORRENT: &[u8] = include_bytes!("real.torrent");

// ---------------------------------------------------------------------------------------------
// bencode

/// `bencode::decode` and `Metainfo::from_bytes`.
pub fn bencode(data: &[u8]) {
    if let Ok(node) = bencode::decode(data) {
        // The decoder is strict (canonical only), so whatever it accepts re-encodes exactly.
        assert_eq!(node.raw, data);
        assert_eq!(
            bencode::encode(&node.to_value()),
            data,
            "accepted non-canonical bencode"
        );
    }
    if let Ok(meta) = Metainfo::from_bytes(data) {
        assert_eq!(meta.as_bytes(), data);
        let n = meta.num_pieces();
        let mut total = 0u64;
        for i in 0..n {
            assert_eq!(meta.piece_offset(i), total);
            let len = meta.piece_len(i);
            assert!(len > 0, "piece {i} of length 0");
            total += u64::from(len);
            let _ = meta.piece_hash(i);
        }
        // The pieces cover the file exactly.
        assert_eq!(total, meta.length);
        // Accepted metainfo is bencode, canonical or read leniently (keys out of order).
        assert!(bencode::decode_lenient(data).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// wire

/// A reader handing out at most `step` bytes per `read`, and a `WouldBlock` every `stall`
/// reads, as a socket with a read timeout does.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    stall: usize,
    reads: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.stall > 0 && self.reads.is_multiple_of(self.stall) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// `Handshake::read_from`, `Message::read_from`, `FrameReader` and `PieceSet`'s bitfield and
/// range-list parsers.
pub fn wire(data: &[u8]) {
    // The handshake: accepted bytes re-encode to the same 68 bytes.
    if let Ok(handshake) = Handshake::read_from(&mut &data[..]) {
        let mut out = Vec::new();
        handshake.write_to(&mut out).unwrap();
        assert_eq!(out, data[..68]);
    }

    // A stream of frames: each decoded message re-encodes to exactly the frame it came from.
    let mut rest = data;
    let mut direct = Vec::new();
    loop {
        let before = rest;
        let Ok(message) = Message::read_from(&mut rest) else {
            break;
        };
        let consumed = &before[..before.len() - rest.len()];
        let mut out = Vec::new();
        message.write_to(&mut out).unwrap();
        assert_eq!(out, consumed, "{} does not re-encode", message.name());
        direct.push(message);
    }

    // The same bytes through FrameReader, trickled in small reads with timeouts: the same
    // messages come out, in the same order.
    let (step, stall) = match data.first() {
        Some(&b) => (1 + usize::from(b % 9), usize::from(b / 32)),
        None => (1, 0),
    };
    let mut input = Trickle {
        data,
        step,
        stall,
        reads: 0,
    };
    let mut reader = FrameReader::new();
    let mut framed = Vec::new();
    for _ in 0..10 * data.len() + 10 {
        match reader.next(&mut input) {
            Ok(Next::Frame(message)) => framed.push(message),
            Ok(Next::Idle) => {}
            Err(_) => break,
        }
    }
    assert!(
        framed == direct,
        "FrameReader and Message::read_from disagree"
    );

    // Bitfields: 2 bytes of piece count, then the payload.
    if let [a, b, payload @ ..] = data {
        let n = u32::from(u16::from_be_bytes([*a, *b]));
        if let Ok(set) = PieceSet::from_bitfield(payload, n) {
            assert_eq!(set.to_bitfield(), payload);
            assert_eq!(set.len(), n);
            assert_eq!(PieceSet::from_ranges(&set.to_ranges(), n).ok(), Some(set));
        }
        // Range lists: the same count, the rest as text.
        if let Ok(text) = std::str::from_utf8(payload)
            && let Ok(set) = PieceSet::from_ranges(text, n)
        {
            let ranges = set.to_ranges();
            assert_eq!(PieceSet::from_ranges(&ranges, n).ok(), Some(set.clone()));
            let bits = set.to_bitfield();
            assert_eq!(PieceSet::from_bitfield(&bits, n).ok(), Some(set.clone()));
            assert_eq!(set.iter().count() as u32, set.count());
            assert!(set.count() <= n);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tracker lines

fn reply_bytes(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    reply.write_to(&mut out).unwrap();
    out
}

/// A line's text fields that end in `\r` cannot survive a write and a read: `read_line` drops
/// one `\r` before the `\n` (CRLF tolerance), so a reply text ending in `\r` comes back without
/// it. That is the one known lossy case; every other accepted reply must round-trip.
fn reply_has_trailing_cr(reply: &Reply) -> bool {
    match reply {
        Reply::Ok(text) => text.ends_with('\r'),
        Reply::Err { message, .. } => message.ends_with('\r'),
        Reply::Peers(peers) => peers.iter().any(|p| p.pieces.ends_with('\r')),
        Reply::Swarms(swarms) => swarms.iter().any(|s| s.name.ends_with('\r')),
        Reply::Status(swarms) => swarms.iter().any(|s| s.swarm.name.ends_with('\r')),
        _ => false,
    }
}

fn table() -> &'static (PeerTable, InfoHash, u32) {
    static TABLE: OnceLock<(PeerTable, InfoHash, u32)> = OnceLock::new();
    TABLE.get_or_init(|| {
        let meta = Metainfo::from_bytes(TORRENT).expect("the seed torrent parses");
        let (hash, pieces) = (meta.info_hash, meta.num_pieces());
        let table = PeerTable::new(Identity::IpAndPort);
        table.publish(meta);
        (table, hash, pieces)
    })
}

/// `read_line`, `Request::parse`, `Reply::read_from`, and the peer table fed the parsed
/// piece lists.
pub fn tracker_line(data: &[u8]) {
    // Lines: never longer than the cap, never holding their newline.
    let mut input = Cursor::new(data);
    while let Ok(line) = proto::read_line(&mut input) {
        assert!(line.len() < MAX_LINE_LEN);
        assert!(!line.contains('\n'));
        if let Ok(request) = Request::parse(&line) {
            let again = Request::parse(&request.to_line());
            assert_eq!(
                again.ok(),
                Some(request.clone()),
                "request does not round-trip"
            );
            let (table, hash, pieces) = table();
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7001);
            match &request {
                Request::Join { pieces: text, .. } => {
                    let ok = table.register(hash, addr, text).is_ok();
                    assert_eq!(ok, PieceSet::from_ranges(text, *pieces).is_ok());
                }
                Request::Report { pieces: text, .. } => {
                    let _ = table.report(hash, addr, text);
                }
                _ => {}
            }
        }
    }
    // Any text at all, not only what read_line hands out.
    if let Ok(request) = Request::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(Request::parse(&request.to_line()).ok(), Some(request));
    }

    // Replies: anything read writes back to bytes that read to the same reply.
    let mut input = Cursor::new(data);
    while let Ok(reply) = Reply::read_from(&mut input) {
        if reply_has_trailing_cr(&reply) {
            continue;
        }
        let bytes = reply_bytes(&reply);
        let again = Reply::read_from(&mut Cursor::new(&bytes[..]));
        assert_eq!(again.ok(), Some(reply.clone()), "reply does not round-trip");
        let _ = (reply.name(), reply.summary(), reply.trace_fields());
        if input.fill_buf().map_or(true, |b| b.is_empty()) {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn event_query(event: Event) -> &'static str {
    match event {
        Event::Update => "",
        other => other.as_str(),
    }
}

/// `read_request`, `parse_announce`, `percent_decode` and the client's `parse_reply`.
pub fn http_announce(data: &[u8]) {
    // Request heads, several on one keep-alive connection.
    let mut input = Cursor::new(data);
    while let Ok(request) = http::read_request(&mut input) {
        assert!(request.target.starts_with('/'));
        assert!(!request.method.contains(' ') && !request.target.contains(' '));
        assert!(!request.target.contains('\n'));
        if let Ok(announce) = http::parse_announce(request.query()) {
            check_announce(&announce);
        }
    }

    let text = String::from_utf8_lossy(data);
    if let Ok(announce) = http::parse_announce(&text) {
        check_announce(&announce);
    }
    if let Ok(bytes) = http::percent_decode(&text) {
        assert!(bytes.len() <= text.len());
        let encoded = http::percent_encode(&bytes);
        assert_eq!(http::percent_decode(&encoded).ok(), Some(bytes));
    }

    // The client side: a whole HTTP response with a bencoded body.
    if let Ok(reply) = http_tracker::parse_reply(data) {
        assert!(reply.interval > 0);
        assert!(reply.peers.iter().all(|p| p.port() != 0));
        // What the tracker would send for the same reply parses back to it.
        if let Ok(interval) = u32::try_from(reply.interval) {
            let peers: Vec<http::ListedPeer> = reply.peers.iter().map(|&p| p.into()).collect();
            let body = http::announce_reply(interval, 0, 0, &peers, false);
            let response = http::response(200, "text/plain", &body, false);
            let again = http_tracker::parse_reply(&response).expect("our own reply parses");
            assert_eq!(again, reply);
        }
    }
}

/// An accepted announce, printed back as a query, parses to the same announce.
fn check_announce(a: &http::Announce) {
    assert!(a.port != 0);
    assert!(a.numwant <= http::MAX_NUMWANT);
    let mut query = format!(
        "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&event={}&numwant={}&compact={}",
        http::percent_encode(&a.info_hash.0),
        http::percent_encode(&a.peer_id),
        a.port,
        a.uploaded,
        a.downloaded,
        event_query(a.event),
        a.numwant,
        u8::from(a.compact),
    );
    if let Some(left) = a.left {
        query.push_str(&format!("&left={left}"));
    }
    let again = http::parse_announce(&query).expect("a printed announce parses");
    assert_eq!(&again, a);
}

// ---------------------------------------------------------------------------------------------
// flood

/// `flood::message::Message::decode`: strict, so every accepted datagram re-encodes exactly.
pub fn flood_datagram(data: &[u8]) {
    if let Ok(message) = Datagram::decode(data) {
        let encoded = message.encode().expect("a decoded datagram encodes");
        assert_eq!(encoded, data, "{message} does not re-encode");
        let _ = message.to_string();
    }
}
