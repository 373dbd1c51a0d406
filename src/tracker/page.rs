//! The tracker's live status page, `http://HOST:PORT/`: the swarm table and piece maps of
//! `bittorrent-sim status`, as one self-contained HTML page that reloads itself every second
//! (no script, no external font or style sheet).
//!
//! Pure rendering from [`SwarmView`]s; `tracker/announce.rs` serves it.

use std::fmt::Write as _;

use crate::pieces::PieceSet;
use crate::status::SwarmView;

/// Cells of a piece map on the page; more pieces than this are folded into cells.
pub const PAGE_CELLS: usize = 128;

const STYLE: &str = "body{font-family:ui-monospace,Menlo,Consolas,monospace;margin:24px;color:#222;background:#fafafa}\
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}\
td,th{padding:3px 10px;text-align:left;vertical-align:middle}th{border-bottom:1px solid #999}\
.r{text-align:right}.map{display:flex;gap:1px}.c{width:7px;height:16px;background:#ddd}\
.h{background:#2e8b57}.p{background:#9acd9a}.a0{background:#eee}.a1{background:#d7301f}\
.a2{background:#fc8d59}.a3{background:#fdcc8a}.a4{background:#91cf60}.a5{background:#1a9850}\
.legend{color:#666;font-size:12px}.rare{color:#d7301f;font-weight:bold}";

/// The whole page.
pub fn render(swarms: &[SwarmView], tracker: &str) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta http-equiv=\"refresh\" content=\"1\">");
    let _ = write!(
        out,
        "<title>bittorrent-sim tracker {}</title>",
        escape(tracker)
    );
    let _ = write!(out, "<style>{STYLE}</style></head><body>");
    let _ = write!(
        out,
        "<h1>bittorrent-sim tracker {} &mdash; {} swarm(s)</h1>",
        escape(tracker),
        swarms.len()
    );
    if swarms.is_empty() {
        out.push_str("<p>No swarm yet: start a peer with <code>--seed FILE</code> or the tracker with <code>--torrent FILE</code>.</p>");
    }
    for swarm in swarms {
        render_swarm(&mut out, swarm);
    }
    out.push_str("<p class=\"legend\">Piece maps: dark green held, light green partly held (folded cells), grey missing. ");
    out.push_str("Holders per piece: red = held by one peer (rarest), orange 2, yellow 3, greens 4 and more, pale = nobody. ");
    out.push_str("This page reloads every second.</p></body></html>\n");
    out
}

fn render_swarm(out: &mut String, swarm: &SwarmView) {
    let _ = write!(
        out,
        "<h2>{} <small>({}) &mdash; {} pieces, {} peers</small></h2>",
        escape(&swarm.name),
        swarm.info_hash,
        swarm.pieces,
        swarm.peers.len()
    );
    out.push_str("<table><tr><th>peer</th><th class=\"r\">last heard</th><th class=\"r\">done</th><th>pieces</th></tr>");
    for peer in &swarm.peers {
        let (done, map) = match &peer.pieces {
            // A seed (`left=0`) of a swarm the tracker has no metainfo for: no map to draw.
            Some(_) if swarm.pieces == 0 => (
                "100%".to_string(),
                "<span class=\"legend\">seed: every piece (no metainfo here to count them)</span>"
                    .to_string(),
            ),
            Some(pieces) => (format!("{}%", pieces.percent()), piece_map(pieces)),
            None => (
                "?".to_string(),
                "<span class=\"legend\">pieces learned from the peer itself</span>".to_string(),
            ),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"r\">{:.1} s</td><td class=\"r\">{done}</td><td>{map}</td></tr>",
            peer.addr,
            peer.seen_ms as f64 / 1000.0
        );
    }
    let counts = swarm.availability();
    let _ = write!(
        out,
        "<tr><td>holders per piece</td><td></td><td></td><td>{}</td></tr></table>",
        availability_map(&counts)
    );
    if let Some((least, set)) = swarm.rarest() {
        let _ = write!(
            out,
            "<p>Rarest: <span class=\"rare\">piece(s) {} held by {least} peer(s)</span></p>",
            escape(&set.to_ranges())
        );
    }
    unchoke_list(out, swarm);
}

/// Under the piece map, who unchokes whom, one arrow line per peer that said so (`REPORT
/// ... unchoked=`): `127.0.0.1:7001 → 7002, 7004`.
fn unchoke_list(out: &mut String, swarm: &SwarmView) {
    let told: Vec<_> = swarm
        .peers
        .iter()
        .filter_map(|p| p.unchoked.as_ref().map(|set| (p.addr, set)))
        .collect();
    if told.is_empty() {
        return;
    }
    out.push_str("<p>Unchokes (whom each peer uploads to now):</p><ul class=\"unchokes\">");
    for (addr, set) in told {
        let targets: Vec<String> = set.iter().map(|u| escape(&u.to_string())).collect();
        let targets = if targets.is_empty() {
            "nobody".to_string()
        } else {
            targets.join(", ")
        };
        let _ = write!(out, "<li>{addr} &rarr; {targets}</li>");
    }
    out.push_str("</ul>");
}

/// Cells `(first piece, last piece)` of a map of `len` pieces.
fn cells(len: usize) -> impl Iterator<Item = (usize, usize)> {
    let count = len.min(PAGE_CELLS);
    (0..count).map(move |cell| {
        let start = cell * len / count;
        (start, ((cell + 1) * len / count).max(start + 1))
    })
}

fn piece_map(pieces: &PieceSet) -> String {
    let mut out = String::from("<div class=\"map\">");
    for (start, end) in cells(pieces.len() as usize) {
        let held = (start..end).filter(|&i| pieces.contains(i as u32)).count();
        let class = if held == end - start {
            "c h"
        } else if held > 0 {
            "c p"
        } else {
            "c"
        };
        let _ = write!(
            out,
            "<div class=\"{class}\" title=\"{}\"></div>",
            label(start, end)
        );
    }
    out.push_str("</div>");
    out
}

fn availability_map(counts: &[u32]) -> String {
    let mut out = String::from("<div class=\"map\">");
    for (start, end) in cells(counts.len()) {
        let least = counts[start..end].iter().min().copied().unwrap_or(0);
        let _ = write!(
            out,
            "<div class=\"c a{}\" title=\"{}: {least} holder(s)\"></div>",
            least.min(5),
            label(start, end)
        );
    }
    out.push_str("</div>");
    out
}

fn label(start: usize, end: usize) -> String {
    if end - start == 1 {
        format!("piece {start}")
    } else {
        format!("pieces {start}-{}", end - 1)
    }
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::PeerView;
    use std::net::SocketAddr;

    #[test]
    fn the_page_shows_every_peer_and_the_rarest_pieces_and_reloads_itself() {
        let swarm = SwarmView {
            info_hash: "0123456789abcdef0123456789abcdef01234567"
                .parse()
                .expect("hash"),
            name: "<sample>.bin".into(),
            pieces: 4,
            peers: vec![
                PeerView {
                    addr: "127.0.0.1:7001".parse().expect("addr"),
                    seen_ms: 300,
                    pieces: PieceSet::from_ranges("0-3", 4).ok(),
                    unchoked: Some(vec![crate::tracker::proto::Unchoked::Port(7002)]),
                },
                PeerView {
                    addr: "127.0.0.1:7002".parse().expect("addr"),
                    seen_ms: 900,
                    pieces: PieceSet::from_ranges("0-1", 4).ok(),
                    unchoked: None,
                },
            ],
        };
        let page = render(&[swarm], "127.0.0.1:6000");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"1\">"));
        assert!(page.contains("&lt;sample&gt;.bin"), "names are escaped");
        assert!(
            page.contains("<li>127.0.0.1:7001 &rarr; 7002</li>"),
            "the unchoke set is drawn under the map"
        );
        assert!(
            page.contains("<td>127.0.0.1:7001</td>") && page.contains("<td>127.0.0.1:7002</td>")
        );
        assert_eq!(page.matches("class=\"c h\"").count(), 6, "4 + 2 held cells");
        assert_eq!(
            page.matches("class=\"c a1\"").count(),
            2,
            "pieces 2 and 3 have one holder"
        );
        assert!(page.contains("piece(s) 2-3 held by 1 peer(s)"));
        assert!(
            !page.contains("<script") && !page.contains("http://") && !page.contains("https://")
        );
    }

    #[test]
    fn an_http_seed_without_metainfo_is_shown_complete_not_unknown() {
        let peer = |port: u16, pieces: &str| PeerView {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            seen_ms: 0,
            pieces: PieceSet::from_ranges(pieces, 0).ok(),
            unchoked: None,
        };
        let swarm = SwarmView {
            info_hash: crate::infohash::InfoHash([1; 20]),
            name: "-".into(),
            pieces: 0,
            peers: vec![peer(6881, "-"), peer(6882, "?")],
        };
        let page = render(&[swarm], "t");
        let row = |port: u16| {
            let start = page.find(&format!("127.0.0.1:{port}</td>")).expect("row");
            page[start..]
                .split("</tr>")
                .next()
                .unwrap_or("")
                .to_string()
        };
        assert!(row(6881).contains(">100%<") && row(6881).contains("seed"));
        assert!(row(6882).contains(">?<"), "{}", row(6882));
    }
}
