//! The etcd state machine: what every member applies committed entries to.
//!
//! It holds the [`MvccStore`] and the lease table, and applies [`Command`]s, the writes that
//! go through the Raft log: puts, deletes, transactions, compactions, lease grants and
//! revokes. Reads do not go through the log (see the server layer). Applying is
//! deterministic, so every member that applied the same entries holds the same store and
//! gave the same answers.
//!
//! A lease here is only what must be the same everywhere: its id, its TTL and its keys.
//! *When* it expires is a matter of clocks, which only the leader watches (see
//! [`super::server`]); the leader then proposes a revoke like any other write.

use im::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

use super::api::*;
use super::mvcc::{MvccStats, MvccStore, Write, COMPACTION_BATCH};
use crate::state_machine::StateMachine;

/// A write, as it is stored in the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Put(PutRequest),
    DeleteRange(DeleteRangeRequest),
    Txn(TxnRequest),
    Compact(CompactionRequest),
    /// `ttl` already raised to the cluster's minimum; `id` already chosen (never 0).
    LeaseGrant(LeaseGrantRequest),
    LeaseRevoke(LeaseRevokeRequest),
    /// Every alarm action goes through the log, reads included, as in etcd.
    Alarm(AlarmRequest),
}

impl Command {
    /// The command a write request becomes; reads and lease queries, which do not go through
    /// the log, come back as they were.
    pub fn from_request(request: Request) -> Result<Command, Request> {
        Ok(match request {
            Request::Put(put) => Command::Put(put),
            Request::DeleteRange(delete) => Command::DeleteRange(delete),
            Request::Txn(txn) => Command::Txn(txn),
            Request::Compact(compaction) => Command::Compact(compaction),
            Request::LeaseGrant(grant) => Command::LeaseGrant(grant),
            Request::LeaseRevoke(revoke) => Command::LeaseRevoke(revoke),
            Request::Alarm(alarm) => Command::Alarm(alarm),
            read @ (Request::Range(_)
            | Request::LeaseKeepAlive(_)
            | Request::LeaseTimeToLive(_)
            | Request::LeaseLeases) => return Err(read),
        })
    }

    /// A few words for log views and traces.
    pub fn describe(&self) -> String {
        match self {
            Command::Put(put) => format!("put {}={}", show_bytes(&put.key), show_bytes(&put.value)),
            Command::DeleteRange(d) => format!("del {}", describe_range(&d.key, &d.range_end)),
            Command::Txn(txn) => format!(
                "txn ({} compares, {}/{} ops)",
                txn.compare.len(),
                txn.success.len(),
                txn.failure.len()
            ),
            Command::Compact(c) => format!("compact {}", c.revision),
            // A request has no id yet (the member picks it); the logged command has.
            Command::LeaseGrant(g) if g.id == 0 => format!("lease grant ttl={}", g.ttl),
            Command::LeaseGrant(g) => format!("lease grant {:016x} ttl={}", g.id, g.ttl),
            Command::LeaseRevoke(r) => format!("lease revoke {:016x}", r.id),
            Command::Alarm(a) => format!(
                "alarm {:?} {:?} member {:x}",
                a.action, a.alarm, a.member_id
            ),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("commands serialise")
    }

    pub fn decode(bytes: &[u8]) -> Result<Command, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

/// What applying a command answers (the header's member and term are the server's to fill).
pub type ApplyResult = Result<Response, EtcdError>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub id: i64,
    /// Seconds, as granted.
    pub ttl: i64,
    pub keys: OrdSet<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcdStore {
    pub mvcc: MvccStore,
    leases: OrdMap<i64, Lease>,
    /// What each member added after bootstrap told about itself (its name and peer URL):
    /// replicated with the membership change, so every member can reach it.
    members: OrdMap<u64, Vec<u8>>,
    /// Alarms raised and not yet disarmed.
    alarms: OrdSet<AlarmMember>,
}

impl EtcdStore {
    pub fn lease(&self, id: i64) -> Option<&Lease> {
        self.leases.get(&id)
    }

    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    /// Members added after bootstrap, with what they told about themselves.
    pub fn member_info(&self) -> &OrdMap<u64, Vec<u8>> {
        &self.members
    }

    /// Forgets what members told about themselves: a store restored from a backup seeds a
    /// new cluster, whose members are given by its own configuration.
    pub fn forget_member_info(&mut self) {
        self.members.clear();
    }

    pub fn stats(&self) -> MvccStats {
        self.mvcc.stats()
    }

    /// etcd's capped store: with a `NoSpace` alarm raised, nothing that adds data applies.
    fn check_space(&self) -> Result<(), EtcdError> {
        match self.alarms.iter().any(|a| a.alarm == AlarmType::NoSpace) {
            true => Err(EtcdError::NoSpace),
            false => Ok(()),
        }
    }

    fn apply_alarm(&mut self, request: &AlarmRequest) -> AlarmResponse {
        let named = request.alarm.map(|alarm| AlarmMember {
            member_id: request.member_id,
            alarm,
        });
        let alarms = match (request.action, named) {
            (AlarmAction::Get, _) => self
                .alarms
                .iter()
                .filter(|a| request.alarm.is_none_or(|t| t == a.alarm))
                .copied()
                .collect(),
            (AlarmAction::Activate, Some(raised)) => {
                self.alarms.insert(raised);
                vec![raised]
            }
            (AlarmAction::Deactivate, Some(disarmed)) => {
                self.alarms.remove(&disarmed).into_iter().collect()
            }
            // etcd answers raising or disarming "no type" with nothing.
            (AlarmAction::Activate | AlarmAction::Deactivate, None) => Vec::new(),
        };
        AlarmResponse {
            alarms,
            ..Default::default()
        }
    }

    /// Applies one write and answers it.
    pub fn apply_command(&mut self, command: &Command) -> ApplyResult {
        let response = match command {
            Command::Put(put) => {
                self.check_space()?;
                let mut write = self.mvcc.write();
                check_put(&write, &self.leases, put)?;
                let response = apply_put(&mut write, &mut self.leases, put);
                write.finish();
                Response::Put(response)
            }
            Command::DeleteRange(delete) => {
                let mut write = self.mvcc.write();
                let response = apply_delete(&mut write, &mut self.leases, delete);
                write.finish();
                Response::DeleteRange(response)
            }
            Command::Txn(txn) => {
                if puts_anything(txn) {
                    self.check_space()?;
                }
                let mut write = self.mvcc.write();
                let response = apply_txn(&mut write, &mut self.leases, txn);
                write.finish();
                Response::Txn(response?)
            }
            Command::Compact(compaction) => {
                self.mvcc.compact(compaction.revision)?;
                Response::Compact(CompactionResponse::default())
            }
            Command::Alarm(alarm) => Response::Alarm(self.apply_alarm(alarm)),
            Command::LeaseGrant(grant) => {
                self.check_space()?;
                if self.leases.contains_key(&grant.id) {
                    return Err(EtcdError::LeaseExists);
                }
                let lease = Lease {
                    id: grant.id,
                    ttl: grant.ttl,
                    keys: OrdSet::new(),
                };
                self.leases.insert(grant.id, lease);
                Response::LeaseGrant(LeaseGrantResponse {
                    id: grant.id,
                    ttl: grant.ttl,
                    ..Default::default()
                })
            }
            Command::LeaseRevoke(revoke) => {
                let lease = self
                    .leases
                    .remove(&revoke.id)
                    .ok_or(EtcdError::LeaseNotFound)?;
                // All the lease's keys go at one revision, as one transaction would.
                let mut write = self.mvcc.write();
                for key in &lease.keys {
                    write.delete_range(key, &[]);
                }
                write.finish();
                Response::LeaseRevoke(LeaseRevokeResponse::default())
            }
        };
        Ok(self.with_revision(response))
    }

    fn with_revision(&self, mut response: Response) -> Response {
        let revision = self.mvcc.current_revision();
        if let Response::Txn(txn) = &mut response {
            set_txn_revisions(txn, revision);
        }
        response.header_mut().revision = revision;
        response
    }
}

/// Whether either branch of a transaction puts a key directly (etcd's quota counts only
/// those).
fn puts_anything(txn: &TxnRequest) -> bool {
    [&txn.success, &txn.failure]
        .iter()
        .any(|branch| branch.iter().any(|op| matches!(op, RequestOp::Put(_))))
}

/// Every response inside a transaction carries the transaction's revision.
fn set_txn_revisions(txn: &mut TxnResponse, revision: i64) {
    txn.header.revision = revision;
    for op in &mut txn.responses {
        match op {
            ResponseOp::Range(r) => r.header.revision = revision,
            ResponseOp::Put(r) => r.header.revision = revision,
            ResponseOp::DeleteRange(r) => r.header.revision = revision,
            ResponseOp::Txn(t) => set_txn_revisions(t, revision),
        }
    }
}

/// A put that would fail must fail before anything in its write happens.
fn check_put(
    write: &Write,
    leases: &OrdMap<i64, Lease>,
    put: &PutRequest,
) -> Result<(), EtcdError> {
    if put.lease != 0 && !leases.contains_key(&put.lease) {
        return Err(EtcdError::LeaseNotFound);
    }
    if (put.ignore_value || put.ignore_lease) && write.get(&put.key).is_none() {
        return Err(EtcdError::KeyNotFound);
    }
    Ok(())
}

fn apply_put(write: &mut Write, leases: &mut OrdMap<i64, Lease>, put: &PutRequest) -> PutResponse {
    let current = write.get(&put.key);
    let prev_kv = current.filter(|_| put.prev_kv).cloned();
    let value = match (current, put.ignore_value) {
        (Some(kv), true) => kv.value.clone(),
        _ => put.value.clone(),
    };
    let lease = match (current, put.ignore_lease) {
        (Some(kv), true) => kv.lease,
        _ => put.lease,
    };
    if let Some(old_lease) = current.map(|kv| kv.lease).filter(|&old| old != lease) {
        detach(leases, old_lease, &put.key);
    }
    if lease != 0 {
        leases
            .get_mut(&lease)
            .expect("checked")
            .keys
            .insert(put.key.clone());
    }
    write.put(&put.key, value, lease);
    PutResponse {
        prev_kv,
        ..Default::default()
    }
}

/// Takes `key` off the keys lease `lease` would delete.
fn detach(leases: &mut OrdMap<i64, Lease>, lease: i64, key: &[u8]) {
    if let Some(lease) = leases.get_mut(&lease) {
        lease.keys.remove(key);
    }
}

fn apply_delete(
    write: &mut Write,
    leases: &mut OrdMap<i64, Lease>,
    delete: &DeleteRangeRequest,
) -> DeleteRangeResponse {
    let deleted = write.delete_range(&delete.key, &delete.range_end);
    deleted
        .iter()
        .for_each(|kv| detach(leases, kv.lease, &kv.key));
    DeleteRangeResponse {
        deleted: deleted.len() as i64,
        prev_kvs: if delete.prev_kv { deleted } else { Vec::new() },
        ..Default::default()
    }
}

fn apply_txn(
    write: &mut Write,
    leases: &mut OrdMap<i64, Lease>,
    txn: &TxnRequest,
) -> Result<TxnResponse, EtcdError> {
    let succeeded = txn.compare.iter().all(|compare| holds(write, compare));
    let ops = if succeeded {
        &txn.success
    } else {
        &txn.failure
    };
    // etcd checks the whole branch first: a transaction happens entirely or not at all.
    check_ops(write, leases, ops)?;
    let responses = apply_ops(write, leases, ops);
    Ok(TxnResponse {
        succeeded,
        responses,
        ..Default::default()
    })
}

fn check_ops(
    write: &Write,
    leases: &OrdMap<i64, Lease>,
    ops: &[RequestOp],
) -> Result<(), EtcdError> {
    for op in ops {
        match op {
            RequestOp::Put(put) => check_put(write, leases, put)?,
            RequestOp::Range(range) => {
                write.range(range)?;
            }
            RequestOp::DeleteRange(_) => {}
            RequestOp::Txn(txn) => {
                let succeeded = txn.compare.iter().all(|compare| holds(write, compare));
                check_ops(
                    write,
                    leases,
                    if succeeded {
                        &txn.success
                    } else {
                        &txn.failure
                    },
                )?;
            }
        }
    }
    Ok(())
}

fn apply_ops(
    write: &mut Write,
    leases: &mut OrdMap<i64, Lease>,
    ops: &[RequestOp],
) -> Vec<ResponseOp> {
    ops.iter()
        .map(|op| match op {
            RequestOp::Range(range) => ResponseOp::Range(write.range(range).expect("checked")),
            RequestOp::Put(put) => ResponseOp::Put(apply_put(write, leases, put)),
            RequestOp::DeleteRange(delete) => {
                ResponseOp::DeleteRange(apply_delete(write, leases, delete))
            }
            RequestOp::Txn(txn) => ResponseOp::Txn(apply_txn(write, leases, txn).expect("checked")),
        })
        .collect()
}

/// Whether a compare holds. Over a range it must hold for every key; a compare on a key
/// that does not exist sees zeros (version, create, mod, lease) and an empty value — except
/// that a value compare on a missing key fails, as in etcd.
fn holds(write: &Write, compare: &Compare) -> bool {
    let kvs = if compare.range_end.is_empty() {
        vec![write.get(&compare.key).cloned()]
    } else {
        write
            .live_in(&compare.key, &compare.range_end)
            .into_iter()
            .map(Some)
            .collect()
    };
    kvs.iter().all(|kv| {
        let ordering = match (&compare.target, kv) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(v), Some(kv)) => kv.value.as_slice().cmp(v.as_slice()),
            (CompareTarget::Version(v), kv) => kv.as_ref().map_or(0, |kv| kv.version).cmp(v),
            (CompareTarget::Create(v), kv) => kv.as_ref().map_or(0, |kv| kv.create_revision).cmp(v),
            (CompareTarget::Mod(v), kv) => kv.as_ref().map_or(0, |kv| kv.mod_revision).cmp(v),
            (CompareTarget::Lease(v), kv) => kv.as_ref().map_or(0, |kv| kv.lease).cmp(v),
        };
        use std::cmp::Ordering::*;
        matches!(
            (compare.result, ordering),
            (CompareResult::Equal, Equal)
                | (CompareResult::Greater, Greater)
                | (CompareResult::Less, Less)
                | (CompareResult::NotEqual, Less | Greater)
        )
    })
}

impl StateMachine for EtcdStore {
    type Response = ApplyResult;

    fn apply(&mut self, _index: u64, command: &[u8]) -> ApplyResult {
        // Commands are validated before they are proposed; one that does not decode was
        // written by another program, and every member refuses it alike.
        match Command::decode(command) {
            Ok(command) => self.apply_command(&command),
            Err(_) => Err(EtcdError::Malformed),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("the store serialises")
    }

    fn work_in_background(&mut self) {
        self.mvcc.compact_some(COMPACTION_BATCH);
    }

    fn apply_membership(&mut self, member: u64, removed: bool, info: &[u8]) {
        if removed {
            self.members.remove(&member);
        } else if !info.is_empty() {
            self.members.insert(member, info.to_vec());
        }
    }

    fn restore(&mut self, snapshot: &[u8]) {
        *self = if snapshot.is_empty() {
            EtcdStore::default()
        } else {
            postcard::from_bytes(snapshot).expect("a snapshot EtcdStore::snapshot wrote")
        };
        self.mvcc.recount();
    }

    fn describe(command: &[u8]) -> String {
        match Command::decode(command) {
            Ok(command) => command.describe(),
            Err(_) => format!("({} bytes, not a command)", command.len()),
        }
    }
}

/// Bytes as text, with control characters escaped (keys such as `"\0"` stay readable).
pub fn show_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).escape_debug().to_string()
}

/// A key range in etcd's encoding, as a person would write it.
pub fn describe_range(key: &[u8], range_end: &[u8]) -> String {
    match (key, range_end) {
        (_, []) => show_bytes(key),
        ([0], [0]) => "(all keys)".into(),
        (_, [0]) => format!("{}..", show_bytes(key)),
        _ => format!("[{}, {})", show_bytes(key), show_bytes(range_end)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_machine::SnapshotState;

    fn put(key: &str, value: &str, lease: i64) -> PutRequest {
        PutRequest {
            key: key.into(),
            value: value.into(),
            lease,
            ..Default::default()
        }
    }

    fn compare(key: &str, result: CompareResult, target: CompareTarget) -> Compare {
        Compare {
            result,
            target,
            key: key.into(),
            range_end: Vec::new(),
        }
    }

    fn store() -> EtcdStore {
        let mut store = EtcdStore::default();
        store
            .apply_command(&Command::LeaseGrant(LeaseGrantRequest { id: 7, ttl: 60 }))
            .unwrap();
        for (key, value) in [("a", "3"), ("b", "1"), ("c", "2"), ("a", "4")] {
            store
                .apply_command(&Command::Put(put(
                    key,
                    value,
                    if key == "b" { 7 } else { 0 },
                )))
                .unwrap();
        }
        store // a: create 2, mod 5, version 2; b: 3, lease 7; c: 4
    }

    #[test]
    fn a_snapshot_keeps_the_store_as_taken_whether_copied_or_encoded() {
        let taken = store();
        let mut live = taken.clone();
        let snapshot = SnapshotState::of(&live);
        live.apply_command(&Command::Put(put("a", "5", 0))).unwrap();
        assert_ne!(live, taken);

        let mut from_copy = EtcdStore::default();
        snapshot.restore(&mut from_copy);
        assert_eq!(
            from_copy, taken,
            "the later put does not reach the snapshot"
        );

        let bytes = snapshot.bytes();
        assert!(!bytes.is_empty());
        assert_eq!(
            bytes,
            snapshot.bytes(),
            "encoded once, the same bytes after"
        );
        let mut from_bytes = live.clone();
        SnapshotState::encoded(bytes).restore(&mut from_bytes);
        assert_eq!(
            from_bytes, taken,
            "decoding gives the same store as the copy"
        );
    }

    #[test]
    fn ranges_filter_sort_limit_and_count_as_etcd_does() {
        let store = store();
        let all = RangeRequest {
            key: vec![0],
            range_end: vec![0],
            ..Default::default()
        };
        let keys = |r: RangeResponse| {
            r.kvs
                .iter()
                .map(|kv| String::from_utf8(kv.key.clone()).unwrap())
                .collect::<Vec<_>>()
        };
        let by_value = RangeRequest {
            sort_target: SortTarget::Value,
            ..all.clone()
        };
        assert_eq!(
            keys(store.mvcc.range(&by_value).unwrap()),
            ["b", "c", "a"],
            "another target sorts ascending"
        );
        let newest_first = RangeRequest {
            sort_target: SortTarget::Mod,
            sort_order: SortOrder::Descend,
            limit: 2,
            ..all.clone()
        };
        let response = store.mvcc.range(&newest_first).unwrap();
        assert_eq!((response.more, response.count), (true, 3));
        assert_eq!(keys(response), ["a", "c"]);
        let created_later = RangeRequest {
            min_create_revision: 3,
            max_mod_revision: 4,
            ..all.clone()
        };
        let response = store.mvcc.range(&created_later).unwrap();
        assert_eq!(
            response.count, 3,
            "count is taken before the revision filters"
        );
        assert_eq!(keys(response), ["b", "c"]);
        let count_only = RangeRequest {
            count_only: true,
            ..all
        };
        let response = store.mvcc.range(&count_only).unwrap();
        assert_eq!((response.kvs.len(), response.count), (0, 3));
    }

    #[test]
    fn compares_cover_every_target_and_operator_and_txns_nest() {
        let mut store = store();
        let holds = |store: &mut EtcdStore, compare: Compare| {
            let txn = TxnRequest {
                compare: vec![compare],
                ..Default::default()
            };
            match store.apply_command(&Command::Txn(txn)).unwrap() {
                Response::Txn(txn) => txn.succeeded,
                other => panic!("{other:?}"),
            }
        };
        use CompareResult::*;
        assert!(holds(
            &mut store,
            compare("a", Equal, CompareTarget::Version(2))
        ));
        assert!(holds(
            &mut store,
            compare("a", Greater, CompareTarget::Create(1))
        ));
        assert!(holds(&mut store, compare("a", Less, CompareTarget::Mod(6))));
        assert!(holds(
            &mut store,
            compare("a", NotEqual, CompareTarget::Value(b"3".to_vec()))
        ));
        assert!(holds(
            &mut store,
            compare("b", Equal, CompareTarget::Lease(7))
        ));
        assert!(
            holds(&mut store, compare("zz", Equal, CompareTarget::Create(0))),
            "a missing key has zeros"
        );
        assert!(
            !holds(
                &mut store,
                compare("zz", Equal, CompareTarget::Value(Vec::new()))
            ),
            "but no value"
        );
        let over_range = Compare {
            range_end: b"c".to_vec(),
            ..compare("a", Greater, CompareTarget::Value(b"0".to_vec()))
        };
        assert!(holds(&mut store, over_range));

        let revision = store.mvcc.current_revision();
        let inner = TxnRequest {
            compare: vec![compare("a", Equal, CompareTarget::Value(b"4".to_vec()))],
            success: vec![RequestOp::Put(put("inner", "yes", 0))],
            failure: vec![],
        };
        let outer = TxnRequest {
            compare: vec![],
            success: vec![
                RequestOp::Put(put("outer", "yes", 0)),
                RequestOp::Txn(inner),
            ],
            failure: vec![],
        };
        store.apply_command(&Command::Txn(outer)).unwrap();
        assert_eq!(
            store.mvcc.current_revision(),
            revision + 1,
            "one revision for the whole transaction"
        );
        assert_eq!(store.mvcc.get(b"inner").unwrap().mod_revision, revision + 1);
    }

    #[test]
    fn a_failing_branch_changes_nothing() {
        let mut store = store();
        let before = store.clone();
        let txn = TxnRequest {
            compare: vec![],
            success: vec![
                RequestOp::Put(put("x", "1", 0)),
                RequestOp::Put(put("y", "1", 99)),
            ],
            failure: vec![],
        };
        assert_eq!(
            store.apply_command(&Command::Txn(txn)),
            Err(EtcdError::LeaseNotFound)
        );
        assert_eq!(store, before);
    }

    #[test]
    fn revoking_a_lease_deletes_its_keys_at_one_revision() {
        let mut store = store();
        store
            .apply_command(&Command::Put(put("d", "x", 7)))
            .unwrap();
        let revision = store.mvcc.current_revision();
        store
            .apply_command(&Command::LeaseRevoke(LeaseRevokeRequest { id: 7 }))
            .unwrap();
        assert_eq!(store.mvcc.current_revision(), revision + 1);
        assert!(store.mvcc.get(b"b").is_none() && store.mvcc.get(b"d").is_none());
        assert!(store.lease(7).is_none());
    }
}
