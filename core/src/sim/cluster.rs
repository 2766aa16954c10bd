//! The deterministic cluster: nodes, virtual time, an event queue, one seeded RNG.
//!
//! Time only moves when the cluster processes its next scheduled event: a node's clock tick
//! or a message's arrival. Everything random (message delays and losses, tick phases, each
//! node's election-timeout RNG seed) is drawn from one RNG seeded by the user, and events
//! that fall on the same millisecond run in the order they were scheduled. So one seed and one
//! sequence of actions always give one run, natively and in WASM.
//!
//! Each machine runs an [`EtcdServer`]: a Raft node with etcd's state machine and server
//! layer. The cluster carries out each member's outputs: messages go onto the simulated
//! network, writes onto the node's [`SimDisk`] (synced when raft-rs asks), answers and watch
//! responses to the clients, and every event into the [`Trace`] and the safety [`Checker`].
//!
//! The rest of the simulator's surface lives beside this file, one concept each:
//! [`super::clients`] (requests, answers, watch events and their history),
//! [`super::faults`] (crashes, pauses, wipes, the network), [`super::admin`] (elections,
//! leadership transfer, snapshots, membership) and [`super::views`] (what a visualiser draws).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use raft::eraftpb::{Message, MessageType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::clients::Clients;
use super::sessions::{SessionWake, Sessions};
use crate::etcd::api::Request as EtcdRequest;
use crate::etcd::server::{cluster_id, EtcdServer, ServerConfig, ServerOutput};
use crate::etcd::store::EtcdStore;
use crate::node::{Node, NodeConfig, NodeEvent, Role};
use crate::sim::checker::{Broken, Checker, Violation};
use crate::sim::disk::SimDisk;
use crate::sim::network::{DropReason, LinkConfig, Network};
use crate::sim::trace::{Trace, TraceKind};
use crate::storage::{PersistWrite, RaftStorage};
use crate::view::MessageView;

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
#[derive(Clone)]
pub(super) struct Machine {
    pub(super) server: Option<EtcdServer>,
    pub(super) disk: SimDisk,
    pub(super) paused: bool,
    /// Messages that arrived while paused, delivered on resume (like a socket buffer).
    pub(super) backlog: VecDeque<InFlight>,
    /// Bumped on every crash and restart, so ticks scheduled for an earlier life are ignored.
    pub(super) incarnation: u64,
}

/// A message on the wire.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub id: u64,
    pub sent_at: u64,
    pub arrives_at: u64,
    /// Boxed: a raft-rs message is some 200 bytes, and the messages in flight, kept in order
    /// of their ids, move about as others come and go.
    pub message: Box<Message>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Scheduled {
    Tick {
        node: u64,
        incarnation: u64,
    },
    Arrive {
        message: u64,
    },
    /// A client's next renewal of a lease it keeps alive (see [`super::clients`]).
    Renew {
        lease: i64,
    },
    /// A lock or election client acts on what it heard (see [`super::sessions`]).
    Session(SessionWake),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStatus {
    Up,
    Paused,
    Down,
}

#[derive(Clone)]
pub struct Cluster {
    config: ClusterConfig,
    pub(super) now: u64,
    rng: ChaCha8Rng,
    pub(super) machines: BTreeMap<u64, Machine>,
    pub(super) network: Network,
    pub(super) in_flight: BTreeMap<u64, InFlight>,
    queue: BinaryHeap<Reverse<(u64, u64, Scheduled)>>,
    scheduled: u64,
    next_message_id: u64,
    pub(super) trace: Trace,
    pub(super) checker: Checker,
    violation: Option<Violation>,
    pub(super) clients: Clients,
    pub(super) sessions: Sessions,
    cluster_id: u64,
}

impl Cluster {
    pub fn new(config: ClusterConfig) -> Self {
        let founders: Vec<u64> = (1..=config.nodes as u64).collect();
        let cluster_id = cluster_id(founders.iter().copied());
        let mut cluster = Cluster {
            now: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            machines: BTreeMap::new(),
            network: Network::new(config.link, config.reorder),
            in_flight: BTreeMap::new(),
            queue: BinaryHeap::new(),
            scheduled: 0,
            next_message_id: 1,
            trace: Trace::new(config.trace),
            checker: Checker::default(),
            violation: None,
            clients: Clients::default(),
            sessions: Sessions::default(),
            cluster_id,
            config,
        };
        for &id in &founders {
            cluster.start_machine(id, RaftStorage::bootstrap(&founders));
        }
        cluster
    }

    pub(super) fn start_machine(&mut self, id: u64, storage: RaftStorage) {
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
    pub(super) fn boot(&mut self, id: u64) {
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

    pub(super) fn schedule(&mut self, at: u64, what: Scheduled) {
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
    pub fn run_next_event(&mut self) -> bool {
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
            Scheduled::Renew { lease } => self.renew(lease),
            Scheduled::Session(wake) => self.wake_session(wake),
        }
        self.violation.is_none()
    }

    /// Runs until virtual time `until` (all events up to and including it).
    pub fn run_until_time(&mut self, until: u64) -> bool {
        while self.next_event_time().is_some_and(|t| t <= until) {
            if !self.run_next_event() {
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
            self.run_next_event();
        }
        true
    }

    /// Whether the cluster is quiet and agrees: one leader that every running member
    /// follows, and every running member has committed and applied the leader's whole log.
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
    pub(super) fn lost(&mut self, id: u64, message: &Message, reason: DropReason) {
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

    pub(super) fn deliver(&mut self, to: u64, flight: InFlight) {
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
        let outputs = server.step(self.now, *flight.message);
        self.carry_out(to, outputs);
        if is_snapshot {
            self.report_snapshot(from, to, true);
        }
    }

    // ---- Carrying out a node's outputs ----------------------------------------------------

    pub(super) fn carry_out(&mut self, id: u64, mut outputs: Vec<ServerOutput>) {
        for output in outputs.drain(..) {
            if self.violation.is_some() {
                break;
            }
            match output {
                ServerOutput::Send(message) => self.send(message),
                ServerOutput::Persist { writes, must_sync } => self.persist(id, writes, must_sync),
                ServerOutput::Event(event) => self.observe(id, event),
                ServerOutput::Reply {
                    request_id,
                    index,
                    result,
                } => self.answer(request_id, index, result),
                ServerOutput::Watch(response) => self.deliver_watch(id, response),
                ServerOutput::ForwardToLeader {
                    leader,
                    request_id,
                    request,
                } => self.forward(id, leader, request_id, request),
            }
        }
        if let Some(server) = self.machines.get_mut(&id).and_then(|m| m.server.as_mut()) {
            server.reuse(outputs);
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

    fn send(&mut self, message: Box<Message>) {
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
                    message: Box::new(MessageView::new(&message)),
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
                    fingerprint,
                    ..
                } => self.checker.on_apply(id, *index, *term, *fingerprint),
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
            let trace_position = self.trace.len().saturating_sub(1);
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

    pub(super) fn running_server(&mut self, id: u64) -> Result<&mut EtcdServer, String> {
        Ok(self.running_machine(id)?.server.as_mut().expect("running"))
    }

    /// Gives running member `id` one input now (`input` gets the member and the time) and
    /// carries out what follows.
    pub(super) fn input_to(
        &mut self,
        id: u64,
        input: impl FnOnce(&mut EtcdServer, u64) -> Vec<ServerOutput>,
    ) -> Result<(), String> {
        let now = self.now;
        let outputs = input(self.running_server(id)?, now);
        self.carry_out(id, outputs);
        Ok(())
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

    /// The highest term any running node is in.
    pub fn highest_term(&self) -> u64 {
        self.machines
            .values()
            .filter_map(|m| m.server.as_ref().map(|s| s.node().term()))
            .max()
            .unwrap_or(0)
    }

    pub fn leaders(&self) -> Vec<u64> {
        self.machines
            .values()
            .filter_map(|m| m.server.as_ref().map(EtcdServer::node))
            .filter(|n| n.role() == Role::Leader)
            .map(Node::id)
            .collect()
    }

    /// The network: its partitions, cuts and link settings.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The events so far, in order (the latest, in full), and what the whole run showed.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// For time travel only ([`crate::scenario::timeline`]): a checkpoint keeps its cluster
    /// without the trace's events, and gets them back from the run's trace when restored.
    pub(crate) fn set_trace(&mut self, trace: Trace) {
        self.trace = trace;
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

    /// Entries (index, term) a majority held that were overwritten all the same (Figure 8).
    pub fn majority_entries_overwritten(&self) -> &[(u64, u64)] {
        self.checker.majority_entries_overwritten()
    }

    /// The highest index committed anywhere so far.
    pub fn max_committed(&self) -> u64 {
        self.checker.max_committed()
    }
}
