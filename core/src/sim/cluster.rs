//! The deterministic cluster: nodes, virtual time, an event queue, one seeded RNG.
//!
//! Time only moves when the cluster processes its next scheduled event: a node's clock tick
//! or a message's arrival. Everything random (message delays and losses, tick phases, each
//! node's election-timeout RNG seed) is drawn from one RNG seeded by the user, and events
//! that fall on the same millisecond run in the order they were scheduled. So one seed and one
//! sequence of actions always give one run, natively and in WASM.
//!
//! Each machine runs an [`EtcdServer`]: a Raft node with etcd's state machine and server
//! layer. The cluster carries out each member's outputs: messages go onto the simulated network,
//! writes onto the node's [`SimDisk`] (synced when raft-rs asks), responses to the waiting
//! client requests, and every event into the [`Trace`] and the safety [`Checker`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use raft::eraftpb::{Message, MessageType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::etcd::api::{
    EtcdError, Request as EtcdRequest, Response, WatchCreateRequest, WatchResponse,
};
use crate::etcd::server::{EtcdServer, ServerConfig, ServerOutput};
use crate::etcd::store::EtcdStore;
use crate::node::{digest, MembershipChange, Node, NodeConfig, NodeEvent, Role};
use crate::sim::checker::{Broken, Checker, Violation};
use crate::sim::disk::SimDisk;
use crate::sim::network::{DropReason, LinkConfig, Network};
use crate::sim::trace::{Trace, TraceKind};
use crate::storage::{PersistWrite, RaftStorage};
use crate::view::{MessageView, NodeView};

/// How to build a cluster. Times in milliseconds unless named in ticks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterConfig {
    pub nodes: usize,
    pub seed: u64,
    pub tick_ms: u64,
    /// The settings every node gets (each with its own id).
    pub node: NodeConfig,
    pub link: LinkConfig,
    pub reorder: bool,
    /// Record the event trace (switch off for benchmarks).
    pub trace: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nodes: 5,
            seed: 1,
            tick_ms: 100,
            node: NodeConfig::new(0),
            link: LinkConfig::default(),
            reorder: false,
            trace: true,
        }
    }
}

impl ClusterConfig {
    fn node_config(&self, id: u64) -> NodeConfig {
        NodeConfig {
            id,
            ..self.node.clone()
        }
    }
}

/// A simulated machine: an etcd member while it runs, and a disk that outlives crashes.
struct Machine {
    server: Option<EtcdServer>,
    disk: SimDisk,
    paused: bool,
    /// Messages that arrived while paused, delivered on resume (like a socket buffer).
    backlog: VecDeque<InFlight>,
    /// Bumped on every crash and restart, so ticks scheduled for an earlier life are ignored.
    incarnation: u64,
}

/// A message on the wire.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub id: u64,
    pub sent_at: u64,
    pub arrives_at: u64,
    pub message: Message,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Scheduled {
    Tick { node: u64, incarnation: u64 },
    Arrive { message: u64 },
}

/// A client request made through the cluster, and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    pub id: u64,
    pub node: u64,
    pub what: String,
    /// The etcd request (none for membership changes).
    #[serde(skip)]
    pub request: Option<EtcdRequest>,
    /// The membership change asked for (none for etcd requests).
    #[serde(skip)]
    pub membership: Option<MembershipChange>,
    pub invoked_at: u64,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pending,
    /// Answered: applied (or, for a read, read) at log `index`.
    Done {
        at: u64,
        index: u64,
        response: Response,
    },
    /// Refused, timed out, or lost with the node it was sent to. Unless refused on the spot,
    /// the client cannot know whether it happened.
    Failed {
        at: u64,
        error: String,
        /// The etcd error it was refused with, when it was one (not a timeout or a crash).
        #[serde(skip)]
        refused: Option<EtcdError>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStatus {
    Up,
    Paused,
    Down,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MachineView {
    pub status: NodeStatus,
    #[serde(flatten)]
    pub node: NodeView,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageInFlightView {
    pub id: u64,
    pub sent_at: u64,
    pub arrives_at: u64,
    #[serde(flatten)]
    pub message: MessageView,
}

/// Everything a visualiser draws at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterView {
    pub time: u64,
    pub tick_ms: u64,
    pub nodes: Vec<MachineView>,
    pub messages: Vec<MessageInFlightView>,
    pub network: String,
    pub violation: Option<Violation>,
}

/// One response on a watch stream, and where and when it came.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchDelivery {
    pub time: u64,
    pub node: u64,
    #[serde(skip)]
    pub response: WatchResponse,
}

pub struct Cluster {
    config: ClusterConfig,
    now: u64,
    rng: ChaCha8Rng,
    machines: BTreeMap<u64, Machine>,
    pub network: Network,
    in_flight: BTreeMap<u64, InFlight>,
    queue: BinaryHeap<Reverse<(u64, u64, Scheduled)>>,
    scheduled: u64,
    next_message_id: u64,
    next_request_id: u64,
    pub trace: Trace,
    checker: Checker,
    violation: Option<Violation>,
    pub requests: BTreeMap<u64, Request>,
    /// Every watch response any member sent, in order.
    pub watch_deliveries: Vec<WatchDelivery>,
    cluster_id: u64,
}

impl Cluster {
    pub fn new(config: ClusterConfig) -> Self {
        let founders: Vec<u64> = (1..=config.nodes as u64).collect();
        // Like etcd, the cluster id is a hash of the founding members.
        let cluster_id = digest(
            &founders
                .iter()
                .flat_map(|id| id.to_be_bytes())
                .collect::<Vec<u8>>(),
        );
        let mut cluster = Cluster {
            now: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            machines: BTreeMap::new(),
            network: Network::new(config.link, config.reorder),
            in_flight: BTreeMap::new(),
            queue: BinaryHeap::new(),
            scheduled: 0,
            next_message_id: 1,
            next_request_id: 1,
            trace: Trace::new(config.trace),
            checker: Checker::default(),
            violation: None,
            requests: BTreeMap::new(),
            watch_deliveries: Vec::new(),
            cluster_id,
            config,
        };
        for &id in &founders {
            cluster.start_machine(id, RaftStorage::bootstrap(&founders));
        }
        cluster
    }

    fn start_machine(&mut self, id: u64, storage: RaftStorage) {
        let disk = SimDisk::new(storage);
        self.machines.insert(
            id,
            Machine {
                server: None,
                disk,
                paused: false,
                backlog: VecDeque::new(),
                incarnation: 0,
            },
        );
        self.boot(id);
    }

    /// Starts (or restarts) a node from what its disk holds.
    fn boot(&mut self, id: u64) {
        let seed = self.rng.gen();
        let phase = self.rng.gen_range(1..=self.config.tick_ms);
        let machine = self.machines.get_mut(&id).expect("machine exists");
        let storage = machine.disk.recover();
        let config = ServerConfig {
            node: self.config.node_config(id),
            tick_ms: self.config.tick_ms,
            cluster_id: self.cluster_id,
        };
        let (server, outputs) = EtcdServer::new(config, storage, seed, self.now)
            .expect("a node starts from its own disk");
        if let Err(broken) = self.checker.on_boot(id, server.node().storage()) {
            self.fail(broken);
        }
        let machine = self.machines.get_mut(&id).expect("machine exists");
        machine.server = Some(server);
        machine.incarnation += 1;
        let incarnation = machine.incarnation;
        self.schedule(
            self.now + phase,
            Scheduled::Tick {
                node: id,
                incarnation,
            },
        );
        self.carry_out(id, outputs);
    }

    fn schedule(&mut self, at: u64, what: Scheduled) {
        self.scheduled += 1;
        self.queue.push(Reverse((at, self.scheduled, what)));
    }

    // ---- Running time -------------------------------------------------------------------

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The time of the next event, if any.
    pub fn next_event_time(&self) -> Option<u64> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Processes the next event. Returns false once a safety violation has stopped the run.
    pub fn step(&mut self) -> bool {
        if self.violation.is_some() {
            return false;
        }
        let Some(Reverse((at, _, what))) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(at);
        match what {
            Scheduled::Tick { node, incarnation } => self.tick(node, incarnation),
            Scheduled::Arrive { message } => self.arrive(message),
        }
        self.violation.is_none()
    }

    /// Runs until virtual time `until` (all events up to and including it).
    pub fn run_until_time(&mut self, until: u64) -> bool {
        while self.next_event_time().is_some_and(|t| t <= until) {
            if !self.step() {
                return false;
            }
        }
        self.now = self.now.max(until);
        true
    }

    pub fn run_for(&mut self, ms: u64) -> bool {
        self.run_until_time(self.now + ms)
    }

    /// Runs until `done` holds (checked after every event) or `limit_ms` pass.
    /// Returns whether `done` held.
    pub fn run_until(&mut self, limit_ms: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        let deadline = self.now + limit_ms;
        while !done(self) {
            if self.violation.is_some() || self.next_event_time().is_none_or(|t| t > deadline) {
                self.now = self.now.max(deadline);
                return done(self);
            }
            self.step();
        }
        true
    }

    /// Runs until every message now in flight has arrived (or been dropped).
    pub fn deliver_in_flight(&mut self) -> bool {
        let last = self
            .in_flight
            .values()
            .map(|m| m.arrives_at)
            .max()
            .unwrap_or(self.now);
        self.run_until_time(last)
    }

    /// Runs until the cluster is quiet and agrees: one leader that every running member
    /// follows, and every running member has committed and applied the leader's whole log.
    pub fn stabilize(&mut self, limit_ms: u64) -> bool {
        self.run_until(limit_ms, Cluster::is_stable)
    }

    pub fn is_stable(&self) -> bool {
        let Some(leader) = self.leader() else {
            return false;
        };
        let leader_node = self.node(leader).expect("leader runs");
        let last = leader_node.storage().last_index();
        let (voters, learners) = leader_node.members();
        voters
            .iter()
            .chain(&learners)
            .all(|&id| match self.node(id) {
                Some(node) if !self.machines[&id].paused => {
                    node.leader_id() == leader && node.committed() == last && node.applied() == last
                }
                _ => true,
            })
    }

    fn tick(&mut self, id: u64, incarnation: u64) {
        let tick_ms = self.config.tick_ms;
        let Some(machine) = self.machines.get_mut(&id) else {
            return;
        };
        if machine.incarnation != incarnation || machine.server.is_none() {
            return;
        }
        self.schedule(
            self.now + tick_ms,
            Scheduled::Tick {
                node: id,
                incarnation,
            },
        );
        let machine = self.machines.get_mut(&id).expect("checked above");
        if machine.paused {
            return;
        }
        let outputs = machine
            .server
            .as_mut()
            .expect("checked above")
            .tick(self.now);
        self.carry_out(id, outputs);
    }

    fn arrive(&mut self, id: u64) {
        // Gone already (dropped by the user), or delayed to a later arrival.
        match self.in_flight.get(&id) {
            Some(flight) if flight.arrives_at <= self.now => {}
            _ => return,
        }
        let flight = self.in_flight.remove(&id).expect("checked above");
        let (from, to) = (flight.message.from, flight.message.to);
        if let Err(reason) = self.network.check(from, to) {
            self.lost(id, &flight.message, reason);
            return;
        }
        match self.machines.get_mut(&to) {
            Some(machine) if machine.server.is_some() => {
                if machine.paused {
                    machine.backlog.push_back(flight);
                } else {
                    self.deliver(to, flight);
                }
            }
            _ => self.lost(id, &flight.message, DropReason::NodeDown),
        }
    }

    /// A message that will never arrive. A lost snapshot is reported back to its sender, as
    /// a real transport does: raft-rs will not send that follower anything until it hears.
    fn lost(&mut self, id: u64, message: &Message, reason: DropReason) {
        let (from, to) = (message.from, message.to);
        self.trace.record(
            self.now,
            TraceKind::Drop {
                id,
                from,
                to,
                reason,
            },
        );
        if message.get_msg_type() == MessageType::MsgSnapshot {
            self.report_snapshot(from, to, false);
        }
    }

    fn report_snapshot(&mut self, sender: u64, to: u64, delivered: bool) {
        let now = self.now;
        if let Some(server) = self
            .machines
            .get_mut(&sender)
            .and_then(|m| m.server.as_mut())
        {
            let outputs = server.report_snapshot(now, to, delivered);
            self.carry_out(sender, outputs);
        }
    }

    fn deliver(&mut self, to: u64, flight: InFlight) {
        let from = flight.message.from;
        let is_snapshot = flight.message.get_msg_type() == MessageType::MsgSnapshot;
        self.trace.record(
            self.now,
            TraceKind::Deliver {
                id: flight.id,
                from,
                to,
            },
        );
        let server = self
            .machines
            .get_mut(&to)
            .and_then(|m| m.server.as_mut())
            .expect("delivering to a running node");
        // A heartbeat saying entries are committed that this log never had: raft-rs, like
        // etcd's raft, stops the process here ("was the raft log corrupted, truncated, or
        // lost?"). Only a member whose disk was wiped meets it; it goes down as a real one
        // would, rather than taking the whole simulator (and the browser tab) with it.
        let last_index = server.node().storage().last_index();
        if flight.message.get_msg_type() == MessageType::MsgHeartbeat
            && flight.message.commit > last_index
        {
            let reason = format!(
                "raft log lost: heartbeat commits index {}, log ends at {last_index}",
                flight.message.commit
            );
            self.trace
                .record(self.now, TraceKind::Halted { node: to, reason });
            self.crash(to).expect("it was running");
            return;
        }
        let outputs = server.step(self.now, flight.message);
        self.carry_out(to, outputs);
        if is_snapshot {
            self.report_snapshot(from, to, true);
        }
    }

    // ---- Carrying out a node's outputs ----------------------------------------------------

    fn carry_out(&mut self, id: u64, outputs: Vec<ServerOutput>) {
        for output in outputs {
            if self.violation.is_some() {
                return;
            }
            match output {
                ServerOutput::Send(message) => self.send(message),
                ServerOutput::Persist { writes, must_sync } => self.persist(id, writes, must_sync),
                ServerOutput::Event(event) => self.observe(id, event),
                ServerOutput::Reply {
                    request_id,
                    index,
                    result,
                } => {
                    let outcome = match result {
                        Ok(response) => Outcome::Done {
                            at: self.now,
                            index,
                            response,
                        },
                        Err(error) => Outcome::Failed {
                            at: self.now,
                            error: error.to_string(),
                            refused: Some(error),
                        },
                    };
                    self.complete(request_id, outcome)
                }
                ServerOutput::Watch(response) => self.watch_deliveries.push(WatchDelivery {
                    time: self.now,
                    node: id,
                    response,
                }),
                ServerOutput::ForwardToLeader {
                    leader,
                    request_id,
                    request,
                } => self.forward(id, leader, request_id, request),
            }
        }
    }

    /// Carries a lease request from a follower to its leader and the answer back, if the
    /// network lets it through both ways (else the follower tries again later). Unlike Raft
    /// messages it takes no simulated time: it is a small side channel, as in etcd.
    fn forward(&mut self, from: u64, leader: u64, request_id: u64, request: EtcdRequest) {
        let reachable =
            self.network.check(from, leader).is_ok() && self.network.check(leader, from).is_ok();
        let now = self.now;
        let Some(machine) = self
            .machines
            .get_mut(&leader)
            .filter(|m| !m.paused && reachable)
        else {
            return;
        };
        let Some(server) = machine.server.as_mut() else {
            return;
        };
        let result = server.serve_at_leader(now, &request);
        if let Some(origin) = self.machines.get_mut(&from).and_then(|m| m.server.as_mut()) {
            let outputs = origin.forwarded_reply(now, request_id, result);
            self.carry_out(from, outputs);
        }
    }

    fn send(&mut self, message: Message) {
        let id = self.next_message_id;
        self.next_message_id += 1;
        let (from, to) = (message.from, message.to);
        let route = self.network.route(from, to, self.now, &mut self.rng);
        if self.trace.enabled {
            let arrives = *route.as_ref().unwrap_or(&self.now);
            self.trace.record(
                self.now,
                TraceKind::Send {
                    id,
                    message: MessageView::new(&message),
                    arrives,
                },
            );
        }
        match route {
            Ok(arrives_at) => {
                self.in_flight.insert(
                    id,
                    InFlight {
                        id,
                        sent_at: self.now,
                        arrives_at,
                        message,
                    },
                );
                self.schedule(arrives_at, Scheduled::Arrive { message: id });
            }
            Err(reason) => self.lost(id, &message, reason),
        }
    }

    fn persist(&mut self, id: u64, writes: Vec<PersistWrite>, must_sync: bool) {
        for write in writes {
            match &write {
                PersistWrite::Append(entries) => {
                    let (first, last) = (&entries[0], &entries[entries.len() - 1]);
                    let append = TraceKind::Append {
                        node: id,
                        first: first.index,
                        last: last.index,
                        term: last.term,
                    };
                    self.trace.record(self.now, append);
                    let node = self.machines[&id].server.as_ref().expect("running").node();
                    let leading = (node.role() == Role::Leader).then(|| node.term());
                    if let Err(broken) =
                        self.checker.on_append(id, entries, node.storage(), leading)
                    {
                        self.fail(broken);
                    }
                }
                PersistWrite::InstallSnapshot(snapshot) => self
                    .checker
                    .on_snapshot_installed(id, snapshot.get_metadata().index),
                _ => {}
            }
            self.machines
                .get_mut(&id)
                .expect("machine exists")
                .disk
                .write(write);
        }
        if must_sync {
            self.machines
                .get_mut(&id)
                .expect("machine exists")
                .disk
                .sync();
            self.trace.record(self.now, TraceKind::Sync { node: id });
        }
    }

    fn observe(&mut self, id: u64, event: NodeEvent) {
        let check = {
            let node = self.machines[&id].server.as_ref().expect("running").node();
            match &event {
                NodeEvent::RoleChanged {
                    role: Role::Leader,
                    term,
                    ..
                } => self.checker.on_leader(id, *term, node.storage()),
                NodeEvent::Committed { index } => {
                    self.checker
                        .on_commit(id, *index, node.term(), node.storage())
                }
                NodeEvent::Applied {
                    index,
                    term,
                    digest,
                    ..
                } => self.checker.on_apply(id, *index, *term, *digest),
                _ => Ok(()),
            }
        };
        self.trace
            .record(self.now, TraceKind::Node { node: id, event });
        if let Err(broken) = check {
            self.fail(broken);
        }
    }

    fn fail(&mut self, broken: Broken) {
        if self.violation.is_none() {
            let trace_position = self.trace.events.len().saturating_sub(1);
            let Broken { property, detail } = broken;
            let property = property.name();
            self.violation = Some(Violation {
                property,
                detail,
                time: self.now,
                trace_position,
            });
        }
    }

    fn complete(&mut self, request_id: u64, outcome: Outcome) {
        if let Some(request) = self.requests.get_mut(&request_id) {
            if request.outcome == Outcome::Pending {
                let text = match &outcome {
                    Outcome::Done { index, .. } => format!("ok at index {index}"),
                    Outcome::Failed { error, .. } => format!("failed: {error}"),
                    Outcome::Pending => unreachable!(),
                };
                self.trace.record(
                    self.now,
                    TraceKind::Response {
                        id: request_id,
                        node: request.node,
                        outcome: text,
                    },
                );
                request.outcome = outcome;
            }
        }
    }

    // ---- Faults -------------------------------------------------------------------------

    /// Power loss: the node stops, its volatile state and unsynced writes are gone.
    pub fn crash(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.take().is_none() {
            return Err(format!("node {id} is already down"));
        }
        let lost_writes = machine.disk.crash();
        machine.paused = false;
        let unread: Vec<InFlight> = machine.backlog.drain(..).collect();
        machine.incarnation += 1;
        let durable = self.machines[&id].disk.recover();
        self.checker.on_crash(id, &durable);
        self.trace.record(
            self.now,
            TraceKind::Crash {
                node: id,
                lost_writes,
            },
        );
        for flight in unread {
            self.lost(flight.id, &flight.message, DropReason::NodeDown);
        }
        let lost: Vec<u64> = self
            .requests
            .values()
            .filter(|r| r.node == id && r.outcome == Outcome::Pending)
            .map(|r| r.id)
            .collect();
        for request in lost {
            self.complete(
                request,
                Outcome::Failed {
                    at: self.now,
                    error: "node crashed".into(),
                    refused: None,
                },
            );
        }
        // Watch streams to the crashed member break.
        let broken: Vec<i64> = self
            .watch_deliveries
            .iter()
            .filter(|d| d.node == id && d.response.created)
            .map(|d| d.response.watch_id)
            .collect();
        for watch_id in broken {
            let response = WatchResponse {
                watch_id,
                canceled: true,
                cancel_reason: "member crashed".into(),
                ..Default::default()
            };
            self.watch_deliveries.push(WatchDelivery {
                time: self.now,
                node: id,
                response,
            });
        }
        Ok(())
    }

    /// Starts a crashed node again from its disk.
    pub fn restart(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.is_some() {
            return Err(format!("node {id} is running"));
        }
        self.trace.record(self.now, TraceKind::Restart { node: id });
        self.boot(id);
        Ok(())
    }

    /// Replaces a down node's disk with an empty one: an operator who deletes a member's
    /// data directory and starts it again under the same id. Raft's safety rests on votes
    /// and log entries surviving a crash, so this node breaks it: it can vote a second time
    /// in a term, and for a candidate missing committed entries. The checker catches what
    /// follows; that is what this fault is for. (etcd refuses to start a member with no data
    /// directory that its peers know already: "member … has already been bootstrapped".)
    pub fn wipe(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.is_some() {
            return Err(format!("node {id} is running: crash it first"));
        }
        machine.disk = SimDisk::new(RaftStorage::empty());
        self.checker.on_crash(id, &RaftStorage::empty());
        self.trace.record(self.now, TraceKind::Wipe { node: id });
        Ok(())
    }

    /// Freezes a node (like SIGSTOP): no ticks; arriving messages wait in its socket buffer.
    pub fn pause(&mut self, id: u64) -> Result<(), String> {
        let machine = self.running_machine(id)?;
        machine.paused = true;
        self.trace.record(self.now, TraceKind::Pause { node: id });
        Ok(())
    }

    pub fn resume(&mut self, id: u64) -> Result<(), String> {
        let machine = self.running_machine(id)?;
        machine.paused = false;
        let backlog: Vec<InFlight> = machine.backlog.drain(..).collect();
        self.trace.record(self.now, TraceKind::Resume { node: id });
        for flight in backlog {
            self.deliver(id, flight);
        }
        Ok(())
    }

    fn running_machine(&mut self, id: u64) -> Result<&mut Machine, String> {
        match self.machines.get_mut(&id) {
            Some(machine) if machine.server.is_some() => Ok(machine),
            Some(_) => Err(format!("node {id} is down")),
            None => Err(format!("no node {id}")),
        }
    }

    /// Changes the network (partition, cut, heal, latency) and records it in the trace.
    pub fn change_network(&mut self, change: impl FnOnce(&mut Network, &[u64])) {
        let ids: Vec<u64> = self.machines.keys().copied().collect();
        change(&mut self.network, &ids);
        let state = self.network.describe();
        self.trace.record(self.now, TraceKind::Network { state });
    }

    /// Drops one message that is in flight.
    pub fn drop_message(&mut self, id: u64) -> Result<(), String> {
        let flight = self
            .in_flight
            .remove(&id)
            .ok_or_else(|| format!("no message {id} in flight"))?;
        self.lost(id, &flight.message, DropReason::User);
        Ok(())
    }

    /// Holds one in-flight message back for `ms` longer.
    pub fn delay_message(&mut self, id: u64, ms: u64) -> Result<u64, String> {
        let flight = self
            .in_flight
            .get_mut(&id)
            .ok_or_else(|| format!("no message {id} in flight"))?;
        flight.arrives_at += ms;
        let arrives_at = flight.arrives_at;
        // The earlier arrival event finds the message not yet due and is ignored.
        self.schedule(arrives_at, Scheduled::Arrive { message: id });
        Ok(arrives_at)
    }

    // ---- Client requests ----------------------------------------------------------------

    fn new_request(&mut self, node: u64, what: String, request: Option<EtcdRequest>) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.trace.record(
            self.now,
            TraceKind::Request {
                id,
                node,
                what: what.clone(),
            },
        );
        let invoked_at = self.now;
        self.requests.insert(
            id,
            Request {
                id,
                node,
                what,
                request,
                membership: None,
                invoked_at,
                outcome: Outcome::Pending,
            },
        );
        id
    }

    /// Sends an etcd request to member `node`; returns the request id (see [`Cluster::requests`]).
    pub fn request(&mut self, node: u64, request: EtcdRequest) -> Result<u64, String> {
        self.running_machine(node)?;
        let id = self.new_request(node, describe_request(&request), Some(request.clone()));
        let now = self.now;
        let outputs = self.running_server(node)?.request(now, id, request);
        self.carry_out(node, outputs);
        Ok(id)
    }

    /// Starts a watch on member `node`; its responses land in [`Cluster::watch_deliveries`].
    pub fn watch(&mut self, node: u64, request: WatchCreateRequest) -> Result<(), String> {
        let now = self.now;
        let outputs = self.running_server(node)?.watch(now, request);
        self.carry_out(node, outputs);
        Ok(())
    }

    pub fn cancel_watch(&mut self, node: u64, watch_id: i64) -> Result<(), String> {
        let now = self.now;
        let outputs = self.running_server(node)?.cancel_watch(now, watch_id);
        self.carry_out(node, outputs);
        Ok(())
    }

    pub fn request_watch_progress(&mut self, node: u64) -> Result<(), String> {
        let now = self.now;
        let outputs = self.running_server(node)?.request_progress(now);
        self.carry_out(node, outputs);
        Ok(())
    }

    pub fn campaign(&mut self, node: u64) -> Result<(), String> {
        let now = self.now;
        let outputs = self
            .running_server(node)?
            .campaign(now)
            .map_err(|e| e.to_string())?;
        self.carry_out(node, outputs);
        Ok(())
    }

    /// Asks the current leader to hand over leadership to `to`.
    pub fn transfer_leader(&mut self, to: u64) -> Result<(), String> {
        let leader = self.leader().ok_or("no leader")?;
        let now = self.now;
        let outputs = self.running_server(leader)?.transfer_leader(now, to);
        self.carry_out(leader, outputs);
        Ok(())
    }

    pub fn take_snapshot(&mut self, node: u64) -> Result<(), String> {
        let now = self.now;
        let outputs = self.running_server(node)?.take_snapshot(now);
        self.carry_out(node, outputs);
        Ok(())
    }

    /// Starts a new, empty node and asks the leader to add it (as voter or learner).
    /// Returns the new node's id and the membership request's id.
    pub fn add_node(&mut self, learner: bool) -> Result<(u64, u64), String> {
        let leader = self.leader().ok_or("no leader to add a node")?;
        let id = self.machines.keys().next_back().copied().unwrap_or(0) + 1;
        let change = if learner {
            MembershipChange::AddLearner(id)
        } else {
            MembershipChange::AddVoter(id)
        };
        // Start it first, so the leader's first messages find it.
        self.start_machine(id, RaftStorage::empty());
        match self.change_membership(leader, change) {
            Ok(request) => Ok((id, request)),
            Err(error) => {
                self.machines.remove(&id);
                Err(error)
            }
        }
    }

    /// Asks the leader to remove `id` from the membership (the node keeps running, alone).
    pub fn remove_node(&mut self, id: u64) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader to remove a node")?;
        self.change_membership(leader, MembershipChange::Remove(id))
    }

    /// Asks the leader to promote learner `id` to voter.
    pub fn promote(&mut self, id: u64) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader to promote a node")?;
        self.change_membership(leader, MembershipChange::AddVoter(id))
    }

    fn change_membership(&mut self, leader: u64, change: MembershipChange) -> Result<u64, String> {
        let what = match change {
            MembershipChange::AddVoter(id) => format!("add voter {id}"),
            MembershipChange::AddLearner(id) => format!("add learner {id}"),
            MembershipChange::Remove(id) => format!("remove {id}"),
        };
        self.running_machine(leader)?;
        let id = self.new_request(leader, what, None);
        self.requests.get_mut(&id).expect("just made").membership = Some(change);
        let now = self.now;
        match self
            .running_server(leader)?
            .change_membership(now, id, change, Vec::new())
        {
            Ok(outputs) => {
                self.carry_out(leader, outputs);
                Ok(id)
            }
            Err(error) => {
                self.complete(
                    id,
                    Outcome::Failed {
                        at: self.now,
                        error: error.to_string(),
                        refused: None,
                    },
                );
                Err(error.to_string())
            }
        }
    }

    // ---- Observation --------------------------------------------------------------------

    pub fn node_ids(&self) -> Vec<u64> {
        self.machines.keys().copied().collect()
    }

    /// A running node's Raft state, if `id` runs.
    pub fn node(&self, id: u64) -> Option<&Node<EtcdStore>> {
        Some(self.server(id)?.node())
    }

    /// A running member, if `id` runs.
    pub fn server(&self, id: u64) -> Option<&EtcdServer> {
        self.machines.get(&id)?.server.as_ref()
    }

    fn running_server(&mut self, id: u64) -> Result<&mut EtcdServer, String> {
        Ok(self.running_machine(id)?.server.as_mut().expect("running"))
    }

    pub fn status(&self, id: u64) -> Option<NodeStatus> {
        let machine = self.machines.get(&id)?;
        Some(match (&machine.server, machine.paused) {
            (None, _) => NodeStatus::Down,
            (Some(_), true) => NodeStatus::Paused,
            (Some(_), false) => NodeStatus::Up,
        })
    }

    /// The running leader with the highest term (a deposed leader may not know yet).
    pub fn leader(&self) -> Option<u64> {
        self.machines
            .values()
            .filter_map(|m| m.server.as_ref().map(EtcdServer::node))
            .filter(|n| n.role() == Role::Leader)
            .max_by_key(|n| n.term())
            .map(Node::id)
    }

    pub fn leaders(&self) -> Vec<u64> {
        self.machines
            .values()
            .filter_map(|m| m.server.as_ref().map(EtcdServer::node))
            .filter(|n| n.role() == Role::Leader)
            .map(Node::id)
            .collect()
    }

    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.in_flight.values()
    }

    /// What a node's disk holds right now (durable writes only).
    pub fn durable_storage(&self, id: u64) -> Option<RaftStorage> {
        Some(self.machines.get(&id)?.disk.recover())
    }

    pub fn node_view(&self, id: u64) -> Option<MachineView> {
        self.node_view_with_tail(id, usize::MAX)
    }

    /// A node's view with only the last `log_tail` log entries (for drawing long logs).
    pub fn node_view_with_tail(&self, id: u64, log_tail: usize) -> Option<MachineView> {
        let machine = self.machines.get(&id)?;
        let node = match &machine.server {
            Some(server) => NodeView::of_node(server.node(), log_tail),
            None => NodeView::of_storage(id, &machine.disk.recover(), None, log_tail),
        };
        Some(MachineView {
            status: self.status(id)?,
            node,
        })
    }

    pub fn view(&self) -> ClusterView {
        self.view_with_log_tail(usize::MAX)
    }

    /// Everything a visualiser draws, with only the last `log_tail` entries of each log.
    pub fn view_with_log_tail(&self, log_tail: usize) -> ClusterView {
        ClusterView {
            time: self.now,
            tick_ms: self.config.tick_ms,
            nodes: self
                .machines
                .keys()
                .filter_map(|&id| self.node_view_with_tail(id, log_tail))
                .collect(),
            messages: self
                .in_flight
                .values()
                .map(|f| MessageInFlightView {
                    id: f.id,
                    sent_at: f.sent_at,
                    arrives_at: f.arrives_at,
                    message: MessageView::new(&f.message),
                })
                .collect(),
            network: self.network.describe(),
            violation: self.violation.clone(),
        }
    }

    /// The highest index committed anywhere so far.
    /// Entries (index, term) a majority held that were overwritten all the same (Figure 8).
    pub fn majority_entries_overwritten(&self) -> &[(u64, u64)] {
        self.checker.majority_entries_overwritten()
    }

    pub fn max_committed(&self) -> u64 {
        self.checker.max_committed()
    }
}

/// A few words for a request, for the trace and the `requests` list.
fn describe_request(request: &EtcdRequest) -> String {
    use crate::etcd::store::{describe_range, Command};
    if let Some(command) = Command::from_request(request) {
        return command.describe();
    }
    match request {
        EtcdRequest::Range(range) => {
            let how = if range.serializable {
                "serializable"
            } else {
                "linearizable"
            };
            format!(
                "get {} ({how})",
                describe_range(&range.key, &range.range_end)
            )
        }
        EtcdRequest::LeaseKeepAlive(k) => format!("lease keep-alive {:016x}", k.id),
        EtcdRequest::LeaseTimeToLive(t) => format!("lease timetolive {:016x}", t.id),
        _ => "lease list".into(),
    }
}
