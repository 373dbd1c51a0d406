//! One home for every default duration and limit: the command line's defaults read these
//! constants, and so does the code that runs with a fixed value.
//!
//! A default a user may change is written once, as the text `--help` shows (`"10s"`); the
//! `Duration` the code uses is computed from that text at compile time by [`duration`], so the
//! two cannot disagree. What this file does not hold: the bounds of a protocol or a data format
//! (frame and line lengths, reply caps, the TTL ceiling), which live next to their codec, and
//! the few clamps written where they are used.
//!
//! Adding a peer timer: a constant here, a field in `cli/peer.rs` whose default reads it, a
//! line in `PeerConfig` (`peer.rs`) and the code that uses it.

use std::time::Duration;

use crate::net::Timeouts;

// ---- peer: timers and limits of `bittorrent-sim peer` ----

/// `--ping-interval`: a peer pings the tracker this often (proof of life).
pub const PING_INTERVAL_TEXT: &str = "10s";
pub const PING_INTERVAL: Duration = duration(PING_INTERVAL_TEXT);
/// `--report-interval`: a peer reports the pieces it holds this often.
pub const REPORT_INTERVAL_TEXT: &str = "20s";
pub const REPORT_INTERVAL: Duration = duration(REPORT_INTERVAL_TEXT);
/// `--round-interval`: a download round starts this often (0: continuously).
pub const ROUND_INTERVAL_TEXT: &str = "30s";
pub const ROUND_INTERVAL: Duration = duration(ROUND_INTERVAL_TEXT);
/// `--keepalive`: a keep-alive goes out on a connection that sent nothing for this long.
pub const KEEPALIVE_TEXT: &str = "5s";
pub const KEEPALIVE: Duration = duration(KEEPALIVE_TEXT);
/// `--stall-timeout`: a fetch that received no block for this long is given up, and the
/// connection closed.
pub const STALL_TIMEOUT_TEXT: &str = "20s";
pub const STALL_TIMEOUT: Duration = duration(STALL_TIMEOUT_TEXT);
/// `peer --unchoke-slots`: preferred neighbours (k of the course projects).
pub const UNCHOKE_SLOTS: u16 = 4;
/// `peer --rechoke-interval`: how often the preferred neighbours are chosen again (p).
pub const RECHOKE_INTERVAL_TEXT: &str = "10s";
pub const RECHOKE_INTERVAL: Duration = duration(RECHOKE_INTERVAL_TEXT);
/// `peer --optimistic-interval`: how long an optimistic unchoke lasts (m).
pub const OPTIMISTIC_INTERVAL_TEXT: &str = "30s";
pub const OPTIMISTIC_INTERVAL: Duration = duration(OPTIMISTIC_INTERVAL_TEXT);
/// `peer --snub-timeout`: a remote that unchokes us, holds what we lack and sends no block
/// for this long snubs us.
pub const SNUB_TIMEOUT_TEXT: &str = "60s";
pub const SNUB_TIMEOUT: Duration = duration(SNUB_TIMEOUT_TEXT);
/// `--handshake-timeout`: an accepted connection must send its whole handshake within this.
pub const HANDSHAKE_TIMEOUT_TEXT: &str = "10s";
pub const HANDSHAKE_TIMEOUT: Duration = duration(HANDSHAKE_TIMEOUT_TEXT);
/// `peer --encryption`: dial with the plain BEP 3 handshake and retry encrypted (MSE) when the
/// remote closes it; accept both. Real clients accept both too (libtorrent's and qBittorrent's
/// default, Transmission's "prefer"), though they dial encrypted first; plain first keeps
/// every connection between our own peers readable in Wireshark and in the trace.
pub const ENCRYPTION_TEXT: &str = "allow";
/// `--tracker-wait`: a peer whose tracker refuses the connection at start-up retries for this
/// long (students start processes in any order); 0: fail at once, as scripts expect.
pub const TRACKER_WAIT_TEXT: &str = "30s";
pub const TRACKER_WAIT: Duration = duration(TRACKER_WAIT_TEXT);
/// Between two of those tries.
pub const TRACKER_RETRY: Duration = Duration::from_secs(2);
/// `--piece-length` of `peer --seed` and `create`.
pub const PIECE_LENGTH_TEXT: &str = "256KiB";
/// `--min-peers`: no round starts until the tracker lists this many other peers.
pub const MIN_PEERS: usize = 2;
/// `--parallel`: download slots at once, each from its own holder. A slot is one piece, or in
/// continuous mode a pipeline's worth of bytes, at most 1024 pieces (`peer/engine/slots.rs`).
pub const PARALLEL: u16 = 1;
/// `--per-peer`: at most this many of those slots from one peer (0: no limit besides
/// `--parallel`).
pub const PER_PEER: usize = 0;
/// `--pipeline`: block requests kept in flight on one connection.
pub const PIPELINE: u16 = 128;
/// `--max-connections` of a peer: upload connections served at once.
pub const PEER_MAX_CONNECTIONS: usize = 32;
/// `--max-peers`: connections opened only while fewer than this many are connected.
pub const MAX_PEERS: u16 = 50;

/// How long one blocking read of a peer connection waits before its loop looks at its
/// commands and timers again.
pub const TICK: Duration = Duration::from_millis(25);
/// A peer connection that received nothing for this long is closed (BEP 3: two minutes).
pub const PEER_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// A peer whose outgoing connection failed (refused, unreachable, a bad handshake, closed
/// before any data) is not connected to again for this long; each further failure in a row
/// doubles it (`peer/engine/backoff.rs`), up to [`BACKOFF_MAX`].
pub const BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// The longest rest between two connection attempts to a failing peer.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// An outgoing connection that closes this soon after its handshake without bringing any data
/// (bitfield, have, piece) counts as a failure for the back-off.
pub const EARLY_CLOSE: Duration = Duration::from_secs(10);
/// A complete peer asks the tracker for the list (and dials the peers that lack pieces) at
/// its round interval, but never more often than this (continuous mode's rounds are 200 ms).
pub const COMPLETE_LIST_INTERVAL: Duration = Duration::from_secs(5);
/// After the disk filled up, downloads are paused this long before one more piece is tried.
pub const DISK_FULL_RETRY: Duration = Duration::from_secs(30);
/// A multi-file torrent of at most this many files keeps every file open; one with more opens
/// a file for each read or write (a process may hold only ~1024 descriptors by default).
pub const MAX_OPEN_FILES: usize = 64;
/// Timeouts of an outgoing peer connection until its handshake is done.
pub const CONNECT_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    read: Duration::from_secs(10),
    write: Duration::from_secs(30),
};
/// A magnet link's peer fetching the metadata: one peer has this long, from `connect` to the
/// last piece, to hand it over (`peer/magnet/exchange.rs`).
pub const METADATA_PEER_TIMEOUT: Duration = Duration::from_secs(10);
/// A magnet link's peer gives up (exit status 69) when no peer gave the metadata this long.
pub const METADATA_DEADLINE: Duration = Duration::from_secs(300);
/// A connection answers at most this many metadata requests (more are rejected): enough to
/// send 8 MiB of metadata twice over.
pub const METADATA_REQUESTS_PER_CONNECTION: u32 = 1024;
/// In continuous mode (`--round-interval 0`) a new round starts whenever a fetch ends; this
/// timer only retries when nothing could be fetched.
pub const CONTINUOUS_RETRY: Duration = Duration::from_millis(200);
/// An HTTP tracker is asked again when its last list was empty and this old.
pub const HTTP_RETRY: Duration = Duration::from_secs(1);
/// The re-announce interval of an HTTP tracker until its first reply names one.
pub const HTTP_ANNOUNCE_INTERVAL: Duration = Duration::from_secs(1800);

// ---- both sides of a TCP connection ----

/// Timeouts of a short request/reply exchange (a peer or `status` talking to the tracker).
pub const EXCHANGE_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    read: Duration::from_secs(10),
    write: Duration::from_secs(10),
};
/// After a failed `accept` (out of file descriptors, say), an accept loop waits this long.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long a refused client's remaining input is read and thrown away before the close.
pub const LINGER: Duration = Duration::from_secs(1);
/// Connections accepted but not yet through their handshake (or first request line).
pub const MAX_PENDING: usize = 16;

// ---- tracker ----

/// `--cleanup-interval`: peers that did not ping since the previous clean-up are dropped.
pub const CLEANUP_INTERVAL_TEXT: &str = "15s";
pub const CLEANUP_INTERVAL: Duration = duration(CLEANUP_INTERVAL_TEXT);
/// `--announce-interval`: HTTP clients are told to re-announce this often.
pub const ANNOUNCE_INTERVAL_TEXT: &str = "60s";
pub const ANNOUNCE_INTERVAL: Duration = duration(ANNOUNCE_INTERVAL_TEXT);
/// HTTP clients silent this long are dropped: three announce intervals.
pub const HTTP_EXPIRY: Duration = ANNOUNCE_INTERVAL.saturating_mul(3);
/// `--max-connections` of the tracker: connections served at once.
pub const TRACKER_MAX_CONNECTIONS: usize = 128;
/// `--port` of the tracker: the line protocol and HTTP announces (the design card's port).
pub const TRACKER_PORT: u16 = 6000;
/// `--page-port`: the status page's own port. Browsers refuse 6000 (X11, on their list of
/// unsafe ports), so the page gets a port of its own that Chromium and Firefox open.
pub const PAGE_PORT: u16 = 8080;
/// `--max-peers-per-swarm`: a new peer joining a swarm this full gets `ERR full`.
pub const MAX_PEERS_PER_SWARM: usize = 5000;
/// `--max-swarms`: a new swarm beyond this many gets `ERR full`.
pub const MAX_SWARMS: usize = 1000;
/// A tracker connection silent this long is closed.
pub const TRACKER_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// A new tracker connection must send its first request within this long.
pub const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

// ---- status ----

/// `status --watch` without a value redraws this often.
pub const WATCH_TEXT: &str = "1s";

// ---- flooding network ----

/// `flood client --timeout`: how long the client waits for the flood.
pub const FLOOD_TIMEOUT_TEXT: &str = "5s";
/// `flood client --gather`: after a chunk's first offer, listen this long for more holders.
pub const GATHER_TEXT: &str = "200ms";
/// `flood client --retry-interval`: a HELLO or GET is resent this often.
pub const RETRY_INTERVAL_TEXT: &str = "1s";
/// `flood client --retries`: at most this many resends of the HELLO and of each GET.
pub const RETRIES: u32 = 5;
/// `flood peer --ttl`: the TTL the contact peer writes into a new QUERY.
pub const TTL: u16 = 3;
/// `flood peer --client-rate`: KiB per second one client address may make a peer send.
pub const CLIENT_RATE_KIB: u64 = 256;
/// `flood peer --duplicate-window`: a query seen again within this is a duplicate (shorter than
/// a client's retransmission, so a resent query is answered).
pub const DUPLICATE_WINDOW_TEXT: &str = "20ms";
/// How often a flood peer's receive loop wakes to check for a stop request.
pub const FLOOD_POLL: Duration = Duration::from_millis(500);

// ---- diagram ----

/// `diagram --max-messages`: arrows drawn at most (0: all).
pub const MAX_MESSAGES: usize = 400;

/// `"250ms"`, `"10s"` or `"2m"` as a `Duration`, at compile time: a malformed default fails
/// the build. (The command line's own parser, `units::parse_duration`, takes more forms.)
pub const fn duration(text: &str) -> Duration {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut n: u64 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        n = n * 10 + (bytes[i] - b'0') as u64;
        i += 1;
    }
    assert!(i > 0, "a default duration starts with a number");
    match bytes.split_at(i).1 {
        b"ms" => Duration::from_millis(n),
        b"s" => Duration::from_secs(n),
        b"m" => Duration::from_secs(n * 60),
        _ => panic!("a default duration ends in ms, s or m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{parse_duration, parse_size};

    #[test]
    fn every_default_text_parses_as_the_command_line_reads_it() {
        let pairs = [
            (PING_INTERVAL_TEXT, PING_INTERVAL),
            (REPORT_INTERVAL_TEXT, REPORT_INTERVAL),
            (ROUND_INTERVAL_TEXT, ROUND_INTERVAL),
            (KEEPALIVE_TEXT, KEEPALIVE),
            (STALL_TIMEOUT_TEXT, STALL_TIMEOUT),
            (RECHOKE_INTERVAL_TEXT, RECHOKE_INTERVAL),
            (OPTIMISTIC_INTERVAL_TEXT, OPTIMISTIC_INTERVAL),
            (SNUB_TIMEOUT_TEXT, SNUB_TIMEOUT),
            (HANDSHAKE_TIMEOUT_TEXT, HANDSHAKE_TIMEOUT),
            (CLEANUP_INTERVAL_TEXT, CLEANUP_INTERVAL),
            (ANNOUNCE_INTERVAL_TEXT, ANNOUNCE_INTERVAL),
            (WATCH_TEXT, duration(WATCH_TEXT)),
            (FLOOD_TIMEOUT_TEXT, duration(FLOOD_TIMEOUT_TEXT)),
            (DUPLICATE_WINDOW_TEXT, duration(DUPLICATE_WINDOW_TEXT)),
            (GATHER_TEXT, duration(GATHER_TEXT)),
            (RETRY_INTERVAL_TEXT, duration(RETRY_INTERVAL_TEXT)),
        ];
        for (text, value) in pairs {
            assert_eq!(parse_duration(text), Ok(value), "{text}");
        }
        assert_eq!(parse_size(PIECE_LENGTH_TEXT), Ok(256 * 1024));
    }

    #[test]
    fn the_compile_time_parser_reads_each_unit() {
        assert_eq!(duration("250ms"), Duration::from_millis(250));
        assert_eq!(duration("15s"), Duration::from_secs(15));
        assert_eq!(duration("2m"), Duration::from_secs(120));
        assert_eq!(HTTP_EXPIRY, Duration::from_secs(180));
    }
}
