//! Maintenance `HashKV` and `Hash` on a native cluster: every member gives the same hash of
//! the same history (how a learner sees that members agree), a past revision hashes only the
//! history up to it, a compacted one is refused with etcd's error, and `Hash` is `HashKV` now.

mod common;

use common::Kind;
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::maintenance_client::MaintenanceClient;

#[tokio::test]
async fn members_agree_on_the_hash_of_the_same_history() {
    let cluster = common::start_cluster(Kind::Raftbook, 3).await;
    let mut kv = KvClient::new(common::grpc_channel(&cluster.members[0].client).await);
    for (key, value) in [("a", "1"), ("b", "2"), ("a", "3")] {
        kv.put(pb::PutRequest {
            key: key.into(),
            value: value.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    // Let the followers apply what the leader answered.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut hashes = Vec::new();
    let mut at_3 = Vec::new();
    for member in &cluster.members {
        let mut maintenance = MaintenanceClient::new(common::grpc_channel(&member.client).await);
        let now = maintenance
            .hash_kv(pb::HashKvRequest { revision: 0 })
            .await
            .unwrap()
            .into_inner();
        let hash = maintenance
            .hash(pb::HashRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            hash.hash, now.hash,
            "Hash is HashKV at the current revision"
        );
        hashes.push(now.hash);
        at_3.push(
            maintenance
                .hash_kv(pb::HashKvRequest { revision: 3 })
                .await
                .unwrap()
                .into_inner()
                .hash,
        );
    }
    assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
    assert!(at_3.iter().all(|h| *h == at_3[0]), "{at_3:?}");
    assert_ne!(hashes[0], at_3[0], "revision 4 changed the history");

    kv.compact(pb::CompactionRequest {
        revision: 3,
        physical: false,
    })
    .await
    .unwrap();
    let mut maintenance =
        MaintenanceClient::new(common::grpc_channel(&cluster.members[0].client).await);
    let refused = maintenance
        .hash_kv(pb::HashKvRequest { revision: 2 })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::OutOfRange);
    assert_eq!(
        refused.message(),
        "etcdserver: mvcc: required revision has been compacted"
    );
    let future = maintenance
        .hash_kv(pb::HashKvRequest { revision: 99 })
        .await
        .unwrap_err();
    assert_eq!(
        future.message(),
        "etcdserver: mvcc: required revision is a future revision"
    );
}
