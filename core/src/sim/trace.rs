//! The simulator's event trace: what happened, in order, as plain data.
//!
//! Visualisers animate it, tests hash it (two runs with one seed must produce byte-identical
//! traces), and a safety violation points at the event in it that broke the rule.
//!
//! A 5-node cluster at 50 puts a second makes about 4,000 events a virtual second: 14 million
//! an hour. So the trace keeps the latest [`KEPT_EVENTS`] in full and, for the checks that
//! look back over the whole run, the facts they need ([`RunFacts`]), kept as events come.
//! Positions count from the run's first event, kept or not.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::node::NodeEvent;
use crate::persistent;
use crate::sim::facts::RunFacts;
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

/// How many of the latest events the trace keeps: about half a virtual minute of a busy
/// 5-node cluster, 10 MiB or so. Older ones are let go a batch at a time.
pub const KEPT_EVENTS: usize = 1 << 17;

/// How many events the trace lets go of at a time, once it holds this many more than
/// [`KEPT_EVENTS`].
pub const LET_GO_BATCH: usize = KEPT_EVENTS / 32;

/// The recorded events. Recording can be switched off (for benchmarks); the hash and the
/// facts are only meaningful when it is on.
///
/// The events are a persistent vector (`im`): a copy of the trace shares every event with the
/// original, and costs almost nothing.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The latest events; the first is at position `first`.
    events: im::Vector<TraceEvent>,
    first: usize,
    facts: RunFacts,
    pub enabled: bool,
}

impl Trace {
    pub fn new(enabled: bool) -> Self {
        Trace {
            enabled,
            ..Default::default()
        }
    }

    pub fn record(&mut self, time: u64, what: TraceKind) {
        if self.enabled {
            let event = TraceEvent { time, what };
            self.facts.note(&event);
            self.events.push_back(event);
            // A batch at a time, since letting go of one event per event would cost more; but
            // a small batch, since freeing one takes time, which a big batch spent all in one
            // animation frame (a quarter of the kept events made every 7th frame of 9 nodes at
            // 200 puts/s and 10x take 60% longer).
            if self.events.len() >= KEPT_EVENTS + LET_GO_BATCH {
                let gone = self.events.len() - KEPT_EVENTS;
                self.events = self.events.skip(gone);
                self.first += gone;
            }
        }
    }

    /// How many events were recorded, kept or not: the position the next one will have.
    pub fn len(&self) -> usize {
        self.first + self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The position of the oldest event kept.
    pub fn first_kept(&self) -> usize {
        self.first
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> {
        self.events.iter()
    }

    /// The events from `position` on (as given by an earlier [`Trace::len`]), oldest first,
    /// as far as they are kept; found without walking the ones before.
    pub fn since(&self, position: usize) -> impl Iterator<Item = &TraceEvent> {
        let end = self.events.len();
        let start = position.saturating_sub(self.first).min(end);
        persistent::range(&self.events, start..end)
    }

    /// What the whole run showed, for checks that look back further than the events kept.
    pub fn facts(&self) -> &RunFacts {
        &self.facts
    }

    /// This trace without its events (its length and facts stay): what a checkpoint keeps,
    /// since the events are the run's and [`Trace::with_events_of`] gets them back.
    pub fn without_events(&self) -> Trace {
        Trace {
            events: im::Vector::new(),
            first: self.len(),
            facts: self.facts.clone(),
            enabled: self.enabled,
        }
    }

    /// This trace (as made by [`Trace::without_events`]) with the events `run` kept of the
    /// same positions: `run` is the trace of the same run, later on.
    pub fn with_events_of(&self, run: &Trace) -> Trace {
        let end = self.len();
        if end <= run.first {
            return self.clone();
        }
        Trace {
            events: run.events.take((end - run.first).min(run.events.len())),
            first: run.first,
            facts: self.facts.clone(),
            enabled: self.enabled,
        }
    }

    pub fn last(&self) -> Option<&TraceEvent> {
        self.events.last()
    }

    /// One JSON object per line, for the events kept.
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
