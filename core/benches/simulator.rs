//! Simulator speed: virtual seconds simulated per wall-clock second, for a 5-node etcd
//! cluster with 100 puts per virtual second (trace recording off, safety checkers on), and
//! the MVCC store's size before and after compacting that history.
//! Run with `cargo bench -p raftbook-core`.

use std::time::Instant;

use raftbook_core::etcd::api::{CompactionRequest, PutRequest, Request};
use raftbook_core::node::NodeConfig;
use raftbook_core::sim::{Cluster, ClusterConfig, Outcome};

fn main() {
    const VIRTUAL_SECONDS: u64 = 300;
    const PROPOSALS_PER_SECOND: u64 = 100;
    let node = NodeConfig {
        snapshot_interval: 1000,
        ..NodeConfig::new(0)
    };
    let mut cluster = Cluster::new(ClusterConfig {
        nodes: 5,
        seed: 1,
        node,
        trace: false,
        ..Default::default()
    });
    assert!(
        cluster.run_until(10_000, |c| c.leader().is_some()),
        "no leader"
    );
    let start_ms = cluster.now();
    let started = Instant::now();
    let interval = 1000 / PROPOSALS_PER_SECOND;
    for i in 0..VIRTUAL_SECONDS * PROPOSALS_PER_SECOND {
        if let Some(leader) = cluster.leader() {
            let put = PutRequest {
                key: format!("key{}", i % 100).into(),
                value: format!("value{i}").into(),
                ..Default::default()
            };
            let _ = cluster.request(leader, Request::Put(put));
        }
        cluster.run_for(interval);
    }
    let wall = started.elapsed().as_secs_f64();
    let simulated = (cluster.now() - start_ms) as f64 / 1000.0;
    let acknowledged = cluster
        .requests()
        .values()
        .filter(|r| matches!(r.outcome, Outcome::Done { .. }))
        .count();
    assert!(cluster.violation().is_none());
    println!("simulator: 5 nodes, {PROPOSALS_PER_SECOND} proposals/s, {simulated:.0} virtual s in {wall:.3} wall s");
    println!(
        "simulator: {:.0}x real time ({acknowledged} puts acknowledged)",
        simulated / wall
    );

    let leader = cluster.leader().expect("a leader");
    let before = cluster.server(leader).expect("runs").store().stats();
    let revision = cluster
        .server(leader)
        .expect("runs")
        .store()
        .mvcc
        .current_revision();
    cluster
        .request(
            leader,
            Request::Compact(CompactionRequest {
                revision,
                physical: true,
            }),
        )
        .expect("leader runs");
    cluster.run_for(1000);
    let after = cluster.server(leader).expect("runs").store().stats();
    println!("mvcc: before compaction {before:?}");
    println!("mvcc: after compaction  {after:?}");
}
