//! The replicated state machine: what a node applies committed log entries to.
//!
//! Raft only agrees on the *order* of commands; the state machine gives them meaning. Every
//! node applies the same commands in the same order, so every node ends in the same state.
//! A snapshot is the state machine serialised at some log index: it lets the log before that
//! index be thrown away, and it is what a far-behind follower receives instead of the log.
//!
//! raftbook's state machine is etcd's: [`crate::etcd::store::EtcdStore`].

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

/// A state machine is `Clone`, and cloning it is cheap (etcd's store is built of persistent
/// collections): a snapshot keeps a clone, see [`SnapshotState`].
pub trait StateMachine: Clone + Send + Sync + 'static {
    /// The answer to a command, for the client who proposed it. It stays in the process
    /// (only the command travels in the log), so it needs no encoding.
    type Response: Clone + std::fmt::Debug + PartialEq;

    /// Applies one committed command (at log `index`) and returns the response for the client
    /// who proposed it. Must be deterministic: same commands, same state, on every node.
    fn apply(&mut self, index: u64, command: &[u8]) -> Self::Response;
    /// The whole state, encoded: what a snapshot carries to a follower or to disk.
    fn snapshot(&self) -> Vec<u8>;
    /// Replaces the whole state with an encoded snapshot's.
    fn restore(&mut self, snapshot: &[u8]);
    /// Work that applying left for later and that no reader can see, done a bounded piece
    /// per clock tick so that it never holds up the Raft loop for long. etcd's store forgets
    /// compacted history here.
    fn work_in_background(&mut self) {}
    /// A few words describing a command, for log views. It needs no state: it is called
    /// only when someone reads the log (see [`crate::node::Summary`]).
    fn describe(command: &[u8]) -> String;
    /// A membership change was applied: `member` joined (with `info` on how to reach it) or
    /// left. A state machine that keeps such facts keeps them in its snapshots too, so a
    /// member restored from a snapshot still knows them.
    fn apply_membership(&mut self, _member: u64, _removed: bool, _info: &[u8]) {}
}

/// The state machine's state in a snapshot a node keeps.
///
/// A node snapshots every few thousand entries, and most snapshots never leave it: only a
/// follower too far behind is sent one, and only a real disk writes one. So the state is kept
/// as a clone of the state machine, which shares almost everything with the live one, and is
/// encoded only the first time someone asks for the bytes (then kept encoded). Encoding the
/// whole store at every snapshot was a quarter of the simulator's time.
///
/// A snapshot received from the leader arrives encoded, and is kept as it came.
#[derive(Clone)]
pub struct SnapshotState(Arc<Kept>);

struct Kept {
    /// The state machine itself, when the snapshot was taken here.
    state: Option<Box<dyn Encode>>,
    encoded: OnceLock<Bytes>,
}

/// A state machine as a snapshot keeps it, whatever its type.
trait Encode: Send + Sync {
    fn encode(&self) -> Vec<u8>;
    fn as_any(&self) -> &dyn Any;
}

impl<S: StateMachine> Encode for S {
    fn encode(&self) -> Vec<u8> {
        self.snapshot()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl SnapshotState {
    /// The state of `state_machine` now; later changes to it do not reach the snapshot.
    pub fn of<S: StateMachine>(state_machine: &S) -> Self {
        SnapshotState(Arc::new(Kept {
            state: Some(Box::new(state_machine.clone())),
            encoded: OnceLock::new(),
        }))
    }

    /// A state as it came encoded (from the leader, or from disk).
    pub fn encoded(bytes: Bytes) -> Self {
        let encoded = OnceLock::new();
        let _ = encoded.set(bytes);
        SnapshotState(Arc::new(Kept {
            state: None,
            encoded,
        }))
    }

    /// The state, encoded (the first call encodes it).
    pub fn bytes(&self) -> Bytes {
        let kept = &*self.0;
        kept.encoded
            .get_or_init(|| {
                let state = kept.state.as_ref().expect("a state kept unencoded");
                state.encode().into()
            })
            .clone()
    }

    /// Puts this state into `state_machine`: a clone of the one kept, or decoded from bytes.
    /// Both give the same state, because decoding what [`StateMachine::snapshot`] encoded
    /// gives back the state it encoded.
    pub fn restore<S: StateMachine>(&self, state_machine: &mut S) {
        match self
            .0
            .state
            .as_ref()
            .and_then(|s| s.as_any().downcast_ref::<S>())
        {
            Some(kept) => *state_machine = kept.clone(),
            None => state_machine.restore(&self.bytes()),
        }
    }
}

/// Two states are equal when their encodings are.
impl PartialEq for SnapshotState {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.bytes() == other.bytes()
    }
}

impl fmt::Debug for SnapshotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.encoded.get() {
            Some(bytes) => write!(f, "SnapshotState({} bytes)", bytes.len()),
            None => write!(f, "SnapshotState(not encoded yet)"),
        }
    }
}
