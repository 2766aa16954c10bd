//! The member loop: a thread that owns the sans-I/O [`EtcdServer`] and is its only driver.
//!
//! It waits for the next input (a client request, peer messages, a watch…) or the next clock
//! tick, hands it to the core with every other input already waiting (the core handles them
//! in one Ready: one WAL write and one fsync for all their entries), and carries out the
//! outputs **in order**: WAL writes (and the fsync raft-rs asks for) before any message that
//! was waiting on them goes out; answers to the clients whose requests were applied; events
//! to watch streams. A plain thread with a channel keeps that ordering obvious; the async
//! world (gRPC, HTTP) talks to it through [`MemberHandle`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftbook_core::etcd::api::{Call, EtcdError, Request, Response, ResponseHeader, WatchResponse};
use raftbook_core::etcd::server::{EtcdServer, ServerConfig, ServerOutput};
use raftbook_core::etcd::view::StoreView;
use raftbook_core::node::{EntryKind, NodeConfig, NodeError, NodeEvent, Role};
use raftbook_core::state_machine::StateMachine;
use raftbook_core::storage::RaftStorage;
use raftbook_core::view::NodeView;
use tokio::sync::{mpsc, oneshot};

use crate::config::MemberConfig;
use crate::failpoint::Failpoints;
use crate::metrics::Metrics;
use crate::peer::Transport;
use crate::wal::Wal;

pub use crate::inbox::{Input, Observation, Reply, Status};

/// The most inputs one Ready takes in: enough for a busy member's queue, few enough that
/// a Ready's disk write stays short.
const MAX_HELD_INPUTS: usize = 1024;

/// How the rest of the process talks to the member loop.
#[derive(Clone)]
pub struct MemberHandle {
    inputs: Sender<Input>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<MemberConfig>,
}

impl MemberHandle {
    pub fn send(&self, input: Input) {
        // The loop only ends with the process.
        let _ = self.inputs.send(input);
    }

    /// Sends a request and waits for its answer (the member times requests out itself).
    pub async fn request(&self, request: Request) -> Result<Response, EtcdError> {
        self.ask(|reply| Input::Request { request, reply })
            .await
            .unwrap_or(Err(EtcdError::Timeout))
    }

    /// Sends a typed request and returns its typed answer (a `PutRequest` gets a
    /// `PutResponse`).
    pub async fn call<C: Call>(&self, request: C) -> Result<C::Answer, EtcdError> {
        let response = self.request(request.into()).await?;
        // The core answers every request with its own kind of response; anything else would
        // be a bug in raftbook, reported to the client as etcd reports internal errors.
        C::Answer::try_from(response).map_err(|_| EtcdError::Malformed)
    }

    /// Asks the loop something and waits for its answer (`None`: the loop has stopped).
    async fn ask<T>(&self, input: impl FnOnce(oneshot::Sender<T>) -> Input) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.send(input(reply));
        answer.await.ok()
    }

    pub async fn status(&self) -> Option<Status> {
        self.ask(|reply| Input::Status { reply }).await
    }

    pub async fn hash_kv(
        &self,
        revision: i64,
    ) -> Option<Result<(ResponseHeader, u32, i64), EtcdError>> {
        self.ask(|reply| Input::HashKv { revision, reply }).await
    }

    pub async fn save_snapshot(&self) -> Option<Vec<u8>> {
        self.ask(|reply| Input::SaveSnapshot { reply }).await
    }

    pub async fn observe(&self) -> Option<Observation> {
        self.ask(|reply| Input::Observe { reply }).await
    }
}

/// Opens the member's data directory (recovering, bootstrapping or joining) and starts its
/// loop. `transport` carries its messages to the peers.
pub fn start(
    config: MemberConfig,
    metrics: Arc<Metrics>,
    inputs: Sender<Input>,
    receiver: Receiver<Input>,
    transport: Transport,
    failpoints: Arc<Failpoints>,
) -> Result<MemberHandle, String> {
    let recovered = Wal::open(&config.data_dir).map_err(|e| e.to_string())?;
    if recovered.dropped_torn_record {
        tracing::warn!("dropped a torn record at the end of the WAL (a crash in mid-write)");
    }
    let mut wal = recovered.wal;
    let storage = match recovered.storage {
        Some(storage) => {
            tracing::info!(
                last_index = storage.last_index(),
                term = storage.hard_state().term,
                "recovered from the WAL"
            );
            storage
        }
        None if config.join_existing => RaftStorage::empty(),
        None => {
            let ids: Vec<u64> = config.peers.keys().copied().collect();
            let storage = RaftStorage::bootstrap(&ids);
            wal.bootstrap(&storage).map_err(|e| e.to_string())?;
            tracing::info!(members = ids.len(), "bootstrapped a new cluster");
            storage
        }
    };
    // etcd's flags; the rest (heartbeat every tick, pre-vote and check-quorum on) as the
    // simulator's members have them.
    let node = NodeConfig {
        election_tick: config.election_ticks,
        snapshot_interval: config.snapshot_count,
        snapshot_catchup_entries: 5000.min(config.snapshot_count),
        ..NodeConfig::new(config.id)
    };
    let server_config = ServerConfig {
        node,
        tick_ms: config.tick_ms,
        cluster_id: config.cluster_id,
    };
    let started = Instant::now();
    let (server, outputs) =
        EtcdServer::new(server_config, storage, rand::random(), 0).map_err(|e| e.to_string())?;
    let config = Arc::new(config);
    let handle = MemberHandle {
        inputs,
        metrics: metrics.clone(),
        config: config.clone(),
    };
    // Request ids also name reads at the leader: start each life of the process at a random
    // point, so a restarted member never reuses the ids of its previous life.
    let next_request = (u64::from(rand::random::<u32>()) << 32) | 1;
    let mut member = Member {
        server,
        wal,
        transport,
        metrics,
        failpoints,
        pending: HashMap::new(),
        watches: HashMap::new(),
        next_request,
        started,
        leader: 0,
    };
    member.carry_out(outputs);
    // A snapshot restored at start brings its members without any event.
    member.learn_new_peers();
    std::thread::Builder::new()
        .name("member".into())
        .spawn(move || member.run(receiver, config.tick_ms))
        .map_err(|e| e.to_string())?;
    Ok(handle)
}

struct Member {
    server: EtcdServer,
    wal: Wal,
    transport: Transport,
    metrics: Arc<Metrics>,
    failpoints: Arc<Failpoints>,
    /// Clients waiting for an answer, by request id.
    pending: HashMap<u64, Reply>,
    /// Where each of the member's watches sends its responses, by the member's watch id.
    watches: HashMap<i64, StreamWatch>,
    next_request: u64,
    started: Instant,
    leader: u64,
}

/// A watch's place on its gRPC stream. Watch ids are the member's own in the core; a client
/// knows its watches by ids it chose or its stream gave, as etcd numbers them per stream.
struct StreamWatch {
    id_on_stream: i64,
    stream: mpsc::UnboundedSender<WatchResponse>,
}

impl Member {
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn run(mut self, inputs: Receiver<Input>, tick_ms: u64) {
        let mut next_tick = self.now() + tick_ms;
        loop {
            let wait = next_tick.saturating_sub(self.now());
            match inputs.recv_timeout(Duration::from_millis(wait)) {
                Ok(input) => {
                    // Everything already waiting joins this input in one Ready: one WAL
                    // write and one fsync for all of their entries (group commit).
                    self.server.hold();
                    self.handle(input);
                    for more in inputs.try_iter().take(MAX_HELD_INPUTS) {
                        self.handle(more);
                    }
                    let outputs = self.server.release(self.now());
                    self.carry_out(outputs);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if self.now() >= next_tick {
                let outputs = self.server.tick(self.now());
                self.carry_out(outputs);
                next_tick += tick_ms;
            }
        }
    }

    fn handle(&mut self, input: Input) {
        let now = self.now();
        let outputs = match input {
            Input::Request { request, reply } => {
                let id = self.next_request;
                self.next_request += 1;
                self.pending.insert(id, reply);
                self.server.request(now, id, request)
            }
            Input::Watch {
                request,
                id_on_stream,
                stream,
                created,
            } => {
                let outputs = self.server.watch(now, request);
                // The first response is the new watch's `created`: route its stream.
                if let Some(ServerOutput::Watch(response)) = outputs
                    .iter()
                    .find(|o| matches!(o, ServerOutput::Watch(r) if r.created))
                {
                    self.watches.insert(
                        response.watch_id,
                        StreamWatch {
                            id_on_stream,
                            stream,
                        },
                    );
                    let _ = created.send(response.watch_id);
                }
                outputs
            }
            Input::RefuseWatch { reason, stream } => {
                let _ = stream.send(WatchResponse {
                    header: self.server.header(),
                    watch_id: -1,
                    created: true,
                    canceled: true,
                    cancel_reason: reason.to_string(),
                    ..Default::default()
                });
                Vec::new()
            }
            Input::CancelWatch(watch_id) => self.server.cancel_watch(now, watch_id),
            Input::WatchProgress => self.server.request_progress(now),
            Input::Peer(messages) => {
                let mut outputs = Vec::new();
                for message in messages {
                    outputs.extend(self.server.step(now, message));
                }
                outputs
            }
            Input::SnapshotReport { to, delivered } => {
                self.server.report_snapshot(now, to, delivered)
            }
            Input::ServeAtLeader { request, reply } => {
                let _ = reply.send(self.server.serve_at_leader(now, &request));
                Vec::new()
            }
            Input::ForwardedReply { request_id, result } => {
                self.server.forwarded_reply(now, request_id, result)
            }
            Input::Membership {
                change,
                info,
                reply,
            } => {
                let id = self.next_request;
                self.next_request += 1;
                match self.server.change_membership(now, id, change, info) {
                    Ok(outputs) => {
                        self.pending.insert(id, reply);
                        outputs
                    }
                    Err(error) => {
                        tracing::warn!(%error, "membership change refused");
                        let answer = match error {
                            NodeError::LearnerNotReady => EtcdError::LearnerNotReady,
                            NodeError::NotLeader => EtcdError::NotLeader,
                            _ => EtcdError::NoLeader,
                        };
                        let _ = reply.send(Err(answer));
                        Vec::new()
                    }
                }
            }
            Input::Status { reply } => {
                let _ = reply.send(self.status());
                Vec::new()
            }
            Input::HashKv { revision, reply } => {
                let mvcc = &self.server.store().mvcc;
                let answer = mvcc
                    .hash_kv(revision)
                    .map(|hash| (self.server.header(), hash, mvcc.compact_revision()));
                let _ = reply.send(answer);
                Vec::new()
            }
            Input::SaveSnapshot { reply } => {
                let _ = reply.send(self.server.store().snapshot());
                Vec::new()
            }
            Input::Observe { reply } => {
                let observation = Observation {
                    status: self.status(),
                    node: NodeView::of_node(self.server.node(), 50),
                    store: StoreView::of(&self.server, now),
                };
                let _ = reply.send(observation);
                Vec::new()
            }
        };
        self.carry_out(outputs);
    }

    /// Members added since bootstrap become reachable as soon as their addition is applied
    /// (or arrives in a snapshot, or is found in the store at start).
    fn learn_new_peers(&mut self) {
        for (id, url) in added_members(&self.server) {
            if id != self.server.node().id() {
                self.transport.add_peer(id, url);
            }
        }
    }

    fn status(&self) -> Status {
        let node = self.server.node();
        let (voters, learners) = node.members();
        Status {
            header: self.server.header(),
            id: node.id(),
            leader: node.leader_id(),
            term: node.term(),
            commit: node.committed(),
            applied: node.applied(),
            is_learner: node.role() == Role::Learner,
            voters,
            learners,
            db_size: self.server.store().stats().bytes as u64,
            added_members: added_members(&self.server),
        }
    }

    /// Carries out the core's outputs, in order (see the module docs).
    fn carry_out(&mut self, outputs: Vec<ServerOutput>) {
        for output in outputs {
            match output {
                ServerOutput::Send(message) => {
                    self.metrics
                        .peer_messages_sent
                        .fetch_add(1, Ordering::Relaxed);
                    self.transport.send(*message);
                }
                ServerOutput::Persist { writes, must_sync } => {
                    for write in &writes {
                        if let Err(error) = self.wal.write(write, self.server.node().storage()) {
                            fatal(&error.to_string());
                        }
                    }
                    if must_sync {
                        self.failpoints.before_fsync();
                        match self.wal.sync() {
                            Ok(took) => self.metrics.observe_fsync(took.as_secs_f64()),
                            Err(error) => fatal(&error.to_string()),
                        }
                    }
                }
                ServerOutput::Event(event) => self.observe(event),
                ServerOutput::Reply {
                    request_id, result, ..
                } => {
                    if result.is_err() {
                        self.metrics
                            .proposals_failed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(reply) = self.pending.remove(&request_id) {
                        let _ = reply.send(result);
                    }
                }
                ServerOutput::Watch(mut response) => {
                    let canceled = response.canceled;
                    let watch_id = response.watch_id;
                    if let Some(watch) = self.watches.get(&watch_id) {
                        response.watch_id = watch.id_on_stream;
                        let _ = watch.stream.send(response);
                    }
                    if canceled {
                        self.watches.remove(&watch_id);
                    }
                }
                ServerOutput::ForwardToLeader {
                    leader,
                    request_id,
                    request,
                } => self.transport.forward(leader, request_id, request),
            }
        }
        // Every write of these outputs is in the WAL: a snapshot written in the background
        // can start its segment (wal.rs).
        if let Err(error) = self.wal.settle(self.server.node().storage()) {
            fatal(&error.to_string());
        }
    }

    fn observe(&mut self, event: NodeEvent) {
        let m = &self.metrics;
        let membership_changed = matches!(
            event,
            NodeEvent::Applied {
                kind: EntryKind::ConfChange,
                ..
            } | NodeEvent::SnapshotInstalled { .. }
        );
        match event {
            NodeEvent::RoleChanged { role, term, leader } => {
                m.current_term.store(term, Ordering::Relaxed);
                m.has_leader.store((leader != 0) as u64, Ordering::Relaxed);
                m.is_leader
                    .store((role == Role::Leader) as u64, Ordering::Relaxed);
                if leader != self.leader && leader != 0 {
                    m.leader_changes_seen.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(leader = format!("{leader:x}"), term, "leader elected");
                }
                self.leader = leader;
                tracing::debug!(role = role.name(), term, "role changed");
            }
            NodeEvent::Committed { index } => m.proposals_committed.store(index, Ordering::Relaxed),
            NodeEvent::Applied { index, .. } => m.proposals_applied.store(index, Ordering::Relaxed),
            NodeEvent::SnapshotTaken { index, .. } => {
                m.snapshots_taken.fetch_add(1, Ordering::Relaxed);
                tracing::info!(index, "took a snapshot; older WAL segments removed");
            }
            NodeEvent::SnapshotInstalled { index, .. } => {
                tracing::info!(index, "installed a snapshot from the leader")
            }
            NodeEvent::TimerReset { .. } => {}
        }
        if membership_changed {
            self.learn_new_peers();
        }
    }
}

/// Peer URLs of the members added after bootstrap, from the replicated member info.
fn added_members(server: &EtcdServer) -> BTreeMap<u64, String> {
    server
        .store()
        .member_info()
        .iter()
        .filter_map(|(&id, info)| {
            let info: serde_json::Value = serde_json::from_slice(info).ok()?;
            Some((id, info.get("peer_url")?.as_str()?.to_string()))
        })
        .collect()
}

/// The disk failed under the WAL: carrying on could lose acknowledged writes, so stop, as
/// etcd does.
fn fatal(error: &str) -> ! {
    tracing::error!(error, "WAL write failed; stopping");
    std::process::exit(2);
}
