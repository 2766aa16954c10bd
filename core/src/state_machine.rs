//! The replicated state machine: what a node applies committed log entries to.
//!
//! Raft only agrees on the *order* of commands; the state machine gives them meaning. Every
//! node applies the same commands in the same order, so every node ends in the same state.
//! A snapshot is the state machine serialised at some log index: it lets the log before that
//! index be thrown away, and it is what a far-behind follower receives instead of the log.
//!
//! raftbook's state machine is etcd's: [`crate::etcd::store::EtcdStore`].

pub trait StateMachine {
    /// The answer to a command, for the client who proposed it. It stays in the process
    /// (only the command travels in the log), so it needs no encoding.
    type Response: Clone + std::fmt::Debug + PartialEq;

    /// Applies one committed command (at log `index`) and returns the response for the client
    /// who proposed it. Must be deterministic: same commands, same state, on every node.
    fn apply(&mut self, index: u64, command: &[u8]) -> Self::Response;
    /// The whole state, serialised.
    fn snapshot(&self) -> Vec<u8>;
    /// Replaces the whole state with a snapshot's.
    fn restore(&mut self, snapshot: &[u8]);
    /// A few words describing a command, for log views.
    fn describe(&self, command: &[u8]) -> String;
    /// A membership change was applied: `member` joined (with `info` on how to reach it) or
    /// left. A state machine that keeps such facts keeps them in its snapshots too, so a
    /// member restored from a snapshot still knows them.
    fn apply_membership(&mut self, _member: u64, _removed: bool, _info: &[u8]) {}
}
