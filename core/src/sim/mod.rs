//! The deterministic cluster simulator: virtual time, a virtual network and virtual disks
//! around real raft-rs nodes, with an event trace and Raft's safety properties checked live.

pub mod checker;
pub mod cluster;
pub mod disk;
pub mod history;
pub mod linearizability;
pub mod network;
pub mod trace;

pub use checker::Violation;
pub use cluster::{Cluster, ClusterConfig, ClusterView, NodeStatus, Outcome};
