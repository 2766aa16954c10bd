//! Nested transactions, side by side on raftbook and a real etcd 3.4: as deep as etcd's
//! operation budget allows (128 levels of one operation) is accepted and applied; one level
//! more is refused with etcd's error; and a transaction nested a hundred thousand deep (too
//! deep for a recursive decoder's stack) gets the same refusal while the member keeps
//! serving.

mod common;

use common::Kind;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;

/// A transaction `depth` levels deep whose innermost level puts `key`.
fn nested(depth: usize, key: &str) -> pb::TxnRequest {
    use pb::request_op::Request;
    let op = |request| pb::RequestOp {
        request: Some(request),
    };
    let mut txn = pb::TxnRequest {
        success: vec![op(Request::RequestPut(pb::PutRequest {
            key: key.into(),
            value: b"deep".to_vec(),
            ..Default::default()
        }))],
        ..Default::default()
    };
    for _ in 1..depth {
        txn = pb::TxnRequest {
            success: vec![op(Request::RequestTxn(txn))],
            ..Default::default()
        };
    }
    txn
}

/// A message encoded already: building, encoding or dropping a `TxnRequest` nested 100,000
/// deep would overflow the test's own stack, as all three recurse.
#[derive(Debug, Default, Clone)]
struct Encoded(Vec<u8>);

impl prost::Message for Encoded {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// [`nested`]'s encoding, built without recursion: each level is a `TxnRequest` whose
/// `success` (field 2) holds one `RequestOp` whose `request_txn` (field 4) is the level below.
fn encoded_nested(depth: usize) -> Encoded {
    let innermost = prost::Message::encode_to_vec(&nested(1, "too-deep"));
    // Each level's two headers, from the inside out: they depend on the length inside.
    let mut headers = Vec::new();
    let mut length = innermost.len();
    for _ in 1..depth {
        let mut header = Vec::new();
        let op_length = 1 + encoded_len_varint(length as u64) + length;
        encode_key(2, WireType::LengthDelimited, &mut header);
        encode_varint(op_length as u64, &mut header);
        encode_key(4, WireType::LengthDelimited, &mut header);
        encode_varint(length as u64, &mut header);
        length += header.len();
        headers.push(header);
    }
    let mut bytes = Vec::with_capacity(length);
    for header in headers.iter().rev() {
        bytes.extend_from_slice(header);
    }
    bytes.extend_from_slice(&innermost);
    Encoded(bytes)
}

async fn depths_as_etcd_allows(kind: Kind) {
    let cluster = common::start_cluster(kind, 1).await;
    let channel = common::grpc_channel(&cluster.members[0].client).await;
    let mut kv = KvClient::new(channel.clone());

    let accepted = kv.txn(nested(128, "at-128")).await;
    assert!(accepted.is_ok(), "{kind:?}: {accepted:?}");
    let read = kv
        .range(pb::RangeRequest {
            key: b"at-128".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(read.get_ref().kvs[0].value, b"deep", "{kind:?}");

    let too_many = (
        tonic::Code::InvalidArgument,
        "etcdserver: too many operations in txn request",
    );
    let refused = kv.txn(nested(129, "too-deep")).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), too_many, "{kind:?}");

    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<Encoded, pb::TxnResponse>::default();
    let refused = grpc
        .unary(
            tonic::Request::new(encoded_nested(100_000)),
            tonic::codegen::http::uri::PathAndQuery::from_static("/etcdserverpb.KV/Txn"),
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!((refused.code(), refused.message()), too_many, "{kind:?}");
    let read = kv
        .range(pb::RangeRequest {
            key: b"at-128".to_vec(),
            ..Default::default()
        })
        .await
        .expect("the member still serves");
    assert_eq!(read.get_ref().kvs.len(), 1, "{kind:?}");
}

#[tokio::test]
async fn transactions_nest_as_deep_as_etcd_allows() {
    depths_as_etcd_allows(Kind::Raftbook).await;
    depths_as_etcd_allows(Kind::Etcd).await;
}
