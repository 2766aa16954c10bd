//! Crash test: under continuous writes from several gRPC clients, `kill -9` the leader, then
//! (separately) a follower, and restart each. Afterwards every acknowledged write is on every
//! member, and the clients' history is linearizable (core's checker).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Kind, LocalCluster};
use raftbook_core::sim::history::{KeyInput, KeyModel, KeyOutput};
use raftbook_core::sim::linearizability::{check, Operation};
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::maintenance_client::MaintenanceClient;

type History = Arc<Mutex<Vec<(Vec<u8>, Operation<KeyInput, KeyOutput>, i64)>>>;

async fn client(endpoint: &str) -> Option<KvClient<tonic::transport::Channel>> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
        .ok()?
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(3));
    KvClient::new(channel.connect().await.ok()?).into()
}

/// One client: puts unique values and reads keys, recording call and return times (µs).
async fn writer(
    id: usize,
    endpoints: Vec<String>,
    history: History,
    start: Instant,
    stop: Instant,
) {
    let mut n = 0u64;
    let mut kv = None;
    while Instant::now() < stop {
        let endpoint = &endpoints[(id + n as usize) % endpoints.len()];
        if kv.is_none() {
            kv = client(endpoint).await;
            if kv.is_none() {
                n += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        }
        let connection = kv.as_mut().expect("connected");
        let key = format!("k{}", n % 3).into_bytes();
        let call = start.elapsed().as_micros() as u64;
        let (input, result) = if n % 3 == 2 {
            let r = connection
                .range(pb::RangeRequest {
                    key: key.clone(),
                    ..Default::default()
                })
                .await;
            (
                KeyInput::Get,
                r.map(|r| {
                    (
                        KeyOutput::Read(r.get_ref().kvs.first().map(|kv| kv.value.clone())),
                        0,
                    )
                }),
            )
        } else {
            let value = format!("c{id}-{n}").into_bytes();
            let r = connection
                .put(pb::PutRequest {
                    key: key.clone(),
                    value: value.clone(),
                    ..Default::default()
                })
                .await;
            (
                KeyInput::Put(value),
                r.map(|r| {
                    (
                        KeyOutput::Written,
                        r.get_ref().header.as_ref().map_or(0, |h| h.revision),
                    )
                }),
            )
        };
        let returned = start.elapsed().as_micros() as u64;
        match (result, &input) {
            (Ok((output, revision)), _) => history.lock().unwrap().push((
                key,
                Operation {
                    call,
                    returned,
                    input,
                    output,
                },
                revision,
            )),
            // A failed write may still have happened; a failed read tells nothing.
            (Err(_), KeyInput::Put(_)) => {
                history.lock().unwrap().push((
                    key,
                    Operation {
                        call,
                        returned: u64::MAX,
                        input,
                        output: KeyOutput::Unknown,
                    },
                    0,
                ));
                kv = None;
            }
            (Err(_), _) => kv = None,
        }
        n += 1;
    }
}

async fn leader_index(cluster: &LocalCluster) -> Option<usize> {
    for (i, member) in cluster.members.iter().enumerate() {
        if member.child.is_none() {
            continue;
        }
        let Ok(channel) =
            tonic::transport::Endpoint::from_shared(format!("http://{}", member.client))
                .unwrap()
                .connect()
                .await
        else {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_of_leader_and_follower() {
    let mut cluster = tokio::task::spawn_blocking(|| LocalCluster::start(Kind::Raftbook, 3))
        .await
        .unwrap();
    let endpoints: Vec<String> = cluster.members.iter().map(|m| m.client.clone()).collect();
    let history: History = Arc::default();
    let start = Instant::now();
    let stop = start + Duration::from_secs(9);
    let writers: Vec<_> = (0..4)
        .map(|id| tokio::spawn(writer(id, endpoints.clone(), history.clone(), start, stop)))
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let leader = leader_index(&cluster).await.expect("a leader");
    cluster.kill(leader);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    cluster.start_member(leader);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let follower = (0..3)
        .find(|&i| Some(i) != leader_index_sync(&cluster))
        .unwrap();
    cluster.kill(follower);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.start_member(follower);
    for writer in writers {
        writer.await.unwrap();
    }
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.wait_healthy();
        cluster
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let history = history.lock().unwrap().clone();
    let acknowledged: Vec<_> = history
        .iter()
        .filter(|(_, op, _)| op.output == KeyOutput::Written)
        .collect();
    assert!(
        acknowledged.len() > 50,
        "only {} writes acknowledged",
        acknowledged.len()
    );
    // Every acknowledged write is in every member's history, at its revision.
    for member in &cluster.members {
        let mut kv = client(&member.client).await.expect("member up");
        for (key, op, revision) in &acknowledged {
            let KeyInput::Put(value) = &op.input else {
                continue;
            };
            let read = kv
                .range(pb::RangeRequest {
                    key: key.clone(),
                    revision: *revision,
                    serializable: true,
                    ..Default::default()
                })
                .await
                .expect("read");
            let seen = read.get_ref().kvs.first().map(|kv| kv.value.clone());
            assert_eq!(
                seen.as_ref(),
                Some(value),
                "{} lost the write at revision {revision}",
                member.name
            );
        }
    }
    let acknowledged = acknowledged.len();
    // And the whole history could have happened in one order.
    let mut per_key: BTreeMap<Vec<u8>, Vec<Operation<KeyInput, KeyOutput>>> = BTreeMap::new();
    for (key, op, _) in history {
        per_key.entry(key).or_default().push(op);
    }
    for (key, ops) in &per_key {
        assert_eq!(
            check(&KeyModel, ops),
            Ok(()),
            "history of {} is not linearizable",
            String::from_utf8_lossy(key)
        );
    }
    eprintln!("crash test: {acknowledged} acknowledged writes on every member; {} operations linearizable", per_key.values().map(Vec::len).sum::<usize>());
}

fn leader_index_sync(cluster: &LocalCluster) -> Option<usize> {
    let out = common::etcdctl(&cluster.endpoints(), &["endpoint", "status"], None);
    out.lines().position(|l| l.contains(", true, false,"))
}
