//! The raftbook playground in the browser: a simulated cluster a learner can poke at.
//!
//! All cluster logic is `raftbook-core`'s [`Console`](raftbook_core::scenario::console::Console):
//! this crate only draws it and turns clicks into the same scenario commands a learner could
//! type. So every click is an action in the run's action list, and the run can be replayed,
//! scrubbed back in time and shared as a URL.
//!
//! - [`model`]: the playground's state: the console, the clock (play, pause, speed, step,
//!   scrubbing) and the URL;
//! - [`app`]: the page and its controls;
//! - [`cluster_svg`]: nodes, links and messages in flight;
//! - [`message_slots`]: where each message in flight is drawn, and its words;
//! - [`panels`]: logs, the selected member's state machine, the console, safety checks;
//! - [`notebook`]: a lesson beside the cluster: cells that drive it, predictions, exercises;
//! - [`lesson_files`]: the lessons, fetched from beside the page.

mod app;
mod cluster_svg;
mod i18n;
mod lesson_files;
mod message_slots;
mod model;
mod notebook;
mod panels;

use raftbook_core::sim::{raft_alone, workload};

/// The simulator's benchmark in this WASM module: runs [`workload::steady_puts`] for `seconds`
/// of virtual time on a fresh [`workload::cluster`] and returns the virtual seconds it
/// covered. The page does not call it: `cargo xtask bench-web` does, timing it from
/// JavaScript, to compare with the native `cargo bench -p raftbook-core`.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_simulator(seconds: u32) -> f64 {
    let mut cluster = workload::cluster();
    let start = cluster.now();
    workload::steady_puts(&mut cluster, u64::from(seconds));
    assert!(cluster.violation().is_none(), "the benchmark run is safe");
    (cluster.now() - start) as f64 / 1000.0
}

/// raft-rs alone on the same workload in this WASM module ([`raft_alone::run`]), the floor
/// under [`bench_simulator`]: the virtual seconds it covered, timed from JavaScript.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_raft_alone(seconds: u32) -> f64 {
    raft_alone::run(u64::from(seconds)).0
}

/// The bytes of linear memory this module holds now (WASM memory only grows): for
/// `cargo xtask bench-web`'s memory figure.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        (core::arch::wasm32::memory_size(0) * 65536) as f64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

fn main() {
    yew::Renderer::<app::App>::new().render();
}
