//! Simulator speed: virtual seconds simulated per wall-clock second, for the workload of
//! [`raftbook_core::sim::workload`] (5 nodes, 100 puts per virtual second, safety checkers
//! on; the browser's bench runs the same), and
//! the MVCC store's size before and after compacting that history.
//! Run with `cargo bench -p raftbook-core`.

use std::time::Instant;

use raftbook_core::etcd::api::{CompactionRequest, Request};
use raftbook_core::sim::{workload, Outcome};

fn main() {
    const VIRTUAL_SECONDS: u64 = 300;
    let mut cluster = workload::cluster();
    let start_ms = cluster.now();
    let started = Instant::now();
    workload::steady_puts(&mut cluster, VIRTUAL_SECONDS);
    let wall = started.elapsed().as_secs_f64();
    let simulated = (cluster.now() - start_ms) as f64 / 1000.0;
    let acknowledged = cluster
        .requests()
        .values()
        .filter(|r| matches!(r.outcome, Outcome::Done { .. }))
        .count();
    assert!(cluster.violation().is_none());
    println!(
        "simulator: 5 nodes, {} proposals/s, {simulated:.0} virtual s in {wall:.3} wall s",
        workload::PUTS_PER_SECOND
    );
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
