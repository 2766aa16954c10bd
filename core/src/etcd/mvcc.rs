//! MVCC: every version of every key, addressed by revision.
//!
//! etcd never overwrites a key. Each change gets the next **revision** of the whole store
//! (one counter for all keys, starting at 1), and the store keeps, per key, the list of its
//! changes in revision order. A read at revision `r` sees, for each key, the last change at or
//! before `r`, unless that change was a delete (a *tombstone*). That is what makes history
//! reads (`get --rev=3`) and watches from a past revision (`watch --rev=2`) possible.
//!
//! All changes of one write (a put, a delete of a range, a whole transaction) share one *main*
//! revision and are told apart by a *sub* revision, so a transaction is a single step in
//! history.
//!
//! **Compaction** at revision `c` forgets what no read at `c` or later can see: for each key,
//! the changes before the last one at or before `c`, and that one too if it is a tombstone.
//! Reads and watches below `c` fail with "required revision has been compacted" from the
//! moment the compaction is applied. The forgetting itself is done in batches of keys
//! afterwards ([`MvccStore::compact_some`], on the member's clock ticks), as etcd does, so
//! that compacting a big store never holds up the Raft loop for long. Nothing a reader sees
//! depends on how far it got.
//!
//! The maps are `im` persistent maps: cloning the store (for a Raft snapshot, or to look at
//! the past in the playground) costs almost nothing, and clones share unchanged parts.

use std::sync::Arc;

use im::{OrdMap, Vector};
use serde::{Deserialize, Serialize};

use super::api::{
    EtcdError, Event, EventType, KeyRange, KeyValue, RangeRequest, RangeResponse, SortOrder,
    SortTarget,
};

/// A change's place in history: the store revision, and its position within that revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
}

/// One change to a key: a new version (`tombstone = false`) or its deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Change {
    revision: Revision,
    tombstone: bool,
    /// The version written; for a tombstone only `key` and `mod_revision` are set.
    kv: KeyValue,
}

/// A key's changes, oldest first.
///
/// Each change sits behind an `Arc`, so the vector holds pointers. That matters for memory:
/// an `im::Vector` keeps a few elements inline and then allocates chunks of 64, so a vector
/// of whole changes (about 100 bytes each) cost a 6.6 KB chunk for a key with two versions;
/// and copying a shared chunk (after a snapshot or a checkpoint cloned the store) copies
/// pointers, not keys and values.
type History = Vector<Arc<Change>>;

/// How much the store holds: what compaction shrinks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MvccStats {
    /// Keys with any stored change (live or not).
    pub keys: usize,
    /// Stored changes over all keys.
    pub versions: usize,
    /// Bytes of keys and values over all stored changes.
    pub bytes: usize,
}

/// Keys whose history [`MvccStore::compact_some`] trims per call.
pub const COMPACTION_BATCH: usize = 10_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MvccStore {
    keys: OrdMap<Vec<u8>, History>,
    current_revision: i64,
    compact_revision: i64,
    /// While a compaction is still forgetting: the first key it has not looked at yet.
    compacting_from: Option<Vec<u8>>,
    /// What [`MvccStore::stats`] reports, kept up to date by each write and compaction batch,
    /// so that asking costs no walk over the whole history (the playground asks at every
    /// redraw: 5 ms natively an hour into a run). Not in snapshots: counted on restore.
    #[serde(skip)]
    stored: Stored,
}

/// Changes stored over all keys, and the bytes of their keys and values.
#[derive(Clone, Copy, Debug, Default)]
struct Stored {
    versions: usize,
    bytes: usize,
}

impl Stored {
    fn add(&mut self, key: &[u8], change: &Change) {
        self.versions += 1;
        self.bytes += key.len() + change.kv.value.len();
    }

    fn remove(&mut self, key: &[u8], change: &Change) {
        self.versions -= 1;
        self.bytes -= key.len() + change.kv.value.len();
    }
}

impl Default for MvccStore {
    fn default() -> Self {
        // etcd starts at revision 1, so the first write is revision 2.
        MvccStore {
            keys: OrdMap::new(),
            current_revision: 1,
            // As etcd's: nothing compacted yet is -1, so a new store may be compacted at 0.
            compact_revision: -1,
            compacting_from: None,
            stored: Stored::default(),
        }
    }
}

/// Two stores are equal when every read and watch finds the same in both: the same
/// revisions and the same history that the last compaction keeps, however far each has got
/// with forgetting the rest.
impl PartialEq for MvccStore {
    fn eq(&self, other: &Self) -> bool {
        let kept = |store: &'_ MvccStore| -> Vec<(Vec<u8>, Vec<Change>)> {
            store
                .keys
                .iter()
                .map(|(key, history)| (key.clone(), store.kept(history).cloned().collect()))
                .filter(|(_, kept): &(Vec<u8>, Vec<Change>)| !kept.is_empty())
                .collect()
        };
        self.current_revision == other.current_revision
            && self.compact_revision == other.compact_revision
            && kept(self) == kept(other)
    }
}

impl Eq for MvccStore {}

/// The keys a `key` and `range_end` name (see [`KeyRange`]).
fn in_range<'a>(
    keys: &'a OrdMap<Vec<u8>, History>,
    key: &[u8],
    range_end: &[u8],
) -> Box<dyn Iterator<Item = (&'a Vec<u8>, &'a History)> + 'a> {
    match KeyRange::new(key, range_end).bounds() {
        Some(bounds) => Box::new(keys.range(bounds)),
        None => Box::new(std::iter::empty()),
    }
}

/// Where a key's history starts once a compaction at `revision` has forgotten what it
/// forgets: the last change at or before `revision` stays (a read at `revision` sees it)
/// unless it is a tombstone. 0: nothing to forget; `history.len()`: all of it.
fn kept_from(history: &History, revision: i64) -> usize {
    match history.iter().rposition(|c| c.revision.main <= revision) {
        None => 0,
        Some(last) if history[last].tombstone => last + 1,
        Some(last) => last,
    }
}

/// The version of a key visible at `revision`, if it existed then.
fn visible_at(history: &History, revision: i64) -> Option<&KeyValue> {
    // Most reads and every write ask for the newest change: look at it before walking back.
    let change = match history.back() {
        Some(newest) if newest.revision.main <= revision => newest,
        _ => history.iter().rev().find(|c| c.revision.main <= revision)?,
    };
    (!change.tombstone).then_some(&change.kv)
}

impl MvccStore {
    pub fn current_revision(&self) -> i64 {
        self.current_revision
    }

    /// The revision of the last compaction (0: never compacted).
    pub fn compact_revision(&self) -> i64 {
        self.compact_revision.max(0)
    }

    /// etcd's `HashKV`: a CRC-32C over every stored change up to `revision` (0: now), in
    /// revision order. Members whose stores agree give the same hash; one that diverged
    /// does not. (etcd hashes its own on-disk encoding, so the numbers differ from etcd's.)
    pub fn hash_kv(&self, revision: i64) -> Result<u32, EtcdError> {
        let revision = if revision <= 0 {
            self.current_revision
        } else {
            revision
        };
        if revision > self.current_revision {
            return Err(EtcdError::FutureRevision);
        }
        if revision < self.compact_revision {
            return Err(EtcdError::Compacted);
        }
        let mut changes: Vec<&Change> = self
            .keys
            .values()
            .flat_map(|history| self.kept(history))
            .filter(|c| c.revision.main <= revision)
            .collect();
        changes.sort_by_key(|c| (c.revision.main, c.revision.sub));
        let mut crc = Crc32c::default();
        for change in changes {
            let kv = &change.kv;
            crc.update(&change.revision.main.to_be_bytes());
            crc.update(&change.revision.sub.to_be_bytes());
            crc.update(&[u8::from(change.tombstone)]);
            for number in [kv.create_revision, kv.mod_revision, kv.version, kv.lease] {
                crc.update(&number.to_be_bytes());
            }
            crc.update(&(kv.key.len() as u64).to_be_bytes());
            crc.update(&kv.key);
            crc.update(&kv.value);
        }
        Ok(crc.finish())
    }

    /// The live version of `key` now.
    pub fn get(&self, key: &[u8]) -> Option<&KeyValue> {
        visible_at(self.keys.get(key)?, self.current_revision)
    }

    /// Live keys of `[key, range_end)` now, in key order.
    pub fn live_in(&self, key: &[u8], range_end: &[u8]) -> Vec<KeyValue> {
        in_range(&self.keys, key, range_end)
            .filter_map(|(_, history)| visible_at(history, self.current_revision).cloned())
            .collect()
    }

    /// A read, with etcd's rules for revision, filters, sorting, limit and count.
    pub fn range(&self, request: &RangeRequest) -> Result<RangeResponse, EtcdError> {
        self.range_with_head(request, self.current_revision)
    }

    /// A read as of `head` (a write in progress reads its own changes).
    fn range_with_head(&self, r: &RangeRequest, head: i64) -> Result<RangeResponse, EtcdError> {
        let revision = if r.revision <= 0 { head } else { r.revision };
        if revision > head {
            return Err(EtcdError::FutureRevision);
        }
        if revision < self.compact_revision {
            return Err(EtcdError::Compacted);
        }
        let mut kvs: Vec<KeyValue> = in_range(&self.keys, &r.key, &r.range_end)
            .filter_map(|(_, history)| visible_at(history, revision).cloned())
            .collect();
        let count = kvs.len() as i64;
        let within = |value: i64, min: i64, max: i64| {
            (min == 0 || value >= min) && (max == 0 || value <= max)
        };
        kvs.retain(|kv| {
            within(kv.mod_revision, r.min_mod_revision, r.max_mod_revision)
                && within(
                    kv.create_revision,
                    r.min_create_revision,
                    r.max_create_revision,
                )
        });
        // Keys come out in key order; any other target is sorted ascending unless told.
        let order = match (r.sort_order, r.sort_target) {
            (SortOrder::None, SortTarget::Key) => SortOrder::None,
            (SortOrder::None, _) => SortOrder::Ascend,
            (order, _) => order,
        };
        if order != SortOrder::None {
            let key_of = |kv: &KeyValue| -> (Vec<u8>, i64) {
                match r.sort_target {
                    SortTarget::Key => (kv.key.clone(), 0),
                    SortTarget::Version => (Vec::new(), kv.version),
                    SortTarget::Create => (Vec::new(), kv.create_revision),
                    SortTarget::Mod => (Vec::new(), kv.mod_revision),
                    SortTarget::Value => (kv.value.clone(), 0),
                }
            };
            kvs.sort_by_key(key_of); // stable: ties stay in key order
            if order == SortOrder::Descend {
                kvs.reverse();
            }
        }
        let mut more = false;
        if r.limit > 0 && kvs.len() > r.limit as usize {
            kvs.truncate(r.limit as usize);
            more = true;
        }
        if r.count_only {
            kvs.clear();
        }
        if r.keys_only {
            kvs.iter_mut().for_each(|kv| kv.value.clear());
        }
        Ok(RangeResponse {
            kvs,
            more,
            count,
            ..Default::default()
        })
    }

    /// Starts a write: every change made through it gets the next revision.
    pub fn write(&mut self) -> Write<'_> {
        let revision = self.current_revision + 1;
        Write {
            store: self,
            revision,
            sub: 0,
        }
    }

    /// Every change to `[key, range_end)` from revision `from` up to the current one, in
    /// revision order; with each put's previous version if `prev_kv`.
    pub fn events_since(
        &self,
        key: &[u8],
        range_end: &[u8],
        from: i64,
        prev_kv: bool,
    ) -> Result<Vec<Event>, EtcdError> {
        if from < self.compact_revision {
            return Err(EtcdError::Compacted);
        }
        let mut events: Vec<(Revision, Event)> = Vec::new();
        for (_, history) in in_range(&self.keys, key, range_end) {
            let mut previous: Option<&Change> = None;
            for change in self.kept(history) {
                if change.revision.main >= from {
                    let prev = previous
                        .filter(|p| prev_kv && !p.tombstone)
                        .map(|p| p.kv.clone());
                    let kind = if change.tombstone {
                        EventType::Delete
                    } else {
                        EventType::Put
                    };
                    events.push((
                        change.revision,
                        Event {
                            kind,
                            kv: change.kv.clone(),
                            prev_kv: prev,
                        },
                    ));
                }
                previous = Some(change);
            }
        }
        events.sort_by_key(|(revision, _)| *revision);
        Ok(events.into_iter().map(|(_, event)| event).collect())
    }

    /// The changes of `history` that the last compaction keeps (all of them once it has
    /// finished forgetting): what hashes and watches see, however far the forgetting got.
    fn kept<'a>(&self, history: &'a History) -> impl Iterator<Item = &'a Change> {
        let from = kept_from(history, self.compact_revision);
        history.iter().skip(from).map(|c| &**c)
    }

    /// Compacts at `revision`: reads below it fail from now on. What no read at `revision` or
    /// later can see is forgotten afterwards, by [`MvccStore::compact_some`].
    pub fn compact(&mut self, revision: i64) -> Result<(), EtcdError> {
        if revision <= self.compact_revision {
            return Err(EtcdError::Compacted);
        }
        if revision > self.current_revision {
            return Err(EtcdError::FutureRevision);
        }
        self.compact_revision = revision;
        // From the first key again: keys already trimmed for an earlier compaction may have
        // more to forget now.
        self.compacting_from = Some(Vec::new());
        Ok(())
    }

    /// Whether a compaction still has history to forget.
    pub fn compacting(&self) -> bool {
        self.compacting_from.is_some()
    }

    /// Forgets what the last compaction forgets in the next `max_keys` keys.
    ///
    /// Keys with nothing to forget (in a large store, most: one live version) are left
    /// untouched, so they stay shared with any clone of the store (a snapshot, a checkpoint).
    pub fn compact_some(&mut self, max_keys: usize) {
        let Some(from) = self.compacting_from.take() else {
            return;
        };
        let mut next = None;
        let mut forget: Vec<(Vec<u8>, usize)> = Vec::new();
        for (looked, (key, history)) in self.keys.range(from..).enumerate() {
            if looked == max_keys {
                next = Some(key.clone());
                break;
            }
            let kept_from = kept_from(history, self.compact_revision);
            if kept_from > 0 {
                forget.push((key.clone(), kept_from));
            }
        }
        for (key, kept_from) in forget {
            let history = self.keys.get_mut(&key).expect("a key just looked at");
            for change in history.iter().take(kept_from) {
                self.stored.remove(&key, change);
            }
            if kept_from == history.len() {
                self.keys.remove(&key);
            } else {
                *history = history.split_off(kept_from);
            }
        }
        self.compacting_from = next;
    }

    /// What the store holds now (a compaction that is still forgetting has not freed all it
    /// will).
    pub fn stats(&self) -> MvccStats {
        MvccStats {
            keys: self.keys.len(),
            versions: self.stored.versions,
            bytes: self.stored.bytes,
        }
    }

    /// Counts what the store holds from its history, for [`MvccStore::stats`]: after a
    /// restore from a snapshot, which does not carry the count.
    pub fn recount(&mut self) {
        let mut stored = Stored::default();
        for (key, history) in &self.keys {
            for change in history {
                stored.add(key, change);
            }
        }
        self.stored = stored;
    }
}

/// A write in progress: puts and deletes at one revision. [`Write::finish`] commits it.
pub struct Write<'a> {
    store: &'a mut MvccStore,
    revision: i64,
    sub: i64,
}

impl Write<'_> {
    /// The revision this write's changes get.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// The store's revision as this write sees it (its own revision once it changed anything).
    pub fn head(&self) -> i64 {
        if self.sub > 0 {
            self.revision
        } else {
            self.revision - 1
        }
    }

    pub fn range(&self, request: &RangeRequest) -> Result<RangeResponse, EtcdError> {
        self.store.range_with_head(request, self.head())
    }

    pub fn get(&self, key: &[u8]) -> Option<&KeyValue> {
        visible_at(self.store.keys.get(key)?, self.head())
    }

    pub fn live_in(&self, key: &[u8], range_end: &[u8]) -> Vec<KeyValue> {
        let head = self.head();
        in_range(&self.store.keys, key, range_end)
            .filter_map(|(_, history)| visible_at(history, head).cloned())
            .collect()
    }

    /// Writes a new version of `key`.
    pub fn put(&mut self, key: &[u8], value: Vec<u8>, lease: i64) {
        let (create_revision, version) = match self.get(key) {
            Some(p) => (p.create_revision, p.version + 1),
            None => (self.revision, 1),
        };
        let kv = KeyValue {
            key: key.to_vec(),
            create_revision,
            mod_revision: self.revision,
            version,
            value,
            lease,
        };
        self.record(kv, false);
    }

    /// Deletes every live key of `[key, range_end)`; returns what was deleted.
    pub fn delete_range(&mut self, key: &[u8], range_end: &[u8]) -> Vec<KeyValue> {
        let deleted = self.live_in(key, range_end);
        for kv in &deleted {
            let tombstone = KeyValue {
                key: kv.key.clone(),
                mod_revision: self.revision,
                ..Default::default()
            };
            self.record(tombstone, true);
        }
        deleted
    }

    fn record(&mut self, kv: KeyValue, tombstone: bool) {
        let revision = Revision {
            main: self.revision,
            sub: self.sub,
        };
        self.sub += 1;
        let change = Arc::new(Change {
            revision,
            tombstone,
            kv,
        });
        let key = &change.kv.key;
        self.store.stored.add(key, &change);
        // A key written before has a history to extend: find it without copying the key.
        match self.store.keys.get_mut(key) {
            Some(history) => history.push_back(change),
            None => {
                let key = key.clone();
                self.store.keys.insert(key, Vector::unit(change));
            }
        }
    }

    /// Ends the write; the store's revision moves on only if something changed.
    pub fn finish(self) -> i64 {
        if self.sub > 0 {
            self.store.current_revision = self.revision;
        }
        self.store.current_revision
    }
}

/// CRC-32C (Castagnoli), the checksum etcd's `HashKV` uses, bit by bit: the stores here are
/// small, and a table would be more code to read than it saves.
struct Crc32c(u32);

impl Default for Crc32c {
    fn default() -> Self {
        Crc32c(!0)
    }
}

impl Crc32c {
    fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0x82F6_3B78 & mask);
            }
        }
    }

    fn finish(&self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(writes: &[(&str, &str)]) -> MvccStore {
        let mut store = MvccStore::default();
        for (key, value) in writes {
            let mut write = store.write();
            write.put(key.as_bytes(), value.as_bytes().to_vec(), 0);
            write.finish();
        }
        store
    }

    #[test]
    fn crc32c_is_castagnolis() {
        // The check value every CRC-32C implementation gives for "123456789".
        let mut crc = Crc32c::default();
        crc.update(b"123456789");
        assert_eq!(crc.finish(), 0xE306_9283);
    }

    #[test]
    fn hash_kv_tells_equal_stores_from_diverged_ones() {
        let a = store(&[("x", "1"), ("y", "2")]);
        let b = store(&[("x", "1"), ("y", "2")]);
        let c = store(&[("x", "1"), ("y", "3")]);
        assert_eq!(a.hash_kv(0), b.hash_kv(0));
        assert_ne!(a.hash_kv(0), c.hash_kv(0));
        // At a past revision, only the history up to it counts.
        assert_eq!(a.hash_kv(2), c.hash_kv(2));
        assert_eq!(a.hash_kv(9), Err(EtcdError::FutureRevision));
        let mut compacted = a.clone();
        compacted.compact(3).unwrap();
        assert_eq!(compacted.hash_kv(2), Err(EtcdError::Compacted));
    }
}
