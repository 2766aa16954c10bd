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
    const ROUNDS: usize = 3;
    // This machine kind is noisy: three rounds, each on a fresh cluster, and their median.
    let mut speeds = Vec::new();
    let mut last_round = None;
    for round in 1..=ROUNDS {
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
            "simulator round {round}: 5 nodes, {} proposals/s, {simulated:.0} virtual s in \
             {wall:.3} wall s, {:.0}x ({acknowledged} puts acknowledged)",
            workload::PUTS_PER_SECOND,
            simulated / wall
        );
        speeds.push(simulated / wall);
        last_round = Some(cluster);
    }
    speeds.sort_by(f64::total_cmp);
    println!(
        "simulator: {:.0}x real time (median of {ROUNDS})",
        speeds[ROUNDS / 2]
    );

    // The store's size before and after compacting, on the last round's cluster.
    let mut cluster = last_round.expect("at least one round");
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
