//! raftbook's native side: a real cluster member that speaks etcd's v3 API.
//!
//! The member runs the very same sans-I/O [`EtcdServer`](raftbook_core::etcd::server) as the
//! browser's simulator; this crate only adds what is real here:
//!
//! - [`config`]: etcd's flags, member and cluster ids;
//! - [`wal`]: the write-ahead log and snapshot files (durability, crash recovery);
//! - [`inbox`]: what a member's loop is asked, and answers with;
//! - [`member`]: the loop that feeds the core clock ticks, peer messages and client requests,
//!   and carries out its outputs (fsync, send, answer);
//! - [`peer`]: the HTTP transport between members;
//! - [`failpoint`]: faults tests switch on in a running member (`--failpoints`);
//! - [`grpc`]: etcd's gRPC services (KV, Watch, Lease, Cluster, Maintenance), translated by
//!   [`convert`];
//! - [`http`]: the client port's HTTP side (JSON gateway, `/metrics`, `/health`, `/status`);
//! - [`metrics`]: the counters behind `/metrics`;
//! - [`supervise`]: `raftbook cluster`, a local cluster in one command;
//! - [`serve`]: starting a member (its loop, peer port, client port);
//! - [`txn_depth`]: refusing transactions nested deeper than etcd accepts, before decoding;
//! - [`snapshot`]: backups (`etcdctl snapshot save`) and `raftbook snapshot restore`;
//! - [`client_port`]: serving gRPC and HTTP on one port with etcd's connection settings, and
//!   [`authority`], which accepts etcd clients' URL-shaped HTTP/2 authority;
//! - [`play`]: serving the browser playground.

pub mod authority;
pub mod client_port;
pub mod config;
pub mod convert;
pub mod failpoint;
pub mod grpc;
pub mod http;
pub mod inbox;
pub mod member;
pub mod metrics;
pub mod peer;
pub mod play;
pub mod serve;
pub mod snapshot;
pub mod supervise;
pub mod txn_depth;
pub mod wal;

/// The generated etcd v3 API types and services.
pub mod pb {
    tonic::include_proto!("etcdserverpb");
}
