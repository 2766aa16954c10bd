//! Measuring a transaction's nesting before it is decoded.
//!
//! etcd accepts transactions nested 128 deep (its operation budget, which the core checks).
//! prost decodes by recursion and, to protect the stack, stops at 100 levels of message
//! nesting (50 transactions); built without that limit (as here) it has none, and a few
//! hundred kilobytes of nesting would overflow the stack. So every `Txn` message is measured
//! first, by a loop that does not recurse ([`txn_depth`]), and one deeper than
//! [`MAX_TXN_DEPTH`] gets etcd's answer without being decoded.

use raftbook_core::etcd::api::{self as api, EtcdError};
use tonic::Status;

use crate::convert;

/// How deep a transaction may nest before it is refused undecoded: deeper than etcd's
/// operation budget could ever accept (one operation per level allows 128 levels).
pub const MAX_TXN_DEPTH: usize = api::MAX_TXN_OPS + 1;

/// Refuses a `Txn` call nested deeper than etcd could accept, before decoding it (a layer
/// of the client port).
pub async fn limit_txn_depth(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.uri().path() != "/etcdserverpb.KV/Txn" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // A gRPC message is one byte (compressed or not), a 4-byte length, then the message.
    let Ok(bytes) = axum::body::to_bytes(body, 2 * api::MAX_REQUEST_BYTES + 5).await else {
        return Status::resource_exhausted("grpc: received message larger than max").into_http();
    };
    if bytes.first() == Some(&0) && bytes.len() > 5 && txn_depth(&bytes[5..]) > MAX_TXN_DEPTH {
        return convert::status(&EtcdError::TooManyOps).into_http();
    }
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    next.run(request).await
}

/// How deeply transactions nest in an encoded `TxnRequest` (1: no nested transaction),
/// counted up to one past [`MAX_TXN_DEPTH`]. Reads the protobuf wire format with a stack of
/// its own: a `TxnRequest`'s `success` (2) and `failure` (3) are `RequestOp`s, and a
/// `RequestOp`'s `request_txn` (4) is a `TxnRequest`. Bytes that do not parse end the count
/// (prost will refuse them).
pub fn txn_depth(message: &[u8]) -> usize {
    let mut deepest = 1;
    // (bytes, whether they are a TxnRequest or a RequestOp, the transaction depth there)
    let mut to_read = vec![(message, true, 1)];
    while let Some((mut bytes, is_txn, depth)) = to_read.pop() {
        while let Some(key) = varint(&mut bytes) {
            let (field, wire_type) = (key >> 3, key & 7);
            let skip = match wire_type {
                0 => varint(&mut bytes).map(|_| 0),
                1 => Some(8),
                5 => Some(4),
                2 => varint(&mut bytes).and_then(|n| usize::try_from(n).ok()),
                _ => None,
            };
            let Some(inner) = skip.and_then(|n| bytes.get(..n)) else {
                break;
            };
            bytes = &bytes[inner.len()..];
            match (wire_type, is_txn, field) {
                (2, true, 2 | 3) => to_read.push((inner, false, depth)),
                (2, false, 4) => {
                    deepest = deepest.max(depth + 1);
                    if deepest > MAX_TXN_DEPTH {
                        return deepest;
                    }
                    to_read.push((inner, true, depth + 1));
                }
                _ => {}
            }
        }
    }
    deepest
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use prost::Message;

    fn nested(depth: usize) -> Vec<u8> {
        use pb::request_op::Request;
        let mut txn = pb::TxnRequest::default();
        for _ in 1..depth {
            let op = pb::RequestOp {
                request: Some(Request::RequestTxn(txn)),
            };
            // Alternate the branches: both count.
            txn = pb::TxnRequest {
                failure: vec![op],
                ..Default::default()
            };
        }
        txn.encode_to_vec()
    }

    #[test]
    fn depth_is_counted_without_decoding_and_stops_past_the_limit() {
        assert_eq!(txn_depth(&nested(1)), 1);
        assert_eq!(txn_depth(&nested(3)), 3);
        assert_eq!(txn_depth(&nested(MAX_TXN_DEPTH)), MAX_TXN_DEPTH);
        assert_eq!(txn_depth(&nested(400)), MAX_TXN_DEPTH + 1);
        // Bytes that are not a message end the count; prost will refuse them.
        assert_eq!(txn_depth(&[0xff, 0xff, 0xff]), 1);
        let mut cut = nested(5);
        cut.truncate(cut.len() / 2);
        assert!(txn_depth(&cut) <= 5);
    }
}
