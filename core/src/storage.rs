//! What a Raft node keeps on disk, and raft-rs's read access to it.
//!
//! Raft's safety depends on three things surviving a crash: the **hard state** (current term,
//! whom we voted for, commit index), the **log**, and the latest **snapshot** (the state machine
//! as of some index, which replaces the log prefix up to that index).
//!
//! [`RaftStorage`] is the node's in-memory copy of exactly that. Every change to it is
//! expressed as a [`PersistWrite`]; the node applies each write to its own copy *and* hands it
//! to the driver, which makes it durable (the simulator's [`crate::sim::disk::SimDisk`], or a
//! real write-ahead log natively). After a crash, the durable copy is all that is left, and the
//! node restarts from it. Everything else a node knows (its role, who is leader, the leader's
//! view of followers, the state machine) is volatile and rebuilt after a restart.
//!
//! The log layout follows etcd's `MemoryStorage`: `entries[0]` is a dummy entry holding the
//! index and term of the last compacted entry (or of the snapshot), so `term(first_index - 1)`
//! is always answerable, as raft-rs requires for its log-matching check.

use protobuf::Message as _;
use raft::eraftpb::{
    ConfChange, ConfChangeType, ConfState, Entry, EntryType, HardState, Snapshot, SnapshotMetadata,
};
use raft::{GetEntriesContext, RaftState, StorageError};

use crate::persistent;
use crate::state_machine::SnapshotState;

/// One change to a node's durable state, in the order it must be made.
#[derive(Clone, Debug, PartialEq)]
pub enum PersistWrite {
    /// New term, vote or commit index.
    HardState(HardState),
    /// Log entries from the leader (or our own, as leader). Any existing entries at the same or
    /// later indexes are replaced: that is how a follower's divergent suffix is repaired.
    Append(Vec<Entry>),
    /// A snapshot received from the leader: it replaces the whole log.
    InstallSnapshot(Snapshot),
    /// A snapshot this node took of its own state machine; entries up to `compact_to` (which
    /// is at most the snapshot index) are dropped, later ones are kept.
    TakeSnapshot {
        metadata: SnapshotMetadata,
        state: SnapshotState,
        compact_to: u64,
    },
}

/// A node's durable Raft state: hard state, log and latest snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftStorage {
    hard_state: HardState,
    /// The membership as of the last applied configuration change. Only the snapshot's copy of
    /// it is durable; after a restart, the conf changes after the snapshot are applied again.
    conf_state: ConfState,
    snapshot_metadata: SnapshotMetadata,
    snapshot_state: SnapshotState,
    /// `entries[0]` is the dummy entry at the compaction point (see the module docs). A
    /// persistent vector (`im`): a copy of the storage (a playground checkpoint keeps one)
    /// shares the entries with the original.
    entries: im::Vector<Entry>,
}

impl RaftStorage {
    /// Storage for a founding member of a brand-new cluster, as etcd bootstraps one: the log
    /// starts with one committed "add voter" entry per founding member (term 1). Applying them
    /// builds the membership, and a node added later learns it by replaying the same entries.
    pub fn bootstrap(voters: &[u64]) -> Self {
        let mut storage = Self::empty();
        let entries: Vec<Entry> = voters
            .iter()
            .zip(1..)
            .map(|(&id, index)| {
                let mut change = ConfChange::default();
                change.set_change_type(ConfChangeType::AddNode);
                change.node_id = id;
                let mut entry = Entry::default();
                entry.set_entry_type(EntryType::EntryConfChange);
                entry.index = index;
                entry.term = 1;
                entry.data = change
                    .write_to_bytes()
                    .expect("encoding a ConfChange")
                    .into();
                entry
            })
            .collect();
        storage.hard_state.term = 1;
        storage.hard_state.commit = entries.len() as u64;
        storage.append(&entries);
        storage
    }

    /// Storage for a node that joins an existing cluster: nothing at all; the leader sends it
    /// the log (or a snapshot) once the node has been added to the membership.
    pub fn empty() -> Self {
        Self::from_snapshot(HardState::default(), Snapshot::default())
    }

    fn from_snapshot(hard_state: HardState, mut snapshot: Snapshot) -> Self {
        let metadata = snapshot.take_metadata();
        let dummy = Entry {
            index: metadata.index,
            term: metadata.term,
            ..Default::default()
        };
        RaftStorage {
            hard_state,
            conf_state: metadata.get_conf_state().clone(),
            snapshot_metadata: metadata,
            snapshot_state: SnapshotState::encoded(snapshot.data),
            entries: im::vector![dummy],
        }
    }

    /// The state a node restarts from after a crash: what was durable, with the membership
    /// reset to the snapshot's (the log replay re-applies later changes).
    pub fn recovered(&self) -> Self {
        RaftStorage {
            conf_state: self.snapshot_metadata.get_conf_state().clone(),
            ..self.clone()
        }
    }

    /// Applies one write. Used by the node on its in-memory copy and by disks on theirs, so
    /// both always agree on what a write means.
    pub fn write(&mut self, write: &PersistWrite) {
        match write {
            PersistWrite::HardState(hs) => self.hard_state = hs.clone(),
            PersistWrite::Append(new) => self.append(new),
            PersistWrite::InstallSnapshot(snap) => {
                let commit = self.hard_state.commit.max(snap.get_metadata().index);
                let mut hs = self.hard_state.clone();
                hs.commit = commit;
                hs.term = hs.term.max(snap.get_metadata().term);
                *self = Self::from_snapshot(hs, snap.clone());
            }
            PersistWrite::TakeSnapshot {
                metadata,
                state,
                compact_to,
            } => {
                self.snapshot_metadata = metadata.clone();
                self.snapshot_state = state.clone();
                self.compact(*compact_to);
            }
        }
    }

    fn append(&mut self, new: &[Entry]) {
        let Some(first_new) = new.first() else { return };
        let offset = self.entries[0].index;
        // Entries at or before the compaction point are already covered by the snapshot.
        let skip = offset.saturating_sub(first_new.index - 1) as usize;
        if skip >= new.len() {
            return;
        }
        let first_new_index = new[skip].index;
        assert!(
            first_new_index <= self.last_index() + 1,
            "log gap: appending {first_new_index} after {}",
            self.last_index()
        );
        // Drop our entries from the first new index onwards: the leader's entries win.
        let keep = (first_new_index - offset) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
        }
        self.entries.extend(new[skip..].iter().cloned());
    }

    fn compact(&mut self, compact_to: u64) {
        let offset = self.entries[0].index;
        if compact_to <= offset {
            return;
        }
        let keep_from = (compact_to - offset) as usize;
        let kept = &self.entries[keep_from];
        let dummy = Entry {
            index: kept.index,
            term: kept.term,
            ..Default::default()
        };
        self.entries = self.entries.skip(keep_from);
        self.entries.set(0, dummy);
    }

    /// Records the membership after a conf change was applied (volatile until a snapshot).
    pub fn set_conf_state(&mut self, conf_state: ConfState) {
        self.conf_state = conf_state;
    }

    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    pub fn conf_state(&self) -> &ConfState {
        &self.conf_state
    }

    pub fn snapshot_metadata(&self) -> &SnapshotMetadata {
        &self.snapshot_metadata
    }

    pub fn snapshot_state(&self) -> &SnapshotState {
        &self.snapshot_state
    }

    /// The latest snapshot as it travels and as a disk keeps it: its state encoded (once;
    /// later calls reuse the bytes).
    pub fn encoded_snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.set_metadata(self.snapshot_metadata.clone());
        snapshot.data = self.snapshot_state.bytes();
        snapshot
    }

    pub fn first_index(&self) -> u64 {
        self.entries[0].index + 1
    }

    pub fn last_index(&self) -> u64 {
        self.entries[0].index + self.entries.len() as u64 - 1
    }

    /// The entries still in the log (after the compaction point), oldest first.
    pub fn log(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter().skip(1)
    }

    /// The last `count` entries of the log (fewer if it holds fewer), oldest first; found
    /// without walking the ones before.
    pub fn log_tail(&self, count: usize) -> impl Iterator<Item = &Entry> {
        let from = self.entries.len().saturating_sub(count).max(1);
        persistent::range(&self.entries, from..self.entries.len())
    }

    /// The entry at `index`, if it is still in the log.
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        let offset = self.entries[0].index;
        if index <= offset {
            return None;
        }
        self.entries.get((index - offset) as usize)
    }
}

impl raft::Storage for RaftStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState::new(
            self.hard_state.clone(),
            self.conf_state.clone(),
        ))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low < self.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        assert!(
            high <= self.last_index() + 1,
            "entries {low}..{high} beyond {}",
            self.last_index()
        );
        let offset = self.entries[0].index;
        let wanted = (low - offset) as usize..(high - offset) as usize;
        let mut entries: Vec<Entry> = persistent::range(&self.entries, wanted).cloned().collect();
        raft::util::limit_size(&mut entries, max_size.into());
        Ok(entries)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        let offset = self.entries[0].index;
        if index < offset {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        match self.entries.get((index - offset) as usize) {
            Some(entry) => Ok(entry.term),
            None => Err(raft::Error::Store(StorageError::Unavailable)),
        }
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(RaftStorage::first_index(self))
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(RaftStorage::last_index(self))
    }

    /// The latest snapshot; raft-rs sends it to a follower that needs entries we compacted.
    fn snapshot(&self, _request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        Ok(self.encoded_snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            ..Default::default()
        }
    }

    fn terms(s: &RaftStorage) -> Vec<(u64, u64)> {
        s.log().map(|e| (e.index, e.term)).collect()
    }

    #[test]
    fn append_replaces_a_conflicting_suffix() {
        let mut s = RaftStorage::empty();
        s.write(&PersistWrite::Append(vec![
            entry(1, 1),
            entry(2, 1),
            entry(3, 2),
        ]));
        s.write(&PersistWrite::Append(vec![entry(3, 3), entry(4, 3)]));
        assert_eq!(terms(&s), vec![(1, 1), (2, 1), (3, 3), (4, 3)]);
    }

    #[test]
    fn taking_a_snapshot_keeps_the_tail_and_the_compacted_term() {
        let mut s = RaftStorage::empty();
        s.write(&PersistWrite::Append(
            (1..=5).map(|i| entry(i, 1 + i / 3)).collect(),
        ));
        s.write(&PersistWrite::TakeSnapshot {
            metadata: SnapshotMetadata {
                index: 4,
                term: 2,
                ..Default::default()
            },
            state: SnapshotState::encoded(Default::default()),
            compact_to: 3,
        });
        assert_eq!(s.first_index(), 4);
        assert_eq!(raft::Storage::term(&s, 3).unwrap(), 2);
        assert!(raft::Storage::term(&s, 2).is_err());
        assert_eq!(terms(&s), vec![(4, 2), (5, 2)]);
        // The dummy entry survives recovery, so the restarted node sees the same log.
        assert_eq!(terms(&s.recovered()), terms(&s));
    }

    #[test]
    fn installing_a_snapshot_replaces_the_log() {
        let mut s = RaftStorage::bootstrap(&[1, 2, 3]);
        assert_eq!(s.log().len(), 3, "one membership entry per founding member");
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = 10;
        snap.mut_metadata().term = 3;
        s.write(&PersistWrite::InstallSnapshot(snap));
        assert_eq!((s.first_index(), s.last_index()), (11, 10));
        assert_eq!(s.hard_state().commit, 10);
    }
}
