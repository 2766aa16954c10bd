//! The deterministic cluster simulator: virtual time, a virtual network and virtual disks
//! around real raft-rs nodes, with an event trace and Raft's safety properties checked live.

pub mod admin;
pub mod checker;
pub mod clients;
pub mod cluster;
pub mod disk;
pub mod durability;
pub mod facts;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod network;
pub mod raft_alone;
pub mod sessions;
pub mod trace;
pub mod views;
pub mod workload;

pub use checker::Violation;
pub use clients::{ClientEvent, ClientRequest, Failure, Outcome, WatchDelivery};
pub use cluster::{Cluster, ClusterConfig, NodeStatus};
pub use sessions::{Recipe, SessionEvent, SessionRecord};
pub use views::{ClusterView, MachineView, MessageInFlightView};
