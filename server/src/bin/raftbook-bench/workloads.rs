//! What the benchmark asks of a cluster: each function drives one workload through etcd's
//! v3 API and returns its figures, the same way for raftbook and for etcd.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::lease_client::LeaseClient;
use tonic::transport::Channel;

use crate::local::{connect, highest_term, Local};

/// Operations per second and the latency of one operation.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Rate {
    fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Rate {
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Rate {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// `clients` clients, each on its own connection (spread over the endpoints), each doing
/// `op` again and again, one at a time, for `duration`.
async fn closed_loop<F, Fut>(
    endpoints: &[String],
    clients: usize,
    duration: Duration,
    op: F,
) -> Result<Rate, String>
where
    F: Fn(Channel, usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let mut channels = Vec::with_capacity(clients);
    for client in 0..clients {
        channels.push(connect(&endpoints[client % endpoints.len()]).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for (client, channel) in channels.into_iter().enumerate() {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(channel.clone(), client, i).await?;
                latencies.push(t.elapsed());
                i += 1;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(Rate::of(latencies, started.elapsed()))
}

/// Keys the put and range workloads use: `bench/0` … `bench/9999`.
const KEYS: u64 = 10_000;

/// The key client `client` uses for its `i`-th request: clients start at different keys and
/// walk them all.
fn key(client: usize, i: u64) -> Vec<u8> {
    format!("bench/{}", (client as u64 * 7919 + i) % KEYS).into_bytes()
}

pub async fn puts(
    endpoints: &[String],
    clients: usize,
    duration: Duration,
    value_size: usize,
) -> Result<Rate, String> {
    let value = Arc::new(vec![b'v'; value_size]);
    closed_loop(endpoints, clients, duration, move |channel, client, i| {
        let value = value.clone();
        async move {
            let put = pb::PutRequest {
                key: key(client, i),
                value: value.to_vec(),
                ..Default::default()
            };
            KvClient::new(channel)
                .put(put)
                .await
                .map(drop)
                .map_err(|e| format!("put: {e}"))
        }
    })
    .await
}

/// Gets of one key each; linearizable (a ReadIndex round) unless `serializable`.
pub async fn ranges(
    endpoints: &[String],
    clients: usize,
    duration: Duration,
    serializable: bool,
) -> Result<Rate, String> {
    closed_loop(
        endpoints,
        clients,
        duration,
        move |channel, client, i| async move {
            let range = pb::RangeRequest {
                key: key(client, i),
                serializable,
                ..Default::default()
            };
            KvClient::new(channel)
                .range(range)
                .await
                .map(drop)
                .map_err(|e| format!("range: {e}"))
        },
    )
    .await
}

/// Grants `count` leases, then revokes them, from 16 clients; returns both rates.
pub async fn leases(endpoints: &[String], count: u64) -> Result<(f64, f64), String> {
    const CLIENTS: u64 = 16;
    let mut rates = Vec::new();
    for revoke in [false, true] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let mut lease =
                LeaseClient::new(connect(&endpoints[client as usize % endpoints.len()]).await?);
            tasks.push(tokio::spawn(async move {
                for id in (1 + client..=count).step_by(CLIENTS as usize) {
                    let id = id as i64;
                    if revoke {
                        let request = pb::LeaseRevokeRequest { id };
                        lease
                            .lease_revoke(request)
                            .await
                            .map_err(|e| format!("revoke: {e}"))?;
                    } else {
                        let request = pb::LeaseGrantRequest { ttl: 3600, id };
                        lease
                            .lease_grant(request)
                            .await
                            .map_err(|e| format!("grant: {e}"))?;
                    }
                }
                Ok::<_, String>(())
            }));
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        rates.push(count as f64 / started.elapsed().as_secs_f64());
    }
    Ok((rates[0], rates[1]))
}

/// A store of many small keys, each written twice, then its first compaction.
#[derive(Clone, Copy, Debug)]
pub struct Compaction {
    /// The largest member's resident memory after the keys were first written, MiB.
    pub loaded_mib: f64,
    /// The same after each key was written again (a second version to compact away).
    pub rewritten_mib: f64,
    /// How long the compaction request took (physical: until it was done).
    pub duration: Duration,
    /// Elections while it ran (and for two seconds after).
    pub elections: u64,
    /// The slowest serializable read any member answered meanwhile.
    pub slowest_read: Duration,
    /// The largest member's resident memory two seconds after it.
    pub after_mib: f64,
}

/// Loads `keys` keys of 16 bytes' value, then writes them all again; then compacts at the
/// last revision while each member is read every 10 ms.
pub async fn load_and_compact(cluster: &Local, keys: u64) -> Result<Compaction, String> {
    let endpoints = &cluster.endpoints;
    load(endpoints, keys).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded_mib = max(&cluster.resident_mib());
    let revision = load(endpoints, keys).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rewritten_mib = max(&cluster.resident_mib());

    let term_before = highest_term(endpoints).await?;
    let reading = Arc::new(AtomicBool::new(true));
    let mut readers = Vec::new();
    for endpoint in endpoints.clone() {
        let mut kv = KvClient::new(connect(&endpoint).await?);
        let reading = reading.clone();
        readers.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            while reading.load(Ordering::Relaxed) {
                let range = pb::RangeRequest {
                    key: b"load/00000000".to_vec(),
                    serializable: true,
                    ..Default::default()
                };
                let t = Instant::now();
                match tokio::time::timeout(Duration::from_secs(10), kv.range(range)).await {
                    Ok(Ok(_)) => slowest = slowest.max(t.elapsed()),
                    Ok(Err(e)) => return Err(format!("read from {endpoint}: {e}")),
                    Err(_) => slowest = slowest.max(t.elapsed()),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok::<_, String>(slowest)
        }));
    }
    let mut kv = KvClient::new(connect(&endpoints[0]).await?);
    let started = Instant::now();
    kv.compact(pb::CompactionRequest {
        revision,
        physical: true,
    })
    .await
    .map_err(|e| format!("compact: {e}"))?;
    let duration = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    reading.store(false, Ordering::Relaxed);
    let mut slowest_read = Duration::ZERO;
    for reader in readers {
        slowest_read = slowest_read.max(reader.await.map_err(|e| e.to_string())??);
    }
    let elections = highest_term(endpoints).await? - term_before;
    Ok(Compaction {
        loaded_mib,
        rewritten_mib,
        duration,
        elections,
        slowest_read,
        after_mib: max(&cluster.resident_mib()),
    })
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

/// Puts `load/00000000` … in transactions of 100 puts from 16 clients; returns the revision
/// of the last.
async fn load(endpoints: &[String], keys: u64) -> Result<i64, String> {
    const CLIENTS: u64 = 16;
    const BATCH: u64 = 100;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let mut kv = KvClient::new(connect(&endpoints[client as usize % endpoints.len()]).await?);
        tasks.push(tokio::spawn(async move {
            let mut revision = 0;
            for batch in (client * BATCH..keys).step_by((CLIENTS * BATCH) as usize) {
                let success = (batch..(batch + BATCH).min(keys))
                    .map(|k| pb::RequestOp {
                        request: Some(pb::request_op::Request::RequestPut(pb::PutRequest {
                            key: format!("load/{k:08}").into_bytes(),
                            value: vec![b'v'; 16],
                            ..Default::default()
                        })),
                    })
                    .collect();
                let txn = pb::TxnRequest {
                    success,
                    ..Default::default()
                };
                let response = kv.txn(txn).await.map_err(|e| format!("txn: {e}"))?;
                revision = response.into_inner().header.map_or(0, |h| h.revision);
            }
            Ok::<_, String>(revision)
        }));
    }
    let mut revision = 0;
    for task in tasks {
        revision = revision.max(task.await.map_err(|e| e.to_string())??);
    }
    Ok(revision)
}
