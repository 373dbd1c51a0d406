//! BEP 48 scrape on the tracker's HTTP side: parsing `/scrape?info_hash=..&info_hash=..` and
//! building the bencoded `files` reply (seeds, leechers and completions per swarm).
//!
//! Pure codec, like the rest of `http.rs`: no sockets and no peer table here
//! (`tracker/announce.rs` serves the request, `tracker/table/scrape.rs` counts). A scrape names
//! at least one and at most [`MAX_SCRAPE_HASHES`] info-hashes: the "scrape everything" form of
//! BEP 48 (no `info_hash`) is refused, so a reply never lists more than that many swarms.

use super::{HttpError, malformed, percent_decode_into, twenty};
use crate::bencode::{Value, encode};
use crate::infohash::InfoHash;

/// Most info-hashes one scrape may name (a request head of 8 KiB holds about 110).
pub const MAX_SCRAPE_HASHES: usize = 64;

/// One swarm's line in a scrape reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScrapeCounts {
    /// Peers now listed that hold every piece (BEP 48 `complete`).
    pub complete: usize,
    /// The other peers now listed (`incomplete`).
    pub incomplete: usize,
    /// Completions seen since the tracker started (`downloaded`).
    pub downloaded: u64,
}

/// The scrape URL BEP 48 derives from an announce URL: the last path segment must start with
/// `announce`, which becomes `scrape` (`http://h:6969/announce` -> `http://h:6969/scrape`,
/// `/x/announce.php?k=1` -> `/x/scrape.php?k=1`). `None`: the tracker cannot be scraped.
pub fn scrape_url(announce_url: &str) -> Option<String> {
    let (path_end, rest) = announce_url
        .find('?')
        .map_or((announce_url.len(), ""), |q| (q, &announce_url[q..]));
    let path = &announce_url[..path_end];
    let slash = path.rfind('/')?;
    let tail = path[slash + 1..].strip_prefix("announce")?;
    Some(format!("{}scrape{tail}{rest}", &path[..=slash]))
}

/// The info-hashes of a scrape query, in order, duplicates kept once. Other keys are ignored.
pub fn parse_scrape(query: &str) -> Result<Vec<InfoHash>, HttpError> {
    let mut hashes: Vec<InfoHash> = Vec::new();
    let mut bytes = Vec::with_capacity(20);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "info_hash" {
            continue;
        }
        bytes.clear();
        percent_decode_into(value, &mut bytes)?;
        let hash = InfoHash(twenty(&bytes, "info_hash")?);
        if hashes.contains(&hash) {
            continue;
        }
        if hashes.len() == MAX_SCRAPE_HASHES {
            return Err(malformed(format!(
                "a scrape names at most {MAX_SCRAPE_HASHES} info_hash"
            )));
        }
        hashes.push(hash);
    }
    if hashes.is_empty() {
        return Err(malformed(
            "a scrape names at least one info_hash (scraping every swarm is not served)",
        ));
    }
    Ok(hashes)
}

/// `d5:filesd20:<hash>d8:completei..e10:downloadedi..e10:incompletei..eeee`: one entry per
/// known swarm, keys sorted as bencode requires (an unknown info-hash is simply absent).
pub fn scrape_reply(swarms: &[(InfoHash, ScrapeCounts)]) -> Vec<u8> {
    let count = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let files = swarms.iter().map(|(hash, c)| {
        let entry = Value::dict([
            ("complete", count(c.complete as u64)),
            ("downloaded", count(c.downloaded)),
            ("incomplete", count(c.incomplete as u64)),
        ]);
        (hash.0.to_vec(), entry)
    });
    encode(&Value::dict([("files", Value::dict(files))]))
}
