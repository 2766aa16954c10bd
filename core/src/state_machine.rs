//! The replicated state machine: what a node applies committed log entries to.
//!
//! Raft only agrees on the *order* of commands; the state machine gives them meaning. Every
//! node applies the same commands in the same order, so every node ends in the same state.
//! A snapshot is the state machine serialised at some log index: it lets the log before that
//! index be thrown away, and it is what a far-behind follower receives instead of the log.

use std::collections::BTreeMap;

pub trait StateMachine {
    /// Applies one committed command (at log `index`) and returns the response for the client
    /// who proposed it. Must be deterministic: same commands, same state, on every node.
    fn apply(&mut self, index: u64, command: &[u8]) -> Vec<u8>;
    /// The whole state, serialised.
    fn snapshot(&self) -> Vec<u8>;
    /// Replaces the whole state with a snapshot's.
    fn restore(&mut self, snapshot: &[u8]);
    /// A few words describing a command, for log views.
    fn describe(&self, command: &[u8]) -> String;
}

/// The smallest useful state machine: `key=value` commands set a key (the response is the
/// previous value). It lets the Raft lessons show replicated state without any etcd detail.
#[derive(Clone, Debug, Default)]
pub struct SimpleKv {
    pub entries: BTreeMap<String, String>,
}

impl StateMachine for SimpleKv {
    fn apply(&mut self, _index: u64, command: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(command);
        let (key, value) = text.split_once('=').unwrap_or((&text, ""));
        let previous = self.entries.insert(key.to_string(), value.to_string());
        previous.unwrap_or_default().into_bytes()
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.entries).expect("a map of strings serialises")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        self.entries = if snapshot.is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_slice(snapshot).expect("snapshot written by SimpleKv::snapshot")
        };
    }

    fn describe(&self, command: &[u8]) -> String {
        String::from_utf8_lossy(command).into_owned()
    }
}
