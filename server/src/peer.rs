//! Members talk to each other over HTTP on their peer URLs.
//!
//! - `POST /raft`: a batch of Raft messages, each `[length u32][protobuf]`. One sender task
//!   per peer drains its queue into one request, so a busy leader sends many messages per
//!   round trip.
//! - `POST /snapshot`: one snapshot message, streamed in 1 MiB chunks (a snapshot holds the
//!   whole store and may be large). A failed send is retried after a growing pause (100 ms to 2 s); messages
//!   queued meanwhile are dropped, which Raft tolerates (it resends), except that a lost
//!   snapshot is reported to the core so raft-rs tries again.
//! - `POST /lease`: a follower's lease keep-alive or time-to-live, answered by the leader.
//! - `GET /info`: the member's name, client URL and cluster id, for member lists and for a
//!   member joining the cluster.
//!
//! Requests carry the cluster id; a request from another cluster, or a body that is not a
//! batch of Raft messages, gets a 400 with the reason and changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};
use raftbook_core::etcd::api::{EtcdError, Request, Response};
use tokio::sync::{mpsc, oneshot};

use crate::failpoint::Failpoints;
use crate::inbox::Input;
use crate::metrics::Metrics;

const CLUSTER_HEADER: &str = "x-raftbook-cluster-id";
const MAX_BATCH: usize = 4096;
const SNAPSHOT_CHUNK: usize = 1 << 20;
/// Peer bodies may be much larger than axum's 2 MB default (a batch of big entries).
const MAX_PEER_BODY: usize = 1 << 30;

/// The sending side, owned by the member loop.
pub struct Transport {
    failpoints: Arc<Failpoints>,
    queues: HashMap<u64, mpsc::UnboundedSender<Message>>,
    urls: BTreeMap<u64, String>,
    inputs: Sender<Input>,
    client: reqwest::Client,
    cluster_id: u64,
    runtime: tokio::runtime::Handle,
    metrics: Arc<Metrics>,
}

pub fn encode_batch(messages: &[Message]) -> Vec<u8> {
    let mut body = Vec::new();
    for message in messages {
        let bytes = message.write_to_bytes().expect("raft messages encode");
        body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        body.extend_from_slice(&bytes);
    }
    body
}

pub fn decode_batch(mut body: &[u8]) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    while !body.is_empty() {
        let length = body
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize)
            .ok_or("truncated length")?;
        let bytes = body.get(4..4 + length).ok_or("truncated message")?;
        messages.push(
            Message::parse_from_bytes(bytes).map_err(|e| format!("not a Raft message: {e}"))?,
        );
        body = &body[4 + length..];
    }
    if messages.is_empty() {
        return Err("empty batch".into());
    }
    Ok(messages)
}

impl Transport {
    /// Starts one sender task per peer (`urls` excludes this member).
    pub fn new(
        urls: BTreeMap<u64, String>,
        cluster_id: u64,
        inputs: Sender<Input>,
        metrics: Arc<Metrics>,
        runtime: tokio::runtime::Handle,
        failpoints: Arc<Failpoints>,
    ) -> Transport {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        let mut transport = Transport {
            failpoints,
            queues: HashMap::new(),
            urls: BTreeMap::new(),
            inputs,
            client,
            cluster_id,
            runtime,
            metrics,
        };
        for (id, url) in urls {
            transport.add_peer(id, url);
        }
        transport
    }

    /// Starts sending to a peer (nothing changes if it is known already).
    pub fn add_peer(&mut self, id: u64, url: String) {
        if self.queues.contains_key(&id) {
            return;
        }
        let (queue, receiver) = mpsc::unbounded_channel();
        self.queues.insert(id, queue);
        let sender = PeerSender {
            failpoints: self.failpoints.clone(),
            to: id,
            url: format!("{url}/raft"),
            client: self.client.clone(),
            cluster_id: self.cluster_id,
            inputs: self.inputs.clone(),
            metrics: self.metrics.clone(),
        };
        self.runtime.spawn(sender.run(receiver));
        self.urls.insert(id, url);
    }

    pub fn send(&self, message: Message) {
        if let Some(queue) = self.queues.get(&message.to) {
            let _ = queue.send(message);
        }
    }

    /// Carries a lease request to the leader and its answer back to the member loop (which
    /// tries again later if this fails).
    pub fn forward(&self, leader: u64, request_id: u64, request: Request) {
        let Some(url) = self.urls.get(&leader) else {
            return;
        };
        if self.failpoints.isolated() {
            return;
        }
        let (url, client, inputs, cluster_id) = (
            format!("{url}/lease"),
            self.client.clone(),
            self.inputs.clone(),
            self.cluster_id,
        );
        self.runtime.spawn(async move {
            let body = serde_json::to_vec(&request).expect("requests serialise");
            let response = client
                .post(url)
                .header(CLUSTER_HEADER, cluster_id.to_string())
                .body(body)
                .send()
                .await;
            if let Ok(response) = response {
                if let Ok(bytes) = response.bytes().await {
                    if let Ok(result) =
                        serde_json::from_slice::<Result<Response, EtcdError>>(&bytes)
                    {
                        let _ = inputs.send(Input::ForwardedReply { request_id, result });
                    }
                }
            }
        });
    }
}

struct PeerSender {
    failpoints: Arc<Failpoints>,
    to: u64,
    url: String,
    client: reqwest::Client,
    cluster_id: u64,
    inputs: Sender<Input>,
    metrics: Arc<Metrics>,
}

/// A snapshot message as a body sent in chunks.
fn streamed(message: &Message) -> reqwest::Body {
    let bytes = Bytes::from(message.write_to_bytes().expect("raft messages encode"));
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..bytes.len())
        .step_by(SNAPSHOT_CHUNK)
        .map(|at| Ok(bytes.slice(at..(at + SNAPSHOT_CHUNK).min(bytes.len()))))
        .collect();
    reqwest::Body::wrap_stream(tokio_stream::iter(chunks))
}

impl PeerSender {
    async fn post(&self, url: &str, body: reqwest::Body) -> bool {
        if self.failpoints.isolated() {
            return false;
        }
        let request = self
            .client
            .post(url)
            .header(CLUSTER_HEADER, self.cluster_id.to_string())
            .body(body);
        request.send().await.is_ok_and(|r| r.status().is_success())
    }

    async fn run(self, mut queue: mpsc::UnboundedReceiver<Message>) {
        let mut pause = Duration::from_millis(100);
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(message) => batch.push(message),
                    Err(_) => break,
                }
            }
            let (snapshots, messages): (Vec<Message>, Vec<Message>) = batch
                .into_iter()
                .partition(|m| m.get_msg_type() == MessageType::MsgSnapshot);
            let mut sent = messages.is_empty()
                || self
                    .post(&self.url, reqwest::Body::from(encode_batch(&messages)))
                    .await;
            for snapshot in snapshots {
                let delivered = self
                    .post(&self.url.replace("/raft", "/snapshot"), streamed(&snapshot))
                    .await;
                let _ = self.inputs.send(Input::SnapshotReport {
                    to: snapshot.to,
                    delivered,
                });
                sent &= delivered;
            }
            if sent {
                pause = Duration::from_millis(100);
                continue;
            }
            self.metrics
                .peer_send_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                peer = format!("{:x}", self.to),
                "peer unreachable; retrying after {pause:?}"
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
            // What queued up meanwhile is stale: Raft will send fresh messages.
            while let Ok(message) = queue.try_recv() {
                if message.get_msg_type() == MessageType::MsgSnapshot {
                    let _ = self.inputs.send(Input::SnapshotReport {
                        to: message.to,
                        delivered: false,
                    });
                }
            }
        }
    }
}

/// The receiving side: the peer port's HTTP routes.
pub fn router(
    member_id: u64,
    cluster_id: u64,
    info: PeerInfo,
    inputs: Sender<Input>,
    failpoints: Arc<Failpoints>,
) -> Router {
    let state = Arc::new(PeerState {
        member_id,
        cluster_id,
        inputs,
    });
    Router::new()
        .route("/raft", post(receive_raft))
        .route("/snapshot", post(receive_snapshot))
        .route("/lease", post(receive_lease))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_PEER_BODY))
        // A member cut off by its failpoint hears nothing from its peers.
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let isolated = failpoints.isolated();
                async move {
                    if isolated {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    next.run(request).await
                }
            },
        ))
        // Members learn each other's names and client URLs here, and a joining member the
        // cluster's id.
        .route(
            "/info",
            axum::routing::get(move || async move { axum::Json(info) }),
        )
        .with_state(state)
}

/// What a member tells its peers about itself.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PeerInfo {
    pub name: String,
    pub client_url: String,
    pub cluster_id: u64,
}

/// What the member at `peer_url` says about itself (`None` if it does not answer quickly).
pub async fn info_of(peer_url: &str) -> Option<PeerInfo> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("an HTTP client");
    client
        .get(format!("{peer_url}/info"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

struct PeerState {
    member_id: u64,
    cluster_id: u64,
    inputs: Sender<Input>,
}

impl PeerState {
    fn check_cluster(&self, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
        let theirs = headers
            .get(CLUSTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if theirs != Some(self.cluster_id) {
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "cluster id mismatch: expected {:x}, got {theirs:?}\n",
                    self.cluster_id
                ),
            ));
        }
        Ok(())
    }

    fn send(&self, input: Input) {
        let _ = self.inputs.send(input);
    }
}

async fn receive_raft(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    state.check_cluster(&headers)?;
    let messages = decode_batch(&body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad raft batch: {e}\n")))?;
    if let Some(stray) = messages.iter().find(|m| m.to != state.member_id) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "message for member {:x} sent to {:x}\n",
                stray.to, state.member_id
            ),
        ));
    }
    state.send(Input::Peer(messages));
    Ok(StatusCode::NO_CONTENT)
}

async fn receive_snapshot(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, (StatusCode, String)> {
    use tokio_stream::StreamExt;
    state.check_cluster(&headers)?;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("snapshot stream broken: {e}\n"),
            )
        })?;
        if bytes.len() + chunk.len() > MAX_PEER_BODY {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "snapshot too large\n".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    let message = Message::parse_from_bytes(&bytes).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("not a Raft message: {e}\n"),
        )
    })?;
    if message.get_msg_type() != MessageType::MsgSnapshot || message.to != state.member_id {
        return Err((
            StatusCode::BAD_REQUEST,
            "not a snapshot for this member\n".into(),
        ));
    }
    state.send(Input::Peer(vec![message]));
    Ok(StatusCode::NO_CONTENT)
}

async fn receive_lease(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Vec<u8>, (StatusCode, String)> {
    state.check_cluster(&headers)?;
    let request: Request = serde_json::from_slice(&body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad lease request: {e}\n")))?;
    let (reply, answer) = oneshot::channel();
    state.send(Input::ServeAtLeader { request, reply });
    let result = answer.await.unwrap_or(Err(EtcdError::Timeout));
    Ok(serde_json::to_vec(&result).expect("results serialise"))
}
