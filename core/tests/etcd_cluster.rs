//! etcd semantics across a simulated cluster, where golden scripts would be clumsy: a member
//! restored from a Raft snapshot answers exactly like members that applied the log, a
//! follower forwards writes, and oversized requests are refused without losing anything.

use raftbook_core::etcd::api::*;
use raftbook_core::etcd::mvcc::COMPACTION_BATCH;
use raftbook_core::node::NodeEvent;
use raftbook_core::scenario::Scenario;
use raftbook_core::sim::trace::TraceKind;
use raftbook_core::sim::Failure;
use raftbook_core::sim::{Cluster, Outcome};

fn run(scenario: &mut Scenario, lines: &str) -> String {
    lines
        .lines()
        .map(|line| scenario.run_line(line, 0))
        .collect()
}

fn range(key: &str, end: &[u8], revision: i64) -> RangeRequest {
    RangeRequest {
        key: key.as_bytes().to_vec(),
        range_end: end.to_vec(),
        revision,
        serializable: true,
        ..Default::default()
    }
}

#[test]
fn a_member_restored_from_a_snapshot_answers_like_the_others() {
    let mut scenario = Scenario::new();
    run(
        &mut scenario,
        "cluster nodes=3 seed=11 snapshot-interval=5 catchup=1\nstabilize",
    );
    let cluster = scenario.cluster_ref().unwrap();
    let lagging = (1..=3).find(|&id| Some(id) != cluster.leader()).unwrap();
    let other = (1..=3).find(|&id| id != lagging).unwrap();
    run(&mut scenario, &format!("crash {lagging}"));
    let mut script = String::new();
    for i in 0..30 {
        script.push_str(&format!("put key{} value{i}\n", i % 7));
        if i % 5 == 4 {
            script.push_str(&format!("del key{}\n", i % 3));
        }
    }
    script.push_str("lease grant 100\nput leased x --lease=$LEASE\n");
    script.push_str("txn create(\"lock\") = \"0\" then put lock me else get lock\n");
    script.push_str(&format!("compaction 10\nrestart {lagging}\nstabilize\n"));
    let output = run(&mut scenario, &script);
    assert!(!output.to_lowercase().contains("error"), "{output}");
    let cluster = scenario.cluster_ref().unwrap();
    let installed = cluster.trace().events().any(|e| {
        matches!(e.what, TraceKind::Node { node, event: NodeEvent::SnapshotInstalled { .. } } if node == lagging)
    });
    assert!(installed, "n{lagging} should have caught up by snapshot");

    let (n1, n3) = (
        cluster.server(other).unwrap().store(),
        cluster.server(lagging).unwrap().store(),
    );
    assert_eq!(
        n1, n3,
        "the whole state machine: MVCC history, compaction point, leases"
    );
    for revision in [0, 10, 15, n1.mvcc.current_revision()] {
        let all = range("\0", &[0], revision);
        assert_eq!(
            n1.mvcc.range(&all),
            n3.mvcc.range(&all),
            "at revision {revision}"
        );
    }
    assert_eq!(
        n3.mvcc.range(&range("key1", &[], 9)),
        Err(EtcdError::Compacted)
    );
    assert_eq!(
        n3.lease(scenario.last_lease().unwrap())
            .map(|l| l.keys.len()),
        Some(1)
    );
}

fn answer(cluster: &mut Cluster, node: u64, request: Request) -> Outcome {
    let id = cluster.request(node, request).unwrap();
    cluster.run_until(10_000, |c| c.is_answered(id));
    cluster.requests()[&id].outcome.clone()
}

#[test]
fn followers_forward_writes_and_lease_requests() {
    let mut scenario = Scenario::new();
    run(&mut scenario, "cluster nodes=3 seed=12\nstabilize");
    let cluster = scenario.cluster().unwrap();
    let follower = (1..=3).find(|&id| Some(id) != cluster.leader()).unwrap();
    let put = Request::Put(PutRequest {
        key: b"k".to_vec(),
        value: b"v".to_vec(),
        ..Default::default()
    });
    assert!(matches!(
        answer(cluster, follower, put),
        Outcome::Done {
            response: Response::Put(_),
            ..
        }
    ));
    let grant = answer(
        cluster,
        follower,
        Request::LeaseGrant(LeaseGrantRequest { ttl: 30, id: 0 }),
    );
    let Outcome::Done {
        response: Response::LeaseGrant(granted),
        ..
    } = grant
    else {
        panic!("{grant:?}")
    };
    cluster.run_for(3000);
    let keep_alive = answer(
        cluster,
        follower,
        Request::LeaseKeepAlive(LeaseKeepAliveRequest { id: granted.id }),
    );
    let Outcome::Done {
        response: Response::LeaseKeepAlive(renewed),
        ..
    } = keep_alive
    else {
        panic!("{keep_alive:?}")
    };
    assert_eq!(renewed.ttl, 30);
    let ttl = answer(
        cluster,
        follower,
        Request::LeaseTimeToLive(LeaseTimeToLiveRequest {
            id: granted.id,
            keys: false,
        }),
    );
    let Outcome::Done {
        response: Response::LeaseTimeToLive(left),
        ..
    } = ttl
    else {
        panic!("{ttl:?}")
    };
    assert_eq!(
        (left.granted_ttl, left.ttl),
        (30, 30),
        "renewed at the leader just now (forwarding takes no simulated time)"
    );
}

#[test]
fn oversized_and_malformed_requests_are_refused_and_nothing_is_lost() {
    let mut scenario = Scenario::new();
    run(
        &mut scenario,
        "cluster nodes=3 seed=13\nstabilize\nput keep me",
    );
    let cluster = scenario.cluster().unwrap();
    let leader = cluster.leader().unwrap();
    let before = cluster.server(leader).unwrap().store().clone();

    let huge = Request::Put(PutRequest {
        key: b"big".to_vec(),
        value: vec![b'x'; MAX_REQUEST_BYTES],
        ..Default::default()
    });
    let too_many = Request::Txn(TxnRequest {
        success: (0..=MAX_TXN_OPS)
            .map(|i| {
                RequestOp::Put(PutRequest {
                    key: format!("k{i}").into_bytes(),
                    ..Default::default()
                })
            })
            .collect(),
        ..Default::default()
    });
    let ttl = Request::LeaseGrant(LeaseGrantRequest {
        ttl: MAX_LEASE_TTL + 1,
        id: 0,
    });
    for (request, error) in [
        (huge, EtcdError::RequestTooLarge),
        (too_many, EtcdError::TooManyOps),
        (ttl, EtcdError::LeaseTtlTooLarge),
    ] {
        let outcome = answer(cluster, leader, request);
        assert!(
            matches!(&outcome, Outcome::Failed { failure: Failure::Refused(e), .. } if *e == error),
            "{outcome:?}"
        );
    }
    cluster.run_for(1000);
    assert_eq!(cluster.server(leader).unwrap().store(), &before);
    assert_eq!(run(&mut scenario, "get keep"), "keep\nme\n");
}

/// When `node` applied log entry `index`, from the trace.
fn applied_at(cluster: &Cluster, node: u64, index: u64) -> u64 {
    cluster
        .trace()
        .events()
        .find_map(|e| match e.what {
            TraceKind::Node {
                node: n,
                event: NodeEvent::Applied { index: i, .. },
            } if n == node && i == index => Some(e.time),
            _ => None,
        })
        .expect("the entry was applied")
}

#[test]
fn a_big_compaction_forgets_in_batches_and_a_physical_one_waits_for_them() {
    let mut scenario = Scenario::new();
    run(&mut scenario, "cluster nodes=3 seed=14\nstabilize");
    let cluster = scenario.cluster().unwrap();
    let leader = cluster.leader().unwrap();
    // More keys than two batches, so that forgetting takes three ticks.
    let keys: Vec<usize> = (0..2 * COMPACTION_BATCH + 1).collect();
    let write_all = |cluster: &mut Cluster, value: u8| {
        for chunk in keys.chunks(MAX_TXN_OPS) {
            let txn = TxnRequest {
                success: chunk
                    .iter()
                    .map(|k| {
                        RequestOp::Put(PutRequest {
                            key: format!("k{k:05}").into_bytes(),
                            value: vec![value],
                            ..Default::default()
                        })
                    })
                    .collect(),
                ..Default::default()
            };
            let outcome = answer(cluster, leader, Request::Txn(txn));
            assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
        }
        cluster
            .server(leader)
            .unwrap()
            .store()
            .mvcc
            .current_revision()
    };
    let first = write_all(cluster, 1);
    let second = write_all(cluster, 2);
    let versions = |cluster: &Cluster| cluster.server(leader).unwrap().store().stats().versions;
    assert_eq!(versions(cluster), 2 * keys.len());

    // Not physical: answered when applied, while the store is still forgetting.
    let compact = |revision, physical| Request::Compact(CompactionRequest { revision, physical });
    let Outcome::Done { at, index, .. } = answer(cluster, leader, compact(first, false)) else {
        panic!("compaction refused")
    };
    assert_eq!(at, applied_at(cluster, leader, index));
    assert!(cluster.server(leader).unwrap().store().mvcc.compacting());
    let all = range("k", b"l", 0);
    let before = cluster.server(leader).unwrap().store().mvcc.range(&all);
    cluster.run_for(1000);
    assert!(!cluster.server(leader).unwrap().store().mvcc.compacting());

    // Physical: answered only once this member has forgotten all it forgets.
    let Outcome::Done { at, index, .. } = answer(cluster, leader, compact(second, true)) else {
        panic!("compaction refused")
    };
    let applied = applied_at(cluster, leader, index);
    assert!(
        at >= applied + 2 * 100,
        "three batches, one per tick: {applied} -> {at}"
    );
    let store = cluster.server(leader).unwrap().store();
    assert!(!store.mvcc.compacting());
    assert_eq!(versions(cluster), keys.len(), "one version per key is left");
    assert_eq!(
        store.mvcc.range(&all).map(|r| r.kvs.len()),
        before.map(|r| r.kvs.len())
    );
    assert_eq!(
        store.mvcc.range(&range("k00000", &[], second - 1)),
        Err(EtcdError::Compacted)
    );
}
