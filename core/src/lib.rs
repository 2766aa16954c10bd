//! raftbook's core: Raft (tikv's raft-rs) and everything around it that runs the same in the
//! browser and natively.
//!
//! It owns no clock, socket, disk or thread: every module is a pure state machine driven from
//! outside, so it compiles to `wasm32-unknown-unknown` and simulates deterministically.
//!
//! - [`fingerprint`]: 64-bit hashes by which the checkers tell entries and logs apart.
//! - [`storage`]: what a node keeps on disk (hard state, log, snapshot), and the writes to it.
//! - [`node`]: one Raft node, sans-I/O: inputs (ticks, messages, requests) → outputs.
//! - [`state_machine`]: what committed entries are applied to.
//! - [`etcd`]: etcd's semantics (MVCC, transactions, leases, watches) and its server layer.
//! - [`view`]: serialisable read-only views of nodes and messages, for visualisers.
//! - [`sim`]: the deterministic cluster simulator (virtual time, network, disks, faults),
//!   its event trace and its safety checkers.
//! - [`scenario`]: the plain-text scenario language that tests and lessons are written in.
//! - [`lesson`]: Markdown lessons with runnable cells, predictions and checked exercises.
//!
//! The layers import only downwards: `storage` ← `node` ← `etcd` ← `sim` ← `scenario` ←
//! `lesson` (and `view` beside `node`). The last three, and etcdctl's command line, sit behind
//! the `playground` feature (on by default): a native member builds without them.

pub mod etcd;
pub mod fingerprint;
#[cfg(feature = "playground")]
pub mod lesson;
pub mod node;
pub mod persistent;
#[cfg(feature = "playground")]
pub mod scenario;
#[cfg(feature = "playground")]
pub mod sim;
pub mod state_machine;
pub mod storage;
pub mod view;
#[cfg(feature = "playground")]
pub mod words;
