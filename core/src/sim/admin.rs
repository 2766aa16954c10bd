//! What an operator does to a running cluster: start an election, hand over leadership,
//! take a snapshot, change the membership.

use super::clients::{Failure, Outcome};
use super::cluster::Cluster;
use crate::node::{MembershipChange, NodeError};
use crate::storage::RaftStorage;

impl Cluster {
    pub fn campaign(&mut self, node: u64) -> Result<(), String> {
        let now = self.now();
        let outputs = self
            .running_server(node)?
            .campaign(now)
            .map_err(|e| e.to_string())?;
        self.carry_out(node, outputs);
        Ok(())
    }

    /// Asks the current leader to hand over leadership to `to`.
    pub fn transfer_leader(&mut self, to: u64) -> Result<(), String> {
        let leader = self.leader().ok_or("no leader")?;
        self.input_to(leader, |member, now| member.transfer_leader(now, to))
    }

    pub fn take_snapshot(&mut self, node: u64) -> Result<(), String> {
        self.input_to(node, |member, now| member.take_snapshot(now))
    }

    /// Starts a new, empty node and asks the leader to add it (as voter or learner).
    /// Returns the new node's id and the membership request's id.
    pub fn add_node(&mut self, learner: bool) -> Result<(u64, u64), String> {
        let leader = self.leader().ok_or("no leader to add a node")?;
        let id = self.machines.keys().next_back().copied().unwrap_or(0) + 1;
        let change = if learner {
            MembershipChange::AddLearner(id)
        } else {
            MembershipChange::AddVoter(id)
        };
        // Start it first, so the leader's first messages find it.
        self.start_machine(id, RaftStorage::empty());
        match self.change_membership(leader, change) {
            Ok(request) => Ok((id, request)),
            Err(error) => {
                self.machines.remove(&id);
                Err(error)
            }
        }
    }

    /// Adds voters `add` (new, empty nodes) and removes `remove` in one change, by joint
    /// consensus. Returns the request's id.
    pub fn change_members_jointly(&mut self, add: &[u64], remove: &[u64]) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader to change the membership")?;
        if let Some(id) = add.iter().find(|id| self.machines.contains_key(id)) {
            return Err(format!("n{id} already exists: add new node ids"));
        }
        let changes: Vec<MembershipChange> = add
            .iter()
            .map(|&id| MembershipChange::AddVoter(id))
            .chain(remove.iter().map(|&id| MembershipChange::Remove(id)))
            .collect();
        let what = changes
            .iter()
            .map(|c| match c {
                MembershipChange::AddVoter(id) => format!("add voter {id}"),
                MembershipChange::AddLearner(id) => format!("add learner {id}"),
                MembershipChange::Remove(id) => format!("remove {id}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.running_server(leader)?;
        // Start the new nodes first, so the leader's first messages find them.
        for &id in add {
            self.start_machine(id, RaftStorage::empty());
        }
        let request = self.new_request(leader, Some(format!("joint: {what}")), None, None);
        let now = self.now();
        match self
            .running_server(leader)?
            .change_membership_jointly(now, request, &changes)
        {
            Ok(outputs) => {
                self.carry_out(leader, outputs);
                Ok(request)
            }
            Err(error) => {
                for id in add {
                    self.machines.remove(id);
                }
                Err(self.membership_refused(request, error))
            }
        }
    }

    /// Asks the leader to remove `id` from the membership (the node keeps running, alone).
    pub fn remove_node(&mut self, id: u64) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader to remove a node")?;
        self.change_membership(leader, MembershipChange::Remove(id))
    }

    /// Asks the leader to promote learner `id` to voter.
    pub fn promote(&mut self, id: u64) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader to promote a node")?;
        self.change_membership(leader, MembershipChange::AddVoter(id))
    }

    fn change_membership(&mut self, leader: u64, change: MembershipChange) -> Result<u64, String> {
        let what = match change {
            MembershipChange::AddVoter(id) => format!("add voter {id}"),
            MembershipChange::AddLearner(id) => format!("add learner {id}"),
            MembershipChange::Remove(id) => format!("remove {id}"),
        };
        self.running_server(leader)?;
        let id = self.new_request(leader, Some(what), None, Some(change));
        let now = self.now();
        match self
            .running_server(leader)?
            .change_membership(now, id, change, Vec::new())
        {
            Ok(outputs) => {
                self.carry_out(leader, outputs);
                Ok(id)
            }
            Err(error) => Err(self.membership_refused(id, error)),
        }
    }

    /// The leader would not start membership request `id`: it fails, and says why.
    fn membership_refused(&mut self, id: u64, error: NodeError) -> String {
        let reason = error.to_string();
        self.complete(
            id,
            Outcome::Failed {
                at: self.now(),
                failure: Failure::MembershipRefused(error),
            },
        );
        reason
    }
}
