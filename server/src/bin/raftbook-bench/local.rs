//! A local 3-member cluster on loopback, of raftbook or of etcd (they take the same flags),
//! and what the benchmark reads about its processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;
use raftbook_server::pb::maintenance_client::MaintenanceClient;
use tonic::transport::Channel;

/// A local cluster of `program`, killed (and its data removed) on drop.
pub struct Local {
    children: Vec<Child>,
    pub endpoints: Vec<String>,
    dir: PathBuf,
}

impl Local {
    pub fn start(program: &Path, tag: &str) -> Result<Local, String> {
        let dir = std::env::temp_dir().join(format!("raftbook-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let free = raftbook_server::config::free_loopback_ports(6).map_err(|e| e.to_string())?;
        let ports: Vec<(u16, u16)> = free.chunks(2).map(|pair| (pair[0], pair[1])).collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, p))| format!("b{i}=http://127.0.0.1:{p}"))
            .collect();
        let mut children = Vec::new();
        for (i, (client, peer)) in ports.iter().enumerate() {
            let flags = raftbook_server::config::local_member_flags(
                &format!("b{i}"),
                &dir.join(format!("b{i}")),
                *client,
                *peer,
                &initial.join(","),
            );
            let child = Command::new(program)
                .args(flags)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{}: {e}", program.display()))?;
            children.push(child);
        }
        Ok(Local {
            children,
            endpoints: ports
                .iter()
                .map(|(c, _)| format!("127.0.0.1:{c}"))
                .collect(),
            dir,
        })
    }

    /// Resident memory of each member, in MiB (Linux's `VmRSS`).
    pub fn resident_mib(&self) -> Vec<f64> {
        self.children
            .iter()
            .map(|child| {
                let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
                    .unwrap_or_default();
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmRSS:"))
                    .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                    .map_or(0.0, |kb| kb / 1024.0)
            })
            .collect()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn connect(endpoint: &str) -> Result<Channel, String> {
    tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{endpoint}: {e}"))
}

/// Waits until a put succeeds (a leader is elected).
pub async fn ready(endpoints: &[String]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(channel) = connect(&endpoints[0]).await {
            let put = pb::PutRequest {
                key: b"bench/ready".to_vec(),
                ..Default::default()
            };
            if KvClient::new(channel).put(put).await.is_ok() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("the cluster did not come up".into())
}

/// The highest Raft term any member reports: it grows by one or more at each election.
pub async fn highest_term(endpoints: &[String]) -> Result<u64, String> {
    let mut highest = 0;
    for endpoint in endpoints {
        let status = MaintenanceClient::new(connect(endpoint).await?)
            .status(pb::StatusRequest {})
            .await
            .map_err(|e| format!("status of {endpoint}: {e}"))?
            .into_inner();
        highest = highest.max(status.raft_term);
    }
    Ok(highest)
}
