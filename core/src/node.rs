//! One Raft node, sans-I/O: inputs in, outputs out.
//!
//! A [`Node`] wraps raft-rs's `RawNode` together with the node's storage and state machine.
//! It never sends, writes or sleeps. Each input (a clock tick, a message from a peer, a client
//! request) returns a list of [`Output`]s for the caller to carry out **in order**:
//!
//! 1. `Send` messages the leader may send before its own disk write (raft-rs allows this:
//!    the leader counts its own vote only once its log is persisted),
//! 2. `Persist` writes; when `must_sync` is set they must be fsynced before anything later
//!    in the list happens,
//! 3. `Send` messages that were waiting for that write (votes, append acknowledgements),
//! 4. `Response`/`ReadReady` for clients and `Event`s for observers.
//!
//! The simulator carries them out on a virtual network and disk, the native server on real
//! ones. This is raft-rs's "Ready loop" (see `Node::handle_ready`).
//!
//! Randomness comes in from outside too: raft-rs draws election timeouts from the thread's
//! RNG, so after every call the node replaces that draw with one from its own seeded RNG
//! (see `Node::reseed_election_timeout`). Same seed, same inputs, same outputs.

use std::fmt;

use protobuf::Message as _;
use raft::eraftpb::{
    ConfChange, ConfChangeSingle, ConfChangeType, ConfChangeV2, Entry, EntryType, Message,
};
use raft::{ProgressState, RawNode, StateRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::fingerprint::fingerprint;
use crate::state_machine::{SnapshotState, StateMachine};
use crate::storage::{PersistWrite, RaftStorage};

/// Settings of one node. Times are in ticks; the driver decides how long a tick is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeConfig {
    pub id: u64,
    /// A follower that hears nothing from a leader for a random number of ticks in
    /// `[election_tick, 2 * election_tick)` starts an election.
    pub election_tick: usize,
    /// The leader sends heartbeats every `heartbeat_tick` ticks.
    pub heartbeat_tick: usize,
    /// Ask for (non-binding) votes before starting a real election, so a node that was cut
    /// off does not disrupt the cluster with a higher term when it comes back.
    pub pre_vote: bool,
    /// A leader that has not heard from a quorum for an election timeout steps down.
    pub check_quorum: bool,
    /// Take a snapshot every this many applied entries (0: never automatically).
    pub snapshot_interval: u64,
    /// Entries kept in the log behind a snapshot, so slightly slow followers can still be
    /// sent entries rather than a whole snapshot.
    pub snapshot_catchup_entries: u64,
    /// The most bytes of entries one append message carries (raft-rs's `max_size_per_msg`).
    /// At least one entry always goes, so 0 sends entries one message each: a scenario can
    /// then hold back any single entry (lesson 5 builds the paper's Figure 8 with it).
    pub max_append_bytes: u64,
}

impl NodeConfig {
    pub fn new(id: u64) -> Self {
        NodeConfig {
            id,
            election_tick: 10,
            heartbeat_tick: 1,
            pre_vote: true,
            check_quorum: true,
            snapshot_interval: 0,
            snapshot_catchup_entries: 5,
            max_append_bytes: 1024 * 1024,
        }
    }
}

/// What the caller must do, in order. See the module docs. `R` is the state machine's
/// answer to a command ([`StateMachine::Response`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Output<R> {
    /// Boxed once here, and the box travels on to the transport: a raft-rs message is some
    /// 200 bytes, and every output was as large as this one, moved at each hand-over.
    Send(Box<Message>),
    Persist {
        writes: Vec<PersistWrite>,
        must_sync: bool,
    },
    /// A request proposed at this node was applied; `response` is the state machine's answer
    /// (none for a membership change, which the state machine does not answer).
    Response {
        request_id: u64,
        index: u64,
        response: Option<R>,
    },
    /// A linearizable read may now be served locally: this node has applied everything that
    /// was committed when the read arrived.
    ReadReady {
        request_id: u64,
    },
    Event(NodeEvent),
}

/// What an applied entry was, in a few words. A command's words are made only when someone
/// reads them (a trace, a view): a run applies far more entries than anyone reads, and
/// describing each was a few percent of the simulator's and the member's time.
#[derive(Clone)]
pub enum Summary {
    /// Already in words (a no-op, a membership change).
    Said(String),
    /// A command, with the state machine's way of describing one.
    Command {
        command: bytes::Bytes,
        describe: fn(&[u8]) -> String,
    },
}

impl Summary {
    pub fn text(&self) -> String {
        match self {
            Summary::Said(text) => text.clone(),
            Summary::Command { command, describe } => describe(command),
        }
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

/// Two summaries are equal when they say the same.
impl PartialEq for Summary {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

/// As its words: the trace's JSON (and so its hash) is what it was when they were a string.
impl Serialize for Summary {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        serializer.serialize_str(&self.text())
    }
}

/// Things worth showing or tracing that change inside a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum NodeEvent {
    RoleChanged {
        role: Role,
        term: u64,
        leader: u64,
    },
    /// The election timer restarted with a new random timeout.
    TimerReset {
        timeout_ticks: usize,
    },
    Committed {
        index: u64,
    },
    Applied {
        index: u64,
        term: u64,
        kind: EntryKind,
        /// Boxed: a playground's trace keeps an event for every entry every node applies,
        /// and every event is as large as the largest kind.
        summary: Box<Summary>,
        /// The entry's [`fingerprint`]: what the state machine safety check compares.
        fingerprint: u64,
    },
    SnapshotTaken {
        index: u64,
        term: u64,
    },
    SnapshotInstalled {
        index: u64,
        term: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    /// A non-voting member that receives the log.
    Learner,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Learner => "learner",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// The empty entry a new leader appends to commit entries of earlier terms.
    Noop,
    Command,
    ConfChange,
}

/// A membership change, as a client asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipChange {
    AddVoter(u64),
    AddLearner(u64),
    Remove(u64),
}

/// Why a client request was refused on the spot.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// raft-rs drops proposals when no leader is known (or a leader transfer is under way).
    #[error("proposal dropped: no leader known")]
    ProposalDropped,
    #[error("a membership change is already in progress")]
    ConfChangeInProgress,
    /// Only the leader knows how far a learner has caught up, so only it may promote one.
    #[error("not leader")]
    NotLeader,
    /// etcd promotes a learner only once it holds 90% of the leader's log: a voter that far
    /// behind would count towards the majority while it cannot yet help commit anything.
    #[error("the learner has not caught up with the leader")]
    LearnerNotReady,
    #[error("raft: {0}")]
    Raft(String),
}

/// Who proposed an entry: kept in the entry's context so the proposing node can answer.
fn encode_origin(node: u64, request_id: u64) -> Vec<u8> {
    [node.to_be_bytes(), request_id.to_be_bytes()].concat()
}

fn decode_origin(context: &[u8]) -> Option<(u64, u64)> {
    let node = u64::from_be_bytes(context.get(0..8)?.try_into().ok()?);
    let request_id = u64::from_be_bytes(context.get(8..16)?.try_into().ok()?);
    Some((node, request_id))
}

/// A node just started, and what it asks of its caller first.
pub type Started<S> = (Node<S>, Vec<Output<<S as StateMachine>::Response>>);

#[derive(Clone)]
pub struct Node<S: StateMachine> {
    config: NodeConfig,
    raw: RawNode<RaftStorage>,
    state_machine: S,
    rng: ChaCha8Rng,
    /// Linearizable reads waiting until the state machine reaches their read index.
    pending_reads: Vec<(u64, u64)>,
    /// The last role/term/leader and commit index reported, to emit events on change.
    last_role: (Role, u64, u64),
    last_commit: u64,
    outputs: Vec<Output<S::Response>>,
    /// Between [`Node::hold`] and [`Node::release`]: inputs wait for one Ready.
    holding: bool,
}

impl<S: StateMachine> Node<S> {
    /// Starts a node on `storage`: a bootstrapped one, an empty one (joining), or one
    /// recovered from disk after a crash. The state machine is rebuilt from the snapshot and
    /// then from the committed log, which raft-rs hands back as committed entries.
    pub fn new(
        config: NodeConfig,
        storage: RaftStorage,
        mut state_machine: S,
        seed: u64,
    ) -> Result<Started<S>, NodeError> {
        let applied = storage.snapshot_metadata().index;
        storage.snapshot_state().restore(&mut state_machine);
        let raft_config = raft::Config {
            id: config.id,
            election_tick: config.election_tick,
            heartbeat_tick: config.heartbeat_tick,
            applied,
            pre_vote: config.pre_vote,
            check_quorum: config.check_quorum,
            max_size_per_msg: config.max_append_bytes,
            max_inflight_msgs: 256,
            ..Default::default()
        };
        raft_config
            .validate()
            .map_err(|e| NodeError::Raft(e.to_string()))?;
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let raw = RawNode::new(&raft_config, storage, &logger)
            .map_err(|e| NodeError::Raft(e.to_string()))?;
        let mut node = Node {
            config,
            raw,
            state_machine,
            rng: ChaCha8Rng::seed_from_u64(seed),
            pending_reads: Vec::new(),
            last_role: (Role::Follower, 0, 0),
            last_commit: 0,
            outputs: Vec::new(),
            holding: false,
        };
        let outputs = node.finish();
        Ok((node, outputs))
    }

    /// One clock tick: election and heartbeat timers advance, and the state machine does a
    /// piece of its background work.
    pub fn tick(&mut self) -> Vec<Output<S::Response>> {
        self.raw.tick();
        self.state_machine.work_in_background();
        self.finish()
    }

    /// A message from a peer.
    pub fn step(&mut self, message: Message) -> Vec<Output<S::Response>> {
        // Errors here are stale or foreign messages (e.g. from a removed peer): ignore them,
        // as etcd does.
        let _ = self.raw.step(message);
        self.finish()
    }

    /// Proposes a command. When it is applied, the node that proposed it emits a `Response`
    /// with `request_id`. A follower forwards the proposal to the leader.
    pub fn propose(
        &mut self,
        request_id: u64,
        command: Vec<u8>,
    ) -> Result<Vec<Output<S::Response>>, NodeError> {
        let origin = encode_origin(self.config.id, request_id);
        self.raw
            .propose(origin, command)
            .map_err(Self::proposal_error)?;
        Ok(self.finish())
    }

    /// Proposes a membership change (only the leader accepts these). `info` travels with it
    /// (in the entry's context) to every member's state machine: how to reach the member.
    pub fn propose_membership(
        &mut self,
        request_id: u64,
        change: MembershipChange,
        info: Vec<u8>,
    ) -> Result<Vec<Output<S::Response>>, NodeError> {
        if self.raw.raft.has_pending_conf() {
            return Err(NodeError::ConfChangeInProgress);
        }
        if let MembershipChange::AddVoter(id) = change {
            if self.raw.raft.prs().conf().learners().contains(&id) {
                self.ready_to_promote(id)?;
            }
        }
        let mut cc = ConfChange::default();
        let (change_type, node) = conf_change_of(change);
        cc.set_change_type(change_type);
        cc.node_id = node;
        let context = [encode_origin(self.config.id, request_id), info].concat();
        self.raw
            .propose_conf_change(context, cc)
            .map_err(Self::proposal_error)?;
        Ok(self.finish())
    }

    /// Proposes several membership changes as one, by **joint consensus** (raft-rs's
    /// `ConfChangeV2`): once applied, the cluster runs on the old and the new voters together
    /// (every decision needs a majority of each), and the leader then proposes leaving the
    /// joint configuration for the new one alone. etcd 3.4 never does this (it changes one
    /// member at a time); raft-rs can.
    pub fn propose_joint_membership(
        &mut self,
        request_id: u64,
        changes: &[MembershipChange],
    ) -> Result<Vec<Output<S::Response>>, NodeError> {
        if self.raw.raft.has_pending_conf() {
            return Err(NodeError::ConfChangeInProgress);
        }
        let mut cc = ConfChangeV2::default();
        for &change in changes {
            let (change_type, node_id) = conf_change_of(change);
            let mut single = ConfChangeSingle::default();
            single.set_change_type(change_type);
            single.node_id = node_id;
            cc.mut_changes().push(single);
        }
        let context = encode_origin(self.config.id, request_id);
        self.raw
            .propose_conf_change(context, cc)
            .map_err(Self::proposal_error)?;
        Ok(self.finish())
    }

    /// etcd's rule (`isLearnerReady`): the learner's log matches at least 90% of the
    /// leader's.
    fn ready_to_promote(&self, learner: u64) -> Result<(), NodeError> {
        let raft = &self.raw.raft;
        if raft.state != StateRole::Leader {
            return Err(NodeError::NotLeader);
        }
        let matched = |id: u64| raft.prs().get(id).map_or(0, |pr| pr.matched);
        if (matched(learner) as f64) < matched(self.config.id) as f64 * 0.9 {
            return Err(NodeError::LearnerNotReady);
        }
        Ok(())
    }

    fn proposal_error(error: raft::Error) -> NodeError {
        match error {
            raft::Error::ProposalDropped => NodeError::ProposalDropped,
            other => NodeError::Raft(other.to_string()),
        }
    }

    /// Starts a linearizable read (Raft's ReadIndex): the leader confirms with a quorum that
    /// it is still leader and tells us its commit index; once we have applied up to there, a
    /// `ReadReady` says the local state machine may answer. raft-rs drops the request when
    /// there is no leader; the caller retries.
    pub fn read_index(&mut self, request_id: u64) -> Vec<Output<S::Response>> {
        // The leader tells reads apart by this context, so it names this node too: request
        // ids are only unique per node, and two followers' reads must never be mistaken for
        // one (the leader would drop the second).
        self.raw
            .read_index(encode_origin(self.config.id, request_id));
        self.finish()
    }

    /// Starts an election now, as if the election timer had fired.
    pub fn campaign(&mut self) -> Result<Vec<Output<S::Response>>, NodeError> {
        self.raw
            .campaign()
            .map_err(|e| NodeError::Raft(e.to_string()))?;
        Ok(self.finish())
    }

    /// Asks the leader to hand leadership to `to` (ignored by non-leaders, as in raft-rs).
    pub fn transfer_leader(&mut self, to: u64) -> Vec<Output<S::Response>> {
        self.raw.transfer_leader(to);
        self.finish()
    }

    /// The transport's word on a snapshot this node sent to `to`: delivered, or lost. raft-rs
    /// waits for it before it tries that follower again, so a lost snapshot must be reported.
    pub fn report_snapshot(&mut self, to: u64, delivered: bool) -> Vec<Output<S::Response>> {
        let status = if delivered {
            raft::SnapshotStatus::Finish
        } else {
            raft::SnapshotStatus::Failure
        };
        self.raw.report_snapshot(to, status);
        self.finish()
    }

    /// Takes a snapshot of the applied state now, compacting the log behind it.
    pub fn take_snapshot(&mut self) -> Vec<Output<S::Response>> {
        self.snapshot_applied_state();
        self.finish()
    }

    /// Holds back Ready handling until [`Node::release`]: the inputs fed meanwhile
    /// (proposals, peer messages, reads) are then handled by one Ready, so their entries
    /// go to disk in one write and one fsync, and to each peer in one batch of messages
    /// (etcd's batching; the "group commit" of databases). The native member holds while it
    /// drains the requests waiting in its queue; the simulator feeds one input at a time.
    pub fn hold(&mut self) {
        self.holding = true;
    }

    /// Handles the Ready of everything fed since [`Node::hold`].
    pub fn release(&mut self) -> Vec<Output<S::Response>> {
        self.holding = false;
        self.finish()
    }

    /// Takes back an outputs vector its caller has emptied, for the next input to fill.
    /// Every input hands its outputs over in a vector; reusing one spares a busy cluster a
    /// fresh (and growing) allocation at every message: a fifth of the simulator's
    /// allocations were these vectors and the server's.
    pub fn reuse(&mut self, mut emptied: Vec<Output<S::Response>>) {
        emptied.clear();
        if self.outputs.capacity() == 0 {
            self.outputs = emptied;
        }
    }

    /// After every input (unless held): carry out Ready, replace the election timeout draw,
    /// report changes.
    fn finish(&mut self) -> Vec<Output<S::Response>> {
        if self.holding {
            return Vec::new();
        }
        self.reseed_election_timeout();
        while self.raw.has_ready() {
            self.handle_ready();
            self.reseed_election_timeout();
        }
        self.report_changes();
        std::mem::take(&mut self.outputs)
    }

    /// raft-rs resets the election timer (`election_elapsed = 0`) on every role change, and
    /// on each reset draws a new random timeout from the thread RNG. Whenever the timer is at
    /// zero we overwrite that draw with our own, from the seeded RNG. This also redraws when a
    /// follower's timer is reset by a heartbeat, which is what the Raft paper describes.
    fn reseed_election_timeout(&mut self) {
        let raft = &mut self.raw.raft;
        if raft.election_elapsed != 0 {
            return;
        }
        // Drawn as u64, not usize: usize draws consume a different amount of randomness on
        // 32-bit WASM, and the run would differ from the native one.
        let min = self.config.election_tick as u64;
        let timeout = self.rng.gen_range(min..2 * min) as usize;
        raft.set_randomized_election_timeout(timeout);
        if raft.state != StateRole::Leader {
            self.outputs.push(Output::Event(NodeEvent::TimerReset {
                timeout_ticks: timeout,
            }));
        }
    }

    /// raft-rs's Ready loop, in the order its documentation gives.
    fn handle_ready(&mut self) {
        let mut ready = self.raw.ready();

        // 1. Messages that need not wait for our disk (only a leader has these).
        self.send(ready.take_messages());

        // 2. Persist: a snapshot from the leader, new entries, new hard state.
        let mut writes = Vec::new();
        if !ready.snapshot().is_empty() {
            let snapshot = ready.snapshot().clone();
            self.state_machine.restore(&snapshot.data);
            let meta = snapshot.get_metadata();
            self.outputs
                .push(Output::Event(NodeEvent::SnapshotInstalled {
                    index: meta.index,
                    term: meta.term,
                }));
            writes.push(PersistWrite::InstallSnapshot(snapshot));
        }
        if !ready.entries().is_empty() {
            writes.push(PersistWrite::Append(ready.take_entries()));
        }
        if let Some(hard_state) = ready.hs() {
            writes.push(PersistWrite::HardState(hard_state.clone()));
        }
        self.persist(writes, ready.must_sync());

        // 3. Apply what is committed, then release messages that waited for the disk.
        self.report_commit();
        self.apply(ready.take_committed_entries());
        for read in ready.take_read_states() {
            if let Some((origin, request_id)) = decode_origin(&read.request_ctx) {
                if origin == self.config.id {
                    self.pending_reads.push((request_id, read.index));
                }
            }
        }
        self.send(ready.take_persisted_messages());

        // 4. Tell raft-rs all of that is done; it may hand back more of the same.
        let mut light = self.raw.advance(ready);
        if let Some(commit) = light.commit_index() {
            let mut hard_state = self.raw.store().hard_state().clone();
            hard_state.commit = commit;
            // Losing a commit index in a crash is harmless: the leader tells us again.
            self.persist(vec![PersistWrite::HardState(hard_state)], false);
        }
        self.send(light.take_messages());
        self.report_commit();
        self.apply(light.take_committed_entries());
        self.raw.advance_apply();
        self.release_reads();
        self.maybe_snapshot();
    }

    fn send(&mut self, mut messages: Vec<Message>) {
        // raft-rs builds a batch by walking a hash map of peers, whose order depends on the
        // platform's word size; sorting by recipient (stably, so messages to one peer keep
        // their order) makes runs identical natively and in WASM.
        messages.sort_by_key(|m| m.to);
        self.outputs
            .extend(messages.into_iter().map(|m| Output::Send(Box::new(m))));
    }

    fn persist(&mut self, writes: Vec<PersistWrite>, must_sync: bool) {
        if writes.is_empty() {
            return;
        }
        for write in &writes {
            self.raw.mut_store().write(write);
        }
        self.outputs.push(Output::Persist { writes, must_sync });
    }

    fn apply(&mut self, entries: Vec<Entry>) {
        for entry in entries {
            let (kind, summary, response) = match entry.get_entry_type() {
                EntryType::EntryNormal if entry.data.is_empty() => (
                    EntryKind::Noop,
                    Summary::Said("(leader no-op)".to_string()),
                    None,
                ),
                EntryType::EntryNormal => {
                    let summary = Summary::Command {
                        command: entry.data.clone(),
                        describe: S::describe,
                    };
                    (
                        EntryKind::Command,
                        summary,
                        Some(self.state_machine.apply(entry.index, &entry.data)),
                    )
                }
                EntryType::EntryConfChange | EntryType::EntryConfChangeV2 => (
                    EntryKind::ConfChange,
                    Summary::Said(self.apply_conf_change(&entry)),
                    None,
                ),
            };
            self.outputs.push(Output::Event(NodeEvent::Applied {
                index: entry.index,
                term: entry.term,
                kind,
                summary: Box::new(summary),
                fingerprint: fingerprint(&entry.data),
            }));
            if let Some((origin, request_id)) = decode_origin(&entry.context) {
                if origin == self.config.id {
                    self.outputs.push(Output::Response {
                        request_id,
                        index: entry.index,
                        response,
                    });
                }
            }
        }
    }

    fn apply_conf_change(&mut self, entry: &Entry) -> String {
        // One change (etcd's way), or several at once by joint consensus: raft-rs applies
        // both kinds as a `ConfChangeV2`; an empty one leaves a joint configuration.
        let change = match entry.get_entry_type() {
            EntryType::EntryConfChange => as_joint_form(
                &ConfChange::parse_from_bytes(&entry.data).expect("conf change we encoded"),
            ),
            _ => ConfChangeV2::parse_from_bytes(&entry.data).expect("conf change we encoded"),
        };
        let summary = describe_conf_change(&change);
        match self.raw.apply_conf_change(&change) {
            Ok(conf_state) => {
                self.raw.mut_store().set_conf_state(conf_state);
                // How to reach a new member travels with a single change only.
                let info = entry.context.get(16..).unwrap_or_default();
                for single in change.get_changes() {
                    let removed = single.get_change_type() == ConfChangeType::RemoveNode;
                    self.state_machine
                        .apply_membership(single.node_id, removed, info);
                }
            }
            // raft-rs refuses impossible changes (e.g. removing the last voter); every node
            // refuses the same ones, so they stay consistent.
            Err(error) => return format!("{summary} (refused: {error})"),
        }
        // A new member must be caught up by snapshot if the log start is gone, and raft-rs
        // rightly refuses a snapshot whose membership does not include the receiver. So
        // take one now, with the new member in it.
        let adds = change
            .get_changes()
            .iter()
            .any(|c| c.get_change_type() != ConfChangeType::RemoveNode);
        if adds && self.raw.store().first_index() > 1 {
            self.snapshot_applied_state_at(entry.index);
        }
        summary
    }

    fn release_reads(&mut self) {
        let applied = self.raw.raft.raft_log.applied;
        let (ready, waiting) = self
            .pending_reads
            .drain(..)
            .partition(|&(_, index)| index <= applied);
        self.pending_reads = waiting;
        let ready: Vec<(u64, u64)> = ready;
        for (request_id, _) in ready {
            self.outputs.push(Output::ReadReady { request_id });
        }
    }

    fn maybe_snapshot(&mut self) {
        let interval = self.config.snapshot_interval;
        let applied = self.raw.raft.raft_log.applied;
        if interval > 0 && applied >= self.raw.store().snapshot_metadata().index + interval {
            self.snapshot_applied_state();
        }
    }

    fn snapshot_applied_state(&mut self) {
        self.snapshot_applied_state_at(self.raw.raft.raft_log.applied);
    }

    /// Snapshots the state machine, which has applied everything up to `applied`.
    fn snapshot_applied_state_at(&mut self, applied: u64) {
        let store = self.raw.store();
        if applied <= store.snapshot_metadata().index {
            return;
        }
        let (index, term) = (
            applied,
            raft::Storage::term(store, applied).expect("applied entries are in the log"),
        );
        let mut metadata = raft::eraftpb::SnapshotMetadata {
            index,
            term,
            ..Default::default()
        };
        metadata.set_conf_state(store.conf_state().clone());
        let compact_to = applied
            .saturating_sub(self.config.snapshot_catchup_entries)
            .max(store.first_index() - 1);
        self.outputs
            .push(Output::Event(NodeEvent::SnapshotTaken { index, term }));
        self.persist(
            vec![PersistWrite::TakeSnapshot {
                metadata,
                state: SnapshotState::of(&self.state_machine),
                compact_to,
            }],
            true,
        );
    }

    fn report_changes(&mut self) {
        let role = (self.role(), self.raw.raft.term, self.raw.raft.leader_id);
        if role != self.last_role {
            self.last_role = role;
            let (role, term, leader) = role;
            self.outputs
                .push(Output::Event(NodeEvent::RoleChanged { role, term, leader }));
        }
        self.report_commit();
    }

    /// Reports a new commit index, before the entries up to it are applied.
    fn report_commit(&mut self) {
        let commit = self.raw.raft.raft_log.committed;
        if commit != self.last_commit {
            self.last_commit = commit;
            self.outputs
                .push(Output::Event(NodeEvent::Committed { index: commit }));
        }
    }

    pub fn id(&self) -> u64 {
        self.config.id
    }

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    pub fn role(&self) -> Role {
        let raft = &self.raw.raft;
        match raft.state {
            StateRole::Leader => Role::Leader,
            StateRole::Candidate => Role::Candidate,
            StateRole::PreCandidate => Role::PreCandidate,
            StateRole::Follower if raft.prs().conf().learners().contains(&self.config.id) => {
                Role::Learner
            }
            StateRole::Follower => Role::Follower,
        }
    }

    /// The current term, as this node knows it.
    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    /// The leader this node follows (0: none known).
    pub fn leader_id(&self) -> u64 {
        self.raw.raft.leader_id
    }

    /// The highest log index this node knows to be committed.
    pub fn committed(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }

    /// The highest log index applied to the state machine.
    pub fn applied(&self) -> u64 {
        self.raw.raft.raft_log.applied
    }

    /// The node's volatile Raft state (role, term, vote, timers, progress), for visualisers.
    pub fn raft_view(&self) -> RaftView {
        let raft = &self.raw.raft;
        let (voters, learners) = self.members();
        let mut progress: Vec<ProgressView> = if raft.state == StateRole::Leader {
            raft.prs()
                .iter()
                .map(|(&id, pr)| ProgressView {
                    id,
                    matched: pr.matched,
                    next: pr.next_idx,
                    state: match pr.state {
                        ProgressState::Probe => "probe",
                        ProgressState::Replicate => "replicate",
                        ProgressState::Snapshot => "snapshot",
                    },
                    recent_active: pr.recent_active,
                })
                .collect()
        } else {
            Vec::new()
        };
        progress.sort_by_key(|p| p.id);
        RaftView {
            role: self.role(),
            term: raft.term,
            vote: raft.vote,
            leader: raft.leader_id,
            election_elapsed: raft.election_elapsed,
            election_timeout: raft.randomized_election_timeout(),
            heartbeat_elapsed: raft.heartbeat_elapsed(),
            heartbeat_timeout: raft.heartbeat_timeout(),
            commit: raft.raft_log.committed,
            applied: raft.raft_log.applied,
            persisted: raft.raft_log.persisted,
            voters,
            learners,
            voters_outgoing: self.outgoing_voters(),
            progress,
        }
    }

    pub fn storage(&self) -> &RaftStorage {
        self.raw.store()
    }

    pub fn state_machine(&self) -> &S {
        &self.state_machine
    }

    /// Voters and learners, as of the last applied membership change.
    /// The voters of the configuration being left, while in a joint one (empty otherwise).
    pub fn outgoing_voters(&self) -> Vec<u64> {
        let mut outgoing = self.raw.store().conf_state().voters_outgoing.clone();
        outgoing.sort_unstable();
        outgoing
    }

    pub fn members(&self) -> (Vec<u64>, Vec<u64>) {
        let conf = self.raw.store().conf_state();
        let mut voters = conf.voters.clone();
        let mut learners = conf.learners.clone();
        voters.sort_unstable();
        learners.sort_unstable();
        (voters, learners)
    }
}

/// The volatile Raft state of a running node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaftView {
    pub role: Role,
    pub term: u64,
    /// Whom this node voted for in `term` (0: nobody).
    pub vote: u64,
    /// The leader this node knows of (0: none).
    pub leader: u64,
    pub election_elapsed: usize,
    pub election_timeout: usize,
    pub heartbeat_elapsed: usize,
    pub heartbeat_timeout: usize,
    pub commit: u64,
    pub applied: u64,
    pub persisted: u64,
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    /// While in a joint configuration: the voters being left (decisions need a majority of
    /// `voters` and of these). Empty otherwise.
    pub voters_outgoing: Vec<u64>,
    /// The leader's view of every member's replication progress (empty on non-leaders).
    pub progress: Vec<ProgressView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgressView {
    pub id: u64,
    /// The highest index known to be replicated on this member.
    pub matched: u64,
    /// The next index the leader will send.
    pub next: u64,
    /// `probe` (finding where logs diverge), `replicate` (streaming) or `snapshot`.
    pub state: &'static str,
    pub recent_active: bool,
}

/// A membership change entry in words: `add voter 4`, `joint: add voter 4, add voter 5`,
/// `leave joint`.
pub fn describe_conf_change(change: &ConfChangeV2) -> String {
    let changes: Vec<String> = change
        .get_changes()
        .iter()
        .map(|c| {
            let what = match c.get_change_type() {
                ConfChangeType::AddNode => "add voter",
                ConfChangeType::AddLearnerNode => "add learner",
                ConfChangeType::RemoveNode => "remove",
            };
            format!("{what} {}", c.node_id)
        })
        .collect();
    match changes.len() {
        0 => "leave joint".to_string(),
        1 if change.enter_joint().is_none() => changes[0].clone(),
        _ => format!("joint: {}", changes.join(", ")),
    }
}

/// A single change in the form joint changes take (raft-rs applies both as this).
pub fn as_joint_form(change: &ConfChange) -> ConfChangeV2 {
    let mut single = ConfChangeSingle::default();
    single.set_change_type(change.get_change_type());
    single.node_id = change.node_id;
    let mut v2 = ConfChangeV2::default();
    v2.mut_changes().push(single);
    v2
}

fn conf_change_of(change: MembershipChange) -> (ConfChangeType, u64) {
    match change {
        MembershipChange::AddVoter(id) => (ConfChangeType::AddNode, id),
        MembershipChange::AddLearner(id) => (ConfChangeType::AddLearnerNode, id),
        MembershipChange::Remove(id) => (ConfChangeType::RemoveNode, id),
    }
}

#[cfg(test)]
mod tests;
