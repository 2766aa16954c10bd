//! Backups, round trip: real `etcdctl snapshot save` from a raftbook cluster, `raftbook
//! snapshot restore` of that file into every member of a new cluster, and the new cluster
//! holds the same keys, history (the same `hashkv`), compaction point and leases, under new
//! members; it then takes writes. Bad input is refused with its reason and creates nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{clean, etcdctl, Kind, LocalCluster};

fn restore(file: &Path, member_args: &[String]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_raftbook"))
        .args(["snapshot", "restore"])
        .arg(file)
        .args(member_args)
        .output()
        .unwrap();
    (output.status.success(), clean(&output))
}

/// What the keys, their history and the leases look like, member ids aside.
fn contents(cluster: &LocalCluster) -> Vec<String> {
    let endpoints = cluster.endpoints();
    let json = etcdctl(&endpoints, &["get", "--prefix", "", "-w", "json"], None);
    let read: serde_json::Value = serde_json::from_str(&json).expect(&json);
    let hashkv = etcdctl(&endpoints, &["endpoint", "hashkv", "--rev=6"], None);
    let hashes: Vec<&str> = hashkv
        .lines()
        .map(|line| line.rsplit(", ").next().unwrap())
        .collect();
    vec![
        format!("kvs {}", read["kvs"]),
        format!("revision {}", read["header"]["revision"]),
        format!("hashes at 6 {hashes:?}"),
        etcdctl(&endpoints, &["get", "k", "--rev=2"], None),
        etcdctl(&endpoints, &["lease", "list"], None),
    ]
}

#[test]
fn a_saved_snapshot_starts_a_new_cluster_with_the_same_keys_history_and_leases() {
    let backup = tempfile::tempdir().unwrap();
    let file = backup.path().join("backup.db");

    let original = LocalCluster::start(Kind::Raftbook, 3);
    let endpoints = original.endpoints();
    let lease = etcdctl(&endpoints, &["lease", "grant", "600"], None);
    let lease = lease.split_whitespace().nth(1).unwrap().to_string();
    for args in [
        vec!["put", "k", "1"],
        vec!["put", "k", "2"],
        vec!["put", "other", "x"],
        vec!["put", "k", "3"],
        vec!["put", "leased", "y", "--lease", &lease],
        vec!["compaction", "3"],
    ] {
        etcdctl(&endpoints, &args, None);
    }
    let first = original.members[0].client.clone();
    let saved = etcdctl(&first, &["snapshot", "save", file.to_str().unwrap()], None);
    assert!(saved.contains("Snapshot saved at"), "{saved}");
    let before = contents(&original);
    drop(original);

    // A new cluster: other ports, so other member ids.
    let mut restored = LocalCluster::prepare(Kind::Raftbook, 3, &[]);
    for member in &restored.members {
        let (ok, said) = restore(&file, &member.args);
        assert!(ok, "{said}");
        assert!(said.contains("revision 6"), "{said}");
    }
    for i in 0..3 {
        restored.start_member(i);
    }
    restored.wait_healthy();
    let after = contents(&restored);
    assert_eq!(after, before);
    assert!(before[3].contains("compacted"), "{}", before[3]);

    // New members, and the log goes on from the saved revision.
    let members = etcdctl(&restored.endpoints(), &["member", "list"], None);
    assert_eq!(members.lines().count(), 3, "{members}");
    for name in ["m1", "m2", "m3"] {
        assert!(
            members.contains(&format!(", started, {name}, ")),
            "{members}"
        );
    }
    let put = etcdctl(
        &restored.endpoints(),
        &["put", "new", "z", "-w", "json"],
        None,
    );
    assert!(put.contains("\"revision\":7"), "{put}");

    // Restoring over a member's data directory is refused, and leaves it as it was.
    let (ok, said) = restore(&file, &restored.members[0].args);
    assert!(!ok);
    assert!(
        said.contains("exists: restore into a new directory"),
        "{said}"
    );
}

#[test]
fn a_damaged_snapshot_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let prepared = LocalCluster::prepare(Kind::Raftbook, 1, &[]);
    let mut bytes = vec![0u8; 512];
    bytes[..8].copy_from_slice(b"RBSNAP01");
    bytes.extend_from_slice(&[0u8; 32]); // a SHA-256 that does not match
    std::fs::write(&file, &bytes).unwrap();
    let (ok, said) = restore(&file, &prepared.members[0].args);
    assert!(!ok);
    assert!(said.contains("the file is damaged"), "{said}");
    assert!(!prepared.data_dir(0).exists());

    std::fs::write(&file, b"not a snapshot").unwrap();
    let (ok, said) = restore(&file, &prepared.members[0].args);
    assert!(!ok);
    assert!(said.contains("not a raftbook snapshot"), "{said}");
    assert!(!prepared.data_dir(0).exists());
}
