//! Raft's safety properties, checked while the simulation runs.
//!
//! The Raft paper (Figure 3) promises five properties. We check each one as the paper states
//! it, event by event, and name it when it breaks:
//!
//! - **Election safety**: at most one leader can be elected in a given term.
//! - **Leader append-only**: a leader never overwrites or deletes entries in its log; it only
//!   appends new entries.
//! - **Log matching**: if two logs contain an entry with the same index and term, the logs are
//!   identical in all entries up through that index. We keep a running hash of every node's
//!   log (a "chain hash" of all entries up to an index) and require one chain hash per
//!   (index, term), cluster-wide.
//! - **Leader completeness**: if a log entry is committed in a given term, that entry is in the
//!   log of the leader of every *higher-numbered* term. Not of every leader: a candidate of
//!   an older term may still win that older term (say it was paused mid-election and resumes
//!   holding its votes) without entries committed later; it steps down at its first message
//!   from the newer term, and its stale term can commit nothing. The golden scenario
//!   `15_stale_leader_of_an_old_term.txt` pins such a legal history.
//! - **State machine safety**: if a node has applied a log entry at a given index, no other
//!   node ever applies a different entry at that index.
//!
//! Two consequences are checked too, because a learner watches them directly: a running
//! node's commit index never goes back, and an index, once committed anywhere, is committed
//! with the same entry everywhere ("committed entries are final").
//!
//! *Committed in a given term*: the checker learns that an entry is committed when the first
//! node reports a commit index covering it, and takes that node's current term as the term it
//! was committed in. The leader that commits an entry reports it first, in its own term;
//! anyone else only learns of it later, in the same term or a higher one. So the term we take
//! is never lower than the real one, and leader completeness is demanded of no leader the
//! paper exempts: no false alarms.
//!
//! The first violation is kept with the time and trace position of the event that caused it.

use im::{OrdMap, Vector};

use serde::Serialize;

use raft::eraftpb::Entry;

use crate::fingerprint::Fingerprint;
use crate::storage::RaftStorage;

/// One of the properties the checker guards, named as the Raft paper names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    ElectionSafety,
    LeaderAppendOnly,
    LogMatching,
    LeaderCompleteness,
    StateMachineSafety,
    /// A consequence of the five: a node's commit index never goes back, and an index is only
    /// ever committed with one entry.
    CommittedEntriesAreFinal,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "election safety",
            Property::LeaderAppendOnly => "leader append-only",
            Property::LogMatching => "log matching",
            Property::LeaderCompleteness => "leader completeness",
            Property::StateMachineSafety => "state machine safety",
            Property::CommittedEntriesAreFinal => "committed entries are final",
        }
    }
}

/// A property broken by one event, before the simulator dates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub property: Property,
    pub detail: String,
}

fn broken(property: Property, detail: String) -> Result<(), Broken> {
    Err(Broken { property, detail })
}

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
        write!(
            f,
            "{} violated at {}ms (trace event {}): {}",
            self.property, self.time, self.trace_position, self.detail
        )
    }
}

/// A log up to an entry, in 64 bits: see [`chain`].
type ChainHash = u64;

/// One node's log as the checker knows it: the term and chain hash of each entry from index
/// `first` on, in a persistent vector (appending is what happens most, and a copy of the
/// checker shares it). Entries under the node's snapshot are let go: no append starts there.
#[derive(Clone, Debug, Default)]
struct NodeLog {
    first: u64,
    entries: Vector<(u64, ChainHash)>,
}

/// How many entries under a node's snapshot [`NodeLog`] lets go of at once.
const FORGET_BATCH: u64 = 1024;

impl NodeLog {
    /// The term and chain hash of the entry at `index`.
    fn get(&self, index: u64) -> Option<&(u64, ChainHash)> {
        let offset = index.checked_sub(self.first)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// Lets go of the entries from `index` on (replaced by a new append).
    fn truncate(&mut self, index: u64) {
        let keep = index.saturating_sub(self.first) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
        }
    }

    /// Adds the entry at `index`: after the last one, or else as the first of a log known
    /// from there on.
    fn push(&mut self, index: u64, term: u64, hash: ChainHash) {
        if self.first + self.entries.len() as u64 != index {
            self.first = index;
            self.entries = Vector::new();
        }
        self.entries.push_back((term, hash));
    }

    /// Lets go of the entries before `index`, a batch at a time.
    fn forget_before(&mut self, index: u64) {
        let gone = index.saturating_sub(self.first);
        if gone >= FORGET_BATCH {
            let gone = gone.min(self.entries.len() as u64);
            self.entries = self.entries.skip(gone as usize);
            self.first += gone;
        }
    }
}

/// An entry known to be committed.
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: u64,
    hash: ChainHash,
    /// The term it was committed in (never lower than the real one; see the module docs).
    in_term: u64,
}

/// What the checker remembers of the run. The maps are persistent (`im`): a copy of the
/// checker (the playground keeps one in each checkpoint of a run) shares them.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    /// term → the node elected leader in it.
    leaders: OrdMap<u64, u64>,
    /// (index, term) → chain hash of the log up to and including that entry.
    chains: OrdMap<(u64, u64), ChainHash>,
    /// Per node: its current log, as far as we have seen it.
    node_logs: OrdMap<u64, NodeLog>,
    /// Per node: the last index of its log (its snapshot's index when the log is empty).
    last_index: OrdMap<u64, u64>,
    /// index → the entry committed there.
    committed: OrdMap<u64, Committed>,
    /// index → (term, fingerprint) of the entry applied there.
    applied: OrdMap<u64, (u64, u64)>,
    commit_seen: OrdMap<u64, u64>,
    /// Entries (index, term) that a majority of the members held, overwritten all the same:
    /// the situation of the paper's Figure 8 (legal while the entry was never committed).
    majority_entries_overwritten: Vec<(u64, u64)>,
}

/// The chain hash of a log whose entries up to `index - 1` chain to `prev`, and whose entry
/// `index` is `term` and `data`: the [`Fingerprint`] of the four. Two logs with one chain
/// hash at an index hold the same entries up to it (but for odds of one in 2^64).
fn chain(prev: ChainHash, index: u64, term: u64, data: &[u8]) -> ChainHash {
    Fingerprint::default()
        .update(&prev.to_be_bytes())
        .update(&index.to_be_bytes())
        .update(&term.to_be_bytes())
        .update(data)
        .finish()
}

impl Checker {
    /// After node `node` wrote `entries` to its log (replacing any from the same index on).
    /// `leading` is the node's term if it is the leader now, after the step that wrote them.
    ///
    /// Checks leader append-only (a leader's write starts after its last entry), then extends
    /// the node's chain hashes and checks log matching against everybody else's.
    pub fn on_append(
        &mut self,
        node: u64,
        entries: &[Entry],
        storage: &RaftStorage,
        leading: Option<u64>,
    ) -> Result<(), Broken> {
        let Some(first) = entries.first().map(|e| e.index) else {
            return Ok(());
        };
        let last_before = self
            .last_index
            .insert(node, entries[entries.len() - 1].index);
        if let (Some(term), Some(last_before)) = (leading, last_before) {
            if first <= last_before {
                return broken(
                    Property::LeaderAppendOnly,
                    format!(
                        "node {node}, leader of term {term}, overwrote its entries {first}..={last_before}"
                    ),
                );
            }
        }
        self.note_overwrites(node, entries);
        let log = self.node_logs.entry(node).or_default();
        // Entries from `first` on are replaced (usually there are none: a plain append).
        log.truncate(first);
        // What lies under the snapshot (but the entry before it) no append will start after.
        log.forget_before(storage.first_index().saturating_sub(1));
        let prev_index = first - 1;
        let prev = match log.get(prev_index) {
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
            let hash = chain(prev, entry.index, entry.term, &entry.data);
            match self.chains.get(&(entry.index, entry.term)) {
                Some(&known) if known != hash => {
                    return broken(
                        Property::LogMatching,
                        format!(
                            "node {node} has entry {}@term {} with a different log before it than another node",
                            entry.index, entry.term
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.chains.insert((entry.index, entry.term), hash);
                }
            }
            log.push(entry.index, entry.term, hash);
            prev = hash;
        }
        Ok(())
    }

    /// Before `node` replaces its entries from `entries[0]` on: notes each replaced entry that
    /// a majority of the members (every node seen, a crashed one by what its disk kept) held.
    fn note_overwrites(&mut self, node: u64, entries: &[Entry]) {
        let Some(log) = self.node_logs.get(&node) else {
            return;
        };
        let members = self.node_logs.len();
        for entry in entries {
            let Some(&(old_term, _)) = log.get(entry.index) else {
                break;
            };
            if old_term == entry.term {
                continue;
            }
            let holders = self
                .node_logs
                .values()
                .filter(|other| other.get(entry.index).is_some_and(|&(t, _)| t == old_term))
                .count();
            if holders > members / 2
                && !self
                    .majority_entries_overwritten
                    .contains(&(entry.index, old_term))
            {
                self.majority_entries_overwritten
                    .push((entry.index, old_term));
            }
        }
    }

    /// Entries (index, term) that a majority held and that were overwritten all the same.
    pub fn majority_entries_overwritten(&self) -> &[(u64, u64)] {
        &self.majority_entries_overwritten
    }

    /// After a node installed a snapshot: its log now starts after the snapshot.
    pub fn on_snapshot_installed(&mut self, node: u64, index: u64) {
        self.node_logs.insert(node, NodeLog::default());
        self.last_index.insert(node, index);
    }

    /// A node (re)started: hash the log it starts with.
    pub fn on_boot(&mut self, node: u64, storage: &RaftStorage) -> Result<(), Broken> {
        self.node_logs.insert(node, NodeLog::default());
        self.commit_seen.remove(&node);
        self.last_index.insert(node, storage.first_index() - 1);
        let log: Vec<Entry> = storage.log().cloned().collect();
        self.on_append(node, &log, storage, None)
    }

    /// A node went down holding `durable` on its disk (empty, if the disk was wiped): that
    /// is its log until it boots again.
    pub fn on_crash(&mut self, node: u64, durable: &RaftStorage) {
        // Damage in what survives is reported when the node boots from it.
        let _ = self.on_boot(node, durable);
    }

    /// Node `node` became leader of `term`, holding the log in `storage`.
    pub fn on_leader(&mut self, node: u64, term: u64, storage: &RaftStorage) -> Result<(), Broken> {
        if let Some(other) = self.leaders.insert(term, node) {
            if other != node {
                return broken(
                    Property::ElectionSafety,
                    format!("nodes {other} and {node} are both leader in term {term}"),
                );
            }
        }
        let older_commits = self.committed.range(storage.first_index()..);
        for (&index, entry) in older_commits.filter(|(_, entry)| entry.in_term < term) {
            let has = raft::Storage::term(storage, index).ok();
            if has != Some(entry.term) {
                return broken(
                    Property::LeaderCompleteness,
                    format!(
                        "node {node} became leader of term {term} without entry {index}@term {}, committed in term {}",
                        entry.term, entry.in_term
                    ),
                );
            }
        }
        Ok(())
    }

    /// Node `node`, now in `current_term`, reports commit index `commit`.
    pub fn on_commit(
        &mut self,
        node: u64,
        commit: u64,
        current_term: u64,
        storage: &RaftStorage,
    ) -> Result<(), Broken> {
        let previous = self.commit_seen.insert(node, commit).unwrap_or(0);
        if commit < previous {
            return broken(
                Property::CommittedEntriesAreFinal,
                format!("node {node}'s commit index went back from {previous} to {commit}"),
            );
        }
        let from = previous.max(storage.first_index().saturating_sub(1)) + 1;
        for index in from..=commit.min(storage.last_index()) {
            // Compacted already (a snapshot was taken in the same step): checked elsewhere.
            let Ok(term) = raft::Storage::term(storage, index) else {
                continue;
            };
            let hash = self.chains.get(&(index, term)).copied().unwrap_or_default();
            match self.committed.get(&index) {
                Some(known) if (known.term, known.hash) != (term, hash) => {
                    return broken(
                        Property::CommittedEntriesAreFinal,
                        format!(
                            "node {node} committed {index}@term {term}, but {index}@term {} was committed before",
                            known.term
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.committed.insert(
                        index,
                        Committed {
                            term,
                            hash,
                            in_term: current_term,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    pub fn on_apply(
        &mut self,
        node: u64,
        index: u64,
        term: u64,
        fingerprint: u64,
    ) -> Result<(), Broken> {
        if let Some(&(other_term, other_fingerprint)) = self.applied.get(&index) {
            if (other_term, other_fingerprint) != (term, fingerprint) {
                return broken(
                    Property::StateMachineSafety,
                    format!(
                        "node {node} applied {index}@term {term}, another node applied {index}@term {other_term}"
                    ),
                );
            }
        } else {
            self.applied.insert(index, (term, fingerprint));
        }
        Ok(())
    }

    /// The highest index known committed anywhere.
    pub fn max_committed(&self) -> u64 {
        self.committed.keys().next_back().copied().unwrap_or(0)
    }
}

/// Each property, both ways: a legal history passes, a broken node's history fails. The
/// histories are what the simulator would report for nodes with the bug named in each test.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::PersistWrite;

    fn entry(index: u64, term: u64, data: &str) -> Entry {
        Entry {
            index,
            term,
            data: data.as_bytes().to_vec().into(),
            ..Default::default()
        }
    }

    /// A log of (term, data) entries from index 1.
    fn log(entries: &[(u64, &str)]) -> Vec<Entry> {
        entries
            .iter()
            .zip(1..)
            .map(|(&(term, data), index)| entry(index, term, data))
            .collect()
    }

    fn storage_with(entries: &[Entry]) -> RaftStorage {
        let mut storage = RaftStorage::empty();
        storage.write(&PersistWrite::Append(entries.to_vec()));
        storage
    }

    /// Node `node` boots with `entries` as its log.
    fn boot(checker: &mut Checker, node: u64, entries: &[Entry]) -> RaftStorage {
        let storage = storage_with(entries);
        checker.on_boot(node, &storage).unwrap();
        storage
    }

    fn property(result: Result<(), Broken>) -> Property {
        result.expect_err("the broken history must fail").property
    }

    #[test]
    fn election_safety() {
        let mut checker = Checker::default();
        let storage = boot(&mut checker, 1, &log(&[(1, "a")]));
        checker.on_leader(1, 2, &storage).unwrap();
        // Legal: another node leads a different term, and a leader re-reported in its term.
        checker.on_leader(2, 3, &storage).unwrap();
        checker.on_leader(2, 3, &storage).unwrap();
        // Broken: a node that forgot its vote lets a second leader win term 3.
        assert_eq!(
            property(checker.on_leader(3, 3, &storage)),
            Property::ElectionSafety
        );
    }

    #[test]
    fn leader_append_only() {
        let mut checker = Checker::default();
        let storage = boot(&mut checker, 1, &log(&[(1, "a"), (2, "b")]));
        // Legal: a follower's conflicting suffix is replaced by its leader's entries.
        let replaced = entry(2, 3, "c");
        checker.on_append(1, &[replaced], &storage, None).unwrap();
        // Legal: the leader of term 3 appends after its last entry.
        checker
            .on_append(1, &[entry(3, 3, "d")], &storage, Some(3))
            .unwrap();
        // Broken: a leader that truncates its own log.
        let overwrite = entry(3, 3, "e");
        assert_eq!(
            property(checker.on_append(1, &[overwrite], &storage, Some(3))),
            Property::LeaderAppendOnly
        );
    }

    #[test]
    fn log_matching() {
        let mut checker = Checker::default();
        let shared = log(&[(1, "a"), (2, "b")]);
        boot(&mut checker, 1, &shared);
        // Legal: the same entries, and a different entry under a different term.
        boot(&mut checker, 2, &shared);
        boot(&mut checker, 3, &log(&[(1, "a"), (3, "x")]));
        // Broken: a node holds entries of the same index and term with different contents
        // (say its disk flipped a bit the checksum missed).
        let result = checker.on_boot(4, &storage_with(&log(&[(1, "z"), (2, "b")])));
        assert_eq!(property(result), Property::LogMatching);
    }

    #[test]
    fn leader_completeness_is_about_later_terms_only() {
        let mut checker = Checker::default();
        let storage = boot(&mut checker, 2, &log(&[(1, "a"), (3, "b")]));
        // Node 2 commits entry 2 while leader of term 3.
        checker.on_leader(2, 3, &storage).unwrap();
        checker.on_commit(2, 2, 3, &storage).unwrap();
        // Legal: node 1, paused mid-election in term 2, resumes and wins term 2 without it.
        let stale = boot(&mut checker, 1, &log(&[(1, "a")]));
        checker.on_leader(1, 2, &stale).unwrap();
        // Legal: the leader of term 4 holds it.
        checker.on_leader(3, 4, &storage).unwrap();
        // Broken: node 1 wins term 5 without it (a voter that forgot what it had).
        assert_eq!(
            property(checker.on_leader(1, 5, &stale)),
            Property::LeaderCompleteness
        );
    }

    #[test]
    fn committed_in_term_is_the_first_reporters_term() {
        let mut checker = Checker::default();
        let storage = boot(&mut checker, 1, &log(&[(1, "a"), (2, "b")]));
        // Node 1 learns of the commit only in term 4: it is exempt for leaders up to term 4.
        checker.on_commit(1, 2, 4, &storage).unwrap();
        let short = boot(&mut checker, 2, &log(&[(1, "a")]));
        checker.on_leader(2, 4, &short).unwrap();
        assert_eq!(
            property(checker.on_leader(2, 5, &short)),
            Property::LeaderCompleteness
        );
    }

    /// The paper's Figure 8: an entry of term 2 held by three of five members, overwritten.
    #[test]
    fn an_overwritten_majority_entry_is_noted() {
        let mut checker = Checker::default();
        let old = log(&[(1, "a"), (2, "old")]);
        let short = log(&[(1, "a")]);
        for node in 1..=3 {
            boot(&mut checker, node, &old);
        }
        for node in 4..=5 {
            boot(&mut checker, node, &short);
        }
        // Node 1 goes down with the entry on its disk: it still counts as holding it.
        checker.on_crash(1, &storage_with(&old));
        let newer = entry(2, 3, "new");
        let storage = storage_with(&short);
        checker
            .on_append(3, std::slice::from_ref(&newer), &storage, None)
            .unwrap();
        assert_eq!(checker.majority_entries_overwritten(), [(2, 2)]);
        // Overwriting an entry only two held is the everyday case, not Figure 8.
        let mut everyday = Checker::default();
        for node in 1..=5 {
            boot(&mut everyday, node, if node <= 2 { &old } else { &short });
        }
        everyday.on_append(2, &[newer], &storage, None).unwrap();
        assert!(everyday.majority_entries_overwritten().is_empty());
    }

    /// A log much longer than [`FORGET_BATCH`] under its node's snapshot: the entries there are
    /// let go, and appends after the snapshot are still checked against the other nodes.
    #[test]
    fn a_log_let_go_under_its_snapshot_is_still_checked() {
        use crate::state_machine::SnapshotState;
        use raft::eraftpb::SnapshotMetadata;

        let mut checker = Checker::default();
        let long: Vec<Entry> = (1..=3000).map(|index| entry(index, 1, "a")).collect();
        boot(&mut checker, 2, &long);
        let mut storage = boot(&mut checker, 1, &long);
        storage.write(&PersistWrite::TakeSnapshot {
            metadata: SnapshotMetadata {
                index: 2500,
                term: 1,
                ..Default::default()
            },
            state: SnapshotState::encoded(bytes::Bytes::new()),
            compact_to: 2500,
        });
        checker
            .on_append(1, &[entry(3001, 1, "b")], &storage, None)
            .unwrap();
        let kept = &checker.node_logs[&1];
        // Let go of up to the entry before the log's first (the snapshot's own index).
        assert!(kept.first > FORGET_BATCH, "{}", kept.first);
        assert!(kept.first < storage.first_index(), "{}", kept.first);
        assert_eq!(kept.get(3001).map(|&(term, _)| term), Some(1));
        // Both nodes held 2999@term 1: node 1 replacing it is noted as a majority's entry.
        checker
            .on_append(1, &[entry(2999, 2, "x")], &storage, None)
            .unwrap();
        assert_eq!(checker.majority_entries_overwritten(), [(2999, 1)]);
        // Broken: node 2 holds a different 3001@term 1 after the same 3000 entries.
        let other = storage_with(&long);
        assert_eq!(
            property(checker.on_append(2, &[entry(3001, 1, "c")], &other, None)),
            Property::LogMatching
        );
    }

    #[test]
    fn state_machine_safety() {
        let mut checker = Checker::default();
        checker.on_apply(1, 5, 2, 77).unwrap();
        // Legal: another node applies the same entry.
        checker.on_apply(2, 5, 2, 77).unwrap();
        // Broken: a node applies something else at index 5.
        assert_eq!(
            property(checker.on_apply(3, 5, 3, 78)),
            Property::StateMachineSafety
        );
    }

    #[test]
    fn committed_entries_are_final() {
        let mut checker = Checker::default();
        let storage = boot(&mut checker, 1, &log(&[(1, "a"), (2, "b")]));
        checker.on_commit(1, 2, 2, &storage).unwrap();
        // Legal: a restarted node reports a lower commit index (it was not durable).
        checker.on_crash(1, &storage);
        checker.on_boot(1, &storage).unwrap();
        checker.on_commit(1, 1, 2, &storage).unwrap();
        // Broken: a running node's commit index goes back.
        assert_eq!(
            property(checker.on_commit(1, 0, 2, &storage)),
            Property::CommittedEntriesAreFinal
        );
        // Broken: another node commits a different entry at index 2.
        let other = boot(&mut checker, 2, &log(&[(1, "a"), (3, "c")]));
        assert_eq!(
            property(checker.on_commit(2, 2, 3, &other)),
            Property::CommittedEntriesAreFinal
        );
    }
}
