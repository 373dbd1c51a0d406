//! The swarm as the tracker sees it, drawn for people: `bittorrent-sim status` in the terminal
//! and the tracker's status page (`tracker/page.rs`) both start from [`SwarmView`].
//!
//! One row per peer (address, last heard of, percent complete, piece map) and one
//! availability row: how many peers hold each piece, so the rarest stand out. This module
//! builds and renders the view; the only I/O is in [`run`], which asks the tracker (`STATUS`)
//! and prints.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

use crate::infohash::InfoHash;
use crate::peer::tracker_client::{ClientError, TrackerClient};
use crate::pieces::PieceSet;
use crate::tracker::proto::{SwarmStatus, Unchoked, format_unchoked, printable};

/// Cells of a piece map in the terminal.
pub const MAP_WIDTH: usize = 64;

/// One peer as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub addr: SocketAddr,
    /// Milliseconds since the tracker last heard of it.
    pub seen_ms: u64,
    /// `None`: not known to the tracker (a client that announced over HTTP).
    pub pieces: Option<PieceSet>,
    /// Whom it said it unchokes; `None`: it never said (an older peer, or an HTTP client).
    pub unchoked: Option<Vec<Unchoked>>,
}

/// One swarm as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmView {
    pub info_hash: InfoHash,
    pub name: String,
    pub pieces: u32,
    pub peers: Vec<PeerView>,
}

impl SwarmView {
    pub fn from_status(status: &SwarmStatus) -> SwarmView {
        let count = status.swarm.pieces;
        SwarmView {
            info_hash: status.swarm.info_hash,
            name: status.swarm.name.clone(),
            pieces: count,
            peers: status
                .peers
                .iter()
                .map(|p| PeerView {
                    addr: SocketAddr::new(p.peer.ip, p.peer.port),
                    seen_ms: p.seen_ms,
                    pieces: PieceSet::from_ranges(&p.peer.pieces, count).ok(),
                    unchoked: p.unchoked.clone(),
                })
                .collect(),
        }
    }

    /// How many peers hold each piece (peers whose pieces are unknown do not count).
    pub fn availability(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.pieces as usize];
        for pieces in self.peers.iter().filter_map(|p| p.pieces.as_ref()) {
            for index in pieces.iter() {
                counts[index as usize] += 1;
            }
        }
        counts
    }

    /// The pieces held by the fewest peers (at least one), and that count; `None` when no
    /// piece is held at all.
    pub fn rarest(&self) -> Option<(u32, PieceSet)> {
        let counts = self.availability();
        let least = counts.iter().copied().filter(|&c| c > 0).min()?;
        let mut set = PieceSet::empty(self.pieces);
        for (index, _) in counts.iter().enumerate().filter(|(_, c)| **c == least) {
            set.insert(index as u32);
        }
        Some((least, set))
    }
}

/// The availability row folded to `width` cells: each cell the smallest count among its
/// pieces (so a rare piece is never hidden), `0`-`9`, `+` for ten or more.
pub fn availability_row(counts: &[u32], width: usize) -> String {
    let cells = counts.len().min(width.max(1));
    (0..cells)
        .map(|cell| {
            let start = cell * counts.len() / cells;
            let end = ((cell + 1) * counts.len() / cells).max(start + 1);
            match counts[start..end].iter().min().copied().unwrap_or(0) {
                n @ 0..=9 => char::from(b'0' + n as u8),
                _ => '+',
            }
        })
        .collect()
}

/// The text view of every swarm. `color`: ANSI colours (rarest pieces in red).
pub fn render_text(swarms: &[SwarmView], tracker: &str, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "tracker {tracker}: {} swarm(s)", swarms.len());
    for swarm in swarms {
        let _ = writeln!(
            out,
            "\nswarm {} {}: {} pieces, {} peers",
            swarm.info_hash.short(),
            // The name comes from whoever published: never raw to a terminal.
            printable(&swarm.name),
            swarm.pieces,
            swarm.peers.len()
        );
        let _ = writeln!(out, "  {:<22} {:>7} {:>5}  pieces", "peer", "seen", "done");
        for peer in &swarm.peers {
            let (done, map) = match &peer.pieces {
                Some(pieces) => (format!("{}%", pieces.percent()), pieces.map(MAP_WIDTH)),
                None => (
                    "?".to_string(),
                    "? (pieces learned from the peer itself)".to_string(),
                ),
            };
            let seen = format!("{:.1}s", peer.seen_ms as f64 / 1000.0);
            let unchokes = peer.unchoked.as_deref().map_or_else(String::new, |set| {
                format!("  unchokes {}", format_unchoked(set))
            });
            let _ = writeln!(
                out,
                "  {:<22} {seen:>7} {done:>5}  {map}{unchokes}",
                peer.addr.to_string()
            );
        }
        let counts = swarm.availability();
        let row = availability_row(&counts, MAP_WIDTH);
        let row = if color { paint_rarest(&row) } else { row };
        let _ = writeln!(
            out,
            "  {:<22} {:>7} {:>5}  {row}",
            "holders per piece", "", ""
        );
        match swarm.rarest() {
            Some((least, set)) => {
                let _ = writeln!(
                    out,
                    "  rarest: piece(s) {} held by {least} peer(s)",
                    set.to_ranges()
                );
            }
            None if swarm.pieces > 0 => {
                let _ = writeln!(out, "  rarest: no piece is held by any listed peer");
            }
            None => {}
        }
    }
    out
}

/// Red for the smallest non-zero digit of the row, dim for zeros.
fn paint_rarest(row: &str) -> String {
    let least = row
        .chars()
        .filter(|c| c.is_ascii_digit() && *c != '0')
        .min();
    row.chars()
        .map(|c| match c {
            '0' => format!("\x1b[2m{c}\x1b[0m"),
            c if Some(c) == least => format!("\x1b[1;31m{c}\x1b[0m"),
            c => c.to_string(),
        })
        .collect()
}

/// What `status` is told.
#[derive(Debug, Clone, Copy)]
pub struct StatusConfig {
    pub tracker: SocketAddr,
    /// Redraw in place this often; `None`: print once.
    pub watch: Option<Duration>,
}

/// `bittorrent-sim status`: asks the tracker and prints; with `watch`, redraws in place.
pub fn run(config: StatusConfig) -> Result<(), ClientError> {
    let StatusConfig { tracker, watch } = config;
    let client = TrackerClient {
        tracker,
        local_ip: None,
    };
    let color = std::io::stdout().is_terminal();
    loop {
        let swarms: Vec<SwarmView> = client
            .status()?
            .iter()
            .map(SwarmView::from_status)
            .collect();
        let text = render_text(&swarms, &tracker.to_string(), color);
        let mut stdout = std::io::stdout().lock();
        let Some(every) = watch else {
            let _ = stdout.write_all(text.as_bytes());
            return Ok(());
        };
        // Home, draw, then clear what an older, longer frame left below.
        let _ = write!(stdout, "\x1b[H{}\x1b[J", text.replace('\n', "\x1b[K\n"));
        let _ = stdout.flush();
        drop(stdout);
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::proto::{PeerEntry, PeerStatus, SwarmEntry};

    fn view() -> SwarmView {
        let hash: InfoHash = "0123456789abcdef0123456789abcdef01234567"
            .parse()
            .expect("hash");
        let status = SwarmStatus {
            swarm: SwarmEntry {
                info_hash: hash,
                pieces: 8,
                peers: 3,
                name: "f.bin".into(),
            },
            peers: vec![
                PeerStatus {
                    peer: PeerEntry {
                        ip: [127, 0, 0, 1].into(),
                        port: 7001,
                        pieces: "0-5".into(),
                    },
                    seen_ms: 400,
                    unchoked: Some(vec![Unchoked::Port(7002), Unchoked::Port(6881)]),
                },
                PeerStatus {
                    peer: PeerEntry {
                        ip: [127, 0, 0, 1].into(),
                        port: 7002,
                        pieces: "0-3,6".into(),
                    },
                    seen_ms: 1200,
                    unchoked: None,
                },
                PeerStatus {
                    peer: PeerEntry {
                        ip: [127, 0, 0, 1].into(),
                        port: 6881,
                        pieces: "?".into(),
                    },
                    seen_ms: 50,
                    unchoked: None,
                },
            ],
        };
        SwarmView::from_status(&status)
    }

    #[test]
    fn availability_counts_known_holders_and_finds_the_rarest() {
        let v = view();
        assert_eq!(v.availability(), vec![2, 2, 2, 2, 1, 1, 1, 0]);
        let (least, set) = v.rarest().expect("some piece held");
        assert_eq!((least, set.to_ranges()), (1, "4-6".to_string()));
        assert_eq!(availability_row(&v.availability(), 4), "2210");
        assert_eq!(availability_row(&[12, 3], 8), "+3");
    }

    #[test]
    fn the_text_view_has_a_row_per_peer_and_an_availability_row() {
        let text = render_text(&[view()], "127.0.0.1:6000", false);
        let expected = "\
tracker 127.0.0.1:6000: 1 swarm(s)

swarm 01234567 f.bin: 8 pieces, 3 peers
  peer                      seen  done  pieces
  127.0.0.1:7001            0.4s   75%  ######..  unchokes 7002,6881
  127.0.0.1:7002            1.2s   62%  ####..#.
  127.0.0.1:6881            0.1s     ?  ? (pieces learned from the peer itself)
  holders per piece                     22221110
  rarest: piece(s) 4-6 held by 1 peer(s)
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_name_with_control_characters_reaches_the_terminal_escaped() {
        let mut v = view();
        v.name = "evil\x1b]0;pwned\x07\x1b[2J\nPEER".into();
        let text = render_text(&[v], "127.0.0.1:6000", false);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(
            text.contains("swarm 01234567 evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{a}PEER: 8 pieces"),
            "{text:?}"
        );
    }
}
