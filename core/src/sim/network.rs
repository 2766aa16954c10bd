//! The simulated network: per-link latency and loss, partitions, one-way cuts.
//!
//! It only decides *whether* and *when* a message arrives; the cluster keeps the messages in
//! flight. Each link `from -> to` is one direction: a partition blocks both directions between
//! groups, a cut blocks one direction only (the classic asymmetric failure).

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How one direction of a link behaves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinkConfig {
    /// One-way delay, drawn uniformly from `[latency_min_ms, latency_max_ms]` per message.
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    /// Probability that a message is lost.
    pub loss: f64,
}

impl LinkConfig {
    /// `latency 300ms, loss 0.1` for what differs from a plain link; `None` for a plain one.
    fn describe(&self) -> Option<String> {
        let plain = LinkConfig::default();
        let mut parts = Vec::new();
        if (self.latency_min_ms, self.latency_max_ms)
            != (plain.latency_min_ms, plain.latency_max_ms)
        {
            parts.push(match (self.latency_min_ms, self.latency_max_ms) {
                (min, max) if min == max => format!("latency {min}ms"),
                (min, max) => format!("latency {min}-{max}ms"),
            });
        }
        if self.loss != plain.loss {
            parts.push(format!("loss {}", self.loss));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_min_ms: 10,
            latency_max_ms: 30,
            loss: 0.0,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Network {
    pub default_link: LinkConfig,
    /// Links configured differently from the default, by `(from, to)`.
    pub links: BTreeMap<(u64, u64), LinkConfig>,
    /// When set, messages only flow within a group.
    pub partition: Option<Vec<BTreeSet<u64>>>,
    /// Blocked directions `(from, to)`.
    pub cuts: BTreeSet<(u64, u64)>,
    /// Off: each link delivers in order (like a TCP connection). On: a later message may
    /// overtake an earlier one when it draws a shorter delay.
    pub reorder: bool,
    /// The arrival time of the last message on each link, to keep links in order.
    #[serde(skip)]
    last_arrival: BTreeMap<(u64, u64), u64>,
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    Partitioned,
    Cut,
    Lost,
    NodeDown,
    /// The learner (or a test) dropped it by hand.
    User,
}

impl Network {
    pub fn new(default_link: LinkConfig, reorder: bool) -> Self {
        Network {
            default_link,
            reorder,
            ..Default::default()
        }
    }

    pub fn link(&self, from: u64, to: u64) -> LinkConfig {
        self.links
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default_link)
    }

    /// Whether `from` can currently reach `to`; `Err` says why not.
    pub fn check(&self, from: u64, to: u64) -> Result<(), DropReason> {
        if self.cuts.contains(&(from, to)) {
            return Err(DropReason::Cut);
        }
        if let Some(groups) = &self.partition {
            let group_of = |n| groups.iter().position(|g: &BTreeSet<u64>| g.contains(&n));
            if group_of(from) != group_of(to) {
                return Err(DropReason::Partitioned);
            }
        }
        Ok(())
    }

    /// Decides the fate of a message sent now: its arrival time, or why it is dropped.
    pub fn route(
        &mut self,
        from: u64,
        to: u64,
        now: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<u64, DropReason> {
        self.check(from, to)?;
        let link = self.link(from, to);
        // Always draw both numbers, so changing a link's loss does not shift later draws.
        let lost = rng.gen_bool(link.loss.clamp(0.0, 1.0));
        let delay =
            rng.gen_range(link.latency_min_ms..=link.latency_max_ms.max(link.latency_min_ms));
        if lost {
            return Err(DropReason::Lost);
        }
        let mut arrival = now + delay;
        if !self.reorder {
            let last = self.last_arrival.entry((from, to)).or_default();
            arrival = arrival.max(*last);
            *last = arrival;
        }
        Ok(arrival)
    }

    /// Splits the nodes into groups that cannot talk to each other. Nodes named in no group
    /// are isolated on their own.
    pub fn set_partition(
        &mut self,
        groups: Vec<BTreeSet<u64>>,
        all_nodes: impl Iterator<Item = u64>,
    ) {
        let mut groups = groups;
        for node in all_nodes {
            if !groups.iter().any(|g| g.contains(&node)) {
                groups.push(BTreeSet::from([node]));
            }
        }
        self.partition = Some(groups);
    }

    pub fn cut(&mut self, from: u64, to: u64) {
        self.cuts.insert((from, to));
    }

    pub fn restore(&mut self, from: u64, to: u64) {
        self.cuts.remove(&(from, to));
    }

    /// Removes every partition and cut (latency and loss settings stay).
    pub fn heal(&mut self) {
        self.partition = None;
        self.cuts.clear();
    }

    /// A short description of the current faults, e.g. `partition 1,2 | 3,4,5; cut 1->3`.
    /// What is wrong with the network, if anything: partitions and cuts first ("healthy"
    /// when messages can flow everywhere), then latency, loss and reordering that differ
    /// from a plain link's (10–30 ms, no loss, in order).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(groups) = &self.partition {
            let groups: Vec<String> = groups.iter().map(|g| join(g.iter())).collect();
            parts.push(format!("partition {}", groups.join(" | ")));
        }
        for (from, to) in &self.cuts {
            parts.push(format!("cut {from}->{to}"));
        }
        if parts.is_empty() {
            parts.push("healthy".to_string());
        }
        if let Some(quality) = self.default_link.describe() {
            parts.push(quality);
        }
        for ((from, to), link) in &self.links {
            if let Some(quality) = link.describe() {
                parts.push(format!("link {from}->{to} {quality}"));
            }
        }
        if self.reorder {
            parts.push("reordering".to_string());
        }
        parts.join("; ")
    }
}

pub fn join<'a>(ids: impl Iterator<Item = &'a u64>) -> String {
    ids.map(u64::to_string).collect::<Vec<_>>().join(",")
}
