//! The client port's plain-HTTP side, beside gRPC on the same port:
//!
//! - `GET /health`: `{"health":"true"}` while the member knows a leader (as etcd's);
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]);
//! - `GET /status`: the member's Raft and store state as JSON (the same observation data the
//!   simulator gives the playground);
//! - `POST /v3/kv/put`, `/v3/kv/range`, `/v3/kv/deleterange`, `/v3/lease/grant`,
//!   `/v3/lease/revoke`: etcd's JSON gateway for curl users, with bytes in base64 and 64-bit
//!   numbers as strings, as etcd's grpc-gateway writes them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use raftbook_core::etcd::api::{self as api, EtcdError, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::member::MemberHandle;

pub fn router(member: MemberHandle) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/v3/kv/put", post(put))
        .route("/v3/kv/range", post(range))
        .route("/v3/kv/deleterange", post(delete_range))
        .route("/v3/lease/grant", post(lease_grant))
        .route("/v3/lease/revoke", post(lease_revoke))
        .with_state(member)
}

async fn health(State(member): State<MemberHandle>) -> HttpResponse {
    let healthy = member.status().await.is_some_and(|s| s.leader != 0);
    let code = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(json!({ "health": healthy.to_string(), "reason": if healthy { "" } else { "no leader" } }))).into_response()
}

async fn metrics(State(member): State<MemberHandle>) -> String {
    member.metrics.render()
}

async fn status(State(member): State<MemberHandle>) -> HttpResponse {
    match member.status().await {
        Some(status) => Json(status).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// A gateway error: etcd's JSON shape, with the gRPC code.
fn error(code: tonic::Code, message: String) -> HttpResponse {
    let http = match code {
        tonic::Code::InvalidArgument | tonic::Code::OutOfRange | tonic::Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (http, Json(json!({ "error": message, "message": message, "code": code as i32 }))).into_response()
}

fn etcd_error(e: &EtcdError) -> HttpResponse {
    let status = crate::convert::status(e);
    error(status.code(), status.message().to_string())
}

/// Parses a gateway body; malformed JSON is a 400 that says what is wrong.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, HttpResponse> {
    serde_json::from_slice(bytes).map_err(|e| error(tonic::Code::InvalidArgument, format!("malformed JSON request: {e}")))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, HttpResponse> {
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| error(tonic::Code::InvalidArgument, format!("bad base64: {e}")))
}

/// An int64 field: the gateway accepts numbers or strings.
fn int(value: &Option<Value>) -> Result<i64, HttpResponse> {
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| error(tonic::Code::InvalidArgument, format!("not an int64: {n}"))),
        Some(Value::String(s)) => s.parse().map_err(|_| error(tonic::Code::InvalidArgument, format!("not an int64: {s:?}"))),
        Some(other) => Err(error(tonic::Code::InvalidArgument, format!("not an int64: {other}"))),
    }
}

fn header(h: &api::ResponseHeader) -> Value {
    json!({ "cluster_id": h.cluster_id.to_string(), "member_id": h.member_id.to_string(), "revision": h.revision.to_string(), "raft_term": h.raft_term.to_string() })
}

fn kv(kv: &api::KeyValue) -> Value {
    json!({
        "key": b64(&kv.key), "create_revision": kv.create_revision.to_string(), "mod_revision": kv.mod_revision.to_string(),
        "version": kv.version.to_string(), "value": b64(&kv.value), "lease": kv.lease.to_string(),
    })
}

async fn answer(member: &MemberHandle, request: Request, render: impl FnOnce(Response) -> Value) -> HttpResponse {
    match member.request(request).await {
        Ok(response) => Json(render(response)).into_response(),
        Err(e) => etcd_error(&e),
    }
}

#[derive(Deserialize)]
struct KeyBody {
    key: Option<String>,
    range_end: Option<String>,
    value: Option<String>,
    lease: Option<Value>,
    limit: Option<Value>,
    revision: Option<Value>,
    prev_kv: Option<bool>,
    serializable: Option<bool>,
}

async fn put(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> HttpResponse {
    let result = async {
        let b: KeyBody = body(&raw)?;
        let request = api::PutRequest {
            key: unb64(b.key.as_deref().unwrap_or_default())?,
            value: unb64(b.value.as_deref().unwrap_or_default())?,
            lease: int(&b.lease)?,
            prev_kv: b.prev_kv.unwrap_or(false),
            ..Default::default()
        };
        Ok::<_, HttpResponse>(request)
    }
    .await;
    match result {
        Ok(request) => answer(&member, Request::Put(request), |r| match r {
            Response::Put(p) => json!({ "header": header(&p.header), "prev_kv": p.prev_kv.as_ref().map(kv) }),
            _ => Value::Null,
        })
        .await,
        Err(response) => response,
    }
}

async fn range(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> HttpResponse {
    let result = (|| {
        let b: KeyBody = body(&raw)?;
        Ok::<_, HttpResponse>(api::RangeRequest {
            key: unb64(b.key.as_deref().unwrap_or_default())?,
            range_end: unb64(b.range_end.as_deref().unwrap_or_default())?,
            limit: int(&b.limit)?,
            revision: int(&b.revision)?,
            serializable: b.serializable.unwrap_or(false),
            ..Default::default()
        })
    })();
    match result {
        Ok(request) => answer(&member, Request::Range(request), |r| match r {
            Response::Range(r) => json!({ "header": header(&r.header), "kvs": r.kvs.iter().map(kv).collect::<Vec<_>>(), "more": r.more, "count": r.count.to_string() }),
            _ => Value::Null,
        })
        .await,
        Err(response) => response,
    }
}

async fn delete_range(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> HttpResponse {
    let result = (|| {
        let b: KeyBody = body(&raw)?;
        Ok::<_, HttpResponse>(api::DeleteRangeRequest {
            key: unb64(b.key.as_deref().unwrap_or_default())?,
            range_end: unb64(b.range_end.as_deref().unwrap_or_default())?,
            prev_kv: b.prev_kv.unwrap_or(false),
        })
    })();
    match result {
        Ok(request) => answer(&member, Request::DeleteRange(request), |r| match r {
            Response::DeleteRange(d) => json!({ "header": header(&d.header), "deleted": d.deleted.to_string(), "prev_kvs": d.prev_kvs.iter().map(kv).collect::<Vec<_>>() }),
            _ => Value::Null,
        })
        .await,
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct LeaseBody {
    TTL: Option<Value>,
    ID: Option<Value>,
}

async fn lease_grant(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> HttpResponse {
    let result = (|| {
        let b: LeaseBody = body(&raw)?;
        Ok::<_, HttpResponse>(api::LeaseGrantRequest { ttl: int(&b.TTL)?, id: int(&b.ID)? })
    })();
    match result {
        Ok(request) => answer(&member, Request::LeaseGrant(request), |r| match r {
            Response::LeaseGrant(g) => json!({ "header": header(&g.header), "ID": g.id.to_string(), "TTL": g.ttl.to_string() }),
            _ => Value::Null,
        })
        .await,
        Err(response) => response,
    }
}

async fn lease_revoke(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> HttpResponse {
    let result = (|| {
        let b: LeaseBody = body(&raw)?;
        Ok::<_, HttpResponse>(api::LeaseRevokeRequest { id: int(&b.ID)? })
    })();
    match result {
        Ok(request) => answer(&member, Request::LeaseRevoke(request), |r| match r {
            Response::LeaseRevoke(l) => json!({ "header": header(&l.header) }),
            _ => Value::Null,
        })
        .await,
        Err(response) => response,
    }
}
