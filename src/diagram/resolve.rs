//! Who is at the other end of a traced message: a traced process, or else a bare address.
//!
//! A remote address is given to a traced process, in this order, when:
//!
//! 1. that process used it as its own `local` address on any line (this is how an ephemeral
//!    port of an outgoing connection is recognised: the connecting side records it as `local`,
//!    the accepting side as `remote`);
//! 2. the process's name says it listens there: `peer-PORT` on PORT (at one of the IPs it used,
//!    if it recorded any), `flood-peer-IP:PORT` at IP:PORT;
//! 3. exactly one other process sent to the observer's own address without knowing its
//!    `local` end (`"local":null`), so the unknown connection must be that one's.
//!
//! Otherwise the participant is the address itself (`127.0.0.1:6881`), e.g. a real client. This
//! file does not pair messages (`order.rs`).

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use super::model::Line;

/// Names the remote ends of the lines it was built from.
#[derive(Debug)]
pub struct Resolver {
    traced: BTreeSet<String>,
    /// Every `local` address a process used.
    owned: HashMap<SocketAddr, String>,
    /// Addresses some processes sent to without a known `local` end, and who.
    blind: HashMap<SocketAddr, BTreeSet<String>>,
}

impl Resolver {
    pub fn new(lines: &[Line]) -> Resolver {
        let mut resolver = Resolver {
            traced: BTreeSet::new(),
            owned: HashMap::new(),
            blind: HashMap::new(),
        };
        for line in lines {
            resolver.traced.insert(line.process.clone());
            match line.local {
                Some(local) => {
                    resolver
                        .owned
                        .entry(local)
                        .or_insert_with(|| line.process.clone());
                }
                None => {
                    resolver
                        .blind
                        .entry(line.remote)
                        .or_default()
                        .insert(line.process.clone());
                }
            }
        }
        resolver
    }

    /// Whether `name` is a process that wrote a trace.
    pub fn is_traced(&self, name: &str) -> bool {
        self.traced.contains(name)
    }

    /// The participant at the remote end of `line`.
    pub fn remote_name(&self, line: &Line) -> String {
        let remote = line.remote;
        if let Some(owner) = self.owner(remote) {
            return owner.to_string();
        }
        if let Some(listener) = self
            .traced
            .iter()
            .find(|name| self.listens_at(name, remote))
        {
            return listener.clone();
        }
        if let Some(local) = line.local {
            let mut senders = self
                .blind
                .get(&local)
                .into_iter()
                .flatten()
                .filter(|p| **p != line.process);
            if let (Some(only), None) = (senders.next(), senders.next()) {
                return only.clone();
            }
        }
        remote.to_string()
    }

    /// The process that used `addr` as its local address; an unspecified IP (`0.0.0.0`)
    /// matches any IP on the same port.
    fn owner(&self, addr: SocketAddr) -> Option<&str> {
        if let Some(owner) = self.owned.get(&addr) {
            return Some(owner);
        }
        self.owned
            .iter()
            .filter(|(local, _)| {
                local.port() == addr.port()
                    && (local.ip().is_unspecified() || addr.ip().is_unspecified())
            })
            .map(|(_, owner)| owner.as_str())
            .min()
    }

    fn listens_at(&self, name: &str, addr: SocketAddr) -> bool {
        if let Some(port) = name
            .strip_prefix("peer-")
            .and_then(|p| p.parse::<u16>().ok())
        {
            let mut ips = self
                .owned
                .iter()
                .filter(|(_, owner)| *owner == name)
                .map(|(local, _)| local.ip())
                .peekable();
            return port == addr.port()
                && (ips.peek().is_none() || ips.any(|ip| ip == addr.ip() || ip.is_unspecified()));
        }
        if let Some(listen) = name
            .strip_prefix("flood-peer-")
            .and_then(|a| a.parse::<SocketAddr>().ok())
        {
            return listen == addr;
        }
        false
    }
}

/// Sorts participants for the columns: `tracker` first, then the other traced processes in
/// natural order (`peer-900` before `peer-7001`), then bare addresses as they came.
pub fn sort_participants(names: &mut [String], resolver: &Resolver) {
    names.sort_by_cached_key(|name| {
        let rank = if !resolver.is_traced(name) {
            2
        } else if name.starts_with("tracker") {
            0
        } else {
            1
        };
        let key = if rank == 2 {
            Vec::new()
        } else {
            natural_key(name)
        };
        (rank, key)
    });
}

/// `peer-7001` as `[("peer-", 0), ("", 7001)]`, so numbers compare as numbers.
pub fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((text, digits.parse().unwrap_or(0)));
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Dir;

    fn line(process: &str, local: Option<&str>, remote: &str) -> Line {
        Line {
            time: 0.0,
            process: process.into(),
            local: local.map(|l| l.parse().expect("addr")),
            remote: remote.parse().expect("addr"),
            protocol: "bittorrent".into(),
            dir: Dir::Send,
            kind: "have".into(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn ephemeral_ports_belong_to_whoever_used_them_locally() {
        let lines = [
            line("peer-7002", Some("127.0.0.1:50412"), "127.0.0.1:7001"),
            line("peer-7001", Some("127.0.0.1:7001"), "127.0.0.1:50412"),
            line("tracker", Some("0.0.0.0:6000"), "127.0.0.1:50100"),
        ];
        let r = Resolver::new(&lines);
        assert_eq!(r.remote_name(&lines[0]), "peer-7001");
        assert_eq!(r.remote_name(&lines[1]), "peer-7002");
        assert_eq!(
            r.remote_name(&line("peer-7001", None, "127.0.0.1:6000")),
            "tracker"
        );
        assert_eq!(r.remote_name(&lines[2]), "127.0.0.1:50100");
    }

    #[test]
    fn listening_ports_come_from_names_and_unknown_locals_are_inferred() {
        let lines = [
            line("peer-7002", None, "127.0.0.1:7001"),
            line("peer-7001", Some("127.0.0.1:7001"), "127.0.0.1:50999"),
            line(
                "flood-peer-127.0.0.1:5002",
                Some("127.0.0.1:5002"),
                "127.0.0.1:5001",
            ),
        ];
        let r = Resolver::new(&lines);
        assert_eq!(
            r.remote_name(&line("x", None, "127.0.0.1:7002")),
            "peer-7002"
        );
        assert_eq!(
            r.remote_name(&line("x", None, "10.0.0.9:7001")),
            "10.0.0.9:7001"
        );
        assert_eq!(r.remote_name(&lines[1]), "peer-7002");
        assert_eq!(
            r.remote_name(&line("x", None, "127.0.0.1:5002")),
            "flood-peer-127.0.0.1:5002"
        );
        assert_eq!(r.remote_name(&lines[2]), "127.0.0.1:5001");
    }

    #[test]
    fn participants_sort_tracker_first_then_naturally() {
        let lines = [
            line("peer-7001", None, "127.0.0.1:1"),
            line("peer-900", None, "127.0.0.1:1"),
            line("tracker", None, "127.0.0.1:1"),
        ];
        let r = Resolver::new(&lines);
        let mut names: Vec<String> = [
            "127.0.0.1:9",
            "peer-7001",
            "127.0.0.1:2",
            "tracker",
            "peer-900",
        ]
        .map(String::from)
        .to_vec();
        sort_participants(&mut names, &r);
        assert_eq!(
            names,
            [
                "tracker",
                "peer-900",
                "peer-7001",
                "127.0.0.1:9",
                "127.0.0.1:2"
            ]
        );
    }
}
