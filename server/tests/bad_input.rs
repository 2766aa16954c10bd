//! Bad input gets a clear error, the member keeps running, and nothing is lost: oversize
//! requests, empty keys, unknown leases, malformed JSON on the gateway, garbage on the peer
//! port.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{Kind, LocalCluster};
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;

struct Single {
    cluster: LocalCluster,
    kv: KvClient<tonic::transport::Channel>,
}

async fn single() -> Single {
    let cluster = common::start_cluster(Kind::Raftbook, 1).await;
    let channel = common::grpc_channel(&cluster.members[0].client).await;
    let mut kv = KvClient::new(channel).max_encoding_message_size(8 << 20);
    kv.put(pb::PutRequest {
        key: b"keep".to_vec(),
        value: b"me".to_vec(),
        ..Default::default()
    })
    .await
    .unwrap();
    Single { cluster, kv }
}

impl Single {
    /// The member still answers, and still holds what it held.
    async fn intact(&mut self) {
        let read = self
            .kv
            .range(pb::RangeRequest {
                key: b"keep".to_vec(),
                ..Default::default()
            })
            .await
            .expect("the member still answers");
        assert_eq!(read.get_ref().kvs[0].value, b"me");
    }

    fn peer_url(&self) -> String {
        let arg = self.cluster.members[0]
            .args
            .iter()
            .find(|a| a.starts_with("--listen-peer-urls="))
            .unwrap();
        arg.trim_start_matches("--listen-peer-urls=").to_string()
    }
}

fn assert_status(
    result: Result<tonic::Response<impl std::fmt::Debug>, tonic::Status>,
    code: tonic::Code,
    message: &str,
) {
    let status = result.expect_err("refused");
    assert_eq!((status.code(), status.message()), (code, message));
}

#[tokio::test]
async fn an_oversize_request_is_refused() {
    let mut s = single().await;
    let big = pb::PutRequest {
        key: b"big".to_vec(),
        value: vec![b'x'; 2 << 20],
        ..Default::default()
    };
    assert_status(
        s.kv.put(big).await,
        tonic::Code::InvalidArgument,
        "etcdserver: request is too large",
    );
    s.intact().await;
}

#[tokio::test]
async fn an_empty_key_is_refused() {
    let mut s = single().await;
    assert_status(
        s.kv.put(pb::PutRequest {
            value: b"x".to_vec(),
            ..Default::default()
        })
        .await,
        tonic::Code::InvalidArgument,
        "etcdserver: key is not provided",
    );
    assert_status(
        s.kv.range(pb::RangeRequest::default()).await,
        tonic::Code::InvalidArgument,
        "etcdserver: key is not provided",
    );
    s.intact().await;
}

#[tokio::test]
async fn an_unknown_lease_is_refused() {
    let mut s = single().await;
    let put = pb::PutRequest {
        key: b"k".to_vec(),
        value: b"v".to_vec(),
        lease: 0x1234,
        ..Default::default()
    };
    assert_status(
        s.kv.put(put).await,
        tonic::Code::NotFound,
        "etcdserver: requested lease not found",
    );
    s.intact().await;
}

#[tokio::test]
async fn malformed_json_on_the_gateway_is_a_clear_400() {
    let mut s = single().await;
    let url = format!("http://{}/v3/kv/put", s.cluster.members[0].client);
    let http = reqwest::Client::new();
    let response = http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("malformed JSON request"), "{body}");
    let response = http
        .post(&url)
        .body(r#"{"key":"!!!","value":"eA=="}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("bad base64"));
    // A good request still works.
    let response = http
        .post(&url)
        .body(r#"{"key":"Zm9v","value":"YmFy"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    s.intact().await;
}

#[tokio::test]
async fn garbage_on_the_peer_port_is_refused() {
    let mut s = single().await;
    let http = reqwest::Client::new();
    let raft = format!("{}/raft", s.peer_url());
    // Not from this cluster.
    let response = http.post(&raft).body("hello").send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("cluster id mismatch"));
    // From this cluster (the id is public in every response header), but not Raft messages.
    let channel = common::grpc_channel(&s.cluster.members[0].client).await;
    let status = pb::maintenance_client::MaintenanceClient::new(channel)
        .status(pb::StatusRequest {})
        .await
        .unwrap();
    let cluster_id = status.get_ref().header.as_ref().unwrap().cluster_id;
    let response = http
        .post(&raft)
        .header("x-raftbook-cluster-id", cluster_id.to_string())
        .body(vec![0xff; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("bad raft batch"));
    // Raw bytes that are not even HTTP.
    let address = s.peer_url().trim_start_matches("http://").to_string();
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    socket
        .write_all(&[0u8, 1, 2, 3, 255, 254, 13, 10, 13, 10])
        .unwrap();
    drop(socket);
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.intact().await;
}

/// What no route answers, and requests past gRPC's size limit on the gateway, answered as
/// etcd 3.4 answers them (each checked against etcd 3.4.23 with curl).
#[tokio::test]
async fn unknown_paths_methods_and_oversized_gateway_bodies_are_answered_as_etcd_does() {
    let mut s = single().await;
    let base = format!("http://{}", s.cluster.members[0].client);
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{base}/v3/kv/nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "Not Found\n");
    let response = http.get(format!("{base}/foo")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "404 page not found\n");

    // etcd 3.4 still serves the gateway under /v3beta/.
    let put = r#"{"key":"YmV0YQ==","value":"eWVz"}"#;
    let response = http
        .post(format!("{base}/v3beta/kv/put"))
        .body(put)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // 3,000,000 base64 characters: a 2,250,000-byte value, over gRPC's 2 MiB.
    let value = "A".repeat(3_000_000);
    let body = format!(r#"{{"key":"YmlnCg==","value":"{value}"}}"#);
    let response = http
        .post(format!("{base}/v3/kv/put"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["code"], 8);
    assert_eq!(
        error["message"],
        "grpc: received message larger than max (2250011 vs. 2097152)"
    );

    // gRPC: an unknown method of a known service, and an unknown service, with grpc-go's words.
    let channel = tonic::transport::Endpoint::from_shared(base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    for (path, message) in [
        (
            "/etcdserverpb.KV/Nope",
            "unknown method Nope for service etcdserverpb.KV",
        ),
        (
            "/etcdserverpb.Nope/Range",
            "unknown service etcdserverpb.Nope",
        ),
    ] {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let codec = tonic_prost::ProstCodec::<pb::RangeRequest, pb::RangeResponse>::default();
        let status = grpc
            .unary(
                tonic::Request::new(pb::RangeRequest::default()),
                tonic::codegen::http::uri::PathAndQuery::from_static(path),
                codec,
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented, "{path}");
        assert_eq!(status.message(), message, "{path}");
    }
    s.intact().await;
}

/// A damaged WAL record before the end is corruption, not a torn write: the member refuses
/// to start and names the file and the offset; with the damage mended, it starts with all
/// its data. (A torn last record is dropped instead: the robustness run tears one.)
#[tokio::test]
async fn a_member_refuses_to_start_on_a_corrupt_wal_record_and_says_where() {
    let mut s = single().await;
    for n in 0..20 {
        s.kv.put(pb::PutRequest {
            key: format!("k{n}").into_bytes(),
            value: b"v".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    s.cluster.kill(0);
    let wal = s
        .cluster
        .data_dir(0)
        .join("member/wal/0000000000000001.wal");
    let good = std::fs::read(&wal).unwrap();
    let mut damaged = good.clone();
    let at = good.len() / 3;
    damaged[at] ^= 0xff;
    std::fs::write(&wal, &damaged).unwrap();

    s.cluster.start_member(0);
    let child = s.cluster.members[0].child.as_mut().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the member started anyway"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let log = s.cluster.log(0);
    assert!(
        log.contains(&format!("{}: corrupt WAL record at byte", wal.display())),
        "{log}"
    );
    assert!(log.contains("refusing to guess"), "{log}");

    std::fs::write(&wal, &good).unwrap();
    s.cluster.start_member(0);
    let cluster = tokio::task::spawn_blocking(move || {
        s.cluster.wait_healthy();
        s.cluster
    })
    .await
    .unwrap();
    let read = common::etcdctl(&cluster.endpoints(), &["get", "k19"], None);
    assert_eq!(read, "k19\nv\n");
}
