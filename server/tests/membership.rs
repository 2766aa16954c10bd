//! Membership through etcdctl: add a member as a learner, start it (it joins the running
//! cluster and catches up), promote it, remove it; `member list` shows each step.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{etcdctl, free_ports, Kind, LocalCluster};

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_member_is_added_as_learner_promoted_and_removed() {
    let cluster = LocalCluster::start(Kind::Raftbook, 3);
    let endpoints = cluster.endpoints();
    assert_eq!(
        etcdctl(&endpoints, &["put", "before", "join"], None),
        "OK\n"
    );

    let ports = free_ports(2);
    let (client, peer) = (ports[0], ports[1]);
    let peer_url = format!("http://127.0.0.1:{peer}");
    let added = etcdctl(
        &endpoints,
        &[
            "member",
            "add",
            "m4",
            &format!("--peer-urls={peer_url}"),
            "--learner",
        ],
        None,
    );
    assert!(
        added.starts_with("Member ") && added.contains(" added to cluster "),
        "{added}"
    );
    assert!(
        added.contains("ETCD_NAME=\"m4\"")
            && added.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""),
        "{added}"
    );
    let initial = added
        .lines()
        .find_map(|l| l.strip_prefix("ETCD_INITIAL_CLUSTER="))
        .expect("the initial cluster to use")
        .trim_matches('"')
        .to_string();
    let id = added.split_whitespace().nth(1).unwrap().to_string();
    let listed = etcdctl(&endpoints, &["member", "list"], None);
    assert!(
        listed.contains(&format!("{id}, unstarted, , {peer_url}, , true")),
        "{listed}"
    );

    // Start it the way etcdctl said.
    let mut joiner = Command::new(env!("CARGO_BIN_EXE_raftbook"))
        .args([
            "--name=m4".to_string(),
            format!("--data-dir={}", cluster.dir.path().join("m4").display()),
            format!("--listen-client-urls=http://127.0.0.1:{client}"),
            format!("--advertise-client-urls=http://127.0.0.1:{client}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster={initial}"),
            "--initial-cluster-token=test-cluster".into(),
            "--initial-cluster-state=existing".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let m4 = format!("127.0.0.1:{client}");
    wait_for("the learner to catch up", || {
        etcdctl(&m4, &["get", "before", "--consistency=s"], None) == "before\njoin\n"
    });
    wait_for("the learner listed as started", || {
        etcdctl(&endpoints, &["member", "list"], None)
            .contains(&format!("{id}, started, m4, {peer_url}, http://{m4}, true"))
    });

    let promoted = etcdctl(&endpoints, &["member", "promote", &id], None);
    // etcdctl prints ids with `%16x`: an id of fewer hex digits comes padded with spaces.
    let words = promoted.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("Member {id} promoted in cluster")),
        "{promoted}"
    );
    assert!(
        etcdctl(&endpoints, &["member", "list"], None).contains(&format!(
            "{id}, started, m4, {peer_url}, http://{m4}, false"
        ))
    );
    assert_eq!(
        etcdctl(
            &format!("{endpoints},{m4}"),
            &["put", "after", "promote"],
            None
        ),
        "OK\n"
    );

    let removed = etcdctl(&endpoints, &["member", "remove", &id], None);
    assert!(
        removed
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(&format!("Member {id} removed from cluster")),
        "{removed}"
    );
    let listed = etcdctl(&endpoints, &["member", "list"], None);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(!listed.contains(&id));
    let _ = joiner.kill();
    let _ = joiner.wait();
}
