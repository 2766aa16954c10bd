//! Durability on disk: with `--snapshot-count`, a member snapshots, starts a new WAL segment
//! and removes the old ones; after `kill -9` it comes back from the snapshot and the WAL with
//! everything it had acknowledged, at the same revision.

mod common;

use common::{etcdctl, Kind, LocalCluster};

fn files(dir: &std::path::Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

#[test]
fn snapshots_rotate_the_wal_and_a_killed_member_comes_back_whole() {
    let mut cluster = LocalCluster::start_with(Kind::Raftbook, 1, &["--snapshot-count=10"]);
    let endpoints = cluster.endpoints();
    for i in 0..55 {
        assert_eq!(etcdctl(&endpoints, &["put", &format!("key{i:02}"), &format!("value{i}")], None), "OK\n");
    }
    let before = etcdctl(&endpoints, &["get", "key", "--prefix", "-w", "json"], None);
    let member = cluster.data_dir(0).join("member");
    let segments = files(&member.join("wal"), ".wal");
    let snapshots = files(&member.join("snap"), ".snap");
    assert_eq!(segments.len(), 1, "old segments are removed: {segments:?}");
    assert_eq!(snapshots.len(), 1, "old snapshots are removed: {snapshots:?}");
    assert_ne!(segments[0], "0000000000000001.wal", "the WAL moved on to a new segment");

    cluster.kill(0);
    cluster.start_member(0);
    cluster.wait_healthy();
    let after = etcdctl(&endpoints, &["get", "key", "--prefix", "-w", "json"], None);
    // Same keys, values and revisions; only the term may have moved on.
    let strip_term = |s: &str| regex::Regex::new(r#""raft_term":\d+"#).unwrap().replace_all(s, "").into_owned();
    assert_eq!(strip_term(&after), strip_term(&before));
    assert!(after.contains("\"count\":55"), "{after}");
    assert!(cluster.log(0).contains("recovered from the WAL"), "{}", cluster.log(0));
}
