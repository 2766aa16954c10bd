//! Members talk to each other over HTTP on their peer URLs.
//!
//! - `POST /raft`: a stream of Raft messages, each `[length u32][protobuf]`, in a request
//!   that stays open (etcd's peers keep streams open the same way). One sender task per peer
//!   keeps one such request going and writes into it whatever its queue holds, as it comes:
//!   no round trip per batch, and a busy leader's messages to one peer go out together. The
//!   receiver hands the member each piece of the stream's messages as it arrives. A stream
//!   that breaks is opened again.
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
use tokio_stream::wrappers::UnboundedReceiverStream;

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
    /// For the long-lived message streams.
    streaming: reqwest::Client,
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

/// Reads a stream of `[length u32][protobuf]` messages that arrives in pieces cut anywhere.
#[derive(Default)]
pub struct MessageReader {
    buffer: Vec<u8>,
}

impl MessageReader {
    /// Takes the next piece of the stream; returns the messages it completes.
    pub fn read(&mut self, piece: &[u8]) -> Result<Vec<Message>, String> {
        self.buffer.extend_from_slice(piece);
        let mut messages = Vec::new();
        let mut at = 0;
        while let Some(length) = self.buffer.get(at..at + 4) {
            let length = u32::from_le_bytes(length.try_into().expect("4 bytes")) as usize;
            if length > MAX_PEER_BODY {
                return Err(format!("a message of {length} bytes"));
            }
            let Some(bytes) = self.buffer.get(at + 4..at + 4 + length) else {
                break;
            };
            messages.push(
                Message::parse_from_bytes(bytes).map_err(|e| format!("not a Raft message: {e}"))?,
            );
            at += 4 + length;
        }
        self.buffer.drain(..at);
        Ok(messages)
    }

    /// The stream ended: it must not end inside a message.
    pub fn finish(&self) -> Result<(), String> {
        match self.buffer.len() {
            0 => Ok(()),
            n => Err(format!("the stream ends inside a message ({n} bytes)")),
        }
    }
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
        // The message streams stay open: no overall timeout, only for connecting.
        let streaming = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .tcp_nodelay(true)
            .build()
            .expect("an HTTP client");
        let mut transport = Transport {
            failpoints,
            queues: HashMap::new(),
            urls: BTreeMap::new(),
            inputs,
            client,
            streaming,
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
            streaming: self.streaming.clone(),
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
    streaming: reqwest::Client,
    cluster_id: u64,
    inputs: Sender<Input>,
    metrics: Arc<Metrics>,
}

/// The writing end of a message stream's request body.
type FrameSender = mpsc::UnboundedSender<Result<Bytes, std::io::Error>>;

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

    /// Writes `frame` into the open stream to the peer, opening one if there is none. False
    /// if the stream broke since the last frame (the peer went away, or refused it): the
    /// caller pauses, and the next frame opens a new stream.
    fn stream(&self, stream: &mut Option<FrameSender>, frame: Vec<u8>) -> bool {
        if self.failpoints.isolated() {
            *stream = None;
            return false;
        }
        let open = match stream.take() {
            Some(open) if !open.is_closed() => open,
            Some(_broken) => return false,
            None => self.open_stream(),
        };
        let sent = open.send(Ok(Bytes::from(frame))).is_ok();
        *stream = Some(open);
        sent
    }

    /// Starts a request whose body is whatever is written into the returned sender. The
    /// request ends (and the sender closes) when the peer answers or the connection breaks.
    fn open_stream(&self) -> FrameSender {
        let (frames, body) = mpsc::unbounded_channel();
        let request = self
            .streaming
            .post(&self.url)
            .header(CLUSTER_HEADER, self.cluster_id.to_string())
            .body(reqwest::Body::wrap_stream(UnboundedReceiverStream::new(
                body,
            )));
        tokio::spawn(async move {
            let _ = request.send().await;
        });
        frames
    }

    async fn run(self, mut queue: mpsc::UnboundedReceiver<Message>) {
        let mut pause = Duration::from_millis(100);
        let mut stream = None;
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
            // A stream that carried the last frame works; a new one proves nothing yet, so
            // the pause after failures only shrinks once a stream has stayed open.
            let proven = stream
                .as_ref()
                .is_some_and(|s: &FrameSender| !s.is_closed());
            let mut sent = messages.is_empty() || self.stream(&mut stream, encode_batch(&messages));
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
                if proven {
                    pause = Duration::from_millis(100);
                }
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
        failpoints: failpoints.clone(),
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
    failpoints: Arc<Failpoints>,
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

/// A peer's message stream, read as it comes; it ends when the peer closes it, or at the
/// first thing in it that is not a Raft message for this member (answered 400, as is a
/// stream from another cluster). A member cut off by its failpoint ends it (503).
async fn receive_raft(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, (StatusCode, String)> {
    use tokio_stream::StreamExt;
    state.check_cluster(&headers)?;
    let bad = |e: String| (StatusCode::BAD_REQUEST, format!("bad raft batch: {e}\n"));
    let mut pieces = body.into_data_stream();
    let mut reader = MessageReader::default();
    let mut received = 0;
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(|e| bad(e.to_string()))?;
        if state.failpoints.isolated() {
            return Err((StatusCode::SERVICE_UNAVAILABLE, "cut off\n".into()));
        }
        let messages = reader.read(&piece).map_err(bad)?;
        if let Some(stray) = messages.iter().find(|m| m.to != state.member_id) {
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "message for member {:x} sent to {:x}\n",
                    stray.to, state.member_id
                ),
            ));
        }
        if !messages.is_empty() {
            received += messages.len();
            state.send(Input::Peer(messages));
        }
    }
    reader.finish().map_err(bad)?;
    if received == 0 {
        return Err(bad("no messages".into()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: u64, index: u64) -> Message {
        let mut message = Message::default();
        message.set_msg_type(MessageType::MsgAppend);
        message.to = to;
        message.index = index;
        message
    }

    #[test]
    fn a_stream_cut_anywhere_gives_back_its_messages() {
        let sent: Vec<Message> = (1..=3).map(|i| message(2, i)).collect();
        let stream = encode_batch(&sent);
        let mut reader = MessageReader::default();
        let mut received = Vec::new();
        for byte in &stream {
            received.extend(reader.read(std::slice::from_ref(byte)).unwrap());
        }
        assert_eq!(received, sent);
        assert_eq!(reader.finish(), Ok(()));

        let mut cut_short = MessageReader::default();
        assert_eq!(
            cut_short.read(&stream[..stream.len() - 1]).unwrap(),
            sent[..2]
        );
        assert!(cut_short.finish().is_err(), "ends inside the third message");
        let mut garbage = MessageReader::default();
        assert!(garbage.read(&[2, 0, 0, 0, 0xff, 0xff]).is_err());
    }
}
