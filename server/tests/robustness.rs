//! A robustness run of the native cluster, modelled on etcd's robustness tests.
//!
//! Three members take a mixed load (puts, gets, deletes, compare-and-put transactions, keys
//! under leases, watches) while faults are injected one after another:
//! - `kill -9` of the leader or of a follower, and a restart;
//! - `SIGSTOP` of the leader, then `SIGCONT` (a long pause: its lease on leadership runs out);
//! - a member cut off from its peers and healed (the `isolate` failpoint, see `failpoint.rs`);
//! - a torn last WAL record: a member killed, half a record appended to its last segment (what
//!   a crash in mid-write leaves), and a restart, which must drop it and carry on.
//!
//! Then what the clients saw is checked:
//! - the history of every key is linearizable (the core's checker, as in the simulator);
//! - every acknowledged write is on every member, at its revision;
//! - every watch stream, resumed after each broken connection from the revision after the
//!   last it saw, is exactly the store's history from where it started: in order, nothing
//!   doubled, nothing missing, and each revision's events in one response;
//! - the members agree on the hash of their history.
//!
//! `cargo test -p raftbook-server --test robustness` runs the short variant (about 25 s). The
//! long one is `ROBUSTNESS_SECONDS=300 cargo test --release -p raftbook-server --test
//! robustness -- --nocapture`; it prints its figures.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Kind, LocalCluster};
use raftbook_core::sim::history::{KeyInput, KeyModel, KeyOutput};
use raftbook_core::sim::linearizability::{check, Operation};
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::lease_client::LeaseClient;
use raftbook_server::pb::maintenance_client::MaintenanceClient;
use raftbook_server::pb::watch_client::WatchClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

const KEYS: u64 = 8;

/// One operation a client made on one key, with the revision its answer named.
#[derive(Clone)]
struct Recorded {
    key: Vec<u8>,
    operation: Operation<KeyInput, KeyOutput>,
    revision: i64,
}

type History = Arc<Mutex<Vec<Recorded>>>;

async fn channel(endpoint: &str) -> Option<Channel> {
    tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
        .ok()?
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(3))
        .connect()
        .await
        .ok()
}

fn put_op(key: &[u8], value: &[u8]) -> pb::RequestOp {
    pb::RequestOp {
        request: Some(pb::request_op::Request::RequestPut(pb::PutRequest {
            key: key.to_vec(),
            value: value.to_vec(),
            ..Default::default()
        })),
    }
}

/// What one request of a client did, as the model sees it: its input, then its output and
/// revision if it was answered.
async fn one_request(
    kv: &mut KvClient<Channel>,
    key: &[u8],
    choice: u64,
    value: Vec<u8>,
    last_read: Option<Vec<u8>>,
) -> (KeyInput, Result<(KeyOutput, i64), tonic::Status>) {
    let revision = |h: &Option<pb::ResponseHeader>| h.as_ref().map_or(0, |h| h.revision);
    match choice % 6 {
        0 | 1 => {
            let put = pb::PutRequest {
                key: key.to_vec(),
                value: value.clone(),
                ..Default::default()
            };
            let answer = kv.put(put).await;
            let output = answer.map(|r| (KeyOutput::Written, revision(&r.get_ref().header)));
            (KeyInput::Put(value), output)
        }
        2 | 3 => {
            let range = pb::RangeRequest {
                key: key.to_vec(),
                ..Default::default()
            };
            let answer = kv.range(range).await.map(|r| {
                let r = r.into_inner();
                let seen = r.kvs.first().map(|kv| kv.value.clone());
                (KeyOutput::Read(seen), revision(&r.header))
            });
            (KeyInput::Get, answer)
        }
        4 => {
            let delete = pb::DeleteRangeRequest {
                key: key.to_vec(),
                ..Default::default()
            };
            let answer = kv.delete_range(delete).await.map(|r| {
                let r = r.into_inner();
                (KeyOutput::Deleted(r.deleted), revision(&r.header))
            });
            (KeyInput::Delete, answer)
        }
        _ => {
            // Put only if the key still holds what this client read last (or is absent).
            use pb::compare::{CompareResult, CompareTarget, TargetUnion};
            let compare = match &last_read {
                Some(expected) => pb::Compare {
                    key: key.to_vec(),
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Value as i32,
                    target_union: Some(TargetUnion::Value(expected.clone())),
                    ..Default::default()
                },
                None => pb::Compare {
                    key: key.to_vec(),
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Create as i32,
                    target_union: Some(TargetUnion::CreateRevision(0)),
                    ..Default::default()
                },
            };
            let txn = pb::TxnRequest {
                compare: vec![compare],
                success: vec![put_op(key, &value)],
                failure: Vec::new(),
            };
            let answer = kv.txn(txn).await.map(|r| {
                let r = r.into_inner();
                let succeeded = r.succeeded;
                (KeyOutput::Compared { succeeded }, revision(&r.header))
            });
            let input = KeyInput::CompareAndPut {
                expected: last_read,
                new: value,
            };
            (input, answer)
        }
    }
}

/// A client of the key-value API: mixed requests on a few keys, moving to another member
/// when one fails, recording each call and return (µs since `start`).
async fn kv_client(
    id: u64,
    endpoints: Vec<String>,
    history: History,
    start: Instant,
    stop: Instant,
) {
    let mut n = 0u64;
    let mut kv = None;
    let mut last_read: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    while Instant::now() < stop {
        if kv.is_none() {
            let endpoint = &endpoints[((id + n) as usize) % endpoints.len()];
            kv = channel(endpoint).await.map(KvClient::new);
            if kv.is_none() {
                n += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        }
        let connection = kv.as_mut().expect("connected");
        let key = format!("k{}", (n * 7 + id) % KEYS).into_bytes();
        let value = format!("c{id}-{n}").into_bytes();
        let previous = last_read.get(&key).cloned().flatten();
        let call = start.elapsed().as_micros() as u64;
        let choice = n.wrapping_mul(2_654_435_761).wrapping_add(id) >> 7;
        let (input, answer) = one_request(connection, &key, choice, value, previous).await;
        let returned = start.elapsed().as_micros() as u64;
        let recorded = match answer {
            Ok((output, revision)) => {
                if let KeyOutput::Read(seen) = &output {
                    last_read.insert(key.clone(), seen.clone());
                }
                Some((returned, output, revision))
            }
            Err(_) => {
                kv = None;
                // A failed read tells nothing; a failed write may still have happened.
                (!matches!(input, KeyInput::Get)).then_some((u64::MAX, KeyOutput::Unknown, 0))
            }
        };
        if let Some((returned, output, revision)) = recorded {
            history.lock().unwrap().push(Recorded {
                key,
                operation: Operation {
                    call,
                    returned,
                    input,
                    output,
                },
                revision,
            });
        }
        n += 1;
    }
}

/// Keys under leases, as a service registry keeps them: grant, put under the lease, renew
/// once, revoke. Load only (the key model has no leases); every step must succeed or fail
/// cleanly. Returns how many leases went the whole way.
async fn lease_client(endpoints: Vec<String>, stop: Instant) -> usize {
    let mut done = 0;
    let mut n = 0usize;
    while Instant::now() < stop {
        n += 1;
        let Some(channel) = channel(&endpoints[n % endpoints.len()]).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (mut leases, mut kv) = (LeaseClient::new(channel.clone()), KvClient::new(channel));
        let Ok(grant) = leases
            .lease_grant(pb::LeaseGrantRequest { ttl: 5, id: 0 })
            .await
        else {
            continue;
        };
        let id = grant.get_ref().id;
        let put = pb::PutRequest {
            key: format!("lease/{n}").into_bytes(),
            value: b"alive".to_vec(),
            lease: id,
            ..Default::default()
        };
        let steps = kv.put(put).await.is_ok()
            && leases
                .lease_time_to_live(pb::LeaseTimeToLiveRequest { id, keys: true })
                .await
                .is_ok()
            && leases
                .lease_revoke(pb::LeaseRevokeRequest { id })
                .await
                .is_ok();
        done += usize::from(steps);
    }
    done
}

/// One watch response, as the checks need it: its events' revisions, keys and types.
type Delivery = Vec<(i64, Vec<u8>, i32)>;

/// A watcher on every key from revision `from` on, resumed (from the revision after the last
/// event it saw) on another member whenever its stream breaks. It stops once it has seen
/// revision `until` (0 while that is not known yet) or at `deadline`. Returns where it started
/// and what it was sent, response by response.
async fn watcher(
    endpoints: Vec<String>,
    from: i64,
    until: Arc<AtomicI64>,
    deadline: Instant,
) -> (i64, Vec<Delivery>) {
    let mut deliveries: Vec<Delivery> = Vec::new();
    let mut next = from;
    let mut n = 0;
    let done = |next: i64| {
        let until = until.load(Ordering::SeqCst);
        (until != 0 && next > until) || Instant::now() > deadline
    };
    while !done(next) {
        n += 1;
        let Some(channel) = channel(&endpoints[n % endpoints.len()]).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let create = pb::WatchRequest {
            request_union: Some(pb::watch_request::RequestUnion::CreateRequest(
                pb::WatchCreateRequest {
                    key: vec![0],
                    range_end: vec![0],
                    start_revision: next,
                    ..Default::default()
                },
            )),
        };
        let requests = tokio_stream::iter(vec![create]).chain(tokio_stream::pending());
        let Ok(stream) = WatchClient::new(channel).watch(requests).await else {
            continue;
        };
        let mut stream = stream.into_inner();
        while !done(next) {
            let response =
                match tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
                    Err(_) => continue,
                    Ok(Some(Ok(response))) if !response.canceled => response,
                    Ok(_) => break,
                };
            let events: Delivery = response
                .events
                .iter()
                .filter_map(|e| {
                    let kv = e.kv.as_ref()?;
                    Some((kv.mod_revision, kv.key.clone(), e.r#type))
                })
                .collect();
            if let Some((revision, _, _)) = events.last() {
                next = revision + 1;
                deliveries.push(events);
            }
        }
    }
    (from, deliveries)
}

fn member_pid(cluster: &LocalCluster, i: usize) -> Option<u32> {
    cluster.members[i].child.as_ref().map(|c| c.id())
}

async fn leader_index(cluster: &LocalCluster) -> Option<usize> {
    for (i, member) in cluster.members.iter().enumerate() {
        if member.child.is_none() {
            continue;
        }
        let Some(channel) = channel(&member.client).await else {
            continue;
        };
        if let Ok(status) = MaintenanceClient::new(channel)
            .status(pb::StatusRequest {})
            .await
        {
            let status = status.into_inner();
            if status.leader != 0
                && status.header.as_ref().map(|h| h.member_id) == Some(status.leader)
            {
                return Some(i);
            }
        }
    }
    None
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// Appends half a WAL record (a header promising 4 KiB, then 100 bytes) to the member's last
/// segment: what a crash in the middle of a write leaves.
fn tear_last_wal_record(cluster: &LocalCluster, i: usize) {
    let wal = cluster.data_dir(i).join("member/wal");
    let last = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .max()
        .expect("a WAL segment");
    let mut torn = 4096u32.to_le_bytes().to_vec();
    torn.extend_from_slice(&[0xab; 104]);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    std::io::Write::write_all(&mut file, &torn).unwrap();
}

/// Injects faults one after another until `stop`; returns what it did.
async fn inject_faults(cluster: &mut LocalCluster, stop: Instant) -> Vec<String> {
    let mut done = Vec::new();
    let mut n = 0usize;
    while Instant::now() + Duration::from_secs(3) < stop {
        n += 1;
        let leader = leader_index(cluster).await;
        let follower = (0..3).find(|&i| Some(i) != leader).unwrap();
        let target = if n.is_multiple_of(2) {
            leader.unwrap_or(follower)
        } else {
            follower
        };
        let role = if Some(target) == leader {
            "leader"
        } else {
            "follower"
        };
        let name = cluster.members[target].name.clone();
        match (n / 2) % 4 {
            0 => {
                cluster.kill(target);
                tokio::time::sleep(Duration::from_millis(1000)).await;
                cluster.start_member(target);
                done.push(format!("kill -9 {role} {name}, restart"));
            }
            1 => {
                let pid = member_pid(cluster, target).expect("running");
                signal(pid, "-STOP");
                tokio::time::sleep(Duration::from_millis(1500)).await;
                signal(pid, "-CONT");
                done.push(format!("SIGSTOP {role} {name} for 1.5 s"));
            }
            2 => {
                cluster.failpoint(target, "isolate", 1500);
                tokio::time::sleep(Duration::from_millis(1500)).await;
                done.push(format!("cut {role} {name} off its peers for 1.5 s"));
            }
            _ => {
                cluster.kill(target);
                tear_last_wal_record(cluster, target);
                cluster.start_member(target);
                // It must notice, drop the torn record and carry on.
                let noticed = Instant::now() + Duration::from_secs(10);
                while !cluster.log(target).contains("dropped a torn record") {
                    assert!(
                        Instant::now() < noticed,
                        "{name} did not drop its torn record"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                done.push(format!(
                    "kill -9 {role} {name}, tear its last WAL record, restart"
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    done
}

/// The store's current revision, as a member answers it.
async fn current_revision(endpoint: &str) -> i64 {
    let mut kv = KvClient::new(channel(endpoint).await.expect("member up"));
    let read = kv
        .range(pb::RangeRequest {
            key: b"k0".to_vec(),
            ..Default::default()
        })
        .await
        .expect("read");
    read.get_ref().header.as_ref().map_or(0, |h| h.revision)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_under_load_and_faults_keeps_every_guarantee() {
    let seconds: u64 = std::env::var("ROBUSTNESS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let mut cluster = tokio::task::spawn_blocking(|| {
        LocalCluster::start_with(Kind::Raftbook, 3, &["--failpoints"])
    })
    .await
    .unwrap();
    let endpoints: Vec<String> = cluster.members.iter().map(|m| m.client.clone()).collect();
    let history: History = Arc::default();
    let start = Instant::now();
    let stop = start + Duration::from_secs(seconds);
    let clients: Vec<_> = (0..6)
        .map(|id| {
            tokio::spawn(kv_client(
                id,
                endpoints.clone(),
                history.clone(),
                start,
                stop,
            ))
        })
        .collect();
    let leases = tokio::spawn(lease_client(endpoints.clone(), stop));
    // Watchers from the beginning and from a revision reached in mid-run; they go on after
    // the run until they have seen its last revision.
    let until = Arc::new(AtomicI64::new(0));
    let deadline = stop + Duration::from_secs(30);
    let first = tokio::spawn(watcher(endpoints.clone(), 1, until.clone(), deadline));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mid = history
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.revision)
        .max()
        .unwrap_or(1);
    let second = tokio::spawn(watcher(endpoints.clone(), mid, until.clone(), deadline));

    let faults = inject_faults(&mut cluster, stop).await;
    for client in clients {
        client.await.unwrap();
    }
    let leases = leases.await.unwrap();
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.wait_healthy();
        cluster
    })
    .await
    .unwrap();
    // Let every member apply what the leader has committed.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let revision = current_revision(&cluster.members[0].client).await;
    until.store(revision, Ordering::SeqCst);
    let watches = [first.await.unwrap(), second.await.unwrap()];

    let history = history.lock().unwrap().clone();
    assert!(
        faults.len() >= 10,
        "only {} faults: {faults:?}",
        faults.len()
    );
    assert!(history.len() >= 2000, "only {} operations", history.len());

    // Linearizable, key by key.
    let mut per_key: BTreeMap<Vec<u8>, Vec<Operation<KeyInput, KeyOutput>>> = BTreeMap::new();
    for recorded in &history {
        per_key
            .entry(recorded.key.clone())
            .or_default()
            .push(recorded.operation.clone());
    }
    for (key, operations) in &per_key {
        assert_eq!(
            check(&KeyModel, operations),
            Ok(()),
            "the history of {} is not linearizable",
            String::from_utf8_lossy(key)
        );
    }

    // Every acknowledged write on every member, at its revision.
    let acknowledged: Vec<&Recorded> = history
        .iter()
        .filter(|r| {
            matches!(r.operation.output, KeyOutput::Written)
                || r.operation.output == (KeyOutput::Compared { succeeded: true })
        })
        .collect();
    for member in &cluster.members {
        let mut kv = KvClient::new(channel(&member.client).await.expect("member up"));
        for recorded in &acknowledged {
            let (KeyInput::Put(value) | KeyInput::CompareAndPut { new: value, .. }) =
                &recorded.operation.input
            else {
                continue;
            };
            let read = kv
                .range(pb::RangeRequest {
                    key: recorded.key.clone(),
                    revision: recorded.revision,
                    serializable: true,
                    ..Default::default()
                })
                .await
                .expect("read");
            let seen = read.get_ref().kvs.first().map(|kv| &kv.value);
            assert_eq!(
                seen,
                Some(value),
                "{} lost the write at revision {}",
                member.name,
                recorded.revision
            );
        }
    }

    // Watch streams: exactly the history from where they started, a revision per response.
    let whole = vec![cluster.members[0].client.clone()];
    let reference = Arc::new(AtomicI64::new(revision));
    let deadline = Instant::now() + Duration::from_secs(10);
    let (_, reference) = watcher(whole, 1, reference, deadline).await;
    // Leases the run left behind still expire, so the history may go on past `revision`:
    // everything is compared up to it.
    let reference: Vec<_> = reference.into_iter().flatten().collect();
    assert!(reference.last().is_some_and(|e| e.0 >= revision));
    let reference: Vec<_> = reference.into_iter().filter(|e| e.0 <= revision).collect();
    let mut watched = 0;
    for (from, deliveries) in &watches {
        let mut last = 0;
        for delivery in deliveries {
            let first = delivery.first().expect("responses with events only").0;
            assert!(
                first > last,
                "revision {first} split across responses or repeated"
            );
            last = delivery.last().unwrap().0;
        }
        let seen: Vec<_> = deliveries
            .iter()
            .flatten()
            .filter(|e| e.0 <= revision)
            .cloned()
            .collect();
        let expected: Vec<_> = reference.iter().filter(|e| e.0 >= *from).cloned().collect();
        if seen != expected {
            let at = seen.iter().zip(&expected).position(|(a, b)| a != b);
            let at = at.unwrap_or(seen.len().min(expected.len()));
            panic!(
                "the watch from revision {from} differs from the history at event {at} ({} seen, {} in the history): {:?} vs {:?}",
                seen.len(),
                expected.len(),
                seen.get(at),
                expected.get(at)
            );
        }
        watched += seen.len();
    }

    // The members agree on their history.
    let hashes = common::etcdctl(
        &cluster.endpoints(),
        &["endpoint", "hashkv", &format!("--rev={revision}")],
        None,
    );
    let distinct: std::collections::BTreeSet<&str> = hashes
        .lines()
        .map(|l| l.rsplit(", ").next().unwrap())
        .collect();
    assert_eq!(distinct.len(), 1, "members disagree:\n{hashes}");

    eprintln!(
        "robustness: {seconds} s, {} operations on {} keys linearizable ({} acknowledged writes on every member), {leases} leases granted, used and revoked, {watched} watch events checked, {} faults:\n  {}",
        history.len(),
        per_key.len(),
        acknowledged.len(),
        faults.len(),
        faults.join("\n  ")
    );
}
