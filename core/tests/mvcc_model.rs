//! The MVCC store against a model simple enough to be obviously right: per key, the list of
//! every version ever written (or deleted), never forgetting anything. For random sequences
//! of puts, deletes, compactions and reads at random revisions, the store must answer every
//! read the model can answer, fail exactly the reads below the compaction point, and survive
//! a snapshot round trip unchanged. Compaction forgets in batches of keys after it is
//! applied; the batches come at random moments, and no read may notice them. Once done,
//! compaction must really have forgotten: the store keeps at most one version per key at or
//! below the compaction point.

use std::collections::BTreeMap;

use proptest::prelude::*;
use raftbook_core::etcd::api::{EtcdError, KeyValue, RangeRequest};
use raftbook_core::etcd::mvcc::{MvccStore, COMPACTION_BATCH};

#[derive(Clone, Debug)]
enum Op {
    Put {
        key: u8,
        value: u8,
    },
    /// Deletes `[key, key + width)` (width 0: the single key).
    Delete {
        key: u8,
        width: u8,
    },
    /// Compacts at `current - back`.
    Compact {
        back: u8,
    },
    /// Forgets what the compaction forgets in the next `keys` keys.
    CompactSome {
        keys: u8,
    },
    /// Reads `[key, key + width)` at `current - back` (width 0: one key; 255: all keys).
    Read {
        key: u8,
        width: u8,
        back: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..6u8, any::<u8>()).prop_map(|(key, value)| Op::Put { key, value }),
        2 => (0..6u8, prop_oneof![Just(0u8), 1..4u8]).prop_map(|(key, width)| Op::Delete { key, width }),
        1 => (0..8u8).prop_map(|back| Op::Compact { back }),
        2 => (1..4u8).prop_map(|keys| Op::CompactSome { keys }),
        4 => (0..6u8, prop_oneof![Just(0u8), 1..4u8, Just(255u8)], 0..10u8).prop_map(|(key, width, back)| Op::Read { key, width, back }),
    ]
}

fn key_name(key: u8) -> Vec<u8> {
    format!("key{key}").into_bytes()
}

/// The range a (key, width) pair means, in etcd's encoding.
fn range(key: u8, width: u8) -> (Vec<u8>, Vec<u8>) {
    match width {
        0 => (key_name(key), Vec::new()),
        255 => (vec![0], vec![0]),
        w => (key_name(key), key_name(key.saturating_add(w))),
    }
}

/// A key's changes: (revision, value or `None` for deleted).
type Changes = Vec<(i64, Option<Vec<u8>>)>;

/// The model: every change ever made, per key.
#[derive(Default)]
struct Model {
    history: BTreeMap<Vec<u8>, Changes>,
    revision: i64,
    compacted: i64,
}

impl Model {
    /// The version of `key` visible at `revision`, computed from the full history.
    fn visible(&self, key: &[u8], revision: i64) -> Option<KeyValue> {
        let changes: Vec<_> = self
            .history
            .get(key)?
            .iter()
            .filter(|(r, _)| *r <= revision)
            .collect();
        let (mod_revision, value) = changes.last()?;
        let value = value.clone()?;
        // Version and create revision count from the last time the key came into being.
        let since_created: Vec<_> = changes
            .iter()
            .rev()
            .take_while(|(_, v)| v.is_some())
            .collect();
        let create_revision = since_created.last().expect("live").0;
        Some(KeyValue {
            key: key.to_vec(),
            create_revision,
            mod_revision: *mod_revision,
            version: since_created.len() as i64,
            value,
            lease: 0,
        })
    }

    fn range(&self, key: &[u8], end: &[u8], revision: i64) -> Result<Vec<KeyValue>, EtcdError> {
        let revision = if revision <= 0 {
            self.revision
        } else {
            revision
        };
        if revision > self.revision {
            return Err(EtcdError::FutureRevision);
        }
        if revision < self.compacted {
            return Err(EtcdError::Compacted);
        }
        let keys = self.history.keys().filter(|k| match end {
            [] => k.as_slice() == key,
            [0] => k.as_slice() >= key,
            end => k.as_slice() >= key && k.as_slice() < end,
        });
        Ok(keys.filter_map(|k| self.visible(k, revision)).collect())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mvcc_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut store = MvccStore::default();
        // Nothing compacted yet is -1, as in etcd: compacting a new store at 0 succeeds.
        let mut model = Model { revision: 1, compacted: -1, ..Default::default() };
        for op in ops {
            match op {
                Op::Put { key, value } => {
                    let mut write = store.write();
                    write.put(&key_name(key), vec![value], 0);
                    write.finish();
                    model.revision += 1;
                    model.history.entry(key_name(key)).or_default().push((model.revision, Some(vec![value])));
                }
                Op::Delete { key, width } => {
                    let (start, end) = range(key, width);
                    let live = model.range(&start, &end, 0).unwrap();
                    let mut write = store.write();
                    let deleted = write.delete_range(&start, &end);
                    write.finish();
                    prop_assert_eq!(&deleted, &live);
                    if !live.is_empty() {
                        model.revision += 1;
                        for kv in live {
                            model.history.get_mut(&kv.key).unwrap().push((model.revision, None));
                        }
                    }
                }
                Op::Compact { back } => {
                    let at = model.revision - back as i64;
                    let result = store.compact(at);
                    if at <= model.compacted {
                        prop_assert_eq!(result, Err(EtcdError::Compacted));
                    } else {
                        prop_assert_eq!(result, Ok(()));
                        model.compacted = at;
                    }
                }
                Op::CompactSome { keys } => store.compact_some(keys as usize),
                Op::Read { key, width, back } => {
                    let (start, end) = range(key, width);
                    // `back` past the start reads at a future revision: an error too.
                    let at = if back == 9 { model.revision + 1 } else { model.revision - back as i64 };
                    let request = RangeRequest { key: start.clone(), range_end: end.clone(), revision: at, ..Default::default() };
                    let got = store.range(&request).map(|r| r.kvs);
                    prop_assert_eq!(got, model.range(&start, &end, at));
                }
            }
            prop_assert_eq!(store.current_revision(), model.revision);
            // What the store holds is counted as it goes, the same as counting it all again.
            let mut recounted = store.clone();
            recounted.recount();
            prop_assert_eq!(store.stats(), recounted.stats());
        }
        // A snapshot restores the very same store, even half-way through forgetting.
        let mut restored = postcard_roundtrip(&store);
        prop_assert_eq!(&restored, &store);
        // Once done, compaction forgot what it may: at most one version per key at or below
        // the point. The restored store carries on where the snapshot stopped.
        let newer: usize = model.history.values().flatten().filter(|(r, _)| *r > model.compacted).count();
        for store in [&mut store, &mut restored] {
            while store.compacting() {
                store.compact_some(2);
            }
            prop_assert!(store.stats().versions <= newer + model.history.len());
        }
        prop_assert_eq!(store.stats(), restored.stats());
    }
}

fn postcard_roundtrip(store: &MvccStore) -> MvccStore {
    use raftbook_core::etcd::store::EtcdStore;
    use raftbook_core::state_machine::StateMachine;
    let mut etcd = EtcdStore::default();
    etcd.mvcc = store.clone();
    let mut restored = EtcdStore::default();
    restored.restore(&etcd.snapshot());
    restored.mvcc
}

#[test]
fn compaction_frees_history() {
    let mut store = MvccStore::default();
    for round in 0..100 {
        for key in 0..10u8 {
            let mut write = store.write();
            write.put(&key_name(key), vec![round; 100], 0);
            write.finish();
        }
    }
    let before = store.stats();
    assert_eq!(before.versions, 1000);
    let revision = store.current_revision();
    store.compact(revision).unwrap();
    let at = |revision| RangeRequest {
        key: key_name(0),
        revision,
        ..Default::default()
    };
    assert_eq!(store.range(&at(revision - 1)), Err(EtcdError::Compacted));
    assert_eq!(
        store.stats(),
        before,
        "reads below the point fail at once; the forgetting comes after"
    );
    store.compact_some(4);
    assert_eq!(store.stats().versions, 4 + 6 * 100, "a batch of 4 keys");
    store.compact_some(COMPACTION_BATCH);
    assert!(!store.compacting());
    let after = store.stats();
    assert_eq!(after.versions, 10, "one version per key is left");
    assert!(after.bytes * 50 < before.bytes, "{before:?} -> {after:?}");
    // What is visible now did not change.
    let all = RangeRequest {
        key: vec![0],
        range_end: vec![0],
        ..Default::default()
    };
    assert_eq!(store.range(&all).unwrap().kvs.len(), 10);
}
