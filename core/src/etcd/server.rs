//! The etcd server layer (what etcd calls `etcdserver`), sans-I/O.
//!
//! An [`EtcdServer`] is one member: a Raft [`Node`] applying to an [`EtcdStore`], plus what
//! turns client requests into Raft work and Raft results into answers:
//!
//! - **writes** (put, delete, txn, compaction, lease grant/revoke) are proposed to the log and
//!   answered once applied. A follower's proposal is forwarded to the leader by Raft itself.
//!   A proposal refused for want of a leader is tried again every tick;
//! - **linearizable reads** use Raft's ReadIndex: the leader confirms it still leads and
//!   names its commit index; once this member has applied that far it answers from its own
//!   store. Retried every 500 ms while unanswered (a leader may drop them), as etcd does;
//! - **serializable reads** are answered from the local store at once, stale or not;
//! - **leases** expire by the leader's clock: the leader keeps a deadline per lease, and
//!   proposes a revoke when one passes. A new leader first extends every lease to its full
//!   TTL plus an election timeout, as etcd's lessor does on promotion, since the old leader's
//!   deadlines are gone with it. Keep-alive and time-to-live must be answered by the leader;
//!   a follower hands them to its transport to carry there;
//! - **watches** are served from the member's own store (see [`super::watch`]);
//! - a request still unanswered after the request timeout fails, with "no leader" when the
//!   member knows of none.
//!
//! Time comes in as `now` (milliseconds) with every input. Inputs return [`ServerOutput`]s:
//! the node's own outputs (to carry out exactly as [`crate::node`] describes), then answers.

use std::collections::{BTreeMap, BTreeSet};

use raft::eraftpb::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::api::*;
use super::store::{ApplyResult, Command, EtcdStore};
use super::watch::{WatchHub, WatchView};
use crate::node::{MembershipChange, Node, NodeConfig, NodeError, NodeEvent, Output, Role};
use crate::storage::{PersistWrite, RaftStorage};

/// How often unanswered reads and lease forwards are tried again (etcd: 500 ms).
const RETRY_MS: u64 = 500;
/// How often watchers that asked for it get a progress notification (etcd: 10 minutes).
const PROGRESS_NOTIFY_MS: u64 = 10 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ServerConfig {
    pub node: NodeConfig,
    /// How long a tick is, in milliseconds.
    pub tick_ms: u64,
    /// See [`cluster_id`].
    pub cluster_id: u64,
}

/// The cluster's id, as etcd derives it from its founding members' ids: the first 8 bytes of
/// a SHA-256 of the ids, sorted. The simulator and the native member both name it so.
pub fn cluster_id(members: impl IntoIterator<Item = u64>) -> u64 {
    use sha2::Digest;
    let mut ids: Vec<u64> = members.into_iter().collect();
    ids.sort_unstable();
    let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_be_bytes()).collect();
    u64::from_be_bytes(
        sha2::Sha256::digest(bytes)[..8]
            .try_into()
            .expect("8 bytes"),
    )
}

impl ServerConfig {
    pub fn election_timeout_ms(&self) -> u64 {
        self.node.election_tick as u64 * self.tick_ms
    }

    /// etcd's: 5 s plus two election timeouts.
    pub fn request_timeout_ms(&self) -> u64 {
        5000 + 2 * self.election_timeout_ms()
    }

    /// etcd's minimum lease TTL, in whole seconds: 1.5 election timeouts, rounded up, so a
    /// lease cannot expire while the cluster elects a new leader.
    pub fn min_lease_ttl(&self) -> i64 {
        let ms = (3 * self.node.election_tick as u64 / 2) * self.tick_ms;
        ms.div_ceil(1000) as i64
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ServerOutput {
    /// A Raft message for a peer (the node's [`Output::Send`]).
    Send(Box<Message>),
    /// Writes for the member's disk, synced before anything later if `must_sync` (the node's
    /// [`Output::Persist`]).
    Persist {
        writes: Vec<PersistWrite>,
        must_sync: bool,
    },
    /// Something an observer may want to know (the node's [`Output::Event`]).
    Event(NodeEvent),
    /// The answer to client request `request_id`; `index` is the log index it was applied or
    /// read at.
    Reply {
        request_id: u64,
        index: u64,
        result: Result<Response, EtcdError>,
    },
    Watch(WatchResponse),
    /// A lease request only the leader can answer: the transport carries it to `leader`,
    /// has it answered with [`EtcdServer::serve_at_leader`], and brings the answer back with
    /// [`EtcdServer::forwarded_reply`].
    ForwardToLeader {
        leader: u64,
        request_id: u64,
        request: Request,
    },
}

/// What an unanswered request waits for.
#[derive(Clone)]
enum Waiting {
    /// Refused by raft-rs for want of a leader; proposed again on the next tick.
    ToPropose(Command),
    /// In the log, or on its way to the leader; answered when applied.
    Applied,
    /// A linearizable read, waiting for its read index to be applied.
    ReadIndex { request: Request, last_try: u64 },
    /// A lease request, waiting for the leader's answer.
    Leader { request: Request, last_try: u64 },
}

#[derive(Clone)]
struct Pending {
    waiting: Waiting,
    deadline: u64,
}

#[derive(Clone)]
pub struct EtcdServer {
    config: ServerConfig,
    node: Node<EtcdStore>,
    now: u64,
    pending: BTreeMap<u64, Pending>,
    /// Compactions asked with `physical`, by request id: their answer waits until the store
    /// has forgotten what they forget, as etcd's does.
    physical_compactions: BTreeSet<u64>,
    /// Those answers, applied and waiting for the store.
    awaiting_compaction: Vec<(u64, u64, Result<Response, EtcdError>)>,
    /// When each lease expires: only kept while this member leads.
    lease_deadlines: BTreeMap<i64, u64>,
    /// Leases whose revoke this leader proposed, and when (proposed again if it got lost).
    revoking: BTreeMap<i64, u64>,
    watches: WatchHub,
    /// For lease ids (seeded, like everything random in core).
    rng: ChaCha8Rng,
    leading: bool,
    last_progress_notify: u64,
    outputs: Vec<ServerOutput>,
}

impl EtcdServer {
    pub fn new(
        config: ServerConfig,
        storage: RaftStorage,
        seed: u64,
        now: u64,
    ) -> Result<(Self, Vec<ServerOutput>), NodeError> {
        let (node, outputs) = Node::new(config.node.clone(), storage, EtcdStore::default(), seed)?;
        let mut server = EtcdServer {
            config,
            node,
            now,
            pending: BTreeMap::new(),
            physical_compactions: BTreeSet::new(),
            awaiting_compaction: Vec::new(),
            lease_deadlines: BTreeMap::new(),
            revoking: BTreeMap::new(),
            watches: WatchHub::default(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x1ea5e),
            leading: false,
            last_progress_notify: now,
            outputs: Vec::new(),
        };
        server.absorb(outputs);
        let outputs = server_outputs(&mut server);
        Ok((server, outputs))
    }

    /// Gives the node an input (a message, an election, a snapshot report…) and carries out
    /// the server's side of whatever follows.
    fn drive(
        &mut self,
        now: u64,
        input: impl FnOnce(&mut Node<EtcdStore>) -> Vec<Output<ApplyResult>>,
    ) -> Vec<ServerOutput> {
        self.now = now;
        let outputs = input(&mut self.node);
        self.absorb(outputs);
        server_outputs(self)
    }

    /// Holds back the node's Ready until [`EtcdServer::release`], so that the requests and
    /// messages given meanwhile share one disk write, one fsync and one batch per peer (see
    /// [`Node::hold`]). Answers that need no Ready (serializable reads, refusals) still
    /// come out at once.
    pub fn hold(&mut self) {
        self.node.hold();
    }

    /// Handles everything given since [`EtcdServer::hold`] in one Ready.
    pub fn release(&mut self, now: u64) -> Vec<ServerOutput> {
        self.drive(now, Node::release)
    }

    /// One clock tick: the node's timers, then retries, lease expiry and timeouts.
    pub fn tick(&mut self, now: u64) -> Vec<ServerOutput> {
        self.now = now;
        let outputs = self.node.tick();
        self.absorb(outputs);
        if !self.store().mvcc.compacting() {
            for (request_id, index, result) in std::mem::take(&mut self.awaiting_compaction) {
                self.reply(request_id, index, result);
            }
        }
        self.retry_and_expire();
        server_outputs(self)
    }

    pub fn step(&mut self, now: u64, message: Message) -> Vec<ServerOutput> {
        self.drive(now, |node| node.step(message))
    }

    /// Starts an election on this member now, as if its election timer had fired.
    pub fn campaign(&mut self, now: u64) -> Result<Vec<ServerOutput>, NodeError> {
        let mut refused = None;
        let outputs = self.drive(now, |node| {
            node.campaign().unwrap_or_else(|error| {
                refused = Some(error);
                Vec::new()
            })
        });
        refused.map_or(Ok(outputs), Err)
    }

    /// Asks this member, if it leads, to hand leadership to `to`.
    pub fn transfer_leader(&mut self, now: u64, to: u64) -> Vec<ServerOutput> {
        self.drive(now, |node| node.transfer_leader(to))
    }

    /// Snapshots the applied state now and compacts the log behind it.
    pub fn take_snapshot(&mut self, now: u64) -> Vec<ServerOutput> {
        self.drive(now, Node::take_snapshot)
    }

    /// The transport's word on a snapshot this member sent to `to` (see
    /// [`Node::report_snapshot`]).
    pub fn report_snapshot(&mut self, now: u64, to: u64, delivered: bool) -> Vec<ServerOutput> {
        self.drive(now, |node| node.report_snapshot(to, delivered))
    }

    /// A client request. The answer comes as a [`ServerOutput::Reply`], now or later.
    pub fn request(&mut self, now: u64, request_id: u64, request: Request) -> Vec<ServerOutput> {
        self.now = now;
        match validate(&request) {
            Err(error) => self.reply(request_id, 0, Err(error)),
            Ok(()) => self.dispatch(request_id, request),
        }
        server_outputs(self)
    }

    /// Sends a request its way: a write into the log, a read through ReadIndex (or straight
    /// to the store if serializable), a lease question to the leader.
    fn dispatch(&mut self, request_id: u64, request: Request) {
        let deadline = self.now + self.config.request_timeout_ms();
        match Command::from_request(request) {
            // A transaction that only reads is a read, as in etcd.
            Ok(Command::Txn(txn)) if is_read_only(&txn) => {
                self.read(request_id, Request::Txn(txn), false, deadline)
            }
            Ok(Command::LeaseGrant(mut grant)) => {
                grant.ttl = grant.ttl.max(self.config.min_lease_ttl());
                if grant.id == 0 {
                    grant.id = self.new_lease_id();
                }
                self.propose(request_id, Command::LeaseGrant(grant), deadline)
            }
            Ok(write) => {
                if matches!(&write, Command::Compact(c) if c.physical) {
                    self.physical_compactions.insert(request_id);
                }
                self.propose(request_id, write, deadline)
            }
            Err(Request::Range(range)) => {
                let serializable = range.serializable;
                self.read(request_id, Request::Range(range), serializable, deadline)
            }
            Err(Request::LeaseLeases) => {
                let leases = self.store().leases().map(|l| l.id).collect();
                let response = Response::LeaseLeases(LeaseLeasesResponse {
                    leases,
                    ..Default::default()
                });
                self.reply(request_id, self.applied(), Ok(response))
            }
            // Keep-alive and time-to-live: only the leader tracks lease deadlines.
            Err(request) => {
                if self.node.role() == Role::Leader {
                    let result = self.serve_at_leader(self.now, &request);
                    self.reply(request_id, self.applied(), result);
                } else {
                    let waiting = Waiting::Leader {
                        request: request.clone(),
                        last_try: self.now,
                    };
                    self.pending
                        .insert(request_id, Pending { waiting, deadline });
                    self.forward(request_id, request);
                }
            }
        }
    }

    /// Asks for a membership change; answered like a write, once applied. `info` (how to
    /// reach a new member) is replicated with it (see [`EtcdStore::member_info`]).
    pub fn change_membership(
        &mut self,
        now: u64,
        request_id: u64,
        change: MembershipChange,
        info: Vec<u8>,
    ) -> Result<Vec<ServerOutput>, NodeError> {
        self.now = now;
        let outputs = self.node.propose_membership(request_id, change, info)?;
        let deadline = now + self.config.request_timeout_ms();
        self.await_apply(request_id, deadline, outputs);
        Ok(server_outputs(self))
    }

    /// Asks for several membership changes at once, by joint consensus (raft-rs can; etcd
    /// 3.4 never does): answered once the joint configuration is applied.
    pub fn change_membership_jointly(
        &mut self,
        now: u64,
        request_id: u64,
        changes: &[MembershipChange],
    ) -> Result<Vec<ServerOutput>, NodeError> {
        self.now = now;
        let outputs = self.node.propose_joint_membership(request_id, changes)?;
        let deadline = now + self.config.request_timeout_ms();
        self.await_apply(request_id, deadline, outputs);
        Ok(server_outputs(self))
    }

    fn propose(&mut self, request_id: u64, command: Command, deadline: u64) {
        match self.node.propose(request_id, command.encode()) {
            Ok(outputs) => self.await_apply(request_id, deadline, outputs),
            Err(NodeError::ProposalDropped) => {
                self.pending.insert(
                    request_id,
                    Pending {
                        waiting: Waiting::ToPropose(command),
                        deadline,
                    },
                );
            }
            Err(_) => self.reply(request_id, 0, Err(EtcdError::Timeout)),
        }
    }

    /// A proposal is in the log (or on its way to the leader): it is answered once applied.
    fn await_apply(&mut self, request_id: u64, deadline: u64, outputs: Vec<Output<ApplyResult>>) {
        let waiting = Waiting::Applied;
        self.pending
            .insert(request_id, Pending { waiting, deadline });
        self.absorb(outputs);
    }

    fn read(&mut self, request_id: u64, request: Request, serializable: bool, deadline: u64) {
        if serializable {
            let result = self.serve_read(&request);
            self.reply(request_id, self.applied(), result);
            return;
        }
        let waiting = Waiting::ReadIndex {
            request,
            last_try: self.now,
        };
        self.pending
            .insert(request_id, Pending { waiting, deadline });
        let outputs = self.node.read_index(request_id);
        self.absorb(outputs);
    }

    /// Answers a read from the local store.
    fn serve_read(&self, request: &Request) -> Result<Response, EtcdError> {
        match request {
            Request::Range(range) => {
                let mut response = self.store().mvcc.range(range)?;
                response.header.revision = self.store().mvcc.current_revision();
                Ok(Response::Range(response))
            }
            // A read-only transaction changes nothing: run it on a copy (cheap with `im`).
            Request::Txn(txn) => self
                .store()
                .clone()
                .apply_command(&Command::Txn(txn.clone())),
            _ => unreachable!("only ranges and read-only transactions are reads"),
        }
    }

    /// Keep-alive and time-to-live, answered by the leader from its lease deadlines.
    pub fn serve_at_leader(&mut self, now: u64, request: &Request) -> Result<Response, EtcdError> {
        self.now = now;
        if self.node.role() != Role::Leader {
            return Err(EtcdError::NoLeader);
        }
        let mut response = match request {
            Request::LeaseKeepAlive(keep_alive) => {
                let id = keep_alive.id;
                let ttl = match self.store().lease(id) {
                    Some(lease) => {
                        let ttl = lease.ttl;
                        self.lease_deadlines.insert(id, now + ttl as u64 * 1000);
                        ttl
                    }
                    None => 0,
                };
                Response::LeaseKeepAlive(LeaseKeepAliveResponse {
                    id,
                    ttl,
                    ..Default::default()
                })
            }
            Request::LeaseTimeToLive(query) => {
                let id = query.id;
                let response = match (self.store().lease(id), self.lease_deadlines.get(&id)) {
                    (Some(lease), Some(&deadline)) => LeaseTimeToLiveResponse {
                        id,
                        ttl: (deadline.saturating_sub(now) / 1000) as i64,
                        granted_ttl: lease.ttl,
                        keys: if query.keys {
                            lease.keys.iter().cloned().collect()
                        } else {
                            Vec::new()
                        },
                        ..Default::default()
                    },
                    _ => LeaseTimeToLiveResponse {
                        id,
                        ttl: -1,
                        ..Default::default()
                    },
                };
                Response::LeaseTimeToLive(response)
            }
            _ => unreachable!("only lease keep-alive and time-to-live go to the leader"),
        };
        *response.header_mut() = self.header();
        Ok(response)
    }

    /// The leader's answer to a request this member forwarded.
    pub fn forwarded_reply(
        &mut self,
        now: u64,
        request_id: u64,
        result: Result<Response, EtcdError>,
    ) -> Vec<ServerOutput> {
        self.now = now;
        if self.pending.remove(&request_id).is_some() {
            self.reply(request_id, self.applied(), result);
        }
        server_outputs(self)
    }

    fn forward(&mut self, request_id: u64, request: Request) {
        let leader = self.node.leader_id();
        if leader != 0 {
            self.outputs.push(ServerOutput::ForwardToLeader {
                leader,
                request_id,
                request,
            });
        }
    }

    // ---- Watches --------------------------------------------------------------------------

    /// Starts a watch on this member; history from `start_revision` follows at once.
    pub fn watch(&mut self, now: u64, request: WatchCreateRequest) -> Vec<ServerOutput> {
        self.now = now;
        let header = self.header();
        let created = self
            .watches
            .create(request, &self.node.state_machine().mvcc, &header);
        self.outputs.push(ServerOutput::Watch(created));
        self.sync_watches();
        server_outputs(self)
    }

    pub fn cancel_watch(&mut self, now: u64, watch_id: i64) -> Vec<ServerOutput> {
        self.now = now;
        if let Some(canceled) = self.watches.cancel(watch_id, &self.header()) {
            self.outputs.push(ServerOutput::Watch(canceled));
        }
        server_outputs(self)
    }

    /// etcd's progress request: every up-to-date watcher hears the current revision.
    pub fn request_progress(&mut self, now: u64) -> Vec<ServerOutput> {
        self.now = now;
        let responses = self
            .watches
            .progress(&self.store().mvcc, &self.header(), false);
        self.outputs
            .extend(responses.into_iter().map(ServerOutput::Watch));
        server_outputs(self)
    }

    fn sync_watches(&mut self) {
        let header = self.header();
        let responses = self.watches.sync(&self.node.state_machine().mvcc, &header);
        self.outputs
            .extend(responses.into_iter().map(ServerOutput::Watch));
    }

    // ---- After every input ------------------------------------------------------------------

    /// Takes in the node's outputs: answers what they answer, passes the rest on.
    fn absorb(&mut self, mut outputs: Vec<Output<ApplyResult>>) {
        let mut store_changed = false;
        self.outputs.reserve(outputs.len());
        for output in outputs.drain(..) {
            match output {
                Output::Response {
                    request_id,
                    index,
                    response,
                } => {
                    let Some(pending) = self.pending.remove(&request_id) else {
                        continue;
                    };
                    debug_assert!(matches!(pending.waiting, Waiting::Applied));
                    // The store does not answer a membership change; the server does.
                    let result = response.unwrap_or_else(|| {
                        Ok(Response::MemberChange(MemberChangeResponse::default()))
                    });
                    if self.physical_compactions.remove(&request_id)
                        && self.store().mvcc.compacting()
                    {
                        self.awaiting_compaction.push((request_id, index, result));
                        continue;
                    }
                    self.reply(request_id, index, result);
                }
                Output::ReadReady { request_id } => {
                    let Some(pending) = self.pending.remove(&request_id) else {
                        continue;
                    };
                    let Waiting::ReadIndex { request, .. } = pending.waiting else {
                        continue;
                    };
                    let result = self.serve_read(&request);
                    self.reply(request_id, self.applied(), result);
                }
                Output::Event(
                    event @ (NodeEvent::Applied { .. } | NodeEvent::SnapshotInstalled { .. }),
                ) => {
                    store_changed = true;
                    self.outputs.push(ServerOutput::Event(event));
                }
                Output::Event(event) => self.outputs.push(ServerOutput::Event(event)),
                Output::Send(message) => self.outputs.push(ServerOutput::Send(message)),
                Output::Persist { writes, must_sync } => self
                    .outputs
                    .push(ServerOutput::Persist { writes, must_sync }),
            }
        }
        self.node.reuse(outputs);
        self.track_leases(store_changed);
        if store_changed {
            self.sync_watches();
        }
    }

    /// Takes back an outputs vector its caller has emptied (see [`Node::reuse`]).
    pub fn reuse(&mut self, mut emptied: Vec<ServerOutput>) {
        emptied.clear();
        if self.outputs.capacity() == 0 {
            self.outputs = emptied;
        }
    }

    /// Keeps lease deadlines while leading: new leases from now, all of them refreshed on
    /// becoming leader, none kept as a follower (a follower never expires a lease).
    /// Only leadership changes and applied entries (grants, revokes, snapshots) change which
    /// leases there are, so only then are the deadlines brought in line with the store.
    fn track_leases(&mut self, store_changed: bool) {
        let leading = self.node.role() == Role::Leader;
        let promoted = leading && !self.leading;
        self.leading = leading;
        if !leading {
            self.lease_deadlines.clear();
            self.revoking.clear();
            return;
        }
        if !promoted && !store_changed {
            return;
        }
        // The new leader's deadlines start empty (it was a follower): all leases get their
        // full TTL plus an election timeout.
        let extension = if promoted {
            self.config.election_timeout_ms()
        } else {
            0
        };
        let now = self.now;
        let store = self.node.state_machine();
        self.lease_deadlines
            .retain(|id, _| store.lease(*id).is_some());
        self.revoking.retain(|id, _| store.lease(*id).is_some());
        for lease in store.leases() {
            self.lease_deadlines
                .entry(lease.id)
                .or_insert(now + lease.ttl as u64 * 1000 + extension);
        }
    }

    fn retry_and_expire(&mut self) {
        let now = self.now;
        let leader_known = self.node.leader_id() != 0;
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        for request_id in ids {
            let pending = self.pending.get_mut(&request_id).expect("listed");
            if pending.deadline <= now {
                self.pending.remove(&request_id);
                let error = if leader_known {
                    EtcdError::Timeout
                } else {
                    EtcdError::NoLeader
                };
                self.reply(request_id, 0, Err(error));
                continue;
            }
            match &mut pending.waiting {
                Waiting::ToPropose(command) => {
                    let (command, deadline) = (command.clone(), pending.deadline);
                    self.pending.remove(&request_id);
                    self.propose(request_id, command, deadline);
                }
                Waiting::ReadIndex { last_try, .. } if *last_try + RETRY_MS <= now => {
                    *last_try = now;
                    let outputs = self.node.read_index(request_id);
                    self.absorb(outputs);
                }
                Waiting::Leader { request, last_try } if *last_try + RETRY_MS <= now => {
                    *last_try = now;
                    let request = request.clone();
                    self.forward(request_id, request);
                }
                _ => {}
            }
        }
        self.expire_leases();
        if now >= self.last_progress_notify + PROGRESS_NOTIFY_MS {
            self.last_progress_notify = now;
            let responses = self
                .watches
                .progress(&self.store().mvcc, &self.header(), true);
            self.outputs
                .extend(responses.into_iter().map(ServerOutput::Watch));
        }
    }

    /// The leader revokes leases whose deadline passed, through the log like any write.
    fn expire_leases(&mut self) {
        let now = self.now;
        let expired: Vec<i64> = self
            .lease_deadlines
            .iter()
            .filter(|&(id, &deadline)| {
                deadline <= now && self.revoking.get(id).is_none_or(|&at| at + RETRY_MS <= now)
            })
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            self.revoking.insert(id, now);
            // Request id 0: nobody waits for the answer.
            let command = Command::LeaseRevoke(LeaseRevokeRequest { id });
            if let Ok(outputs) = self.node.propose(0, command.encode()) {
                self.absorb(outputs);
            }
        }
    }

    fn reply(&mut self, request_id: u64, index: u64, result: Result<Response, EtcdError>) {
        self.physical_compactions.remove(&request_id);
        let header = self.header();
        let result = result.map(|mut response| {
            let h = response.header_mut();
            (h.cluster_id, h.member_id, h.raft_term) =
                (header.cluster_id, header.member_id, header.raft_term);
            if h.revision == 0 {
                h.revision = header.revision;
            }
            response
        });
        self.outputs.push(ServerOutput::Reply {
            request_id,
            index,
            result,
        });
    }

    fn new_lease_id(&mut self) -> i64 {
        // Like etcd's: the member id in the top bits, then a (here seeded) random part.
        let member = (self.node.id() & 0x7fff) as i64;
        (member << 48) | (self.rng.gen::<i64>() & 0xffff_ffff_ffff)
    }

    // ---- Observation ------------------------------------------------------------------------

    pub fn header(&self) -> ResponseHeader {
        ResponseHeader {
            cluster_id: self.config.cluster_id,
            member_id: self.node.id(),
            revision: self.store().mvcc.current_revision(),
            raft_term: self.node.term(),
        }
    }

    pub fn node(&self) -> &Node<EtcdStore> {
        &self.node
    }

    pub fn store(&self) -> &EtcdStore {
        self.node.state_machine()
    }

    fn applied(&self) -> u64 {
        self.node.applied()
    }

    /// When each lease expires (virtual ms), kept only while this member leads.
    pub fn lease_deadlines(&self) -> &BTreeMap<i64, u64> {
        &self.lease_deadlines
    }

    pub fn watch_views(&self) -> Vec<WatchView> {
        self.watches.views()
    }
}

fn server_outputs(server: &mut EtcdServer) -> Vec<ServerOutput> {
    std::mem::take(&mut server.outputs)
}

fn is_read_only(txn: &TxnRequest) -> bool {
    txn.success.iter().chain(&txn.failure).all(|op| match op {
        RequestOp::Range(_) => true,
        RequestOp::Txn(inner) => is_read_only(inner),
        _ => false,
    })
}

/// etcd's checks before a request goes anywhere near the log.
pub fn validate(request: &Request) -> Result<(), EtcdError> {
    if postcard::to_allocvec(request).map_or(true, |bytes| bytes.len() > MAX_REQUEST_BYTES) {
        return Err(EtcdError::RequestTooLarge);
    }
    match request {
        Request::Range(range) => check_key(&range.key),
        Request::Put(put) => check_put(put),
        Request::DeleteRange(delete) => check_key(&delete.key),
        Request::Txn(txn) => check_txn(txn, MAX_TXN_OPS).map(|_| ()),
        Request::LeaseGrant(grant) if grant.ttl > MAX_LEASE_TTL => Err(EtcdError::LeaseTtlTooLarge),
        _ => Ok(()),
    }
}

fn check_key(key: &[u8]) -> Result<(), EtcdError> {
    if key.is_empty() {
        Err(EtcdError::EmptyKey)
    } else {
        Ok(())
    }
}

fn check_put(put: &PutRequest) -> Result<(), EtcdError> {
    check_key(&put.key)?;
    if put.ignore_value && !put.value.is_empty() {
        return Err(EtcdError::ValueProvided);
    }
    if put.ignore_lease && put.lease != 0 {
        return Err(EtcdError::LeaseProvided);
    }
    Ok(())
}

/// The keys a transaction branch writes: put keys and deleted ranges.
#[derive(Default)]
struct Writes {
    puts: Vec<Vec<u8>>,
    deletes: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Checks sizes and keys of a transaction, and that no branch writes a key twice (etcd
/// refuses that: the order of two writes to one key in one revision would be unclear).
///
/// `budget` is how many operations one list may hold. As in etcd, a nested transaction gets
/// what its parent's longest list left over, so nesting is bounded too: one operation per
/// level allows 128 levels.
fn check_txn(txn: &TxnRequest, budget: usize) -> Result<Writes, EtcdError> {
    let longest = txn
        .compare
        .len()
        .max(txn.success.len())
        .max(txn.failure.len());
    if longest > budget {
        return Err(EtcdError::TooManyOps);
    }
    let mut all = Writes::default();
    for branch in [&txn.success, &txn.failure] {
        let mut writes = Writes::default();
        for op in branch {
            match op {
                RequestOp::Range(range) => check_key(&range.key)?,
                RequestOp::Put(put) => {
                    check_put(put)?;
                    writes.puts.push(put.key.clone());
                }
                RequestOp::DeleteRange(delete) => {
                    check_key(&delete.key)?;
                    writes
                        .deletes
                        .push((delete.key.clone(), delete.range_end.clone()));
                }
                RequestOp::Txn(inner) => {
                    let mut inner = check_txn(inner, budget - longest)?;
                    // One of the inner branches runs: a key in both counts once.
                    inner.puts.sort();
                    inner.puts.dedup();
                    writes.puts.extend(inner.puts);
                    writes.deletes.extend(inner.deletes);
                }
            }
        }
        let mut puts = writes.puts.clone();
        puts.sort();
        let twice = puts.windows(2).any(|pair| pair[0] == pair[1]);
        let deleted_too = puts.iter().any(|key| {
            writes
                .deletes
                .iter()
                .any(|(start, end)| KeyRange::new(start, end).contains(key))
        });
        if twice || deleted_too {
            return Err(EtcdError::DuplicateKey);
        }
        all.puts.extend(writes.puts);
        all.deletes.extend(writes.deletes);
    }
    Ok(all)
}
