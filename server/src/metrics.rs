//! What `/metrics` reports, in Prometheus's text format, with etcd's metric names where etcd
//! has them. The member loop updates these; HTTP handlers read them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// fsync latency buckets, in seconds (etcd's wal_fsync_duration_seconds uses 0.001 × 2^n).
const BUCKETS: [f64; 14] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192,
];

#[derive(Default)]
pub struct Metrics {
    pub has_leader: AtomicU64,
    pub is_leader: AtomicU64,
    pub leader_changes_seen: AtomicU64,
    pub proposals_committed: AtomicU64,
    pub proposals_applied: AtomicU64,
    pub proposals_failed: AtomicU64,
    pub current_term: AtomicU64,
    pub snapshots_taken: AtomicU64,
    pub peer_messages_sent: AtomicU64,
    pub peer_send_failures: AtomicU64,
    /// (bucket counts, sum, count)
    fsync: Mutex<([u64; BUCKETS.len()], f64, u64)>,
}

impl Metrics {
    pub fn observe_fsync(&self, seconds: f64) {
        let mut fsync = self.fsync.lock().expect("not poisoned");
        for (bucket, bound) in fsync.0.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        fsync.1 += seconds;
        fsync.2 += 1;
    }

    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        metric(
            "etcd_server_has_leader",
            "gauge",
            "Whether or not a leader exists. 1 is existence, 0 is not.",
            get(&self.has_leader),
        );
        metric(
            "etcd_server_is_leader",
            "gauge",
            "Whether or not this member is a leader. 1 if is, 0 otherwise.",
            get(&self.is_leader),
        );
        metric(
            "etcd_server_leader_changes_seen_total",
            "counter",
            "The number of leader changes seen.",
            get(&self.leader_changes_seen),
        );
        metric(
            "etcd_server_proposals_committed_total",
            "gauge",
            "The total number of consensus proposals committed.",
            get(&self.proposals_committed),
        );
        metric(
            "etcd_server_proposals_applied_total",
            "gauge",
            "The total number of consensus proposals applied.",
            get(&self.proposals_applied),
        );
        metric(
            "etcd_server_proposals_failed_total",
            "counter",
            "The total number of failed proposals seen.",
            get(&self.proposals_failed),
        );
        metric(
            "etcd_server_current_term",
            "gauge",
            "The current Raft term.",
            get(&self.current_term),
        );
        metric(
            "raftbook_snapshots_taken_total",
            "counter",
            "Snapshots this member took of its state machine.",
            get(&self.snapshots_taken),
        );
        metric(
            "etcd_network_peer_sent_messages_total",
            "counter",
            "Raft messages sent to peers.",
            get(&self.peer_messages_sent),
        );
        metric(
            "etcd_network_peer_sent_failures_total",
            "counter",
            "Failed sends to peers.",
            get(&self.peer_send_failures),
        );
        let fsync = self.fsync.lock().expect("not poisoned");
        out.push_str("# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.\n");
        out.push_str("# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n");
        for (count, bound) in fsync.0.iter().zip(BUCKETS) {
            out.push_str(&format!(
                "etcd_disk_wal_fsync_duration_seconds_bucket{{le=\"{bound}\"}} {count}\n"
            ));
        }
        out.push_str(&format!(
            "etcd_disk_wal_fsync_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
            fsync.2
        ));
        out.push_str(&format!(
            "etcd_disk_wal_fsync_duration_seconds_sum {}\n",
            fsync.1
        ));
        out.push_str(&format!(
            "etcd_disk_wal_fsync_duration_seconds_count {}\n",
            fsync.2
        ));
        out
    }
}
