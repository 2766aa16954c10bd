//! What the whole run showed, kept up to date event by event: for the checks that look back
//! further than the trace keeps its events ([`super::trace`] keeps the latest ones only, so
//! that an hour-long run does not hold millions of them).
//!
//! Did a node ever enter a joint configuration or install a snapshot, or replace entries it
//! held; which terms had candidates and which a winner; how many nodes were down from when;
//! which term each applied entry had; who led from when. The exercises' checks
//! (`lesson::check`) and the durability report ([`super::durability`]) read these.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::{EntryKind, NodeEvent, Role};
use crate::sim::trace::{TraceEvent, TraceKind};

#[derive(Clone, Debug, PartialEq)]
pub struct RunFacts {
    joint_entered: bool,
    snapshot_installed: bool,
    entries_overwritten: bool,
    /// The last index each node appended, while we know what it holds (not after a crash or
    /// a snapshot).
    last_appended: BTreeMap<u64, u64>,
    down: BTreeSet<u64>,
    /// How many nodes were down from each moment on: `(time, count)`, from `(0, 0)`.
    down_changes: Vec<(u64, u64)>,
    /// The nodes that stood as candidates, by term.
    candidates: BTreeMap<u64, BTreeSet<u64>>,
    /// The terms somebody won.
    won: BTreeSet<u64>,
    /// The term of each applied index (a committed entry is the same everywhere). A
    /// persistent map: every checkpoint of a run copies the facts.
    applied_terms: im::OrdMap<u64, u64>,
    /// Each new leader: `(time, node, term)`.
    leaders: Vec<(u64, u64, u64)>,
}

impl Default for RunFacts {
    fn default() -> Self {
        RunFacts {
            joint_entered: false,
            snapshot_installed: false,
            entries_overwritten: false,
            last_appended: BTreeMap::new(),
            down: BTreeSet::new(),
            down_changes: vec![(0, 0)],
            candidates: BTreeMap::new(),
            won: BTreeSet::new(),
            applied_terms: im::OrdMap::new(),
            leaders: Vec::new(),
        }
    }
}

impl RunFacts {
    /// Takes in one more event of the run.
    pub fn note(&mut self, event: &TraceEvent) {
        match &event.what {
            TraceKind::Append {
                node, first, last, ..
            } => {
                if self
                    .last_appended
                    .get(node)
                    .is_some_and(|held| first <= held)
                {
                    self.entries_overwritten = true;
                }
                self.last_appended.insert(*node, *last);
            }
            TraceKind::Crash { node, .. } => {
                self.last_appended.remove(node);
                if self.down.insert(*node) {
                    self.down_changes.push((event.time, self.down.len() as u64));
                }
            }
            TraceKind::Restart { node } if self.down.remove(node) => {
                self.down_changes.push((event.time, self.down.len() as u64));
            }
            TraceKind::Node { node, event: what } => self.note_node(event.time, *node, what),
            _ => {}
        }
    }

    fn note_node(&mut self, time: u64, node: u64, event: &NodeEvent) {
        match event {
            NodeEvent::SnapshotInstalled { .. } => {
                self.snapshot_installed = true;
                // We no longer know what its log holds.
                self.last_appended.remove(&node);
            }
            // The entry's summary is the node's own description of a typed change.
            NodeEvent::Applied {
                index,
                term,
                kind,
                summary,
                ..
            } => {
                if *kind == EntryKind::ConfChange && summary.text().starts_with("joint:") {
                    self.joint_entered = true;
                }
                if !self.applied_terms.contains_key(index) {
                    self.applied_terms.insert(*index, *term);
                }
            }
            NodeEvent::RoleChanged {
                role: Role::Candidate,
                term,
                ..
            } => {
                self.candidates.entry(*term).or_default().insert(node);
            }
            NodeEvent::RoleChanged {
                role: Role::Leader,
                term,
                ..
            } => {
                self.won.insert(*term);
                self.leaders.push((time, node, *term));
            }
            _ => {}
        }
    }

    /// Whether a node ever applied the entry that enters a joint configuration.
    pub fn joint_configuration_entered(&self) -> bool {
        self.joint_entered
    }

    pub fn snapshot_installed(&self) -> bool {
        self.snapshot_installed
    }

    /// Whether a node ever appended entries at an index it already held: it replaced
    /// conflicting entries.
    pub fn entries_overwritten(&self) -> bool {
        self.entries_overwritten
    }

    /// How many nodes were down from each moment on: `(time, count)`, from `(0, 0)`.
    pub fn down_over_time(&self) -> &[(u64, u64)] {
        &self.down_changes
    }

    /// Whether a term before `current` had two or more candidates and no winner: a split
    /// vote (the current term may still be deciding).
    pub fn split_vote_before(&self, current: u64) -> bool {
        self.candidates
            .iter()
            .any(|(term, nodes)| nodes.len() >= 2 && !self.won.contains(term) && *term < current)
    }

    /// The term of the entry applied at `index`, if any node applied one there.
    pub fn applied_term(&self, index: u64) -> Option<u64> {
        self.applied_terms.get(&index).copied()
    }

    /// Each new leader, in order: `(time, node, term)`.
    pub fn leaders(&self) -> &[(u64, u64, u64)] {
        &self.leaders
    }
}
