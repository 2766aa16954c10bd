//! A member's configuration, from etcd's flags (same names, same defaults where they apply),
//! and the ids derived from it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use raftbook_core::etcd::server::cluster_id;
use sha2::{Digest, Sha256};

/// etcd's flags. Run with none at all for a single-member cluster, like `etcd`.
#[derive(clap::Args, Clone, Debug)]
pub struct MemberArgs {
    /// Human-readable name for this member.
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Path to the data directory (default: `<name>.raftbook`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// URL to listen on for client traffic (gRPC and HTTP on one port).
    #[arg(long, default_value = "http://127.0.0.1:2379")]
    pub listen_client_urls: String,
    /// This member's client URL to advertise to the rest of the cluster.
    #[arg(long)]
    pub advertise_client_urls: Option<String>,
    /// URL to listen on for peer traffic.
    #[arg(long, default_value = "http://127.0.0.1:2380")]
    pub listen_peer_urls: String,
    /// This member's peer URL to advertise to the rest of the cluster.
    #[arg(long)]
    pub initial_advertise_peer_urls: Option<String>,
    /// Initial cluster configuration for bootstrapping: `name=peer-url,…`.
    #[arg(long)]
    pub initial_cluster: Option<String>,
    /// `new` (bootstrap) or `existing` (join a running cluster).
    #[arg(long, default_value = "new")]
    pub initial_cluster_state: String,
    /// Initial cluster token, so two clusters with the same members get different ids.
    #[arg(long, default_value = "etcd-cluster")]
    pub initial_cluster_token: String,
    /// Time (in milliseconds) of a heartbeat interval: one Raft tick.
    #[arg(long, default_value_t = 100)]
    pub heartbeat_interval: u64,
    /// Time (in milliseconds) for an election to timeout.
    #[arg(long, default_value_t = 1000)]
    pub election_timeout: u64,
    /// Number of committed transactions to trigger a snapshot to disk.
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_count: u64,
    /// Serve the failpoints that tests use to inject faults (`failpoint.rs`).
    #[arg(long, hide = true)]
    pub failpoints: bool,
}

/// A member of the cluster, as the initial cluster lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub id: u64,
    pub name: String,
    pub peer_url: String,
}

/// Everything a member needs, resolved from the flags.
#[derive(Clone, Debug)]
pub struct MemberConfig {
    pub id: u64,
    pub name: String,
    pub cluster_id: u64,
    pub data_dir: PathBuf,
    pub client_listen: String,
    pub client_url: String,
    pub peer_listen: String,
    /// Every member by id (this one included).
    pub peers: BTreeMap<u64, Peer>,
    pub join_existing: bool,
    pub token: String,
    pub tick_ms: u64,
    pub election_ticks: usize,
    pub snapshot_count: u64,
}

/// etcd derives a member's id from its peer URLs and the cluster token.
pub fn member_id(peer_url: &str, token: &str) -> u64 {
    let hash = Sha256::digest(format!("{peer_url}{token}"));
    u64::from_be_bytes(hash[..8].try_into().expect("8 bytes")).max(1)
}

/// `http://127.0.0.1:2379` → `127.0.0.1:2379`.
pub fn host_port(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    Ok(rest.trim_end_matches('/').to_string())
}

impl MemberArgs {
    pub fn resolve(&self) -> Result<MemberConfig, String> {
        let first = |urls: &str| {
            urls.split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let peer_url = first(
            self.initial_advertise_peer_urls
                .as_deref()
                .unwrap_or(&self.listen_peer_urls),
        );
        let initial = self
            .initial_cluster
            .clone()
            .unwrap_or_else(|| format!("{}={peer_url}", self.name));
        let mut peers = BTreeMap::new();
        for item in initial.split(',').filter(|s| !s.trim().is_empty()) {
            let (name, url) = item
                .split_once('=')
                .ok_or_else(|| format!("--initial-cluster: expected name=url, got {item:?}"))?;
            host_port(url.trim())?;
            let id = member_id(url.trim(), &self.initial_cluster_token);
            peers.insert(
                id,
                Peer {
                    id,
                    name: name.trim().to_string(),
                    peer_url: url.trim().to_string(),
                },
            );
        }
        let me = peers
            .values()
            .find(|p| p.name == self.name)
            .ok_or_else(|| format!("--initial-cluster has no member named {:?}", self.name))?
            .clone();
        if me.peer_url != peer_url {
            return Err(format!(
                "--initial-cluster gives {} the peer URL {}, but it advertises {peer_url}",
                me.name, me.peer_url
            ));
        }
        let join_existing = match self.initial_cluster_state.as_str() {
            "new" => false,
            "existing" => true,
            other => {
                return Err(format!(
                    "--initial-cluster-state must be new or existing, not {other:?}"
                ))
            }
        };
        if self.heartbeat_interval == 0 || self.election_timeout < 5 * self.heartbeat_interval {
            return Err("--election-timeout must be at least 5 heartbeat intervals".into());
        }
        let client_listen = host_port(&first(&self.listen_client_urls))?;
        Ok(MemberConfig {
            id: me.id,
            name: self.name.clone(),
            cluster_id: cluster_id(peers.keys().copied()),
            data_dir: self
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}.raftbook", self.name))),
            client_url: first(
                self.advertise_client_urls
                    .as_deref()
                    .unwrap_or(&self.listen_client_urls),
            ),
            client_listen,
            peer_listen: host_port(&first(&self.listen_peer_urls))?,
            peers,
            join_existing,
            token: self.initial_cluster_token.clone(),
            tick_ms: self.heartbeat_interval,
            election_ticks: (self.election_timeout / self.heartbeat_interval) as usize,
            snapshot_count: self.snapshot_count,
        })
    }
}

/// The flags of a member of a local cluster on loopback (used by `raftbook cluster` and the
/// benchmark; they work for etcd too).
pub fn local_member_flags(
    name: &str,
    data_dir: &std::path::Path,
    client_port: u16,
    peer_port: u16,
    initial_cluster: &str,
) -> Vec<String> {
    vec![
        format!("--name={name}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls=http://127.0.0.1:{client_port}"),
        format!("--advertise-client-urls=http://127.0.0.1:{client_port}"),
        format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"),
        format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"),
        format!("--initial-cluster={initial_cluster}"),
        "--initial-cluster-token=raftbook-cluster-1".into(),
        "--initial-cluster-state=new".into(),
    ]
}

/// `count` distinct free ports on loopback, for local clusters. All are held open until all
/// are chosen: the OS may hand out a port again once its listener is closed.
pub fn free_loopback_ports(count: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}
