//! The floor under the simulator's speed: raft-rs alone, on the simulator benchmark's
//! workload, with nothing of ours around it. Five `RawNode`s on raft-rs's own `MemStorage`,
//! the simulator's timing (a tick every 100 ms, 10 ticks to an election, a heartbeat every
//! tick, links of 10 to 30 ms), 100 proposals a virtual second to the leader, and for the
//! rest only what raft-rs's Ready loop demands: messages carried, entries and hard state
//! stored, committed entries taken and dropped. No state machine, no checkers, no trace, no
//! disk model. The simulator (`benches/simulator.rs`) cannot be faster than this.
//! Run with `cargo bench -p raftbook-core --bench raft_alone`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use raft::eraftpb::Message;
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NODES: u64 = 5;
const TICK_MS: u64 = 100;
const PROPOSALS_PER_SECOND: u64 = 100;
const VIRTUAL_SECONDS: u64 = 300;

enum Event {
    Tick(u64),
    Arrive(Message),
}

struct Run {
    nodes: Vec<RawNode<MemStorage>>,
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
                let storage = MemStorage::new_with_conf_state((voters.clone(), vec![]));
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

    fn node(&mut self, id: u64) -> &mut RawNode<MemStorage> {
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
                .wl()
                .apply_snapshot(snapshot)
                .expect("applies");
        }
        let _applied = ready.take_committed_entries();
        if !ready.entries().is_empty() {
            node.mut_store()
                .wl()
                .append(ready.entries())
                .expect("appends");
        }
        if let Some(hard_state) = ready.hs() {
            node.mut_store().wl().set_hardstate(hard_state.clone());
        }
        let persisted = ready.take_persisted_messages();
        let mut light = node.advance(ready);
        if let Some(commit) = light.commit_index() {
            node.mut_store().wl().mut_hard_state().set_commit(commit);
        }
        let _applied = light.take_committed_entries();
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

fn main() {
    const ROUNDS: usize = 3;
    let mut speeds = Vec::new();
    for round in 1..=ROUNDS {
        let mut run = Run::new();
        while run.leader().is_none() {
            run.run_until(run.now + 100);
        }
        let start_ms = run.now;
        let started = Instant::now();
        let interval = 1000 / PROPOSALS_PER_SECOND;
        for i in 0..VIRTUAL_SECONDS * PROPOSALS_PER_SECOND {
            if let Some(leader) = run.leader() {
                let data = format!("put key{} value{i}", i % 100).into_bytes();
                let _ = run.node(leader).propose(vec![], data);
                run.handle_ready(leader);
            }
            run.run_until(run.now + interval);
        }
        let wall = started.elapsed().as_secs_f64();
        let simulated = (run.now - start_ms) as f64 / 1000.0;
        let committed = run.nodes[0].raft.raft_log.committed;
        println!(
            "raft-rs alone round {round}: {simulated:.0} virtual s in {wall:.3} wall s, \
             {:.0}x ({committed} entries committed)",
            simulated / wall
        );
        speeds.push(simulated / wall);
    }
    speeds.sort_by(f64::total_cmp);
    println!(
        "raft-rs alone: {:.0}x real time (median of {ROUNDS})",
        speeds[ROUNDS / 2]
    );
}
