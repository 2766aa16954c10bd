//! What a visualiser draws: the cluster at one moment, as plain serialisable structs.

use serde::Serialize;

use super::checker::Violation;
use super::cluster::{Cluster, NodeStatus};
use crate::view::{MessageView, NodeView};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MachineView {
    pub status: NodeStatus,
    #[serde(flatten)]
    pub node: NodeView,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageInFlightView {
    pub id: u64,
    pub sent_at: u64,
    pub arrives_at: u64,
    #[serde(flatten)]
    pub message: MessageView,
}

/// Everything a visualiser draws at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterView {
    pub time: u64,
    pub tick_ms: u64,
    pub nodes: Vec<MachineView>,
    pub messages: Vec<MessageInFlightView>,
    pub network: String,
    pub violation: Option<Violation>,
}

impl Cluster {
    pub fn node_view(&self, id: u64) -> Option<MachineView> {
        self.node_view_with_tail(id, usize::MAX)
    }

    /// A node's view with only the last `log_tail` log entries (for drawing long logs).
    pub fn node_view_with_tail(&self, id: u64, log_tail: usize) -> Option<MachineView> {
        let machine = self.machines.get(&id)?;
        let node = match &machine.server {
            Some(server) => NodeView::of_node(server.node(), log_tail),
            None => NodeView::of_storage(id, &machine.disk.recover(), None, log_tail),
        };
        Some(MachineView {
            status: self.status(id)?,
            node,
        })
    }

    pub fn view(&self) -> ClusterView {
        self.view_with_log_tail(usize::MAX)
    }

    /// Everything a visualiser draws, with only the last `log_tail` entries of each log.
    pub fn view_with_log_tail(&self, log_tail: usize) -> ClusterView {
        ClusterView {
            time: self.now,
            tick_ms: self.config().tick_ms,
            nodes: self
                .machines
                .keys()
                .filter_map(|&id| self.node_view_with_tail(id, log_tail))
                .collect(),
            messages: self
                .in_flight
                .values()
                .map(|f| MessageInFlightView {
                    id: f.id,
                    sent_at: f.sent_at,
                    arrives_at: f.arrives_at,
                    message: MessageView::new(&f.message),
                })
                .collect(),
            network: self.network.describe(),
            violation: self.violation().cloned(),
        }
    }
}
