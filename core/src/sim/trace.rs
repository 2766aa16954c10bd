//! The simulator's event trace: everything that happened, in order, as plain data.
//!
//! Visualisers animate it, tests hash it (two runs with one seed must produce byte-identical
//! traces), and a safety violation points at the event in it that broke the rule.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::node::NodeEvent;
use crate::persistent;
use crate::sim::network::DropReason;
use crate::view::MessageView;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Virtual time, in milliseconds since the cluster started.
    pub time: u64,
    #[serde(flatten)]
    pub what: TraceKind,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TraceKind {
    Send {
        id: u64,
        /// Boxed, as the largest kind: every event of an hour-long trace (millions) is as
        /// large as the largest, and a quarter of them are sends.
        message: Box<MessageView>,
        arrives: u64,
    },
    Deliver {
        id: u64,
        from: u64,
        to: u64,
    },
    Drop {
        id: u64,
        from: u64,
        to: u64,
        reason: DropReason,
    },
    /// Something changed inside a node (role, timer, commit, apply, snapshot).
    Node {
        node: u64,
        #[serde(flatten)]
        event: NodeEvent,
    },
    /// Entries written to a node's log.
    Append {
        node: u64,
        first: u64,
        last: u64,
        term: u64,
    },
    Sync {
        node: u64,
    },
    Crash {
        node: u64,
        lost_writes: usize,
    },
    Restart {
        node: u64,
    },
    /// A node stopped itself on finding its durable state broken (then crashed).
    Halted {
        node: u64,
        reason: String,
    },
    /// A down node's disk was replaced by an empty one.
    Wipe {
        node: u64,
    },
    Pause {
        node: u64,
    },
    Resume {
        node: u64,
    },
    Network {
        state: String,
    },
    Request {
        id: u64,
        node: u64,
        what: String,
    },
    Response {
        id: u64,
        node: u64,
        outcome: String,
    },
}

/// The recorded events. Recording can be switched off (for benchmarks); the hash is only
/// meaningful when it is on.
///
/// The events are a persistent vector (`im`): a copy of the trace (the playground keeps one in
/// each checkpoint of a run) shares every event with the original, and costs almost nothing.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    events: im::Vector<TraceEvent>,
    pub enabled: bool,
}

impl Trace {
    pub fn new(enabled: bool) -> Self {
        Trace {
            events: im::Vector::new(),
            enabled,
        }
    }

    pub fn record(&mut self, time: u64, what: TraceKind) {
        if self.enabled {
            self.events.push_back(TraceEvent { time, what });
        }
    }

    /// How many events were recorded: the position the next one will have.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every event, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> {
        self.events.iter()
    }

    /// The events from `position` on (as given by an earlier [`Trace::len`]), oldest first;
    /// found without walking the ones before.
    pub fn since(&self, position: usize) -> impl Iterator<Item = &TraceEvent> {
        let end = self.events.len();
        persistent::range(&self.events, position.min(end)..end)
    }

    pub fn last(&self) -> Option<&TraceEvent> {
        self.events.last()
    }

    /// One JSON object per line.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for event in self.events() {
            out.push_str(&serde_json::to_string(event).expect("trace events serialise"));
            out.push('\n');
        }
        out
    }

    /// SHA-256 of [`Trace::to_json_lines`], in hex.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.to_json_lines().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
