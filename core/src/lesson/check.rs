//! Exercise conditions: one line each, checked against the cluster: its state, its trace and
//! its clients' typed requests and answers, never text the learner could type or print. A
//! teacher writes them in plain words:
//!
//! | condition | holds when |
//! |---|---|
//! | `leaders >= 2` | that many running nodes believe they are leader |
//! | `leader = n3` | the leader (the one in the highest term) is that node |
//! | `leader terms differ` | at least two believe they lead, each in a different term |
//! | `term >= 5` | some running node is in that term or later |
//! | `nodes down >= 2` | that many nodes are crashed |
//! | `leader uncommitted >= 1` | a leader holds that many entries it has not committed |
//! | `committed >= 10` | some node has committed that log index |
//! | `split vote` | some term had two or more candidates and no leader |
//! | `safety violated` | the live checker found one of Raft's safety properties broken |
//! | `entries overwritten` | a node replaced log entries with a leader's conflicting ones |
//! | `majority entry overwritten` | an entry a majority of the members held was overwritten all the same (the paper's Figure 8) |
//! | `snapshot installed` | some node caught up from a snapshot |
//! | `voters >= 6`, `learners >= 1` | the membership, as the leader knows it |
//! | `voters are 2,4,5` | exactly those voters, as the leader knows them, and no joint configuration in progress |
//! | `joint configuration entered` | a member applied a membership change made by joint consensus (several changes in one entry) |
//! | `key foo = bar on all` (`on some`, `on n3`) | running members' stores hold that value |
//! | `key foo missing on some` (`on all`, `on n3`) | ... do not hold the key |
//! | `version of foo >= 3` | the key's version on the leader |
//! | `revision >= 8`, `compacted >= 5` | the leader's store revision, compaction point |
//! | `write with nodes down >= 2` | a put was acknowledged while that many nodes were down |
//! | `acknowledged write lost` | the current leader does not hold the entry of a put some client was told OK (see `durability`) |
//! | `stale read` | a serializable get answered an older value than a write acknowledged before it |
//! | `history reads >= 1` | gets at a past revision that were answered |
//! | `history read of color 2 versions back` | after the key's last write, a get at a past revision answered its value from that many changes before the latest |
//! | `read of x at revision 4 compacted` | a get of that key at that revision was refused because the history is compacted |
//! | `lease ttl of svc/web = 5` | the key (on the leader) is attached to a lease granted with that many seconds |
//! | `key svc/web kept for 20s` | the key exists (on the leader) and was created that long ago |
//! | `lock lock taken then refused` | a txn took the key if it did not exist (`create("lock") = "0"`), and a later one asking the same was refused |
//! | `etcdctl lock job passed on by expiry` | an `etcdctl lock job` client held the lock, and a later one got it while nobody stopped the first, deleted its key or revoked its lease: the first one's lease ran out |
//! | `lock lock taken over after expiry` | two such txns took the key, and no client released it in between (no delete of it, no lease revoke): the first holder's lease ran out |
//! | `watch events under job/ >= 3` | events about keys under the prefix delivered to watches |
//! | `network partitioned` | the network is partitioned or has a cut link now |
//! | `voters added as learners first` | a voter was added, and every voter added was a learner first |
//! | `watch events >= 3` | events delivered to watches |
//! | `txn succeeded >= 1`, `txn failed >= 1` | transactions answered SUCCESS / FAILURE |
//! | `lease keep-alives >= 3` | keep-alives answered with a live lease |
//! | `time >= 20s` | virtual time |
//!
//! Numbers compare with `>=`, `<=` or `=`.

use std::collections::BTreeSet;

use crate::etcd::api::{EtcdError, KeyRange, Request, RequestOp, Response};
use crate::node::{MembershipChange, Role};
use crate::scenario::parse::{duration_ms, number};
use crate::sim::{Cluster, Failure, Outcome};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compare {
    AtLeast,
    AtMost,
    Exactly,
}

impl Compare {
    fn holds(self, value: u64, bound: u64) -> bool {
        match self {
            Compare::AtLeast => value >= bound,
            Compare::AtMost => value <= bound,
            Compare::Exactly => value == bound,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Where {
    All,
    Some,
    Node(u64),
}

/// A number the condition compares, read off the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Measure {
    Leaders,
    Term,
    NodesDown,
    LeaderUncommitted,
    Committed,
    Voters,
    Learners,
    VersionOf(Vec<u8>),
    Revision,
    Compacted,
    WriteWithNodesDown,
    HistoryReads,
    WatchEvents,
    TxnSucceeded,
    TxnFailed,
    LeaseKeepAlives,
    Time,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Count(Measure, Compare, u64),
    LeaderIs(u64),
    LeaderTermsDiffer,
    SplitVote,
    SafetyViolated,
    EntriesOverwritten,
    MajorityEntryOverwritten,
    SnapshotInstalled,
    StaleRead,
    KeyValue {
        key: Vec<u8>,
        value: Vec<u8>,
        on: Where,
    },
    KeyMissing {
        key: Vec<u8>,
        on: Where,
    },
    HistoryReadBack {
        key: Vec<u8>,
        back: i64,
    },
    CompactedRead {
        key: Vec<u8>,
        revision: i64,
    },
    LeaseTtl {
        key: Vec<u8>,
        compare: Compare,
        seconds: u64,
    },
    KeyKeptFor {
        key: Vec<u8>,
        ms: u64,
    },
    LockTakenThenRefused(Vec<u8>),
    VotersAre(Vec<u64>),
    AcknowledgedWriteLost,
    JointConfigurationEntered,
    LockTakenOverAfterExpiry(Vec<u8>),
    EtcdctlLockPassedOnByExpiry(String),
    WatchEventsUnder(Vec<u8>, Compare, u64),
    NetworkPartitioned,
    VotersAddedAsLearnersFirst,
}

/// One condition of an exercise, as written and as understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub text: String,
    kind: Kind,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let words: Vec<String> = crate::words::split(text)?
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let kind = match w.as_slice() {
            ["leader", "terms", "differ"] => Kind::LeaderTermsDiffer,
            ["leader", "=", node] => match place(node)? {
                Where::Node(id) => Kind::LeaderIs(id),
                _ => return Err(format!("expected a node like n3, got {node:?}")),
            },
            ["split", "vote"] => Kind::SplitVote,
            ["safety", "violated"] => Kind::SafetyViolated,
            ["entries", "overwritten"] => Kind::EntriesOverwritten,
            ["majority", "entry", "overwritten"] => Kind::MajorityEntryOverwritten,
            ["snapshot", "installed"] => Kind::SnapshotInstalled,
            ["stale", "read"] => Kind::StaleRead,
            ["history", "read", "of", key, back, "versions", "back"] => Kind::HistoryReadBack {
                key: key.as_bytes().to_vec(),
                back: number(back)? as i64,
            },
            ["read", "of", key, "at", "revision", revision, "compacted"] => Kind::CompactedRead {
                key: key.as_bytes().to_vec(),
                revision: number(revision)? as i64,
            },
            ["lease", "ttl", "of", key, op, seconds] => Kind::LeaseTtl {
                key: key.as_bytes().to_vec(),
                compare: compare(op)?,
                seconds: number(seconds)?,
            },
            ["key", key, "kept", "for", d] => Kind::KeyKeptFor {
                key: key.as_bytes().to_vec(),
                ms: duration_ms(d)?,
            },
            ["lock", key, "taken", "then", "refused"] => {
                Kind::LockTakenThenRefused(key.as_bytes().to_vec())
            }
            ["etcdctl", "lock", name, "passed", "on", "by", "expiry"] => {
                Kind::EtcdctlLockPassedOnByExpiry(name.to_string())
            }
            ["lock", key, "taken", "over", "after", "expiry"] => {
                Kind::LockTakenOverAfterExpiry(key.as_bytes().to_vec())
            }
            ["watch", "events", "under", prefix, op, n] => {
                Kind::WatchEventsUnder(prefix.as_bytes().to_vec(), compare(op)?, number(n)?)
            }
            ["network", "partitioned"] => Kind::NetworkPartitioned,
            ["voters", "are", list] => {
                let mut voters = crate::scenario::parse::node_list(list)?;
                voters.sort_unstable();
                Kind::VotersAre(voters)
            }
            ["joint", "configuration", "entered"] => Kind::JointConfigurationEntered,
            ["acknowledged", "write", "lost"] => Kind::AcknowledgedWriteLost,
            ["voters", "added", "as", "learners", "first"] => Kind::VotersAddedAsLearnersFirst,
            ["key", key, "=", value, "on", on] => Kind::KeyValue {
                key: key.as_bytes().to_vec(),
                value: value.as_bytes().to_vec(),
                on: place(on)?,
            },
            ["key", key, "missing", "on", on] => Kind::KeyMissing {
                key: key.as_bytes().to_vec(),
                on: place(on)?,
            },
            ["version", "of", key, op, n] => Kind::Count(
                Measure::VersionOf(key.as_bytes().to_vec()),
                compare(op)?,
                number(n)?,
            ),
            ["time", op, d] => Kind::Count(Measure::Time, compare(op)?, duration_ms(d)?),
            [subject @ .., op, n] if !subject.is_empty() => {
                let measure = match subject.join(" ").as_str() {
                    "leaders" => Measure::Leaders,
                    "term" => Measure::Term,
                    "nodes down" => Measure::NodesDown,
                    "leader uncommitted" => Measure::LeaderUncommitted,
                    "committed" => Measure::Committed,
                    "voters" => Measure::Voters,
                    "learners" => Measure::Learners,
                    "revision" => Measure::Revision,
                    "compacted" => Measure::Compacted,
                    "write with nodes down" => Measure::WriteWithNodesDown,
                    "history reads" => Measure::HistoryReads,
                    "watch events" => Measure::WatchEvents,
                    "txn succeeded" => Measure::TxnSucceeded,
                    "txn failed" => Measure::TxnFailed,
                    "lease keep-alives" => Measure::LeaseKeepAlives,
                    other => return Err(format!("unknown condition subject {other:?}")),
                };
                Kind::Count(measure, compare(op)?, number(n)?)
            }
            _ => return Err(format!("cannot read condition {text:?}")),
        };
        Ok(Condition {
            text: text.to_string(),
            kind,
        })
    }

    /// Whether the condition holds for `cluster` now.
    pub fn holds(&self, cluster: &Cluster) -> bool {
        match &self.kind {
            Kind::Count(measure, compare, bound) => {
                compare.holds(measure_of(measure, cluster), *bound)
            }
            Kind::LeaderIs(id) => cluster.leader() == Some(*id),
            Kind::LeaderTermsDiffer => {
                let terms: Vec<u64> = cluster
                    .leaders()
                    .into_iter()
                    .map(|id| cluster.node(id).expect("running").term())
                    .collect();
                terms.len() >= 2 && terms.iter().collect::<BTreeSet<_>>().len() == terms.len()
            }
            Kind::SplitVote => split_vote(cluster),
            Kind::SafetyViolated => cluster.violation().is_some(),
            Kind::EntriesOverwritten => cluster.trace().facts().entries_overwritten(),
            Kind::MajorityEntryOverwritten => !cluster.majority_entries_overwritten().is_empty(),
            Kind::AcknowledgedWriteLost => cluster
                .acknowledged_writes()
                .iter()
                .any(|w| w.lost(cluster)),
            Kind::VotersAre(voters) => {
                let leader = cluster.leader().and_then(|id| cluster.server(id));
                leader.is_some_and(|s| {
                    s.node().members().0 == *voters && s.node().outgoing_voters().is_empty()
                })
            }
            Kind::JointConfigurationEntered => {
                cluster.trace().facts().joint_configuration_entered()
            }
            Kind::SnapshotInstalled => cluster.trace().facts().snapshot_installed(),
            Kind::StaleRead => stale_read(cluster),
            Kind::KeyValue { key, value, on } => {
                on_members_key(cluster, on, key, |kv| kv == Some(value))
            }
            Kind::KeyMissing { key, on } => on_members_key(cluster, on, key, |kv| kv.is_none()),
            Kind::HistoryReadBack { key, back } => history_read_back(cluster, key, *back),
            Kind::CompactedRead { key, revision } => compacted_read(cluster, key, *revision),
            Kind::LeaseTtl {
                key,
                compare,
                seconds,
            } => {
                let store = cluster
                    .leader()
                    .and_then(|id| cluster.server(id))
                    .map(|s| s.store());
                let lease = store.and_then(|store| {
                    let kv = store.mvcc.get(key)?;
                    store.lease(kv.lease)
                });
                lease.is_some_and(|lease| compare.holds(lease.ttl as u64, *seconds))
            }
            Kind::NetworkPartitioned => {
                cluster.network().partition.is_some() || !cluster.network().cuts.is_empty()
            }
            Kind::VotersAddedAsLearnersFirst => voters_added_as_learners_first(cluster),
            Kind::KeyKeptFor { key, ms } => key_kept_for(cluster, key, *ms),
            Kind::LockTakenThenRefused(key) => lock_taken_then_refused(cluster, key),
            Kind::LockTakenOverAfterExpiry(key) => lock_taken_over_after_expiry(cluster, key),
            Kind::EtcdctlLockPassedOnByExpiry(name) => {
                etcdctl_lock_passed_on_by_expiry(cluster, name)
            }
            Kind::WatchEventsUnder(prefix, compare, bound) => {
                let events = cluster
                    .watch_deliveries()
                    .iter()
                    .flat_map(|d| &d.response.events);
                let under = events.filter(|e| e.kv.key.starts_with(prefix)).count();
                compare.holds(under as u64, *bound)
            }
        }
    }
}

fn place(text: &str) -> Result<Where, String> {
    match text {
        "all" => Ok(Where::All),
        "some" => Ok(Where::Some),
        n => n
            .strip_prefix('n')
            .and_then(|n| n.parse().ok())
            .map(Where::Node)
            .ok_or_else(|| format!("expected all, some or a node like n3, got {n:?}")),
    }
}

fn compare(op: &str) -> Result<Compare, String> {
    match op {
        ">=" => Ok(Compare::AtLeast),
        "<=" => Ok(Compare::AtMost),
        "=" => Ok(Compare::Exactly),
        other => Err(format!("expected >=, <= or =, got {other:?}")),
    }
}

/// Applies `test` to the value of `key` in the stores of the running members `on` names.
fn on_members_key(
    cluster: &Cluster,
    on: &Where,
    key: &[u8],
    test: impl Fn(Option<&Vec<u8>>) -> bool,
) -> bool {
    let value = |id: u64| {
        cluster
            .server(id)
            .map(|s| s.store().mvcc.get(key).map(|kv| kv.value.clone()))
    };
    let running: Vec<Option<Vec<u8>>> = cluster.node_ids().into_iter().filter_map(value).collect();
    match on {
        Where::All => !running.is_empty() && running.iter().all(|v| test(v.as_ref())),
        Where::Some => running.iter().any(|v| test(v.as_ref())),
        Where::Node(id) => value(*id).is_some_and(|v| test(v.as_ref())),
    }
}

fn measure_of(measure: &Measure, cluster: &Cluster) -> u64 {
    let running = || {
        cluster
            .node_ids()
            .into_iter()
            .filter_map(|id| cluster.node(id))
    };
    let leader = cluster.leader().and_then(|id| cluster.server(id));
    let done = || {
        cluster
            .requests()
            .values()
            .filter_map(|r| match &r.outcome {
                Outcome::Done { response, .. } => Some((r, response)),
                _ => None,
            })
    };
    match measure {
        Measure::Leaders => cluster.leaders().len() as u64,
        Measure::Term => running().map(|n| n.term()).max().unwrap_or(0),
        Measure::NodesDown => cluster
            .node_ids()
            .into_iter()
            .filter(|&id| cluster.node(id).is_none())
            .count() as u64,
        Measure::LeaderUncommitted => running()
            .filter(|n| n.role() == Role::Leader)
            .map(|n| n.storage().last_index().saturating_sub(n.committed()))
            .max()
            .unwrap_or(0),
        Measure::Committed => running().map(|n| n.committed()).max().unwrap_or(0),
        Measure::Voters => leader.map_or(0, |s| s.node().members().0.len() as u64),
        Measure::Learners => leader.map_or(0, |s| s.node().members().1.len() as u64),
        Measure::VersionOf(key) => leader
            .and_then(|s| s.store().mvcc.get(key))
            .map_or(0, |kv| kv.version as u64),
        Measure::Revision => leader.map_or(0, |s| s.store().mvcc.current_revision() as u64),
        Measure::Compacted => leader.map_or(0, |s| s.store().mvcc.compact_revision() as u64),
        Measure::WriteWithNodesDown => {
            let down = cluster.trace().facts().down_over_time();
            done()
                .filter(|(_, response)| matches!(response, Response::Put(_)))
                .map(|(r, _)| {
                    down.iter()
                        .rev()
                        .find(|(at, _)| *at <= r.invoked_at)
                        .map_or(0, |(_, n)| *n)
                })
                .max()
                .unwrap_or(0)
        }
        Measure::HistoryReads => done()
            .filter(
                |(r, _)| matches!(&r.request, Some(Request::Range(range)) if range.revision > 0),
            )
            .count() as u64,
        Measure::WatchEvents => cluster
            .watch_deliveries()
            .iter()
            .map(|d| d.response.events.len() as u64)
            .sum(),
        Measure::TxnSucceeded => done()
            .filter(|(_, r)| matches!(r, Response::Txn(t) if t.succeeded))
            .count() as u64,
        Measure::TxnFailed => done()
            .filter(|(_, r)| matches!(r, Response::Txn(t) if !t.succeeded))
            .count() as u64,
        Measure::LeaseKeepAlives => done()
            .filter(|(_, r)| matches!(r, Response::LeaseKeepAlive(k) if k.ttl > 0))
            .count() as u64,
        Measure::Time => cluster.now(),
    }
}

/// A finished term in which two or more nodes stood as candidates and nobody won (the
/// current term may still be deciding).
fn split_vote(cluster: &Cluster) -> bool {
    cluster
        .trace()
        .facts()
        .split_vote_before(cluster.highest_term())
}

/// A get of exactly `key` at a past revision that answered the version `back` changes before
/// the key's latest (on the leader): "the value it had two changes ago".
fn history_read_back(cluster: &Cluster, key: &[u8], back: i64) -> bool {
    let leader = cluster.leader().and_then(|id| cluster.server(id));
    let Some(latest) = leader
        .and_then(|s| s.store().mvcc.get(key))
        .map(|kv| kv.version)
    else {
        return false;
    };
    let last_write = done_puts(cluster, key).map(|(at, _)| at).max().unwrap_or(0);
    cluster
        .requests()
        .values()
        .any(|r| match (&r.request, &r.outcome) {
            (
                Some(Request::Range(range)),
                Outcome::Done {
                    response: Response::Range(answer),
                    ..
                },
            ) => {
                r.invoked_at >= last_write
                    && range.revision > 0
                    && range.key == key
                    && range.range_end.is_empty()
                    && answer
                        .kvs
                        .first()
                        .is_some_and(|kv| kv.version == latest - back)
            }
            _ => false,
        })
}

/// The acknowledged puts of `key`: when each was answered, and the revision it made.
fn done_puts<'a>(cluster: &'a Cluster, key: &'a [u8]) -> impl Iterator<Item = (u64, i64)> + 'a {
    cluster
        .requests()
        .values()
        .filter_map(move |r| match (&r.request, &r.outcome) {
            (
                Some(Request::Put(put)),
                Outcome::Done {
                    at,
                    response: Response::Put(answer),
                    ..
                },
            ) if put.key == key => Some((*at, answer.header.revision)),
            _ => None,
        })
}

/// `key` exists on the leader, and the put that created it was answered `ms` ago or more.
fn key_kept_for(cluster: &Cluster, key: &[u8], ms: u64) -> bool {
    let leader = cluster.leader().and_then(|id| cluster.server(id));
    let Some(created) = leader
        .and_then(|s| s.store().mvcc.get(key))
        .map(|kv| kv.create_revision)
    else {
        return false;
    };
    let created_at = done_puts(cluster, key).find(|&(_, revision)| revision == created);
    created_at.is_some_and(|(at, _)| cluster.now() >= at + ms)
}

/// A transaction that puts `key` if it does not exist yet (`create(key) = 0`) succeeded,
/// and a later one asking the same was refused.
/// Each answered attempt to take lock `key` with a txn (`create(key) = "0"` then put it):
/// when it was asked, when answered, and whether it took the lock.
fn lock_attempts(cluster: &Cluster, key: &[u8]) -> Vec<(u64, u64, bool)> {
    let takes_lock = |txn: &crate::etcd::api::TxnRequest| {
        let if_absent = txn.compare.iter().any(|c| {
            c.key == key
                && c.range_end.is_empty()
                && c.result == crate::etcd::api::CompareResult::Equal
                && c.target == crate::etcd::api::CompareTarget::Create(0)
        });
        let puts_it = txn
            .success
            .iter()
            .any(|op| matches!(op, RequestOp::Put(put) if put.key == key));
        if_absent && puts_it
    };
    cluster
        .requests()
        .values()
        .filter_map(|r| match (&r.request, &r.outcome) {
            (
                Some(Request::Txn(txn)),
                Outcome::Done {
                    at,
                    response: Response::Txn(answer),
                    ..
                },
            ) if takes_lock(txn) => Some((r.invoked_at, *at, answer.succeeded)),
            _ => None,
        })
        .collect()
}

fn lock_taken_then_refused(cluster: &Cluster, key: &[u8]) -> bool {
    let attempts = lock_attempts(cluster, key);
    attempts.iter().any(|&(_, taken_at, took)| {
        took && attempts
            .iter()
            .any(|&(asked_at, _, other)| !other && asked_at >= taken_at)
    })
}

/// When clients asked to release `key` by hand: a delete of it (alone or in a txn), or a
/// lease revoke.
fn released_by_hand(cluster: &Cluster, key: &[u8]) -> Vec<u64> {
    let deletes_key = |op: &RequestOp| match op {
        RequestOp::DeleteRange(d) => KeyRange::new(&d.key, &d.range_end).contains(key),
        _ => false,
    };
    cluster
        .requests()
        .values()
        .filter(|r| match &r.request {
            Some(Request::DeleteRange(d)) => KeyRange::new(&d.key, &d.range_end).contains(key),
            Some(Request::LeaseRevoke(_)) => true,
            Some(Request::Txn(txn)) => txn.success.iter().chain(&txn.failure).any(deletes_key),
            _ => false,
        })
        .map(|r| r.invoked_at)
        .collect()
}

/// The lock was taken twice, and between the two no client deleted the key or revoked a
/// lease: the first holder's lease expired (the way a crashed holder loses a lock).
fn lock_taken_over_after_expiry(cluster: &Cluster, key: &[u8]) -> bool {
    let released = released_by_hand(cluster, key);
    let taken: Vec<(u64, u64)> = lock_attempts(cluster, key)
        .into_iter()
        .filter(|&(_, _, took)| took)
        .map(|(asked, answered, _)| (asked, answered))
        .collect();
    taken.iter().any(|&(_, first_taken)| {
        taken.iter().any(|&(asked, _)| {
            asked > first_taken && !released.iter().any(|&at| at >= first_taken && at <= asked)
        })
    })
}

/// An `etcdctl lock NAME` client held the lock, and a later one got it with the first never
/// stopped and its key never deleted nor its lease revoked by a client: its lease ran out.
fn etcdctl_lock_passed_on_by_expiry(cluster: &Cluster, name: &str) -> bool {
    let holders: Vec<crate::sim::SessionRecord> = cluster
        .session_history()
        .into_iter()
        .filter(|s| s.name == name && s.recipe == crate::sim::Recipe::Lock && s.held_at.is_some())
        .collect();
    holders.iter().any(|first| {
        let held = first.held_at.unwrap_or(0);
        let released = released_by_hand(cluster, &first.key);
        holders.iter().any(|next| {
            let taken = next.held_at.unwrap_or(0);
            taken > held
                && first.stopped_at.is_none_or(|stopped| stopped > taken)
                && !released.iter().any(|&at| at >= held && at <= taken)
        })
    })
}

/// A get of `key` at `revision` refused because that history was compacted away.
fn compacted_read(cluster: &Cluster, key: &[u8], revision: i64) -> bool {
    cluster
        .requests()
        .values()
        .any(|r| match (&r.request, &r.outcome) {
            (
                Some(Request::Range(range)),
                Outcome::Failed {
                    failure: Failure::Refused(EtcdError::Compacted),
                    ..
                },
            ) => range.key == key && range.revision == revision,
            _ => false,
        })
}

/// Some voter was added, and every voter added (by a membership change that was applied) had
/// been added as a learner before.
fn voters_added_as_learners_first(cluster: &Cluster) -> bool {
    let mut learners = BTreeSet::new();
    let mut voters_added = 0;
    let applied = cluster
        .requests()
        .values()
        .filter(|r| matches!(r.outcome, Outcome::Done { .. }));
    for change in applied.filter_map(|r| r.membership) {
        match change {
            MembershipChange::AddLearner(id) => {
                learners.insert(id);
            }
            MembershipChange::AddVoter(id) if learners.contains(&id) => voters_added += 1,
            MembershipChange::AddVoter(_) => return false,
            MembershipChange::Remove(_) => {}
        }
    }
    voters_added > 0
}

/// A serializable read that returned something other than the last value acknowledged for
/// that key before the read began.
fn stale_read(cluster: &Cluster) -> bool {
    let requests: Vec<_> = cluster.requests().values().collect();
    requests.iter().any(|read| {
        let (
            Some(Request::Range(range)),
            Outcome::Done {
                response: Response::Range(answer),
                ..
            },
        ) = (&read.request, &read.outcome)
        else {
            return false;
        };
        if !range.serializable || !range.range_end.is_empty() {
            return false;
        }
        let latest = requests
            .iter()
            .filter_map(|w| match (&w.request, &w.outcome) {
                (Some(Request::Put(put)), Outcome::Done { at, .. })
                    if put.key == range.key && *at <= read.invoked_at =>
                {
                    Some((*at, put.value.clone()))
                }
                _ => None,
            })
            .max_by_key(|(at, _)| *at);
        let seen = answer.kvs.first().map(|kv| kv.value.clone());
        latest.is_some_and(|(_, value)| seen.as_ref() != Some(&value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_or_say_why_not() {
        for text in [
            "leaders >= 2",
            "leader terms differ",
            "key foo = bar on all",
            "key x missing on n3",
            "time >= 20s",
            "history read of color 2 versions back",
            "read of x at revision 4 compacted",
            "lease ttl of svc/web = 5",
            "network partitioned",
            "majority entry overwritten",
            "key svc/web kept for 20s",
            "lock lock taken then refused",
            "watch events under job/ >= 3",
            "voters added as learners first",
            "version of foo >= 3",
        ] {
            Condition::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        assert!(Condition::parse("leaders > 2").unwrap_err().contains(">="));
        assert!(Condition::parse("pigs >= 2").unwrap_err().contains("pigs"));
        assert!(Condition::parse("key foo = bar on everyone")
            .unwrap_err()
            .contains("all, some"));
    }
}
