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
//! - [`panels`]: logs, the selected member's state machine, the console, safety checks;
//! - [`notebook`]: a lesson beside the cluster: cells that drive it, predictions, exercises.

mod app;
mod cluster_svg;
mod i18n;
mod model;
mod notebook;
mod panels;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
