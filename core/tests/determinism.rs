//! Determinism: one seed and one list of actions give one run, byte for byte, natively and
//! in WASM. The hash of `determinism.txt`'s trace and output is pinned below; this test also runs under
//! `wasm-bindgen-test` (`cargo test --target wasm32-unknown-unknown --test determinism`), so
//! the same pinned hash proves that both platforms produce the same run.
//!
//! An intended change to the simulator's behaviour changes the hash: update it here.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use raftbook_core::scenario::console::Console;
use raftbook_core::scenario::timeline::Timeline;
use raftbook_core::scenario::Scenario;

const SCRIPT: &str = include_str!("determinism.txt");
const PINNED_TRACE_HASH: &str = "05144a8c65613a8f9914da73021785a5916f6439aa8893f2f87d45e693ce8390";

fn run() -> (String, Scenario) {
    let mut scenario = Scenario::new();
    let output = scenario.run_script(SCRIPT);
    (output, scenario)
}

#[test]
fn one_seed_gives_one_trace() {
    let (output_a, a) = run();
    let (output_b, b) = run();
    let trace_a = a.cluster_ref().unwrap().trace().to_json_lines();
    let trace_b = b.cluster_ref().unwrap().trace().to_json_lines();
    assert!(trace_a.lines().count() > 1000, "a meaningful run");
    assert_eq!(output_a, output_b);
    assert!(trace_a == trace_b, "traces differ");
    assert!(
        !output_a.contains("not stable") && !output_a.contains("VIOLATION"),
        "{output_a}"
    );
}

#[test]
fn the_trace_hash_is_pinned_on_every_platform() {
    let (output, scenario) = run();
    use sha2::Digest;
    // The trace, and what the learner read (lease ids, watch events, revisions).
    let trace = scenario.cluster_ref().unwrap().trace().to_json_lines();
    let hash = format!("{:x}", sha2::Sha256::digest(format!("{trace}{output}")));
    assert_eq!(hash, PINNED_TRACE_HASH, "run output:\n{output}");
}

/// A run under load with a watch printing, for the time-travel test.
fn loaded() -> Console {
    let mut console = Console::new("cluster nodes=5 seed=9 reorder=on").expect("a cluster");
    console.act("load 30");
    console.act("watch load/3");
    console
}

/// Everything a learner sees of a run, and its whole history: the time, the trace's hash,
/// the console, and (hashed, to keep a failure short) what the cluster view draws.
fn seen(console: &Console) -> (u64, String, Vec<String>, String) {
    use sha2::Digest;
    let view = serde_json::to_string(&console.cluster().view()).expect("views serialise");
    (
        console.now(),
        console.cluster().trace().hash(),
        console.lines().iter().map(|l| l.text.clone()).collect(),
        format!("{:x}", sha2::Sha256::digest(view)),
    )
}

#[test]
fn going_back_to_a_checkpoint_gives_the_same_run() {
    // Run to T directly (a crash on the way)…
    let mut direct = loaded();
    direct.advance_to(5_000);
    direct.act("crash 2");
    direct.advance_to(7_500);
    // …and run past T keeping checkpoints, go back to T, run on again.
    let mut run = loaded();
    let mut timeline = Timeline::default();
    for t in (0..=12_000).step_by(100) {
        run.advance_to(t);
        if t == 5_000 {
            run.act("crash 2");
        }
        timeline.record(&run);
    }
    let mut back = timeline
        .restore(7_500, run.actions())
        .expect("a checkpoint before 7.5 s");
    assert_eq!(
        back.now(),
        7_000,
        "the latest checkpoint at or before 7.5 s"
    );
    back.advance_to(7_500);
    assert_eq!(seen(&back), seen(&direct));
    // From there, both go on the same way: with the action taken after the checkpoint too.
    let mut early = timeline
        .restore(2_500, run.actions())
        .expect("a checkpoint");
    back.advance_to(12_000);
    early.advance_to(12_000);
    assert_eq!(seen(&back), seen(&run));
    assert_eq!(seen(&early), seen(&run));
}

#[test]
fn a_checkpoint_is_left_alone_by_the_run_going_on() {
    let mut run = loaded();
    run.advance_to(3_000);
    let mut timeline = Timeline::default();
    timeline.record(&run);
    let before = seen(&run);
    run.act("crash 1");
    run.advance_to(6_000);
    let restored = timeline
        .restore(3_000, run.actions())
        .expect("the checkpoint");
    assert_eq!(seen(&restored), before);
}
