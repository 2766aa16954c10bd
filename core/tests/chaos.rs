//! Randomized fault testing: for each of many seeds, a random mix of crashes, restarts,
//! partitions, one-way cuts, message loss, reordering and client requests (puts, gets,
//! deletes, compare-and-put transactions, watches), written as scenario commands. The
//! simulator checks Raft's safety properties after every event; at the end we heal
//! everything and check liveness (a leader within bounded virtual time, every acknowledged
//! write applied on every node), that the client history is linearizable, and that every
//! watch stream saw exactly the store's history.
//!
//! A failing seed is shrunk to the shortest command list that still fails, printed as a
//! scenario script that reproduces it. `CHAOS_SEEDS=N` runs more (or fewer) seeds.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use raftbook_core::scenario::Scenario;
use raftbook_core::etcd::api::Response;
use raftbook_core::sim::Outcome;

/// Virtual time the healed cluster gets to elect a leader and catch every node up.
const LIVENESS_BOUND: &str = "30s";

fn random_script(seed: u64) -> (String, Vec<String>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nodes: u64 = rng.gen_range(3..=5);
    let on_off = |b: bool| if b { "on" } else { "off" };
    let setup = format!(
        "cluster nodes={nodes} seed={seed} prevote={} checkquorum={} snapshot-interval={} catchup={} reorder={}",
        on_off(rng.gen_bool(0.7)),
        on_off(rng.gen_bool(0.7)),
        [0, 5, 10, 20].choose(&mut rng).unwrap(),
        rng.gen_range(0..5),
        on_off(rng.gen_bool(0.3)),
    );
    let node = |rng: &mut ChaCha8Rng| rng.gen_range(1..=nodes);
    // Every member watches the keys from the start.
    let mut actions: Vec<String> = (1..=nodes).map(|n| format!("watch --prefix k node={n}")).collect();
    // Values are unique, so a read tells which write it saw.
    let mut written: Vec<String> = vec!["v0".into()];
    for step in 0..rng.gen_range(20..60) {
        let key = format!("k{}", rng.gen_range(0..3));
        let action = match rng.gen_range(0..100) {
            0..=17 => {
                written.push(format!("v{step}"));
                format!("put {key} v{step} node={} wait=0", node(&mut rng))
            }
            18..=27 => format!("get {key} node={} wait=0", node(&mut rng)),
            28..=31 => format!("del {key} node={} wait=0", node(&mut rng)),
            32..=34 => {
                let expected = written.choose(&mut rng).unwrap().clone();
                written.push(format!("v{step}"));
                format!("txn value(\"{key}\") = \"{expected}\" then put {key} v{step} else get {key} node={} wait=0", node(&mut rng))
            }
            35..=54 => format!("run {}ms", rng.gen_range(10..1500)),
            55..=62 => format!("crash {}", node(&mut rng)),
            63..=72 => format!("restart {}", node(&mut rng)),
            73..=77 => {
                let mut ids: Vec<u64> = (1..=nodes).collect();
                ids.shuffle(&mut rng);
                let split = rng.gen_range(1..nodes as usize);
                let group = |g: &[u64]| g.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
                format!("partition {} | {}", group(&ids[..split]), group(&ids[split..]))
            }
            78..=81 => format!("cut {}->{}", node(&mut rng), node(&mut rng)),
            82..=88 => "heal".to_string(),
            89..=92 => format!("net loss={:.2}", rng.gen_range(0.0..0.3)),
            93..=95 => format!("pause {}", node(&mut rng)),
            96..=97 => format!("resume {}", node(&mut rng)),
            _ => format!("transfer-leader {}", node(&mut rng)),
        };
        actions.push(action);
    }
    (setup, actions)
}

/// Runs a script; `Ok` says what was checked, `Err` says which property failed
/// (a panic inside raft-rs counts: it is raft-rs's own invariant checks firing).
fn check(setup: &str, actions: &[String]) -> Result<Totals, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_and_check(setup, actions)))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {message}"))
        })
}

fn run_and_check(setup: &str, actions: &[String]) -> Result<Totals, String> {
    let mut scenario = Scenario::new();
    let mut run = |line: &str| scenario.execute(line, 0);
    run(setup);
    for action in actions {
        // Errors such as "node 3 is already down" are expected; violations are not.
        let output = run(action);
        if output.contains("SAFETY VIOLATION") {
            return Err(output);
        }
    }
    // Heal everything, then demand progress.
    run("heal");
    run("net loss=0");
    let cluster = scenario.cluster.as_mut().unwrap();
    for id in cluster.node_ids() {
        let _ = cluster.restart(id);
        let _ = cluster.resume(id);
    }
    let output = scenario.execute(&format!("stabilize timeout={LIVENESS_BOUND}"), 0);
    if output.contains("SAFETY VIOLATION") {
        return Err(output);
    }
    if output.contains("error") {
        return Err(format!("liveness: no stable leader {LIVENESS_BOUND} after healing: {output}"));
    }
    let cluster = scenario.cluster.as_ref().unwrap();
    let operations = raftbook_core::sim::history::check_linearizable(cluster)?;
    let leader = cluster.leader().expect("stable");
    let watch_events = raftbook_core::sim::history::check_watch_streams(cluster, leader, b"k", b"l")?;
    let mut acknowledged = 0;
    for request in cluster.requests.values() {
        if let Outcome::Done { index, response: Response::Put(_) | Response::Txn(_) | Response::DeleteRange(_), .. } = request.outcome {
            acknowledged += 1;
            for id in cluster.node_ids() {
                let applied = cluster.node(id).unwrap().raft().raft_log.applied;
                if applied < index {
                    return Err(format!("liveness: n{id} applied {applied}, acknowledged request #{} is at {index}", request.id));
                }
            }
        }
    }
    Ok(Totals { acknowledged, operations, watch_events })
}

/// What one run checked.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    /// Writes acknowledged to clients (each checked to be applied on every node).
    acknowledged: usize,
    /// Client operations in the linearizability check.
    operations: usize,
    /// Watch events checked against the store's history.
    watch_events: usize,
}

/// Removes chunks of actions, largest first, while the run still fails.
fn shrink(setup: &str, mut actions: Vec<String>) -> Vec<String> {
    let mut chunk = actions.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < actions.len() {
            let mut candidate = actions.clone();
            candidate.drain(start..(start + chunk).min(candidate.len()));
            if check(setup, &candidate).is_err() {
                actions = candidate;
            } else {
                start += chunk;
            }
        }
        chunk /= 2;
    }
    actions
}

#[test]
fn random_faults_never_break_safety_or_liveness() {
    let seeds: u64 = std::env::var("CHAOS_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(500);
    // Panics are caught and reported with the shrunk reproduction; keep stderr readable.
    std::panic::set_hook(Box::new(|_| {}));
    let mut total = Totals::default();
    for seed in 1..=seeds {
        let (setup, actions) = random_script(seed);
        let result = check(&setup, &actions);
        if let Ok(totals) = &result {
            total.acknowledged += totals.acknowledged;
            total.operations += totals.operations;
            total.watch_events += totals.watch_events;
        }
        if let Err(failure) = result {
            let shortest = shrink(&setup, actions);
            let why = check(&setup, &shortest).unwrap_err();
            drop(std::panic::take_hook()); // back to the default hook, to print this:
            panic!(
                "seed {seed} fails: {failure}\n\nshortest reproduction ({} actions), as a scenario script:\n{setup}\n{}\n\nwhich fails with: {why}",
                shortest.len(),
                shortest.join("\n")
            );
        }
    }
    drop(std::panic::take_hook());
    // The test is only as good as its load: writes must get through (many are refused
    // without a leader, time out, or are lost with crashed nodes).
    let Totals { acknowledged, operations, watch_events } = total;
    assert!(acknowledged > seeds as usize, "only {acknowledged} writes acknowledged in {seeds} seeds");
    assert!(watch_events > seeds as usize, "only {watch_events} watch events in {seeds} seeds");
    eprintln!(
        "chaos: {seeds} seeds; {acknowledged} acknowledged writes checked on every node; \
         {operations} client operations checked linearizable; {watch_events} watch events checked"
    );
}
