//! Determinism: one seed and one list of actions give one run, byte for byte, natively and
//! in WASM. The hash of `determinism.txt`'s trace and output is pinned below; this test also runs under
//! `wasm-bindgen-test` (`cargo test --target wasm32-unknown-unknown --test determinism`), so
//! the same pinned hash proves that both platforms produce the same run.
//!
//! An intended change to the simulator's behaviour changes the hash: update it here.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use raftbook_core::scenario::Scenario;

const SCRIPT: &str = include_str!("determinism.txt");
const PINNED_TRACE_HASH: &str = "c813bb23feb4f1a6c907005682533879ace3f94c78c66b760a0c07b17541cb53";

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
