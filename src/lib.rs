//! `bittorrent-sim`: a teaching implementation of two peer-to-peer designs.
//!
//! * the **tracker swarm** ([`tracker`], [`peer`]): a central tracker and peers that share one
//!   file piece by piece, rarest first, over the BitTorrent peer wire protocol ([`wire`]);
//! * the **flooding chunk network** ([`flood`]): tracker-less UDP peers that flood a query for
//!   video chunks.
//!
//! Everything is synchronous: blocking `std::net` sockets, one thread per connection, no async
//! runtime. The command line lives in [`cli`] and nothing else knows clap: each subsystem takes a
//! plain configuration (`run(Config)`), and every default duration and limit lives in
//! [`defaults`]. The binary (`src/main.rs`) only dispatches and maps errors to exit codes; all
//! behaviour lives in this library so the integration tests can reach it.

pub mod admission;
pub mod bencode;
pub mod cli;
pub mod create;
pub mod defaults;
pub mod diagram;
pub mod flood;
pub mod infohash;
pub mod logging;
pub mod magnet;
pub mod metainfo;
pub mod mse;
pub mod net;
pub mod observe;
pub mod peer;
pub mod pieces;
pub mod ratelimit;
pub mod scenario;
pub mod scheduler;
pub mod status;
#[cfg(test)]
mod testutil;
pub mod threads;
pub mod trace;
pub mod tracker;
pub mod units;
pub mod wire;
