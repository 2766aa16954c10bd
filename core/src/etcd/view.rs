//! What the playground's state-machine panel shows of one member: its keys with their MVCC
//! metadata, the store's revisions, its leases (with time left, as the leader counts it) and
//! its watches. Plain serialisable structs, like [`crate::view`].

use serde::Serialize;

use super::server::EtcdServer;
use super::store::show_bytes;
use super::watch::WatchView;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoreView {
    pub revision: i64,
    pub compact_revision: i64,
    pub keys: Vec<KeyView>,
    pub leases: Vec<LeaseView>,
    pub watches: Vec<WatchView>,
    /// Versions kept in the MVCC history (compaction shrinks this).
    pub versions: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyView {
    pub key: String,
    pub value: String,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// Hex lease id, or empty.
    pub lease: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaseView {
    pub id: String,
    pub ttl: i64,
    /// Milliseconds left before the leader revokes it; `None` on a follower (followers
    /// never expire leases).
    pub remaining_ms: Option<u64>,
    pub keys: Vec<String>,
}

impl StoreView {
    pub fn of(server: &EtcdServer, now: u64) -> StoreView {
        let store = server.store();
        let keys = store
            .mvcc
            .live_in(&[0], &[0])
            .into_iter()
            .map(|kv| KeyView {
                key: show_bytes(&kv.key),
                value: show_bytes(&kv.value),
                create_revision: kv.create_revision,
                mod_revision: kv.mod_revision,
                version: kv.version,
                lease: if kv.lease == 0 {
                    String::new()
                } else {
                    format!("{:016x}", kv.lease)
                },
            })
            .collect();
        let leases = store
            .leases()
            .map(|lease| LeaseView {
                id: format!("{:016x}", lease.id),
                ttl: lease.ttl,
                remaining_ms: server
                    .lease_deadlines()
                    .get(&lease.id)
                    .map(|deadline| deadline.saturating_sub(now)),
                keys: lease.keys.iter().map(|k| show_bytes(k)).collect(),
            })
            .collect();
        StoreView {
            revision: store.mvcc.current_revision(),
            compact_revision: store.mvcc.compact_revision(),
            keys,
            leases,
            watches: server.watch_views(),
            versions: store.stats().versions,
        }
    }
}
