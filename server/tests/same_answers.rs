//! One typed path: an etcdctl line is parsed once into a typed request, and the same request,
//! sent to the simulator's cluster and to a native member (the very `MemberHandle` the gRPC
//! and JSON front ends call), gets answers that print the same, as etcdctl prints them.

use std::collections::BTreeMap;
use std::sync::Arc;

use clap::Parser;
use raftbook_core::etcd::api::{EtcdError, Request, Response};
use raftbook_core::etcd::etcdctl::{self, Action, Invocation};
use raftbook_core::scenario::Scenario;
use raftbook_core::sim::{Cluster, Failure, Outcome};
use raftbook_server::config::MemberArgs;
use raftbook_server::member::{self, MemberHandle};
use raftbook_server::metrics::Metrics;
use raftbook_server::peer::Transport;

/// The syllabus's etcdctl lines: writes, reads at revisions, ranges, a transaction both
/// ways, a delete, a compaction and a read below it.
const LINES: &[&str] = &[
    "put greeting hello",
    "put greeting again",
    "get greeting",
    "get greeting --rev=2",
    "put a 1",
    "put b 2",
    "get a c",
    "get --prefix --keys-only g",
    "get a --print-value-only",
    r#"txn mod("a") = "4" then put a 10; get b else get a"#,
    r#"txn mod("a") = "4" then put a 11 else get a"#,
    "del greeting --prev-kv",
    "get greeting",
    "compaction 4",
    "get greeting --rev=3",
    "get a c --limit=1",
];

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    member: MemberArgs,
}

/// A single native member on free loopback ports (its loop only: the test calls it as the
/// front ends do).
fn native_member(dir: &std::path::Path) -> MemberHandle {
    let ports = raftbook_server::config::free_loopback_ports(2).unwrap();
    let flags = Flags::parse_from([
        "raftbook".to_string(),
        format!("--data-dir={}", dir.display()),
        format!("--listen-client-urls=http://127.0.0.1:{}", ports[0]),
        format!("--listen-peer-urls=http://127.0.0.1:{}", ports[1]),
        format!(
            "--initial-advertise-peer-urls=http://127.0.0.1:{}",
            ports[1]
        ),
        format!("--initial-cluster=default=http://127.0.0.1:{}", ports[1]),
    ]);
    let config = flags.member.resolve().expect("flags");
    let metrics = Arc::new(Metrics::default());
    let (inputs, receiver) = std::sync::mpsc::channel();
    let transport = Transport::new(
        BTreeMap::new(),
        config.cluster_id,
        inputs.clone(),
        metrics.clone(),
        tokio::runtime::Handle::current(),
        Default::default(),
    );
    member::start(
        config,
        metrics,
        inputs,
        receiver,
        transport,
        Default::default(),
    )
    .expect("the member starts")
}

fn simulated(cluster: &mut Cluster, request: Request) -> Result<Response, EtcdError> {
    let leader = cluster.leader().expect("a leader");
    let id = cluster.request(leader, request).expect("sent");
    cluster.run_until(10_000, |c| c.is_answered(id));
    match &cluster.requests()[&id].outcome {
        Outcome::Done { response, .. } => Ok(response.clone()),
        Outcome::Failed {
            failure: Failure::Refused(error),
            ..
        } => Err(error.clone()),
        other => panic!("no etcd answer: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_request_prints_the_same_from_the_simulator_and_a_native_member() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_member(dir.path());
    let mut scenario = Scenario::new();
    assert_eq!(scenario.run_line("cluster nodes=3 seed=1", 1), "");
    assert_eq!(scenario.run_line("wait-leader", 2).lines().count(), 1);
    let cluster = scenario.cluster().expect("a cluster");

    // The native member elects itself within a few ticks; until then it answers "no leader".
    let started = std::time::Instant::now();
    while native.status().await.is_none_or(|s| s.leader == 0) {
        assert!(
            started.elapsed().as_secs() < 10,
            "the native member elects itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut transcript = String::new();
    for line in LINES {
        let words: Vec<String> = raftbook_core::words::split(line)
            .expect("words")
            .into_iter()
            .map(|(word, _)| word)
            .collect();
        let invocation: Invocation = etcdctl::parse(&words).expect("etcdctl parses it");
        let Action::Request(request) = invocation.action.clone() else {
            panic!("{line}: not a request");
        };
        let from_simulator = simulated(cluster, request.clone());
        let from_native = native.request(request).await;
        let printed = |result: &Result<Response, EtcdError>| match result {
            Ok(_) => etcdctl::print_result(&invocation, result),
            Err(error) => etcdctl::print_failure(&invocation, &error.to_string()),
        };
        let (simulator, native) = (printed(&from_simulator), printed(&from_native));
        assert_eq!(simulator, native, "{line}");
        transcript += &format!("> {line}\n{simulator}");
    }
    // Not a vacuous "both printed the same nothing": what both printed, as etcdctl 3.4 does.
    assert_eq!(transcript, EXPECTED, "{transcript}");
}

const EXPECTED: &str = r#"> put greeting hello
OK
> put greeting again
OK
> get greeting
greeting
again
> get greeting --rev=2
greeting
hello
> put a 1
OK
> put b 2
OK
> get a c
a
1
b
2
> get --prefix --keys-only g
greeting

> get a --print-value-only
1
> txn mod("a") = "4" then put a 10; get b else get a
SUCCESS

OK

b
2
> txn mod("a") = "4" then put a 11 else get a
FAILURE

a
10
> del greeting --prev-kv
1
greeting
again
> get greeting
> compaction 4
compacted revision 4
> get greeting --rev=3
Error: etcdserver: mvcc: required revision has been compacted
> get a c --limit=1
a
10
"#;
