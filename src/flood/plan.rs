//! The client's bookkeeping: which peers offered which chunk, which holder each chunk was asked
//! from, and which datagram is due next.
//!
//! Pure decisions, no sockets and no clock: the caller passes `now` in and sends what
//! [`Plan::due`] returns. That keeps every rule of the client in one place a test can drive:
//!
//! * **Holder choice.** A chunk's first offer opens a short gather window (`--gather`); when it
//!   closes, the chunk is given to the least-loaded of the peers that offered it (the one with
//!   the fewest chunks already assigned), ties broken by a generator seeded with `--seed`.
//!   Holders are kept sorted by address, so one seed and one set of offers make one choice. The
//!   effect: chunks spread over the holders and arrive from several peers at once.
//! * **One GET per chunk.** The choice sends exactly one GET (listing that chunk alone); only the
//!   retransmission timer sends another.
//! * **Retransmission.** Every `--retry-interval`, a chunk whose RESPONSE has not come is asked
//!   again, from the next holder in address order (wrapping), so a silent holder is replaced
//!   when another offered the chunk; a HELLO listing the chunks nobody has offered yet is sent
//!   again to the contact peer. Each at most `--retries` times.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The client's timers and limits.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub gather: Duration,
    pub retry_interval: Duration,
    pub retries: u32,
}

/// A datagram the plan wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// HELLO to the contact peer for these chunks.
    Hello(Vec<u16>),
    /// GET for one chunk to its chosen holder; `attempt` 1 is the first, higher are resends.
    Get {
        id: u16,
        to: SocketAddrV4,
        attempt: u32,
        holders: Vec<SocketAddrV4>,
    },
}

/// What to make of a RESPONSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Wanted, asked from this peer, not yet in: store it.
    Accept,
    /// Already stored (a late answer to a resent GET).
    Duplicate,
    /// No GET for this chunk went to this peer.
    Unsolicited,
}

/// How a chunk that is not in ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    NeverOffered,
    NoResponse {
        holders: Vec<SocketAddrV4>,
        gets: u32,
    },
}

#[derive(Debug, Default)]
struct Chunk {
    /// Peers that offered it, sorted, each once.
    holders: Vec<SocketAddrV4>,
    first_offer: Option<Instant>,
    /// Peers a GET went to (a RESPONSE from one of them is accepted).
    asked: Vec<SocketAddrV4>,
    /// The peer the latest GET went to.
    current: Option<SocketAddrV4>,
    gets: u32,
    last_get: Option<Instant>,
    received_from: Option<SocketAddrV4>,
}

pub struct Plan {
    /// In the order the user asked for them.
    order: Vec<u16>,
    chunks: BTreeMap<u16, Chunk>,
    /// Chunks currently assigned to each holder.
    load: BTreeMap<SocketAddrV4, usize>,
    timing: Timing,
    rng: StdRng,
    hellos: u32,
    last_hello: Option<Instant>,
}

impl Plan {
    /// A plan for `ids` (repeats ignored), choosing holders with a generator seeded by `seed`.
    pub fn new(ids: &[u16], timing: Timing, seed: u64) -> Plan {
        let mut order = Vec::new();
        for id in ids {
            if !order.contains(id) {
                order.push(*id);
            }
        }
        let chunks = order.iter().map(|id| (*id, Chunk::default())).collect();
        Plan {
            order,
            chunks,
            load: BTreeMap::new(),
            timing,
            rng: StdRng::seed_from_u64(seed),
            hellos: 0,
            last_hello: None,
        }
    }

    /// The first HELLO: the ids to ask the contact peer for (every chunk).
    pub fn start(&mut self, now: Instant) -> Vec<u16> {
        self.hellos = 1;
        self.last_hello = Some(now);
        self.order.clone()
    }

    /// A CHUNKS_INFO from `from`. Returns the offered ids that were not requested (to log).
    pub fn offer(&mut self, from: SocketAddrV4, ids: &[u16], now: Instant) -> Vec<u16> {
        let mut unrequested = Vec::new();
        for id in ids {
            let Some(chunk) = self.chunks.get_mut(id) else {
                unrequested.push(*id);
                continue;
            };
            if let Err(at) = chunk.holders.binary_search(&from) {
                chunk.holders.insert(at, from);
            }
            chunk.first_offer.get_or_insert(now);
        }
        unrequested
    }

    /// Judges a RESPONSE for chunk `id` from `from`; call [`Plan::received`] once it is stored.
    pub fn judge(&self, from: SocketAddrV4, id: u16) -> Verdict {
        match self.chunks.get(&id) {
            Some(chunk) if chunk.received_from.is_some() => Verdict::Duplicate,
            Some(chunk) if chunk.asked.contains(&from) => Verdict::Accept,
            _ => Verdict::Unsolicited,
        }
    }

    pub fn received(&mut self, id: u16, from: SocketAddrV4) {
        if let Some(chunk) = self.chunks.get_mut(&id) {
            chunk.received_from = Some(from);
        }
    }

    pub fn all_received(&self) -> bool {
        self.chunks.values().all(|c| c.received_from.is_some())
    }

    /// The datagrams whose time has come: first GETs of chunks whose gather window closed,
    /// GETs and HELLOs to resend.
    pub fn due(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for id in self.order.clone() {
            let Some(chunk) = self.chunks.get(&id) else {
                continue;
            };
            if self.get_due_at(chunk).is_none_or(|at| now < at) {
                continue;
            }
            let to = if chunk.last_get.is_none() {
                self.choose(id)
            } else {
                self.next_holder(id)
            };
            let (Some(to), Some(chunk)) = (to, self.chunks.get_mut(&id)) else {
                continue;
            };
            chunk.gets += 1;
            chunk.last_get = Some(now);
            chunk.current = Some(to);
            if !chunk.asked.contains(&to) {
                chunk.asked.push(to);
            }
            actions.push(Action::Get {
                id,
                to,
                attempt: chunk.gets,
                holders: chunk.holders.clone(),
            });
        }
        if self.hello_due_at().is_some_and(|at| now >= at) {
            self.hellos += 1;
            self.last_hello = Some(now);
            actions.push(Action::Hello(self.unoffered()));
        }
        actions
    }

    /// When [`Plan::due`] may next have something to send; `None` when nothing is pending.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let gets = self.chunks.values().filter_map(|c| self.get_due_at(c));
        gets.chain(self.hello_due_at()).min()
    }

    /// When `chunk`'s next GET is due: its first when the gather window closes, a resend one
    /// retry interval after the last, none once it is in or out of retries.
    fn get_due_at(&self, chunk: &Chunk) -> Option<Instant> {
        let Timing {
            gather,
            retry_interval,
            retries,
        } = self.timing;
        if chunk.received_from.is_some() {
            return None;
        }
        match (chunk.first_offer, chunk.last_get) {
            (Some(first), None) => Some(first + gather),
            (_, Some(last)) if chunk.gets <= retries => Some(last + retry_interval),
            _ => None,
        }
    }

    /// When the next HELLO is due: one retry interval after the last, while some chunk has no
    /// offer and retries are left.
    fn hello_due_at(&self) -> Option<Instant> {
        if self.hellos > self.timing.retries || self.unoffered().is_empty() {
            return None;
        }
        self.last_hello
            .map(|last| last + self.timing.retry_interval)
    }

    /// The chunks not in, in the order asked, and why.
    pub fn missing(&self) -> Vec<(u16, Missing)> {
        self.order
            .iter()
            .filter_map(|id| {
                let chunk = self.chunks.get(id)?;
                if chunk.received_from.is_some() {
                    None
                } else if chunk.holders.is_empty() {
                    Some((*id, Missing::NeverOffered))
                } else {
                    let holders = chunk.holders.clone();
                    Some((
                        *id,
                        Missing::NoResponse {
                            holders,
                            gets: chunk.gets,
                        },
                    ))
                }
            })
            .collect()
    }

    /// Each chunk asked for with the peers that offered it: the client's piece map.
    pub fn holders(&self) -> Vec<(u16, &[SocketAddrV4])> {
        let chunks = self
            .order
            .iter()
            .filter_map(|id| Some((*id, self.chunks.get(id)?)));
        chunks.map(|(id, c)| (id, c.holders.as_slice())).collect()
    }

    fn unoffered(&self) -> Vec<u16> {
        let offered = |id: &u16| self.chunks.get(id).is_some_and(|c| !c.holders.is_empty());
        self.order
            .iter()
            .copied()
            .filter(|id| !offered(id))
            .collect()
    }

    /// First choice: the least-loaded holder, ties broken at random.
    fn choose(&mut self, id: u16) -> Option<SocketAddrV4> {
        let holders = &self.chunks.get(&id)?.holders;
        let load = |h: &SocketAddrV4| self.load.get(h).copied().unwrap_or(0);
        let least = holders.iter().map(load).min()?;
        let tied: Vec<SocketAddrV4> = holders
            .iter()
            .copied()
            .filter(|h| load(h) == least)
            .collect();
        let to = *tied.get(self.rng.random_range(0..tied.len()))?;
        *self.load.entry(to).or_default() += 1;
        Some(to)
    }

    /// A resend: the holder after the last one asked, in address order, wrapping.
    fn next_holder(&mut self, id: u16) -> Option<SocketAddrV4> {
        let chunk = self.chunks.get(&id)?;
        let last = chunk.current?;
        let after = chunk
            .holders
            .iter()
            .position(|h| *h == last)
            .map_or(0, |i| i + 1);
        let to = *chunk.holders.get(after).or(chunk.holders.first())?;
        if to != last {
            if let Some(n) = self.load.get_mut(&last) {
                *n = n.saturating_sub(1);
            }
            *self.load.entry(to).or_default() += 1;
        }
        Some(to)
    }
}

#[cfg(test)]
mod tests;
