//! A member loop's inbox: what the rest of the process (gRPC, HTTP, the peer transport) can
//! ask of it, and what it answers with. Its own module so that the loop ([`crate::member`])
//! and the transport ([`crate::peer`]), which feeds it peer messages, both import it
//! without importing each other.

use std::collections::BTreeMap;

use raft::eraftpb::Message;
use raftbook_core::etcd::api::{
    EtcdError, Request, Response, ResponseHeader, WatchCreateRequest, WatchResponse,
};
use raftbook_core::etcd::view::StoreView;
use raftbook_core::node::MembershipChange;
use raftbook_core::view::NodeView;
use tokio::sync::{mpsc, oneshot};

pub type Reply = oneshot::Sender<Result<Response, EtcdError>>;

/// What the member loop can be asked to do.
pub enum Input {
    Request {
        request: Request,
        reply: Reply,
    },
    /// A watch for one gRPC stream: its responses go to `stream`, under the id the stream
    /// knows it by (`id_on_stream`); `created` gets the member's own id, to cancel it with.
    Watch {
        request: WatchCreateRequest,
        id_on_stream: i64,
        stream: mpsc::UnboundedSender<WatchResponse>,
        created: oneshot::Sender<i64>,
    },
    /// A create request the stream refused (etcd's duplicate watch id): answered, with the
    /// member's header, as created and cancelled at once.
    RefuseWatch {
        reason: EtcdError,
        stream: mpsc::UnboundedSender<WatchResponse>,
    },
    CancelWatch(i64),
    WatchProgress,
    Peer(Vec<Message>),
    SnapshotReport {
        to: u64,
        delivered: bool,
    },
    /// A follower's lease request, to be answered here if this member leads.
    ServeAtLeader {
        request: Request,
        reply: Reply,
    },
    /// The leader's answer to a lease request this member forwarded.
    ForwardedReply {
        request_id: u64,
        result: Result<Response, EtcdError>,
    },
    /// `info`: how to reach a new member (JSON `{"name", "peer_url"}`), replicated with it.
    Membership {
        change: MembershipChange,
        info: Vec<u8>,
        reply: Reply,
    },
    Status {
        reply: oneshot::Sender<Status>,
    },
    /// Maintenance.Snapshot: the store as it is now applied, encoded as Raft snapshots hold it.
    SaveSnapshot {
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// Maintenance.HashKV: the store's hash up to a revision (0: now), with the header and
    /// the compaction point.
    HashKv {
        revision: i64,
        reply: oneshot::Sender<Result<(ResponseHeader, u32, i64), EtcdError>>,
    },
    /// The status plus everything `/status` shows (the log and the whole store: costly).
    Observe {
        reply: oneshot::Sender<Observation>,
    },
}

/// A member's state, for Maintenance.Status, Alarm and member lists.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Status {
    /// What every response's header says now (cluster, member, revision, term).
    pub header: ResponseHeader,
    pub id: u64,
    pub leader: u64,
    pub term: u64,
    pub commit: u64,
    pub applied: u64,
    pub is_learner: bool,
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    pub db_size: u64,
    /// Peer URLs of members added after bootstrap.
    pub added_members: BTreeMap<u64, String>,
}

/// What `/status` shows: the status, the Raft log and progress, and the store (the same
/// observation data the simulator gives the playground).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Observation {
    #[serde(flatten)]
    pub status: Status,
    pub node: NodeView,
    pub store: StoreView,
}
