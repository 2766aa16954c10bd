//! The client port's plain-HTTP side, beside gRPC on the same port:
//!
//! - `GET /health`: `{"health":"true"}` while the member knows a leader (as etcd's);
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]);
//! - `GET /status`: the member's Raft and store state as JSON (the same observation data the
//!   simulator gives the playground);
//! - `POST /v3/kv/put`, `/v3/kv/range`, `/v3/kv/deleterange`, `/v3/lease/grant`,
//!   `/v3/lease/revoke`: etcd's JSON gateway for curl users, with bytes in base64 and 64-bit
//!   numbers as strings, as etcd's grpc-gateway writes them; also under `/v3beta/`, which
//!   etcd 3.4 still serves.
//!
//! What is not here is answered as etcd 3.4 answers it: a gRPC call to an unknown method
//! with `UNIMPLEMENTED` and grpc-go's message, an unknown gateway path with 404 `Not Found`,
//! any other path with 404 `404 page not found`, and a request over gRPC's size limit with
//! 429 and the gateway's JSON error.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use raftbook_core::etcd::api::{self as api, EtcdError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::member::MemberHandle;

pub fn router(member: MemberHandle) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/status", get(status));
    for version in ["v3", "v3beta"] {
        router = router
            .route(&format!("/{version}/kv/put"), post(put))
            .route(&format!("/{version}/kv/range"), post(range))
            .route(&format!("/{version}/kv/deleterange"), post(delete_range))
            .route(&format!("/{version}/lease/grant"), post(lease_grant))
            .route(&format!("/{version}/lease/revoke"), post(lease_revoke));
    }
    router
        // Bodies past gRPC's limit are read, so they get etcd's JSON answer (429), not 413.
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .with_state(member)
}

/// gRPC's limit on a request message, as etcd sets it: `--max-request-bytes` (1.5 MiB) plus
/// 512 KiB for the rest of the message.
const GRPC_MAX_RECEIVE: usize = api::MAX_REQUEST_BYTES + 512 * 1024;

/// The gateway refuses what gRPC would: a request message (`encoded_len` bytes as protobuf)
/// over the limit.
fn within_grpc_limit(encoded_len: usize) -> Result<(), GatewayError> {
    if encoded_len <= GRPC_MAX_RECEIVE {
        return Ok(());
    }
    Err(GatewayError(
        tonic::Code::ResourceExhausted,
        format!("grpc: received message larger than max ({encoded_len} vs. {GRPC_MAX_RECEIVE})"),
    ))
}

/// Anything no route of the client port answers (gRPC's included), as etcd 3.4 answers it.
pub async fn not_found(request: axum::extract::Request) -> HttpResponse {
    let path = request.uri().path().to_string();
    let is_grpc = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/grpc"));
    if is_grpc {
        // grpc-go's words: "unknown service etcdserverpb.Nope".
        let service = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        let status = tonic::Status::unimplemented(format!("unknown service {service}"));
        return status.into_http();
    }
    let text = if path.starts_with("/v3/") || path.starts_with("/v3beta/") {
        "Not Found\n"
    } else {
        "404 page not found\n"
    };
    (
        StatusCode::NOT_FOUND,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn health(State(member): State<MemberHandle>) -> HttpResponse {
    // The member loop keeps this gauge current; a probe need not queue behind client work.
    let healthy = member
        .metrics
        .has_leader
        .load(std::sync::atomic::Ordering::Relaxed)
        == 1;
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(json!({ "health": healthy.to_string(), "reason": if healthy { "" } else { "no leader" } }))).into_response()
}

async fn metrics(State(member): State<MemberHandle>) -> String {
    member.metrics.render()
}

async fn status(State(member): State<MemberHandle>) -> HttpResponse {
    match member.observe().await {
        Some(observation) => Json(observation).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// A gateway error: the gRPC code and message, answered in etcd's JSON shape.
struct GatewayError(tonic::Code, String);

impl From<EtcdError> for GatewayError {
    fn from(e: EtcdError) -> Self {
        let status = crate::convert::status(&e);
        GatewayError(status.code(), status.message().to_string())
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> HttpResponse {
        let GatewayError(code, message) = self;
        let http = match code {
            tonic::Code::InvalidArgument
            | tonic::Code::OutOfRange
            | tonic::Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            tonic::Code::NotFound => StatusCode::NOT_FOUND,
            tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            tonic::Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            http,
            Json(json!({ "error": message, "message": message, "code": code as i32 })),
        )
            .into_response()
    }
}

fn invalid(message: String) -> GatewayError {
    GatewayError(tonic::Code::InvalidArgument, message)
}

type Answer = Result<Json<Value>, GatewayError>;

/// Parses a gateway body; malformed JSON is a 400 that says what is wrong.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(bytes).map_err(|e| invalid(format!("malformed JSON request: {e}")))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A bytes field (base64; absent means empty).
fn bytes(text: &Option<String>) -> Result<Vec<u8>, GatewayError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_deref().unwrap_or_default())
        .map_err(|e| invalid(format!("bad base64: {e}")))
}

/// An int64 field: the gateway accepts numbers or strings.
fn int(value: &Option<Value>) -> Result<i64, GatewayError> {
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| invalid(format!("not an int64: {n}"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| invalid(format!("not an int64: {s:?}"))),
        Some(other) => Err(invalid(format!("not an int64: {other}"))),
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

async fn put(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> Answer {
    let b: KeyBody = body(&raw)?;
    // As the gRPC message it stands for, so its size is measured as gRPC would, uncopied.
    let request = crate::pb::PutRequest {
        key: bytes(&b.key)?,
        value: bytes(&b.value)?,
        lease: int(&b.lease)?,
        prev_kv: b.prev_kv.unwrap_or(false),
        ..Default::default()
    };
    within_grpc_limit(prost::Message::encoded_len(&request))?;
    let request = crate::convert::put_request(request);
    let p = member.call(request).await?;
    Ok(Json(
        json!({ "header": header(&p.header), "prev_kv": p.prev_kv.as_ref().map(kv) }),
    ))
}

async fn range(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> Answer {
    let b: KeyBody = body(&raw)?;
    let request = api::RangeRequest {
        key: bytes(&b.key)?,
        range_end: bytes(&b.range_end)?,
        limit: int(&b.limit)?,
        revision: int(&b.revision)?,
        serializable: b.serializable.unwrap_or(false),
        ..Default::default()
    };
    let r = member.call(request).await?;
    Ok(Json(
        json!({ "header": header(&r.header), "kvs": r.kvs.iter().map(kv).collect::<Vec<_>>(), "more": r.more, "count": r.count.to_string() }),
    ))
}

async fn delete_range(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> Answer {
    let b: KeyBody = body(&raw)?;
    let request = api::DeleteRangeRequest {
        key: bytes(&b.key)?,
        range_end: bytes(&b.range_end)?,
        prev_kv: b.prev_kv.unwrap_or(false),
    };
    let d = member.call(request).await?;
    Ok(Json(
        json!({ "header": header(&d.header), "deleted": d.deleted.to_string(), "prev_kvs": d.prev_kvs.iter().map(kv).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct LeaseBody {
    TTL: Option<Value>,
    ID: Option<Value>,
}

async fn lease_grant(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> Answer {
    let b: LeaseBody = body(&raw)?;
    let request = api::LeaseGrantRequest {
        ttl: int(&b.TTL)?,
        id: int(&b.ID)?,
    };
    let g = member.call(request).await?;
    Ok(Json(
        json!({ "header": header(&g.header), "ID": g.id.to_string(), "TTL": g.ttl.to_string() }),
    ))
}

async fn lease_revoke(State(member): State<MemberHandle>, raw: axum::body::Bytes) -> Answer {
    let b: LeaseBody = body(&raw)?;
    let l = member
        .call(api::LeaseRevokeRequest { id: int(&b.ID)? })
        .await?;
    Ok(Json(json!({ "header": header(&l.header) })))
}
