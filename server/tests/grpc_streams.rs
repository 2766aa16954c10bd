//! What etcd's clients rely on in gRPC streams, each checked side by side on raftbook and on a
//! real etcd 3.4 (so the test states etcd's behaviour, not raftbook's idea of it):
//!
//! - one connection carries far more than 200 streams at once: a program's watches and its
//!   other calls share one connection, so with hyper's default limit the 201st call hung;
//! - watch ids belong to the stream: a stream numbers its watches from 0, takes an id a
//!   client chose, refuses one already in use, and cancels only its own.

mod common;

use std::time::Duration;

use common::{Kind, LocalCluster};
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::watch_client::WatchClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::transport::Channel;
use tonic::Streaming;

async fn single(kind: Kind) -> (LocalCluster, Channel) {
    let cluster = common::start_cluster(kind, 1).await;
    let channel = common::grpc_channel(&cluster.members[0].client).await;
    (cluster, channel)
}

/// A watch stream: what to send on it, and what comes back.
struct WatchStream {
    send: mpsc::UnboundedSender<pb::WatchRequest>,
    receive: Streaming<pb::WatchResponse>,
}

impl WatchStream {
    /// Opens a stream whose first request is creating a watch on `key`. (etcd's server
    /// answers the call only once it has something to send, so the request goes first.)
    async fn open(channel: &Channel, key: &str) -> (WatchStream, pb::WatchResponse) {
        let (send, requests) = mpsc::unbounded_channel();
        send.send(create_request(key, 0)).unwrap();
        let mut client = WatchClient::new(channel.clone());
        let call = client.watch(UnboundedReceiverStream::new(requests));
        let receive = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the connection takes another stream within 5 s")
            .unwrap()
            .into_inner();
        let mut stream = WatchStream { send, receive };
        let created = stream.next().await;
        (stream, created)
    }

    async fn create(&mut self, key: &str, watch_id: i64) -> pb::WatchResponse {
        self.send.send(create_request(key, watch_id)).unwrap();
        self.next().await
    }

    async fn cancel(&mut self, watch_id: i64) -> pb::WatchResponse {
        use pb::watch_request::RequestUnion;
        let cancel = pb::WatchCancelRequest { watch_id };
        self.send
            .send(pb::WatchRequest {
                request_union: Some(RequestUnion::CancelRequest(cancel)),
            })
            .unwrap();
        self.next().await
    }

    async fn next(&mut self) -> pb::WatchResponse {
        tokio::time::timeout(Duration::from_secs(5), self.receive.message())
            .await
            .expect("a response within 5 s")
            .unwrap()
            .expect("the stream is open")
    }
}

fn create_request(key: &str, watch_id: i64) -> pb::WatchRequest {
    let create = pb::WatchCreateRequest {
        key: key.into(),
        watch_id,
        ..Default::default()
    };
    pb::WatchRequest {
        request_union: Some(pb::watch_request::RequestUnion::CreateRequest(create)),
    }
}

async fn put(channel: &Channel, key: &str, value: &str) {
    let mut kv = KvClient::new(channel.clone());
    let put = kv.put(pb::PutRequest {
        key: key.into(),
        value: value.into(),
        ..Default::default()
    });
    tokio::time::timeout(Duration::from_secs(5), put)
        .await
        .expect("the put is not held behind the open streams")
        .unwrap();
}

async fn many_streams_share_one_connection(kind: Kind) {
    let (_cluster, channel) = single(kind).await;
    let mut streams = Vec::new();
    for _ in 0..300 {
        let (stream, created) = WatchStream::open(&channel, "crowded").await;
        assert!(created.created);
        streams.push(stream);
    }
    put(&channel, "crowded", "yes").await;
    for stream in &mut streams {
        let response = stream.next().await;
        assert_eq!(response.events[0].kv.as_ref().unwrap().value, b"yes");
    }
}

#[tokio::test]
async fn three_hundred_watch_streams_and_a_put_share_one_connection() {
    many_streams_share_one_connection(Kind::Raftbook).await;
    many_streams_share_one_connection(Kind::Etcd).await;
}

async fn watch_ids_belong_to_their_stream(kind: Kind) {
    let (_cluster, channel) = single(kind).await;
    // Each stream numbers its own watches from 0.
    let (mut first, created) = WatchStream::open(&channel, "a").await;
    assert_eq!(created.watch_id, 0, "{kind:?}");
    assert_eq!(first.create("a", 0).await.watch_id, 1, "{kind:?}");
    let (mut second, created) = WatchStream::open(&channel, "a").await;
    assert_eq!(created.watch_id, 0, "{kind:?}");

    // An id the client chose is kept; the same id again is refused, with etcd's reason.
    assert_eq!(first.create("b", 7).await.watch_id, 7, "{kind:?}");
    let refused = first.create("c", 7).await;
    assert!(refused.created && refused.canceled, "{kind:?}: {refused:?}");
    assert_eq!(refused.watch_id, -1, "{kind:?}");
    assert_eq!(
        refused.cancel_reason, "mvcc: duplicate watch ID provided on the WatchStream",
        "{kind:?}"
    );

    // Cancelling 0 on the second stream leaves the first stream's 0 watching.
    let canceled = second.cancel(0).await;
    assert!(canceled.canceled, "{kind:?}");
    assert_eq!(canceled.watch_id, 0, "{kind:?}");
    put(&channel, "a", "seen").await;
    let mut heard = Vec::new();
    for _ in 0..2 {
        let response = first.next().await;
        assert_eq!(response.events.len(), 1, "{kind:?}");
        heard.push(response.watch_id);
    }
    heard.sort();
    assert_eq!(heard, [0, 1], "{kind:?}");
    put(&channel, "b", "seen").await;
    assert_eq!(first.next().await.watch_id, 7, "{kind:?}");

    // A cancelled watch's id is not given again.
    assert!(first.cancel(1).await.canceled, "{kind:?}");
    assert_eq!(first.create("d", 0).await.watch_id, 2, "{kind:?}");
}

#[tokio::test]
async fn watch_ids_are_numbered_per_stream_and_a_duplicate_is_refused() {
    watch_ids_belong_to_their_stream(Kind::Raftbook).await;
    watch_ids_belong_to_their_stream(Kind::Etcd).await;
}
