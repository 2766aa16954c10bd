//! etcd's alarms, side by side on raftbook and a real etcd 3.4: a `NOSPACE` alarm raised
//! through Maintenance.Alarm (as etcd raises it when its database passes its quota, and as
//! clients' test suites raise it) stops every write that adds data, on every member, until
//! `etcdctl alarm disarm`; reads and deletes go on. etcdctl prints the same on both.

mod common;

use common::{etcdctl, Kind};
use raftbook_server::pb;
use raftbook_server::pb::maintenance_client::MaintenanceClient;

async fn raise_no_space(client: &str) -> pb::AlarmResponse {
    MaintenanceClient::new(common::grpc_channel(client).await)
        .alarm(pb::AlarmRequest {
            action: pb::alarm_request::AlarmAction::Activate as i32,
            member_id: 0,
            alarm: pb::AlarmType::Nospace as i32,
        })
        .await
        .unwrap()
        .into_inner()
}

/// What etcdctl prints through an alarm's life, on a cluster of `kind`.
async fn an_alarm_s_life(kind: Kind) -> Vec<String> {
    let cluster = common::start_cluster(kind, 3).await;
    let endpoints = cluster.endpoints();
    let last = cluster.members[2].client.clone();
    let run = |args: &[&str]| etcdctl(&endpoints, args, None);
    let mut printed = vec![run(&["put", "before", "1"]), run(&["alarm", "list"])];

    let raised = raise_no_space(&cluster.members[0].client).await;
    assert_eq!(raised.alarms.len(), 1, "{kind:?}");
    assert_eq!(raised.alarms[0].alarm, pb::AlarmType::Nospace as i32);

    printed.extend([
        run(&["alarm", "list"]),
        // Every member refuses, not only the one that raised it.
        etcdctl(&last, &["put", "after", "2"], None),
        etcdctl(&endpoints, &["txn"], Some("\nput in-txn 1\n\n\n")),
        run(&["lease", "grant", "60"]),
        run(&["get", "before"]),
        run(&["del", "before"]),
        run(&["alarm", "disarm"]),
        run(&["alarm", "list"]),
        run(&["put", "after", "3"]),
    ]);
    printed
}

#[tokio::test]
async fn a_no_space_alarm_stops_writes_until_disarmed() {
    let ours = an_alarm_s_life(Kind::Raftbook).await;
    let theirs = an_alarm_s_life(Kind::Etcd).await;
    assert_eq!(ours, theirs);
    assert_eq!(ours[2], "alarm:NOSPACE \n");
    for refused in &ours[3..6] {
        assert!(refused.contains("database space exceeded"), "{refused}");
    }
    assert_eq!(ours[6], "before\n1\n", "reads go on");
    assert_eq!(ours[7], "1\n", "a delete still applies");
    assert_eq!(ours[8], "alarm:NOSPACE \n", "disarmed");
    assert_eq!(ours[9], "", "no alarm left");
    assert_eq!(ours[10], "OK\n");
}
