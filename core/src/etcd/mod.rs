//! etcd's semantics, replicated through Raft: what each member of a raftbook cluster runs.
//!
//! Follow a `put` through these files in order:
//!
//! 1. [`api`]: the request as etcd's v3 API defines it (`PutRequest`), and etcd's errors;
//! 2. [`server`]: the member checks it and proposes it to its Raft [`crate::node::Node`] as a
//!    [`store::Command`]; Raft replicates and commits it;
//! 3. [`store`]: every member applies the committed command to its [`store::EtcdStore`]…
//! 4. [`mvcc`]: …which writes a new version of the key at the next revision;
//! 5. [`watch`]: every member's watchers hear of the change from their own store;
//! 6. back in [`server`], the member that proposed it answers the client.
//!
//! [`etcdctl`] parses etcdctl's command lines into requests and prints answers as etcdctl
//! does. Checks over client histories (linearizability, watch streams) live with the
//! simulator, in [`crate::sim::history`].

pub mod api;
#[cfg(feature = "playground")]
pub mod etcdctl;
pub mod mvcc;
pub mod server;
pub mod store;
pub mod view;
pub mod watch;
#[cfg(feature = "playground")]
pub mod write_out;
