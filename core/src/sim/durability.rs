//! Why an acknowledged write stays: for every put a client was told `OK`, where its log entry
//! is now and which leaders came after it.
//!
//! etcd answers a put once its entry is committed: stored by a majority, under the current
//! leader. Any later leader must have won a majority's votes, and a voter refuses anyone whose
//! log is behind its own; two majorities share a member, so every later leader holds the entry
//! (the paper's *leader completeness*) and the write survives crashes, partitions, pauses and
//! lost messages. Only breaking an assumption Raft makes, like `wipe` (a disk forgetting what
//! it synced), can lose it. The console's `durability` prints this account; the challenge
//! page's condition `acknowledged write lost` asks whether any such write is gone.

use super::clients::Outcome;
use super::cluster::Cluster;
use crate::etcd::api::{Request, Response};

/// One acknowledged put, and where its entry is.
#[derive(Clone, Debug, PartialEq)]
pub struct AcknowledgedWrite {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    /// When the client was told OK.
    pub at: u64,
    /// Its log entry.
    pub index: u64,
    pub term: u64,
    /// The running members whose log (or snapshot) holds the entry now.
    pub holders: Vec<u64>,
    /// How many voters there are now.
    pub voters: usize,
    /// The leaders elected after the acknowledgement: node, term, and whether it holds the
    /// entry now.
    pub later_leaders: Vec<(u64, u64, bool)>,
}

impl AcknowledgedWrite {
    /// Whether the current leader has lost it: it does not hold the entry (an entry of that
    /// index with another term, or none).
    pub fn lost(&self, cluster: &Cluster) -> bool {
        cluster
            .leader()
            .is_some_and(|leader| !holds(cluster, leader, self.index, self.term))
    }
}

/// Whether member `id`'s log holds entry `index` of `term` (a snapshot past it counts: only
/// committed entries are snapshotted).
fn holds(cluster: &Cluster, id: u64, index: u64, term: u64) -> bool {
    let Some(node) = cluster.node(id) else {
        return false;
    };
    let storage = node.storage();
    index <= storage.snapshot_metadata().index
        || storage.entry(index).is_some_and(|e| e.term == term)
}

impl Cluster {
    /// Every put acknowledged OK, in the order they were answered, with where its entry is.
    pub fn acknowledged_writes(&self) -> Vec<AcknowledgedWrite> {
        // The term of each applied entry (only committed entries are applied, and a committed
        // entry is the same on every member), and who led when, over the whole run.
        let facts = self.trace().facts();
        let mut acknowledged: Vec<AcknowledgedWrite> = self
            .requests()
            .values()
            .filter_map(|r| match (&r.request, &r.outcome) {
                (
                    Some(Request::Put(put)),
                    Outcome::Done {
                        at,
                        index,
                        response: Response::Put(answer),
                    },
                ) => Some(AcknowledgedWrite {
                    key: put.key.clone(),
                    value: put.value.clone(),
                    at: *at,
                    index: *index,
                    term: facts
                        .applied_term(*index)
                        .unwrap_or(answer.header.raft_term),
                    holders: Vec::new(),
                    voters: 0,
                    later_leaders: Vec::new(),
                }),
                _ => None,
            })
            .collect();
        acknowledged.sort_by_key(|w| w.at);
        let voters = self
            .leader()
            .and_then(|id| self.node(id))
            .map_or(0, |n| n.members().0.len());
        let leaders = facts.leaders();
        for write in &mut acknowledged {
            write.holders = self
                .node_ids()
                .into_iter()
                .filter(|&id| holds(self, id, write.index, write.term))
                .collect();
            write.voters = voters;
            write.later_leaders = leaders
                .iter()
                .filter(|&&(time, _, _)| time > write.at)
                .map(|&(_, node, term)| (node, term, holds(self, node, write.index, write.term)))
                .collect();
        }
        acknowledged
    }
}
