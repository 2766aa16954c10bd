//! The floor under the simulator's speed: raft-rs alone on the simulator benchmark's
//! workload ([`raftbook_core::sim::raft_alone`]), beside which `benches/simulator.rs` reads.
//! Run with `cargo bench -p raftbook-core --bench raft_alone`.

use std::time::Instant;

use raftbook_core::sim::raft_alone;

fn main() {
    const VIRTUAL_SECONDS: u64 = 300;
    const ROUNDS: usize = 3;
    let mut speeds = Vec::new();
    for round in 1..=ROUNDS {
        let started = Instant::now();
        let (simulated, committed) = raft_alone::run(VIRTUAL_SECONDS);
        let wall = started.elapsed().as_secs_f64();
        println!(
            "raft-rs alone round {round}: {simulated:.0} virtual s in {wall:.3} wall s, \
             {:.0}x ({committed} entries committed)",
            simulated / wall
        );
        speeds.push(simulated / wall);
    }
    speeds.sort_by(f64::total_cmp);
    println!(
        "raft-rs alone: {:.0}x real time (median of {ROUNDS})",
        speeds[ROUNDS / 2]
    );
}
