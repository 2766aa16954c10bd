//! Failpoints: faults a test switches on inside a running member, as etcd's robustness tests
//! switch on gofail failpoints in a special build. They exist only in a member started with
//! the hidden flag `--failpoints`; otherwise no route reaches them.
//!
//! - `POST /failpoints/isolate?ms=N` (client port) cuts the member off from its peers for N
//!   milliseconds, as a network partition would: every Raft message, snapshot and lease
//!   forward, sent or received, is dropped. Its clients can still reach it, which is what
//!   makes a partition interesting: a cut-off leader still takes requests it cannot commit.
//! - `POST /failpoints/slow-fsync?ms=N` makes every fsync of the WAL take N milliseconds
//!   longer (0: back to normal), as a slow disk would. The member's loop waits meanwhile, as
//!   it waits for a real fsync; a test uses it to see that a follower acknowledges nothing
//!   before its fsync has returned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::post;
use axum::Router;

#[derive(Default)]
pub struct Failpoints {
    isolated_until: Mutex<Option<Instant>>,
    /// Added to every fsync, in milliseconds.
    fsync_delay_ms: AtomicU64,
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

    /// Called by the member before each fsync: waits as long as `slow-fsync` says.
    pub fn before_fsync(&self) {
        let ms = self.fsync_delay_ms.load(Ordering::Relaxed);
        if ms > 0 {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}

/// A failpoint's duration: `?ms=N`.
#[derive(serde::Deserialize)]
struct Millis {
    ms: u64,
}

/// The failpoints' routes, for the client port of a member started with `--failpoints`.
pub fn router(failpoints: Arc<Failpoints>) -> Router {
    Router::new()
        .route("/failpoints/isolate", post(isolate))
        .route("/failpoints/slow-fsync", post(slow_fsync))
        .with_state(failpoints)
}

async fn isolate(State(failpoints): State<Arc<Failpoints>>, Query(isolate): Query<Millis>) {
    tracing::warn!(ms = isolate.ms, "failpoint: cut off from the peers");
    failpoints.isolate_for(Duration::from_millis(isolate.ms));
}

async fn slow_fsync(State(failpoints): State<Arc<Failpoints>>, Query(delay): Query<Millis>) {
    tracing::warn!(ms = delay.ms, "failpoint: every fsync takes longer");
    failpoints.fsync_delay_ms.store(delay.ms, Ordering::Relaxed);
}
