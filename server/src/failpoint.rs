//! Failpoints: faults a test switches on inside a running member, as etcd's robustness tests
//! switch on gofail failpoints in a special build. They exist only in a member started with
//! the hidden flag `--failpoints`; otherwise no route reaches them.
//!
//! - `POST /failpoints/isolate?ms=N` (client port) cuts the member off from its peers for N
//!   milliseconds, as a network partition would: every Raft message, snapshot and lease
//!   forward, sent or received, is dropped. Its clients can still reach it, which is what
//!   makes a partition interesting: a cut-off leader still takes requests it cannot commit.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::post;
use axum::Router;

#[derive(Default)]
pub struct Failpoints {
    isolated_until: Mutex<Option<Instant>>,
}

impl Failpoints {
    /// Whether the member is cut off from its peers now.
    pub fn isolated(&self) -> bool {
        let until = *self.isolated_until.lock().expect("not poisoned");
        until.is_some_and(|until| Instant::now() < until)
    }

    fn isolate_for(&self, duration: Duration) {
        *self.isolated_until.lock().expect("not poisoned") = Some(Instant::now() + duration);
    }
}

#[derive(serde::Deserialize)]
struct Isolate {
    ms: u64,
}

/// The failpoints' routes, for the client port of a member started with `--failpoints`.
pub fn router(failpoints: Arc<Failpoints>) -> Router {
    Router::new()
        .route("/failpoints/isolate", post(isolate))
        .with_state(failpoints)
}

async fn isolate(State(failpoints): State<Arc<Failpoints>>, Query(isolate): Query<Isolate>) {
    tracing::warn!(ms = isolate.ms, "failpoint: cut off from the peers");
    failpoints.isolate_for(Duration::from_millis(isolate.ms));
}
