//! Raft's safety properties, checked while the simulation runs.
//!
//! The Raft paper (Figure 3) promises five things; we check them as the trace happens:
//!
//! - **Election safety**: at most one leader per term.
//! - **Log matching**: two logs with an entry of the same index and term are identical up to
//!   there. We keep a running hash of every node's log ("chain hash" of all entries up to an
//!   index) and require one chain hash per (index, term), cluster-wide.
//! - **Leader completeness**: a new leader's log holds every entry committed before it.
//! - **State machine safety**: every node applies the same entry at a given index.
//! - **Commit never goes back**: a running node's commit index only grows, and an index, once
//!   committed anywhere, always holds the same entry.
//!
//! The first violation is kept with the time and trace position of the event that caused it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sha2::{Digest, Sha256};

use raft::eraftpb::Entry;

use crate::node::Node;
use crate::state_machine::StateMachine;
use crate::storage::RaftStorage;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub property: &'static str,
    pub detail: String,
    pub time: u64,
    /// Position in the trace of the event that revealed it.
    pub trace_position: usize,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} violated at {}ms (trace event {}): {}", self.property, self.time, self.trace_position, self.detail)
    }
}

type ChainHash = [u8; 32];

#[derive(Clone, Debug, Default)]
pub struct Checker {
    leaders: BTreeMap<u64, u64>,
    /// (index, term) → chain hash of the log up to and including that entry.
    chains: HashMap<(u64, u64), ChainHash>,
    /// Per node: index → (term, chain hash) of its current log, as far as we have seen it.
    node_logs: BTreeMap<u64, BTreeMap<u64, (u64, ChainHash)>>,
    /// index → (term, chain hash) of entries known committed.
    committed: BTreeMap<u64, (u64, ChainHash)>,
    /// index → digest of the entry applied there.
    applied: HashMap<u64, (u64, u64)>,
    commit_seen: BTreeMap<u64, u64>,
}

fn chain(prev: &ChainHash, index: u64, term: u64, data: &[u8]) -> ChainHash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(index.to_be_bytes());
    h.update(term.to_be_bytes());
    h.update(data);
    h.finalize().into()
}

impl Checker {
    /// After node `node` wrote `entries` to its log (replacing any from the same index on):
    /// extend its chain hashes and check them against everybody else's.
    pub fn on_append(&mut self, node: u64, entries: &[Entry], storage: &RaftStorage) -> Result<(), String> {
        let Some(first) = entries.first().map(|e| e.index) else { return Ok(()) };
        let log = self.node_logs.entry(node).or_default();
        log.split_off(&first);
        let prev_index = first - 1;
        let prev = match log.get(&prev_index) {
            Some((_, hash)) => Some(*hash),
            None if prev_index == 0 => Some(ChainHash::default()),
            // The entry before lies under this node's snapshot: use the cluster-wide hash of
            // it, which every node that held it agreed on.
            None => raft::Storage::term(storage, prev_index)
                .ok()
                .and_then(|term| self.chains.get(&(prev_index, term)).copied()),
        };
        // Nothing known before these entries (it was compacted everywhere we looked): other
        // nodes' copies of them are checked instead.
        let Some(mut prev) = prev else { return Ok(()) };
        for entry in entries {
            let hash = chain(&prev, entry.index, entry.term, &entry.data);
            if let Some(known) = self.chains.insert((entry.index, entry.term), hash) {
                if known != hash {
                    return Err(format!(
                        "node {node} has entry {}@term {} with a different log before it than another node",
                        entry.index, entry.term
                    ));
                }
            }
            log.insert(entry.index, (entry.term, hash));
            prev = hash;
        }
        Ok(())
    }

    /// After a node installed a snapshot: its log now starts after the snapshot.
    pub fn on_snapshot_installed(&mut self, node: u64) {
        self.node_logs.insert(node, BTreeMap::new());
    }

    /// A node (re)started: hash the log it starts with.
    pub fn on_boot(&mut self, node: &Node<impl StateMachine>) -> Result<(), String> {
        self.on_crash(node.id());
        self.on_append(node.id(), node.storage().log(), node.storage())
    }

    pub fn on_crash(&mut self, node: u64) {
        self.node_logs.remove(&node);
        self.commit_seen.remove(&node);
    }

    pub fn on_leader(&mut self, node: &Node<impl StateMachine>, term: u64) -> Result<(), String> {
        if let Some(other) = self.leaders.insert(term, node.id()) {
            if other != node.id() {
                return Err(format!("nodes {other} and {} are both leader in term {term}", node.id()));
            }
        }
        let storage = node.storage();
        for (&index, &(committed_term, _)) in self.committed.range(storage.first_index()..) {
            let has = raft::Storage::term(storage, index).ok();
            if has != Some(committed_term) {
                return Err(format!(
                    "node {} became leader of term {term} without committed entry {index}@term {committed_term}",
                    node.id()
                ));
            }
        }
        Ok(())
    }

    pub fn on_commit(&mut self, node: &Node<impl StateMachine>, commit: u64) -> Result<(), String> {
        let id = node.id();
        let previous = self.commit_seen.insert(id, commit).unwrap_or(0);
        if commit < previous {
            return Err(format!("node {id}'s commit index went back from {previous} to {commit}"));
        }
        let storage = node.storage();
        let from = previous.max(storage.first_index().saturating_sub(1)) + 1;
        for index in from..=commit.min(storage.last_index()) {
            // Compacted already (a snapshot was taken in the same step): checked elsewhere.
            let Ok(term) = raft::Storage::term(storage, index) else { continue };
            let hash = self.chains.get(&(index, term)).copied().unwrap_or_default();
            if let Some(&(known_term, known_hash)) = self.committed.get(&index) {
                if (known_term, known_hash) != (term, hash) {
                    return Err(format!(
                        "node {id} committed {index}@term {term}, but {index}@term {known_term} was committed before"
                    ));
                }
            } else {
                self.committed.insert(index, (term, hash));
            }
        }
        Ok(())
    }

    pub fn on_apply(&mut self, node: u64, index: u64, term: u64, digest: u64) -> Result<(), String> {
        if let Some(&(other_term, other_digest)) = self.applied.get(&index) {
            if (other_term, other_digest) != (term, digest) {
                return Err(format!(
                    "node {node} applied {index}@term {term}, another node applied {index}@term {other_term}"
                ));
            }
        } else {
            self.applied.insert(index, (term, digest));
        }
        Ok(())
    }

    /// The highest index known committed anywhere.
    pub fn max_committed(&self) -> u64 {
        self.committed.keys().next_back().copied().unwrap_or(0)
    }
}
