//! Durability on disk: with `--snapshot-count`, a member snapshots, starts a new WAL segment
//! and removes the old ones; after `kill -9` it comes back from the snapshot and the WAL with
//! everything it had acknowledged, at the same revision. And a follower acknowledges an
//! entry only once its fsync has returned, however the member batches its work.

mod common;

use std::time::{Duration, Instant};

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
        assert_eq!(
            etcdctl(
                &endpoints,
                &["put", &format!("key{i:02}"), &format!("value{i}")],
                None
            ),
            "OK\n"
        );
    }
    let before = etcdctl(&endpoints, &["get", "key", "--prefix", "-w", "json"], None);
    let member = cluster.data_dir(0).join("member");
    let segments = files(&member.join("wal"), ".wal");
    let snapshots = files(&member.join("snap"), ".snap");
    assert_eq!(segments.len(), 1, "old segments are removed: {segments:?}");
    assert_eq!(
        snapshots.len(),
        1,
        "old snapshots are removed: {snapshots:?}"
    );
    assert_ne!(
        segments[0], "0000000000000001.wal",
        "the WAL moved on to a new segment"
    );

    cluster.kill(0);
    cluster.start_member(0);
    cluster.wait_healthy();
    let after = etcdctl(&endpoints, &["get", "key", "--prefix", "-w", "json"], None);
    // Same keys, values and revisions; only the term may have moved on.
    let strip_term = |s: &str| {
        regex::Regex::new(r#""raft_term":\d+"#)
            .unwrap()
            .replace_all(s, "")
            .into_owned()
    };
    assert_eq!(strip_term(&after), strip_term(&before));
    assert!(after.contains("\"count\":55"), "{after}");
    assert!(
        cluster.log(0).contains("recovered from the WAL"),
        "{}",
        cluster.log(0)
    );
}

#[test]
fn a_member_far_behind_catches_up_from_a_streamed_snapshot() {
    let mut cluster = LocalCluster::start_with(Kind::Raftbook, 3, &["--snapshot-count=20"]);
    // A follower falls behind (so no election gets in the way of the writes).
    let status = etcdctl(&cluster.endpoints(), &["endpoint", "status"], None);
    let lagging = status
        .lines()
        .position(|l| l.contains(", false, false,"))
        .expect("a follower");
    cluster.kill(lagging);
    let endpoints = cluster
        .members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lagging)
        .map(|(_, m)| m.client.clone())
        .collect::<Vec<_>>()
        .join(",");
    // 120 values of 20 kB: the snapshot (over 2 MB) is larger than any one default HTTP body.
    let value = "v".repeat(20_000);
    for i in 0..120 {
        // A put that times out may be retried: it writes the same value.
        let put = || etcdctl(&endpoints, &["put", &format!("big{i:03}"), &value], None);
        assert!((0..3).any(|_| put() == "OK\n"), "put {i} kept failing");
    }
    cluster.start_member(lagging);
    let lagging_endpoint = cluster.members[lagging].client.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let got = etcdctl(
            &lagging_endpoint,
            &["get", "big119", "--consistency=s", "--print-value-only"],
            None,
        );
        if got.trim() == value {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lagging member did not catch up"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        cluster
            .log(lagging)
            .contains("installed a snapshot from the leader"),
        "{}",
        cluster.log(lagging)
    );
    let count = etcdctl(
        &lagging_endpoint,
        &["get", "big", "--prefix", "--keys-only", "--consistency=s"],
        None,
    );
    assert_eq!(count.lines().filter(|l| !l.is_empty()).count(), 120);
}

/// Whether member `i` is the leader, from `etcdctl endpoint status` (its fifth column).
fn is_leader(cluster: &LocalCluster, i: usize) -> bool {
    let status = etcdctl(&cluster.members[i].client, &["endpoint", "status"], None);
    status.split(", ").nth(4) == Some("true")
}

#[test]
fn a_follower_acknowledges_only_entries_it_has_fsynced() {
    // Shorter than the election timeout (1 s), so the slowed followers stay in touch.
    const SLOW: Duration = Duration::from_millis(800);
    let cluster = LocalCluster::start_with(Kind::Raftbook, 3, &["--failpoints"]);
    let leader = (0..3).find(|&i| is_leader(&cluster, i)).expect("a leader");
    let followers: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let put = |value: &str| {
        let started = Instant::now();
        let answer = etcdctl(&cluster.members[leader].client, &["put", "k", value], None);
        assert_eq!(answer, "OK\n");
        started.elapsed()
    };
    put("warm up");

    // One slow follower: the other one's acknowledgement makes the majority.
    cluster.failpoint(followers[0], "slow-fsync", SLOW.as_millis() as u64);
    let one_slow = put("one slow disk");
    assert!(
        one_slow < SLOW,
        "the fast follower's ack commits it: {one_slow:?}"
    );

    // Both slow: the put must wait for a follower's fsync. A follower that acknowledged
    // before its fsync returned would let it through sooner.
    cluster.failpoint(followers[1], "slow-fsync", SLOW.as_millis() as u64);
    let both_slow = put("two slow disks");
    assert!(
        both_slow >= SLOW,
        "committed before any follower's fsync: {both_slow:?}"
    );
}
