//! The simulated disk: durable writes, an OS page cache, and `fsync`.
//!
//! A write lands in the page cache first and only becomes durable when synced. raft-rs marks
//! each Ready with `must_sync`: a new term, vote or log entry must be synced before the node
//! answers anybody (otherwise it could vote twice in one term after a crash), while a mere
//! commit-index change need not be (the commit index can be learnt again from the leader).
//! A crash throws the page cache away, so a crashed node loses exactly what a real one would.

use crate::storage::{PersistWrite, RaftStorage};

#[derive(Clone, Debug)]
pub struct SimDisk {
    durable: RaftStorage,
    page_cache: Vec<PersistWrite>,
}

impl SimDisk {
    /// A disk holding a freshly bootstrapped node's state (already durable).
    pub fn new(initial: RaftStorage) -> Self {
        SimDisk {
            durable: initial,
            page_cache: Vec::new(),
        }
    }

    pub fn write(&mut self, write: PersistWrite) {
        self.page_cache.push(write);
    }

    /// `fsync`: everything written so far becomes durable.
    pub fn sync(&mut self) {
        for write in self.page_cache.drain(..) {
            self.durable.write(&write);
        }
    }

    /// Power loss: unsynced writes are gone. Returns how many were lost.
    pub fn crash(&mut self) -> usize {
        let lost = self.page_cache.len();
        self.page_cache.clear();
        lost
    }

    /// What a restarting node reads back.
    pub fn recover(&self) -> RaftStorage {
        self.durable.recovered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::HardState;

    #[test]
    fn a_crash_loses_only_unsynced_writes() {
        let mut disk = SimDisk::new(RaftStorage::bootstrap(&[1]));
        let hs = |term, commit| HardState {
            term,
            commit,
            ..Default::default()
        };
        disk.write(PersistWrite::HardState(hs(2, 0)));
        disk.sync();
        disk.write(PersistWrite::HardState(hs(2, 7)));
        assert_eq!(disk.crash(), 1);
        assert_eq!(disk.recover().hard_state(), &hs(2, 0));
    }
}
