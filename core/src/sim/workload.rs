//! The simulator's benchmark workload, one definition for both places it is measured: natively
//! (`cargo bench -p raftbook-core`) and in the browser's WASM (`cargo xtask bench-web`), so
//! the two speeds compare the same work.
//!
//! A 5-node etcd cluster takes a steady stream of puts (100 keys, overwritten in turn) sent to
//! the leader, with every safety checker on and the event trace off: the trace is for
//! watching a run, the checkers are the product. Members snapshot every 1,000 entries, as a
//! long run would. The caller owns the clock: core has none.

use crate::etcd::api::{PutRequest, Request};
use crate::node::NodeConfig;
use crate::sim::{Cluster, ClusterConfig};

/// Puts per virtual second.
pub const PUTS_PER_SECOND: u64 = 100;

/// A 5-node cluster with a leader elected, ready for [`steady_puts`].
pub fn cluster() -> Cluster {
    let node = NodeConfig {
        snapshot_interval: 1000,
        ..NodeConfig::new(0)
    };
    let mut cluster = Cluster::new(ClusterConfig {
        nodes: 5,
        seed: 1,
        node,
        trace: false,
        ..Default::default()
    });
    assert!(
        cluster.run_until(10_000, |c| c.leader().is_some()),
        "a 5-node cluster elects a leader in 10 virtual seconds"
    );
    cluster
}

/// Runs `seconds` of virtual time at [`PUTS_PER_SECOND`], each put sent to the leader of the
/// moment (none while there is none).
pub fn steady_puts(cluster: &mut Cluster, seconds: u64) {
    let interval = 1000 / PUTS_PER_SECOND;
    for i in 0..seconds * PUTS_PER_SECOND {
        if let Some(leader) = cluster.leader() {
            let put = PutRequest {
                key: format!("key{}", i % 100).into(),
                value: format!("value{i}").into(),
                ..Default::default()
            };
            let _ = cluster.request(leader, Request::Put(put));
        }
        cluster.run_for(interval);
    }
}
