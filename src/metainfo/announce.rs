//! Tracker address helpers: the announce URL for a tracker given as `HOST:PORT`, and the
//! `HOST:PORT` to connect to for an `http://` announce URL.
//!
//! What it does not do: resolve names, connect, or support any scheme but `http://` for
//! connecting (an `https://` URL is kept as given, but yields no address).

/// `true` if `text` starts with `scheme`, ignoring ASCII case.
fn has_scheme(text: &str, scheme: &str) -> bool {
    text.get(..scheme.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
}

/// The announce URL of a tracker given as `HOST:PORT`; a full `http://` or `https://` URL is
/// returned unchanged.
pub fn announce_url(tracker: &str) -> String {
    if has_scheme(tracker, "http://") || has_scheme(tracker, "https://") {
        tracker.to_string()
    } else {
        format!("http://{tracker}/announce")
    }
}

/// `HOST:PORT` to connect to for an `http://` announce URL (port 80 if none is given); `None`
/// for other schemes or a URL without a usable host and port.
pub fn tracker_addr_from_announce(url: &str) -> Option<String> {
    if !has_scheme(url, "http://") {
        return None;
    }
    let rest = url.get("http://".len()..)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:6000`.
        let (inside, tail) = bracketed.split_once(']')?;
        if !tail.is_empty() && !tail.starts_with(':') {
            return None;
        }
        (
            host_port.get(..inside.len() + 2)?,
            tail.get(1..).unwrap_or(""),
        )
    } else {
        host_port.split_once(':').unwrap_or((host_port, ""))
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = if port.is_empty() { "80" } else { port };
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{host}:{p}")),
        _ => None,
    }
}
