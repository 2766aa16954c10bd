//! What a member shows of itself over HTTP on the client port: `/health`, `/metrics` with
//! etcd's metric names, and `/status` with the same observation data the simulator gives.

mod common;

use common::{etcdctl, Kind, LocalCluster};

#[tokio::test]
async fn health_metrics_and_status() {
    let cluster = tokio::task::spawn_blocking(|| LocalCluster::start(Kind::Raftbook, 3))
        .await
        .unwrap();
    let endpoints = cluster.endpoints();
    let put =
        tokio::task::spawn_blocking(move || etcdctl(&endpoints, &["put", "seen", "yes"], None))
            .await
            .unwrap();
    assert_eq!(put, "OK\n");
    let http = reqwest::Client::new();
    let base = format!("http://{}", cluster.members[0].client);

    let health: serde_json::Value = http
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["health"], "true");

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "etcd_server_has_leader 1",
        "etcd_server_leader_changes_seen_total",
        "etcd_server_proposals_committed_total",
        "etcd_disk_wal_fsync_duration_seconds_bucket",
        "etcd_disk_wal_fsync_duration_seconds_count",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }

    let status: serde_json::Value = http
        .get(format!("{base}/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ["leader", "follower"].contains(&status["node"]["raft"]["role"].as_str().unwrap()),
        "{status}"
    );
    assert!(
        status["node"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "put seen=yes"),
        "{status}"
    );
    assert!(
        status["store"]["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["key"] == "seen" && k["value"] == "yes"),
        "{status}"
    );
}
