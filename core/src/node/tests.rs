//! [`Node`]'s promises, each checked on a small cluster driven by hand: the caller carries
//! messages between nodes itself, so every test sees the exact order of a node's outputs.

use std::collections::{BTreeMap, VecDeque};

use raft::eraftpb::{Message, MessageType};

use super::*;

/// A state machine that keeps every command it applied, in order.
#[derive(Clone, Default)]
struct Recorder {
    applied: Vec<(u64, Vec<u8>)>,
}

impl StateMachine for Recorder {
    type Response = String;

    fn apply(&mut self, index: u64, command: &[u8]) -> String {
        self.applied.push((index, command.to_vec()));
        format!("applied at {index}")
    }

    fn snapshot(&self) -> Vec<u8> {
        self.applied
            .iter()
            .flat_map(|(index, command)| {
                [&index.to_be_bytes()[..], &[command.len() as u8], command].concat()
            })
            .collect()
    }

    fn restore(&mut self, mut snapshot: &[u8]) {
        self.applied.clear();
        while snapshot.len() >= 9 {
            let index = u64::from_be_bytes(snapshot[..8].try_into().expect("8 bytes"));
            let len = snapshot[8] as usize;
            self.applied.push((index, snapshot[9..9 + len].to_vec()));
            snapshot = &snapshot[9 + len..];
        }
    }

    fn describe(command: &[u8]) -> String {
        String::from_utf8_lossy(command).into_owned()
    }
}

/// Nodes and the messages between them; nothing moves unless a test says so.
struct Bench {
    nodes: BTreeMap<u64, Node<Recorder>>,
    wire: VecDeque<Message>,
}

impl Bench {
    /// A bootstrapped cluster of `voters`, with node 1 elected leader.
    fn with_leader(voters: &[u64], config: impl Fn(u64) -> NodeConfig) -> Bench {
        let mut bench = Bench {
            nodes: BTreeMap::new(),
            wire: VecDeque::new(),
        };
        for &id in voters {
            let storage = RaftStorage::bootstrap(voters);
            let (node, outputs) =
                Node::new(config(id), storage, Recorder::default(), id).expect("starts");
            bench.nodes.insert(id, node);
            bench.take(outputs);
        }
        let outputs = bench.node(1).campaign().expect("campaigns");
        bench.take(outputs);
        bench.deliver_all();
        assert_eq!(bench.nodes[&1].role(), Role::Leader);
        bench
    }

    /// Starts node `id` with an empty disk (a member being added).
    fn start_empty(&mut self, id: u64) {
        let (node, outputs) =
            Node::new(config(id), RaftStorage::empty(), Recorder::default(), id).expect("starts");
        self.nodes.insert(id, node);
        self.take(outputs);
    }

    fn node(&mut self, id: u64) -> &mut Node<Recorder> {
        self.nodes.get_mut(&id).expect("a node of the bench")
    }

    /// Puts a node's messages on the wire; returns its other outputs.
    fn take(&mut self, outputs: Vec<Output<String>>) -> Vec<Output<String>> {
        outputs
            .into_iter()
            .filter_map(|output| match output {
                Output::Send(message) => {
                    self.wire.push_back(*message);
                    None
                }
                other => Some(other),
            })
            .collect()
    }

    /// Delivers the next message on the wire; returns the receiver's outputs, all of them.
    fn deliver_one(&mut self) -> (u64, Vec<Output<String>>) {
        let message = self.wire.pop_front().expect("a message on the wire");
        let to = message.to;
        let outputs = match self.nodes.get_mut(&to) {
            Some(node) => node.step(message),
            None => Vec::new(),
        };
        for output in &outputs {
            if let Output::Send(message) = output {
                self.wire.push_back((**message).clone());
            }
        }
        (to, outputs)
    }

    /// Delivers until the wire is empty; returns every non-send output, with its node.
    fn deliver_all(&mut self) -> Vec<(u64, Output<String>)> {
        let mut seen = Vec::new();
        while !self.wire.is_empty() {
            let (to, outputs) = self.deliver_one();
            seen.extend(
                outputs
                    .into_iter()
                    .filter(|o| !matches!(o, Output::Send(_)))
                    .map(|o| (to, o)),
            );
        }
        seen
    }
}

fn config(id: u64) -> NodeConfig {
    NodeConfig::new(id)
}

fn position(outputs: &[Output<String>], what: impl Fn(&Output<String>) -> bool) -> Option<usize> {
    outputs.iter().position(what)
}

#[test]
fn a_follower_persists_entries_before_it_acknowledges_them() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench.node(1).propose(7, b"x=1".to_vec()).expect("leader");
    bench.take(outputs);
    // Find the append to n2 and hand it over.
    while bench.wire.front().map(|m| (m.to, m.get_msg_type())) != Some((2, MessageType::MsgAppend))
    {
        bench.wire.rotate_left(1);
    }
    let (_, outputs) = bench.deliver_one();
    let persisted = position(&outputs, |o| {
        matches!(o, Output::Persist { writes, must_sync: true }
            if writes.iter().any(|w| matches!(w, PersistWrite::Append(_))))
    })
    .expect("the follower writes the entry, synced");
    let acked = position(
        &outputs,
        |o| matches!(o, Output::Send(m) if m.get_msg_type() == MessageType::MsgAppendResponse),
    )
    .expect("the follower acknowledges");
    assert!(
        persisted < acked,
        "the ack must wait for the write: {outputs:?}"
    );
}

#[test]
fn a_command_is_applied_only_once_a_majority_holds_it() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench.node(1).propose(7, b"x=1".to_vec()).expect("leader");
    let outputs = bench.take(outputs);
    let applied = |outputs: &[Output<String>]| {
        outputs.iter().any(|o| {
            matches!(
                o,
                Output::Event(NodeEvent::Applied {
                    kind: EntryKind::Command,
                    ..
                })
            )
        })
    };
    assert!(!applied(&outputs), "the leader alone is no majority");
    assert!(bench.nodes[&1].state_machine().applied.is_empty());

    // Deliver until the leader hears one acknowledgement: 2 of 3 hold it.
    let outputs = loop {
        let (to, outputs) = bench.deliver_one();
        if to == 1 && applied(&outputs) {
            break outputs;
        }
    };
    let committed = position(&outputs, |o| {
        matches!(o, Output::Event(NodeEvent::Committed { .. }))
    });
    let response = position(&outputs, |o| {
        matches!(o, Output::Response { request_id: 7, .. })
    })
    .expect("the proposer answers request 7");
    assert!(committed.is_some_and(|c| c < response));
    assert_eq!(
        bench.nodes[&1]
            .state_machine()
            .applied
            .last()
            .map(|(_, c)| c.as_slice()),
        Some(&b"x=1"[..])
    );
}

#[test]
fn a_follower_forwards_a_proposal_and_only_the_proposer_answers() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench
        .node(3)
        .propose(9, b"y=2".to_vec())
        .expect("forwarded");
    bench.take(outputs);
    let seen = bench.deliver_all();
    let answered: Vec<u64> = seen
        .iter()
        .filter(|(_, o)| matches!(o, Output::Response { request_id: 9, .. }))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(answered, [3]);
    for node in bench.nodes.values() {
        assert_eq!(
            node.state_machine()
                .applied
                .last()
                .map(|(_, c)| c.as_slice()),
            Some(&b"y=2"[..])
        );
    }
}

#[test]
fn a_read_index_is_ready_only_after_the_leader_confirms_with_a_quorum() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench.node(2).read_index(5);
    let outputs = bench.take(outputs);
    assert!(
        !outputs
            .iter()
            .any(|o| matches!(o, Output::ReadReady { .. })),
        "a follower cannot answer before the leader confirms"
    );
    let seen = bench.deliver_all();
    assert!(seen
        .iter()
        .any(|(id, o)| *id == 2 && matches!(o, Output::ReadReady { request_id: 5 })));

    // A leader cut off from everyone never confirms.
    let outputs = bench.node(1).read_index(6);
    bench.take(outputs);
    bench.wire.clear();
    assert!(!bench
        .deliver_all()
        .iter()
        .any(|(_, o)| matches!(o, Output::ReadReady { .. })));
}

#[test]
fn a_membership_change_takes_effect_when_applied_and_one_at_a_time() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench
        .node(1)
        .propose_membership(11, MembershipChange::AddLearner(4), Vec::new())
        .expect("the leader accepts it");
    bench.take(outputs);
    assert_eq!(
        bench
            .node(1)
            .propose_membership(12, MembershipChange::Remove(3), Vec::new()),
        Err(NodeError::ConfChangeInProgress)
    );
    assert_eq!(bench.nodes[&1].members(), (vec![1, 2, 3], vec![]));
    let seen = bench.deliver_all();
    assert!(seen
        .iter()
        .any(|(id, o)| *id == 1 && matches!(o, Output::Response { request_id: 11, .. })));
    for node in bench.nodes.values() {
        assert_eq!(node.members(), (vec![1, 2, 3], vec![4]));
    }
}

#[test]
fn a_follower_behind_the_log_start_is_sent_a_snapshot() {
    let mut bench = Bench::with_leader(&[1, 2, 3], |id| NodeConfig {
        snapshot_catchup_entries: 0,
        ..NodeConfig::new(id)
    });
    // n3 hears nothing while the others commit and n1 compacts its log.
    let n3 = bench.nodes.remove(&3).expect("n3");
    for (i, command) in [b"a=1", b"b=2", b"c=3"].into_iter().enumerate() {
        let outputs = bench
            .node(1)
            .propose(i as u64, command.to_vec())
            .expect("leader");
        bench.take(outputs);
        bench.deliver_all();
    }
    let outputs = bench.node(1).take_snapshot();
    let taken = outputs.iter().find_map(|o| match o {
        Output::Event(NodeEvent::SnapshotTaken { index, .. }) => Some(*index),
        _ => None,
    });
    let snapshot_index = taken.expect("n1 snapshots");
    assert!(bench.nodes[&1].storage().first_index() > snapshot_index);
    bench.take(outputs);

    // n3 comes back: the entries it lacks are gone from n1's log, so it gets the snapshot.
    bench.nodes.insert(3, n3);
    for _ in 0..3 {
        let outputs = bench.node(1).tick();
        bench.take(outputs);
    }
    let mut installed = None;
    while !bench.wire.is_empty() {
        let snapshot_to_n3 = bench
            .wire
            .front()
            .is_some_and(|m| m.to == 3 && m.get_msg_type() == MessageType::MsgSnapshot);
        let (to, outputs) = bench.deliver_one();
        if snapshot_to_n3 {
            let outputs = bench.node(1).report_snapshot(3, true);
            bench.take(outputs);
        }
        if to == 3 {
            installed = installed.or(outputs.iter().find_map(|o| match o {
                Output::Event(NodeEvent::SnapshotInstalled { index, .. }) => Some(*index),
                _ => None,
            }));
        }
    }
    assert_eq!(installed, Some(snapshot_index));
    let commands = |id| -> Vec<Vec<u8>> {
        bench.nodes[&id]
            .state_machine()
            .applied
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    };
    assert_eq!(commands(3), commands(1));
    assert_eq!(commands(3).len(), 3);
}

#[test]
fn a_learner_is_promoted_only_by_the_leader_once_it_has_caught_up() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let outputs = bench
        .node(1)
        .propose_membership(11, MembershipChange::AddLearner(4), Vec::new())
        .expect("the leader accepts it");
    bench.take(outputs);
    bench.deliver_all();
    // n4 was never started: it holds nothing of the leader's log.
    assert_eq!(
        bench
            .node(1)
            .propose_membership(12, MembershipChange::AddVoter(4), Vec::new()),
        Err(NodeError::LearnerNotReady)
    );
    // A follower cannot tell how far n4 got: it refuses rather than forward blindly.
    assert_eq!(
        bench
            .node(2)
            .propose_membership(13, MembershipChange::AddVoter(4), Vec::new()),
        Err(NodeError::NotLeader)
    );
    // Started and caught up (a heartbeat's round trip later), n4 is promoted.
    bench.start_empty(4);
    for _ in 0..config(1).heartbeat_tick {
        let outputs = bench.node(1).tick();
        bench.take(outputs);
    }
    bench.deliver_all();
    let outputs = bench
        .node(1)
        .propose_membership(14, MembershipChange::AddVoter(4), Vec::new())
        .expect("n4 has caught up");
    bench.take(outputs);
    bench.deliver_all();
    assert_eq!(bench.nodes[&1].members(), (vec![1, 2, 3, 4], vec![]));
}

#[test]
fn a_joint_change_enters_the_joint_configuration_then_leaves_it() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    bench.start_empty(4);
    bench.start_empty(5);
    let outputs = bench
        .node(1)
        .propose_joint_membership(
            21,
            &[MembershipChange::AddVoter(4), MembershipChange::AddVoter(5)],
        )
        .expect("the leader accepts it");
    bench.take(outputs);
    // One change in flight at a time, joint or not.
    assert_eq!(
        bench
            .node(1)
            .propose_membership(22, MembershipChange::Remove(3), Vec::new()),
        Err(NodeError::ConfChangeInProgress)
    );
    let seen = bench.deliver_all();
    let applied: Vec<String> = seen
        .iter()
        .filter_map(|(id, o)| match o {
            Output::Event(NodeEvent::Applied {
                kind: EntryKind::ConfChange,
                summary,
                ..
            }) if *id == 1 => Some(summary.text()),
            _ => None,
        })
        .collect();
    assert_eq!(applied, ["joint: add voter 4, add voter 5", "leave joint"]);
    for node in bench.nodes.values() {
        assert_eq!(node.members(), (vec![1, 2, 3, 4, 5], vec![]));
        assert!(node.outgoing_voters().is_empty());
    }
}

#[test]
fn proposals_held_together_go_to_disk_in_one_write_and_one_sync() {
    let mut bench = Bench::with_leader(&[1, 2, 3], config);
    let leader = bench.node(1);
    leader.hold();
    for request_id in 1..=3 {
        let outputs = leader.propose(request_id, b"x".to_vec()).expect("leader");
        assert!(outputs.is_empty(), "held: nothing happens yet");
    }
    let outputs = bench.node(1).release();
    let appends: Vec<usize> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist { writes, must_sync } => {
                assert!(must_sync);
                writes.iter().find_map(|w| match w {
                    PersistWrite::Append(entries) => Some(entries.len()),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect();
    assert_eq!(appends, [3], "one write of all three entries: {outputs:?}");
    let to_followers = |to| {
        outputs.iter().any(|o| {
            matches!(o, Output::Send(m) if m.to == to && m.get_msg_type() == MessageType::MsgAppend)
        })
    };
    assert!(to_followers(2) && to_followers(3));
    // And they commit like any others.
    bench.take(outputs);
    let seen = bench.deliver_all();
    let answered = seen
        .iter()
        .filter(|(node, o)| *node == 1 && matches!(o, Output::Response { .. }))
        .count();
    assert_eq!(answered, 3);
}
