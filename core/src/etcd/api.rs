//! etcd's v3 API as plain Rust types: requests, responses and errors.
//!
//! The names follow etcd's `rpc.proto` and `kv.proto` field for field, so the native server's
//! gRPC layer is a direct translation and a learner can read etcd's documentation beside this
//! file. Keys and values are bytes. Revisions and lease ids are `i64`, as in etcd.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

/// One version of a key, as every etcd read and watch returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: Vec<u8>,
    /// The revision that created this key (since it last did not exist).
    pub create_revision: i64,
    /// The revision of the last change to this key.
    pub mod_revision: i64,
    /// How many times the key changed since it was created (1 on creation, reset by delete).
    pub version: i64,
    pub value: Vec<u8>,
    /// The lease the key is attached to (0: none).
    pub lease: i64,
}

/// Every response says which member answered, at which revision and term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHeader {
    pub cluster_id: u64,
    pub member_id: u64,
    pub revision: i64,
    pub raft_term: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    #[default]
    None,
    Ascend,
    Descend,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortTarget {
    #[default]
    Key,
    Version,
    Create,
    Mod,
    Value,
}

/// Reads `[key, range_end)`. An empty `range_end` means the single key `key`; `"\0"` means
/// every key from `key` on; `key = "\0", range_end = "\0"` means all keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeRequest {
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
    /// At most this many keys (0: no limit); `more` says whether some were left out.
    pub limit: i64,
    /// Read the store as it was at this revision (0: the current one).
    pub revision: i64,
    pub sort_order: SortOrder,
    pub sort_target: SortTarget,
    /// Answer from the local member without asking the leader: fast, maybe stale.
    pub serializable: bool,
    pub keys_only: bool,
    pub count_only: bool,
    pub min_mod_revision: i64,
    pub max_mod_revision: i64,
    pub min_create_revision: i64,
    pub max_create_revision: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeResponse {
    pub header: ResponseHeader,
    pub kvs: Vec<KeyValue>,
    pub more: bool,
    /// How many keys the range holds (before `limit` and revision filters).
    pub count: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutRequest {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub lease: i64,
    pub prev_kv: bool,
    /// Keep the current value (the key must exist); only the lease changes.
    pub ignore_value: bool,
    /// Keep the current lease; only the value changes.
    pub ignore_lease: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutResponse {
    pub header: ResponseHeader,
    pub prev_kv: Option<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRangeRequest {
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
    pub prev_kv: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRangeResponse {
    pub header: ResponseHeader,
    pub deleted: i64,
    pub prev_kvs: Vec<KeyValue>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareResult {
    Equal,
    Greater,
    Less,
    NotEqual,
}

/// What a compare looks at, and the value it compares with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareTarget {
    Version(i64),
    Create(i64),
    Mod(i64),
    Value(Vec<u8>),
    Lease(i64),
}

/// One condition of a transaction, over `key` (or every key of `[key, range_end)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    pub result: CompareResult,
    pub target: CompareTarget,
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestOp {
    Range(RangeRequest),
    Put(PutRequest),
    DeleteRange(DeleteRangeRequest),
    Txn(TxnRequest),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseOp {
    Range(RangeResponse),
    Put(PutResponse),
    DeleteRange(DeleteRangeResponse),
    Txn(TxnResponse),
}

/// If every compare holds, do `success`, else `failure`: atomically, at one revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnRequest {
    pub compare: Vec<Compare>,
    pub success: Vec<RequestOp>,
    pub failure: Vec<RequestOp>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResponse {
    pub header: ResponseHeader,
    pub succeeded: bool,
    pub responses: Vec<ResponseOp>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionRequest {
    pub revision: i64,
    pub physical: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionResponse {
    pub header: ResponseHeader,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseGrantRequest {
    /// Seconds.
    pub ttl: i64,
    /// The lease id to use (0: the server picks one).
    pub id: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseGrantResponse {
    pub header: ResponseHeader,
    pub id: i64,
    pub ttl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRevokeRequest {
    pub id: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRevokeResponse {
    pub header: ResponseHeader,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseKeepAliveRequest {
    pub id: i64,
}

/// `ttl` is the renewed TTL in seconds, or 0 when the lease no longer exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseKeepAliveResponse {
    pub header: ResponseHeader,
    pub id: i64,
    pub ttl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseTimeToLiveRequest {
    pub id: i64,
    /// Also list the keys attached to the lease.
    pub keys: bool,
}

/// `ttl` is the remaining time in seconds, or -1 when the lease does not exist (etcd
/// answers that way rather than with an error).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseTimeToLiveResponse {
    pub header: ResponseHeader,
    pub id: i64,
    pub ttl: i64,
    pub granted_ttl: i64,
    pub keys: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseLeasesResponse {
    pub header: ResponseHeader,
    pub leases: Vec<i64>,
}

/// etcd's rule for which keys a `key` and `range_end` name: an empty `range_end` names the
/// one key; `range_end = [0]` every key from `key` on; any other `range_end` the keys in
/// `[key, range_end)` (none if it is not above `key`). Reads, deletes, watches and the txn
/// duplicate-key check all read ranges by this one rule.
#[derive(Clone, Copy, Debug)]
pub struct KeyRange<'a> {
    pub key: &'a [u8],
    pub range_end: &'a [u8],
}

/// Where a [`KeyRange`] starts and ends, for an ordered map's `range`.
pub type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

impl<'a> KeyRange<'a> {
    pub fn new(key: &'a [u8], range_end: &'a [u8]) -> Self {
        KeyRange { key, range_end }
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        match self.range_end {
            [] => key == self.key,
            [0] => key >= self.key,
            end => key >= self.key && key < end,
        }
    }

    /// The range as bounds for an ordered map; `None` when it names no key at all.
    pub fn bounds(&self) -> Option<KeyBounds> {
        let start = Bound::Included(self.key.to_vec());
        match self.range_end {
            [] => Some((start, Bound::Included(self.key.to_vec()))),
            [0] => Some((start, Bound::Unbounded)),
            end if end <= self.key => None,
            end => Some((start, Bound::Excluded(end.to_vec()))),
        }
    }
}

/// Any unary request a client can send to a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    Range(RangeRequest),
    Put(PutRequest),
    DeleteRange(DeleteRangeRequest),
    Txn(TxnRequest),
    Compact(CompactionRequest),
    LeaseGrant(LeaseGrantRequest),
    LeaseRevoke(LeaseRevokeRequest),
    LeaseKeepAlive(LeaseKeepAliveRequest),
    LeaseTimeToLive(LeaseTimeToLiveRequest),
    LeaseLeases,
    Alarm(AlarmRequest),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Range(RangeResponse),
    Put(PutResponse),
    DeleteRange(DeleteRangeResponse),
    Txn(TxnResponse),
    Compact(CompactionResponse),
    LeaseGrant(LeaseGrantResponse),
    LeaseRevoke(LeaseRevokeResponse),
    LeaseKeepAlive(LeaseKeepAliveResponse),
    LeaseTimeToLive(LeaseTimeToLiveResponse),
    LeaseLeases(LeaseLeasesResponse),
    Alarm(AlarmResponse),
    /// A membership change was applied (the native server's MemberAdd etc. grow from here).
    MemberChange(MemberChangeResponse),
}

/// `etcdctl lease list`'s request: it has no fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseLeasesRequest;

/// A request type and the response type it is answered with: whoever sends a [`PutRequest`]
/// gets a [`PutResponse`] back, typed, and never matches on [`Response`] to find it.
pub trait Call: Into<Request> {
    type Answer: TryFrom<Response, Error = Response>;
}

/// Pairs each request with its variant of [`Request`] and its response.
macro_rules! calls {
    ($($request:ident => $variant:ident($response:ident),)*) => {$(
        impl From<$request> for Request {
            fn from(request: $request) -> Request {
                Request::$variant(request)
            }
        }

        impl TryFrom<Response> for $response {
            type Error = Response;

            fn try_from(response: Response) -> Result<Self, Response> {
                match response {
                    Response::$variant(answer) => Ok(answer),
                    other => Err(other),
                }
            }
        }

        impl Call for $request {
            type Answer = $response;
        }
    )*};
}

calls! {
    RangeRequest => Range(RangeResponse),
    PutRequest => Put(PutResponse),
    DeleteRangeRequest => DeleteRange(DeleteRangeResponse),
    TxnRequest => Txn(TxnResponse),
    CompactionRequest => Compact(CompactionResponse),
    LeaseGrantRequest => LeaseGrant(LeaseGrantResponse),
    LeaseRevokeRequest => LeaseRevoke(LeaseRevokeResponse),
    LeaseKeepAliveRequest => LeaseKeepAlive(LeaseKeepAliveResponse),
    LeaseTimeToLiveRequest => LeaseTimeToLive(LeaseTimeToLiveResponse),
    AlarmRequest => Alarm(AlarmResponse),
}

impl From<LeaseLeasesRequest> for Request {
    fn from(_: LeaseLeasesRequest) -> Request {
        Request::LeaseLeases
    }
}

impl TryFrom<Response> for LeaseLeasesResponse {
    type Error = Response;

    fn try_from(response: Response) -> Result<Self, Response> {
        match response {
            Response::LeaseLeases(answer) => Ok(answer),
            other => Err(other),
        }
    }
}

impl Call for LeaseLeasesRequest {
    type Answer = LeaseLeasesResponse;
}

/// etcd's alarms. A member (or an operator, with `etcdctl alarm`) raises one; it is
/// replicated through the log, so every member holds the same alarms. While a `NoSpace` alarm
/// is raised the cluster takes no more data: puts, transactions that put and lease grants are
/// refused until it is disarmed (etcd raises it when its database passes its quota).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AlarmType {
    NoSpace,
    Corrupt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmAction {
    Get,
    Activate,
    Deactivate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmRequest {
    pub action: AlarmAction,
    /// The member the alarm is about (0: the cluster as a whole, as etcd allows).
    pub member_id: u64,
    /// `None` (etcd's `NONE`): every type, for `Get`.
    pub alarm: Option<AlarmType>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlarmMember {
    pub member_id: u64,
    pub alarm: AlarmType,
}

/// The alarms asked for (`Get`), or the one raised or disarmed (none if nothing changed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmResponse {
    pub header: ResponseHeader,
    pub alarms: Vec<AlarmMember>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberChangeResponse {
    pub header: ResponseHeader,
}

impl Response {
    pub fn header_mut(&mut self) -> &mut ResponseHeader {
        match self {
            Response::Range(r) => &mut r.header,
            Response::Put(r) => &mut r.header,
            Response::DeleteRange(r) => &mut r.header,
            Response::Txn(r) => &mut r.header,
            Response::Compact(r) => &mut r.header,
            Response::LeaseGrant(r) => &mut r.header,
            Response::LeaseRevoke(r) => &mut r.header,
            Response::LeaseKeepAlive(r) => &mut r.header,
            Response::LeaseTimeToLive(r) => &mut r.header,
            Response::LeaseLeases(r) => &mut r.header,
            Response::Alarm(r) => &mut r.header,
            Response::MemberChange(r) => &mut r.header,
        }
    }
}

/// Which events a watcher does not want.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchFilter {
    NoPut,
    NoDelete,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchCreateRequest {
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
    /// Replay history from this revision first (0: only what happens from now on).
    pub start_revision: i64,
    /// Send an empty response now and then, saying how far the watcher has seen.
    pub progress_notify: bool,
    pub filters: Vec<WatchFilter>,
    pub prev_kv: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    Put,
    Delete,
}

/// One change to one key. A delete's `kv` holds only the key and the deleting revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventType,
    pub kv: KeyValue,
    pub prev_kv: Option<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchResponse {
    pub header: ResponseHeader,
    pub watch_id: i64,
    pub created: bool,
    pub canceled: bool,
    /// Set when the watcher asked for history that compaction removed.
    pub compact_revision: i64,
    pub cancel_reason: String,
    pub events: Vec<Event>,
}

/// etcd's errors, with etcd's exact messages (clients match on them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum EtcdError {
    #[error("etcdserver: mvcc: required revision has been compacted")]
    Compacted,
    #[error("etcdserver: mvcc: required revision is a future revision")]
    FutureRevision,
    #[error("etcdserver: key is not provided")]
    EmptyKey,
    #[error("etcdserver: key not found")]
    KeyNotFound,
    #[error("etcdserver: value is provided")]
    ValueProvided,
    #[error("etcdserver: lease is provided")]
    LeaseProvided,
    #[error("etcdserver: too many operations in txn request")]
    TooManyOps,
    #[error("etcdserver: duplicate key given in txn request")]
    DuplicateKey,
    /// A `NoSpace` alarm is raised: the cluster takes no more data until it is disarmed.
    #[error("etcdserver: mvcc: database space exceeded")]
    NoSpace,
    /// A watch created with an id its stream already uses (a cancel reason, not a status).
    #[error("mvcc: duplicate watch ID provided on the WatchStream")]
    DuplicateWatchId,
    #[error("etcdserver: request is too large")]
    RequestTooLarge,
    #[error("etcdserver: requested lease not found")]
    LeaseNotFound,
    #[error("etcdserver: lease already exists")]
    LeaseExists,
    #[error("etcdserver: too large lease TTL")]
    LeaseTtlTooLarge,
    #[error("etcdserver: no leader")]
    NoLeader,
    #[error("etcdserver: not leader")]
    NotLeader,
    #[error("etcdserver: can only promote a learner member which is in sync with leader")]
    LearnerNotReady,
    #[error("etcdserver: request timed out")]
    Timeout,
    /// Not one of etcd's: a log entry that is not a command (no raftbook member writes one).
    #[error("etcdserver: malformed request")]
    Malformed,
}

/// etcd refuses requests larger than this (its `--max-request-bytes` default).
pub const MAX_REQUEST_BYTES: usize = 1536 * 1024;
/// etcd refuses transactions with more operations than this in any one list.
pub const MAX_TXN_OPS: usize = 128;
/// The largest lease TTL etcd accepts, in seconds.
pub const MAX_LEASE_TTL: i64 = 9_000_000_000;

/// The end of the range of all keys starting with `prefix`: the prefix with its last byte
/// that is not 0xff increased by one (and what follows dropped). A prefix of only 0xff
/// bytes (or an empty one) has no end: `"\0"`, meaning "to the end of the key space".
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}
