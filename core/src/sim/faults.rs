//! Faults: what can go wrong with a machine or the network, done to the cluster on purpose.
//!
//! A crash loses what was not synced; a restart recovers from the disk; a wipe breaks
//! Raft's assumptions (the checker shows what follows); a pause freezes a process with its
//! socket buffer filling; the network can be partitioned, cut, slowed and lossy, and one
//! message in flight can be dropped or held back.

use super::cluster::{Cluster, InFlight, Machine, Scheduled};
use super::disk::SimDisk;
use super::network::{DropReason, Network};
use super::trace::TraceKind;
use crate::storage::RaftStorage;

impl Cluster {
    /// Power loss: the node stops, its volatile state and unsynced writes are gone.
    pub fn crash(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.take().is_none() {
            return Err(format!("node {id} is already down"));
        }
        let lost_writes = machine.disk.crash();
        machine.paused = false;
        let unread: Vec<InFlight> = machine.backlog.drain(..).collect();
        machine.incarnation += 1;
        let durable = self.machines[&id].disk.recover();
        self.checker.on_crash(id, &durable);
        self.trace.record(
            self.now,
            TraceKind::Crash {
                node: id,
                lost_writes,
            },
        );
        for flight in unread {
            self.lost(flight.id, &flight.message, DropReason::NodeDown);
        }
        self.disconnect_clients(id);
        Ok(())
    }

    /// Starts a crashed node again from its disk.
    pub fn restart(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.is_some() {
            return Err(format!("node {id} is running"));
        }
        self.trace.record(self.now, TraceKind::Restart { node: id });
        self.boot(id);
        Ok(())
    }

    /// Replaces a down node's disk with an empty one: an operator who deletes a member's
    /// data directory and starts it again under the same id. Raft's safety rests on votes
    /// and log entries surviving a crash, so this node breaks it: it can vote a second time
    /// in a term, and for a candidate missing committed entries. The checker catches what
    /// follows; that is what this fault is for. (etcd refuses to start a member with no data
    /// directory that its peers know already: "member … has already been bootstrapped".)
    pub fn wipe(&mut self, id: u64) -> Result<(), String> {
        let machine = self
            .machines
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))?;
        if machine.server.is_some() {
            return Err(format!("node {id} is running: crash it first"));
        }
        machine.disk = SimDisk::new(RaftStorage::empty());
        self.checker.on_crash(id, &RaftStorage::empty());
        self.trace.record(self.now, TraceKind::Wipe { node: id });
        Ok(())
    }

    /// Freezes a node (like SIGSTOP): no ticks; arriving messages wait in its socket buffer.
    pub fn pause(&mut self, id: u64) -> Result<(), String> {
        let machine = self.running_machine(id)?;
        machine.paused = true;
        self.trace.record(self.now, TraceKind::Pause { node: id });
        Ok(())
    }

    pub fn resume(&mut self, id: u64) -> Result<(), String> {
        let machine = self.running_machine(id)?;
        machine.paused = false;
        let backlog: Vec<InFlight> = machine.backlog.drain(..).collect();
        self.trace.record(self.now, TraceKind::Resume { node: id });
        for flight in backlog {
            self.deliver(id, flight);
        }
        Ok(())
    }

    pub(super) fn running_machine(&mut self, id: u64) -> Result<&mut Machine, String> {
        match self.machines.get_mut(&id) {
            Some(machine) if machine.server.is_some() => Ok(machine),
            Some(_) => Err(format!("node {id} is down")),
            None => Err(format!("no node {id}")),
        }
    }

    /// Changes the network (partition, cut, heal, latency) and records it in the trace.
    pub fn change_network(&mut self, change: impl FnOnce(&mut Network, &[u64])) {
        let ids: Vec<u64> = self.machines.keys().copied().collect();
        change(&mut self.network, &ids);
        let state = self.network.describe();
        self.trace.record(self.now, TraceKind::Network { state });
    }

    /// Drops one message that is in flight.
    pub fn drop_message(&mut self, id: u64) -> Result<(), String> {
        let flight = self
            .in_flight
            .remove(&id)
            .ok_or_else(|| format!("no message {id} in flight"))?;
        self.lost(id, &flight.message, DropReason::User);
        Ok(())
    }

    /// Holds one in-flight message back for `ms` longer.
    pub fn delay_message(&mut self, id: u64, ms: u64) -> Result<u64, String> {
        let flight = self
            .in_flight
            .get_mut(&id)
            .ok_or_else(|| format!("no message {id} in flight"))?;
        flight.arrives_at += ms;
        let arrives_at = flight.arrives_at;
        // The earlier arrival event finds the message not yet due and is ignored.
        self.schedule(arrives_at, Scheduled::Arrive { message: id });
        Ok(arrives_at)
    }
}
