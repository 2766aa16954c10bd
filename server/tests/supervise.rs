//! `raftbook cluster` stops its members when it is stopped, by Ctrl-C or by `kill` (SIGTERM):
//! left running, they would hold the ports the next `raftbook cluster` needs (a learner
//! restarting a lesson's session would meet "address in use").

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{port_free, procfile_ports};

#[test]
fn a_terminated_cluster_stops_its_members() {
    let ports = procfile_ports();
    assert!(
        ports.iter().all(|&p| port_free(p)),
        "another cluster (raftbook or etcd) is running"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut cluster = Command::new(env!("CARGO_BIN_EXE_raftbook"))
        .args(["cluster", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("raftbook cluster starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ports.iter().any(|&p| port_free(p)) {
        assert!(Instant::now() < deadline, "the members never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Keep its terminal open: `Child::wait` would close it, and the supervisor would stop
    // on the end of its input instead of on the signal.
    let _terminal = cluster.stdin.take();
    let terminated = Command::new("kill")
        .args(["-TERM", &cluster.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while cluster.try_wait().expect("a status").is_none() {
        if Instant::now() > deadline {
            let _ = cluster.kill();
            panic!("the supervisor did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ports.iter().all(|&p| port_free(p)) {
        assert!(
            Instant::now() < deadline,
            "the members still hold their ports after the supervisor was terminated"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
