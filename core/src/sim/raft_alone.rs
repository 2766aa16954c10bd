//! The floor under the simulator's speed: raft-rs alone, on the benchmark workload of
//! [`super::workload`], with nothing of ours around it but the log's storage. Five `RawNode`s
//! on the storage the simulator's nodes use ([`RaftStorage`], bootstrapped the same way), the
//! simulator's timing (a tick every 100 ms, 10 ticks to an election, a heartbeat every tick,
//! links of 10 to 30 ms), [`PUTS_PER_SECOND`] proposals a virtual second to the leader, and
//! for the rest only what raft-rs's Ready loop demands: messages carried, entries and hard
//! state stored, committed entries taken (membership changes applied, the rest dropped). No
//! state machine, no checkers, no trace, no disk model: the simulator cannot be faster. Measured
//! natively by `cargo bench -p raftbook-core --bench raft_alone` and in the browser by
//! `cargo xtask bench-web`; the caller owns the clock.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use protobuf::Message as _;
use raft::eraftpb::{ConfChange, Entry, EntryType, Message};
use raft::{Config, RawNode, StateRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::workload::PUTS_PER_SECOND;
use crate::storage::{PersistWrite, RaftStorage};

const NODES: u64 = 5;
const TICK_MS: u64 = 100;

enum Event {
    Tick(u64),
    Arrive(Message),
}

struct Run {
    nodes: Vec<RawNode<RaftStorage>>,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Event>>,
    rng: ChaCha8Rng,
    now: u64,
}

impl Run {
    fn new() -> Run {
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let voters: Vec<u64> = (1..=NODES).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let config = Config {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 1,
                    pre_vote: true,
                    check_quorum: true,
                    max_size_per_msg: 1024 * 1024,
                    max_inflight_msgs: 256,
                    ..Default::default()
                };
                let storage = RaftStorage::bootstrap(&voters);
                RawNode::new(&config, storage, &logger).expect("a node")
            })
            .collect();
        let mut run = Run {
            nodes,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(1),
            now: 0,
        };
        for id in 1..=NODES {
            let phase = run.rng.gen_range(1..=TICK_MS);
            run.schedule(phase, Event::Tick(id));
        }
        run
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.events.push(Some(event));
        let seq = self.events.len() - 1;
        self.queue.push(Reverse((at, seq as u64, seq)));
    }

    fn run_until(&mut self, until: u64) {
        while let Some(&Reverse((at, _, seq))) = self.queue.peek() {
            if at > until {
                break;
            }
            self.queue.pop();
            self.now = at;
            let event = self.events[seq].take().expect("runs once");
            let id = match event {
                Event::Tick(id) => {
                    self.node(id).tick();
                    self.schedule(at + TICK_MS, Event::Tick(id));
                    id
                }
                Event::Arrive(message) => {
                    let to = message.to;
                    let _ = self.node(to).step(message);
                    to
                }
            };
            self.handle_ready(id);
        }
        self.now = until;
    }

    fn node(&mut self, id: u64) -> &mut RawNode<RaftStorage> {
        &mut self.nodes[id as usize - 1]
    }

    fn send(&mut self, messages: Vec<Message>) {
        for message in messages {
            let latency = self.rng.gen_range(10..=30);
            self.schedule(self.now + latency, Event::Arrive(message));
        }
    }

    /// raft-rs's Ready loop, as its documentation orders it.
    fn handle_ready(&mut self, id: u64) {
        if !self.node(id).has_ready() {
            return;
        }
        let mut ready = self.node(id).ready();
        self.send(ready.take_messages());
        let node = self.node(id);
        if !ready.snapshot().is_empty() {
            let snapshot = ready.snapshot().clone();
            node.mut_store()
                .write(&PersistWrite::InstallSnapshot(snapshot));
        }
        let committed = ready.take_committed_entries();
        apply(node, &committed);
        if !ready.entries().is_empty() {
            let entries = ready.entries().to_vec();
            node.mut_store().write(&PersistWrite::Append(entries));
        }
        if let Some(hard_state) = ready.hs() {
            let hard_state = hard_state.clone();
            node.mut_store().write(&PersistWrite::HardState(hard_state));
        }
        let persisted = ready.take_persisted_messages();
        let mut light = node.advance(ready);
        if let Some(commit) = light.commit_index() {
            let mut hard_state = node.store().hard_state().clone();
            hard_state.commit = commit;
            node.mut_store().write(&PersistWrite::HardState(hard_state));
        }
        apply(node, &light.take_committed_entries());
        let messages = light.take_messages();
        node.advance_apply();
        self.send(persisted);
        self.send(messages);
    }

    fn leader(&self) -> Option<u64> {
        self.nodes
            .iter()
            .find(|n| n.raft.state == StateRole::Leader)
            .map(|n| n.raft.id)
    }
}

/// Committed entries: membership changes (the bootstrap's) are applied, the rest dropped.
fn apply(node: &mut RawNode<RaftStorage>, committed: &[Entry]) {
    for entry in committed {
        if entry.get_entry_type() == EntryType::EntryConfChange {
            let change = ConfChange::parse_from_bytes(&entry.data).expect("a conf change");
            let conf_state = node.apply_conf_change(&change).expect("applies");
            node.mut_store().set_conf_state(conf_state);
        }
    }
}

/// Elects a leader, then runs `seconds` of virtual time at [`PUTS_PER_SECOND`] proposals a
/// second. Returns the virtual seconds the proposals covered, and how many entries the first
/// node saw committed.
pub fn run(seconds: u64) -> (f64, u64) {
    let mut run = Run::new();
    while run.leader().is_none() {
        run.run_until(run.now + 100);
    }
    let start_ms = run.now;
    let interval = 1000 / PUTS_PER_SECOND;
    for i in 0..seconds * PUTS_PER_SECOND {
        if let Some(leader) = run.leader() {
            let data = format!("put key{} value{i}", i % 100).into_bytes();
            let _ = run.node(leader).propose(vec![], data);
            run.handle_ready(leader);
        }
        run.run_until(run.now + interval);
    }
    let committed = run.nodes[0].raft.raft_log.committed;
    ((run.now - start_ms) as f64 / 1000.0, committed)
}

#[cfg(test)]
mod tests {
    /// The floor does the work it stands for: the proposals are committed as they come (all
    /// but those of the last 100 ms, still on their way when the run stops).
    #[test]
    fn the_proposals_are_committed_as_they_come() {
        let (simulated, committed) = super::run(5);
        assert_eq!(simulated, 5.0);
        // 500 proposals and the leader's empty entry (and those of earlier terms).
        assert!((491..=510).contains(&committed), "{committed}");
    }
}
