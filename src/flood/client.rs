//! A flood client: asks its contact peer for chunks, lets the query flood, fetches each chunk
//! from one holder and writes `output-<IP>.log`.
//!
//! The blocking calls, in the order a client makes them:
//!
//! 1. find its own IP, the one peers will see: `--bind ADDR` when given, else `connect()` a
//!    throwaway UDP socket toward the contact peer and read its `local_addr()` (a UDP connect
//!    only picks the route; no datagram leaves);
//! 2. `bind` the UDP socket on that IP (port 0 unless `--port`);
//! 3. create the output directory and `output-<IP>.log` in the log directory;
//! 4. `send_to` the contact peer a HELLO listing the chunks;
//! 5. until every chunk is in or `--timeout` has passed since step 4:
//!    * `send_to` whatever the plan says is due: the one GET of a chunk whose gather window just
//!      closed, or a resent GET or HELLO (see [`super::plan`] for the rules);
//!    * `recv_from`, waiting no longer than the next timer or the deadline:
//!      - CHUNKS_INFO: note which peer offers which chunks;
//!      - RESPONSE: when the chunk was asked from that peer and is new, write the chunk file,
//!        then append `peerIP:peerPort - id` to the log;
//! 6. append `0.0.0.0:0 - id` for each chunk that did not come, and return; when no peer sent
//!    a single datagram, also say so on stderr (the log stays exactly the assignment's format,
//!    all `0.0.0.0:0`, and the exit code 0, but a user must not mistake it for "no peer has
//!    these chunks").
//!
//! One thread and one socket: RESPONSE datagrams from several peers arrive interleaved on the
//! same socket, so the chunks come from several peers at once without a thread per peer. What it
//! does not do: decide whom to ask (that is [`super::plan`]) or format bytes ([`super::message`]).

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{info, warn};

use super::FloodError;
use super::message::{IdList, Message};
use super::output::{self, OutputLog};
use super::plan::{Action, Missing, Plan, Timing, Verdict};
use super::udp::{FloodSocket, Loss};

/// Everything a client run needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub contact: SocketAddrV4,
    pub ids: Vec<u16>,
    /// The address to send from (and to name the log after); `None` or 0.0.0.0 means the one
    /// the OS routes toward the contact peer.
    pub bind: Option<Ipv4Addr>,
    pub port: u16,
    pub timeout: Duration,
    pub timing: Timing,
    /// Seed of the holder choice.
    pub seed: u64,
    /// Where chunks go; `None` means `chunks-<IP>` in the log directory.
    pub output_dir: Option<PathBuf>,
    /// `--trace FILE`: every datagram, one JSON object per line.
    pub trace: Option<PathBuf>,
    /// Where `output-<IP>.log` goes (the current directory from the command line).
    pub log_dir: PathBuf,
    pub loss: Option<Loss>,
}

/// What a run left behind.
#[derive(Debug)]
pub struct Outcome {
    pub log_path: PathBuf,
    /// The chunks that did not come, and why.
    pub missing: Vec<(u16, Missing)>,
}

pub fn run(config: &ClientConfig) -> Result<Outcome, FloodError> {
    // 1 and 2: own IP, socket.
    let ip = own_ip(config.bind, config.contact)?;
    if let Some(path) = &config.trace {
        crate::trace::init(path, &format!("flood-client-{ip}"))?;
    }
    let addr = SocketAddrV4::new(ip, config.port);
    let mut socket = FloodSocket::bind(addr, config.loss)
        .map_err(|e| FloodError::io(format!("cannot bind {addr}"), e))?;
    let me = socket.local_addr()?;
    // 3: output directory and log.
    let output_dir = config
        .output_dir
        .clone()
        .unwrap_or_else(|| config.log_dir.join(format!("chunks-{ip}")));
    fs::create_dir_all(&output_dir)
        .map_err(|e| FloodError::io(format!("cannot create {}", output_dir.display()), e))?;
    let mut log = OutputLog::create(&config.log_dir, ip).map_err(|e| {
        FloodError::io(
            format!("cannot create the log in {}", config.log_dir.display()),
            e,
        )
    })?;
    info!(
        "client {me} wants chunks {} from contact {}; log {}, chunks into {}, timeout {:?}, holder seed {}",
        IdList(&config.ids),
        config.contact,
        log.path().display(),
        output_dir.display(),
        config.timeout,
        config.seed
    );

    // 4: HELLO.
    let started = Instant::now();
    let deadline = started + config.timeout;
    let mut plan = Plan::new(&config.ids, config.timing, config.seed);
    let ids = plan.start(started);
    socket.send(&Message::Hello { ids }, config.contact);

    // 5: timers and datagrams until done.
    let mut answered = false;
    loop {
        let now = Instant::now();
        if plan.all_received() {
            info!(
                "all {} chunks in after {:?}",
                config.ids.len(),
                now - started
            );
            break;
        }
        if now >= deadline {
            info!("timeout: {:?} passed", config.timeout);
            break;
        }
        for action in plan.due(now) {
            send_action(&mut socket, config.contact, action);
        }
        let wake = plan.next_wakeup().map_or(deadline, |t| t.min(deadline));
        let Some((from, message)) = socket.recv(wake.saturating_duration_since(now))? else {
            continue;
        };
        answered = true;
        match message {
            Message::ChunksInfo { ids } => {
                let unrequested = plan.offer(from, &ids, Instant::now());
                if !unrequested.is_empty() {
                    warn!(
                        "{from} offers chunks not asked for: {}",
                        IdList(&unrequested)
                    );
                }
            }
            Message::Response { id, data } => match plan.judge(from, id) {
                Verdict::Accept => {
                    let path = output::store_chunk(&output_dir, id, &data)?;
                    log.append(&output::log_line(from, id))?;
                    plan.received(id, from);
                    info!(
                        "stored chunk {id} from {from} ({} bytes) in {}",
                        data.len(),
                        path.display()
                    );
                }
                Verdict::Duplicate => info!("ignore response id={id} from {from}: already stored"),
                Verdict::Unsolicited => {
                    warn!("ignore response id={id} from {from}: not asked from it")
                }
            },
            other => warn!(
                "ignore {} from {from}: clients do not take it",
                other.name()
            ),
        }
    }

    // 6: the chunks that did not come.
    let missing = plan.missing();
    for (id, why) in &missing {
        log.append(&output::not_found_line(*id))?;
        match why {
            Missing::NeverOffered => info!("chunk {id}: no peer offered it; logged 0.0.0.0:0"),
            Missing::NoResponse { holders, gets } => warn!(
                "chunk {id}: offered by {}, no response to {gets} get(s); logged 0.0.0.0:0",
                addresses(holders)
            ),
        }
    }
    for (id, holders) in plan.holders() {
        info!(
            "piece map: chunk {id} offered by {} peer(s) [{}]",
            holders.len(),
            addresses(holders)
        );
    }
    if !answered {
        eprintln!("{}", silence_warning(config.contact, config.timeout));
    }
    Ok(Outcome {
        log_path: log.path().to_path_buf(),
        missing,
    })
}

/// Step 6's line on stderr when nothing came back at all.
fn silence_warning(contact: SocketAddrV4, timeout: Duration) -> String {
    format!(
        "bittorrent-sim: warning: no peer answered at all: the contact peer {contact} sent nothing \
         back in {timeout:?}; is a flood peer running there? (every chunk is logged 0.0.0.0:0)"
    )
}

fn send_action(socket: &mut FloodSocket, contact: SocketAddrV4, action: Action) {
    match action {
        Action::Hello(ids) => {
            info!(
                "resend hello to {contact}: no offer yet for {}",
                IdList(&ids)
            );
            socket.send(&Message::Hello { ids }, contact);
        }
        Action::Get {
            id,
            to,
            attempt,
            holders,
        } => {
            if attempt == 1 {
                info!("choose {to} for chunk {id} among [{}]", addresses(&holders));
            } else {
                info!("resend get for chunk {id} to {to} (attempt {attempt}): no response yet");
            }
            socket.send(&Message::Get { ids: vec![id] }, to);
        }
    }
}

/// Step 1: the client's own IPv4 address as the peers will see it; never 0.0.0.0, never a
/// name lookup.
pub fn own_ip(bind: Option<Ipv4Addr>, contact: SocketAddrV4) -> Result<Ipv4Addr, FloodError> {
    if let Some(ip) = bind.filter(|ip| !ip.is_unspecified()) {
        return Ok(ip);
    }
    let probe = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    probe
        .connect(contact)
        .map_err(|e| FloodError::io(format!("no route to {contact}"), e))?;
    match probe.local_addr()? {
        SocketAddr::V4(local) if !local.ip().is_unspecified() => Ok(*local.ip()),
        other => Err(FloodError::Other(format!(
            "cannot tell this host's address toward {contact} (got {other}); pass --bind ADDR"
        ))),
    }
}

fn addresses(list: &[SocketAddrV4]) -> String {
    list.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
