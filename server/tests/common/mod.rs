//! Starting local clusters for the integration tests: raftbook's, and (as the reference)
//! real etcd 3.4's, on free loopback ports with temporary data directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The client and peer ports of `raftbook cluster`'s three members (etcd's Procfile ports).
pub fn procfile_ports() -> Vec<u16> {
    (1..=3)
        .flat_map(|n| {
            let (client, peer) = raftbook_server::supervise::ports(n);
            [client, peer]
        })
        .collect()
}

/// Whether nothing listens on loopback `port`.
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Distinct free loopback ports.
pub fn free_ports(count: usize) -> Vec<u16> {
    raftbook_server::config::free_loopback_ports(count).unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Raftbook,
    Etcd,
}

pub struct Member {
    pub name: String,
    pub args: Vec<String>,
    pub client: String,
    pub child: Option<Child>,
}

pub struct LocalCluster {
    pub kind: Kind,
    pub members: Vec<Member>,
    pub dir: tempfile::TempDir,
}

fn program(kind: Kind) -> PathBuf {
    match kind {
        Kind::Raftbook => PathBuf::from(env!("CARGO_BIN_EXE_raftbook")),
        Kind::Etcd => PathBuf::from("/usr/bin/etcd"),
    }
}

impl LocalCluster {
    pub fn start(kind: Kind, size: usize) -> LocalCluster {
        Self::start_with(kind, size, &[])
    }

    /// A cluster whose members all get `extra` flags too.
    pub fn start_with(kind: Kind, size: usize, extra: &[&str]) -> LocalCluster {
        let mut cluster = Self::prepare(kind, size, extra);
        for i in 0..size {
            cluster.start_member(i);
        }
        cluster.wait_healthy();
        cluster
    }

    /// A cluster's members, ports and flags, none of them started yet.
    pub fn prepare(kind: Kind, size: usize, extra: &[&str]) -> LocalCluster {
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<(u16, u16)> = free_ports(2 * size)
            .chunks(2)
            .map(|pair| (pair[0], pair[1]))
            .collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{}=http://127.0.0.1:{peer}", i + 1))
            .collect();
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, (client, peer))| {
                let name = format!("m{}", i + 1);
                let args = vec![
                    format!("--name={name}"),
                    format!("--data-dir={}", dir.path().join(&name).display()),
                    format!("--listen-client-urls=http://127.0.0.1:{client}"),
                    format!("--advertise-client-urls=http://127.0.0.1:{client}"),
                    format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
                    format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
                    format!("--initial-cluster={}", initial.join(",")),
                    "--initial-cluster-token=test-cluster".into(),
                    "--initial-cluster-state=new".into(),
                ];
                let args = args
                    .into_iter()
                    .chain(extra.iter().map(|e| e.to_string()))
                    .collect();
                Member {
                    name,
                    args,
                    client: format!("127.0.0.1:{client}"),
                    child: None,
                }
            })
            .collect();
        LocalCluster { kind, members, dir }
    }

    pub fn start_member(&mut self, i: usize) {
        let member = &mut self.members[i];
        let log = File::create(self.dir.path().join(format!("{}.log", member.name))).unwrap();
        let child = Command::new(program(self.kind))
            .args(&member.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{:?}: {e}", program(self.kind)));
        member.child = Some(child);
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .map(|m| m.client.clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = etcdctl(&self.endpoints(), &["endpoint", "health"], None);
            if out.matches("is healthy").count()
                == self.members.iter().filter(|m| m.child.is_some()).count()
            {
                return;
            }
            if Instant::now() > deadline {
                let logs: String = (0..self.members.len())
                    .map(|i| {
                        format!(
                            "--- {} log:\n{}",
                            self.members[i].name,
                            tail(&self.log(i), 40)
                        )
                    })
                    .collect();
                panic!("{:?} cluster not healthy: {out}\n{logs}", self.kind);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join(format!("{}.log", self.members[i].name)),
        )
        .unwrap_or_default()
    }

    /// Sets failpoint `name` of member `i` (started with `--failpoints`; see
    /// `server/src/failpoint.rs`) to `ms` milliseconds: `isolate`, `slow-fsync`.
    pub fn failpoint(&self, i: usize, name: &str, ms: u64) {
        use std::io::{Read, Write};
        let mut http = std::net::TcpStream::connect(&self.members[i].client).unwrap();
        write!(
            http,
            "POST /failpoints/{name}?ms={ms} HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        http.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{name} on member {i}: {answer}"
        );
    }

    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(&self.members[i].name)
    }
}

use std::fs::File;

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

/// Runs etcdctl (API v3) and returns what it printed, stdout then stderr, without the gRPC
/// client's retry warnings (JSON log lines).
pub fn etcdctl(endpoints: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut command = Command::new("etcdctl");
    command
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoints}"))
        .args(args);
    let output = run_with_stdin(command, stdin);
    clean(&output)
}

pub fn run_with_stdin(mut command: Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .expect("etcdctl is installed (apt-get install etcd-client)");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn clean(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .filter(|l| !l.starts_with("{\"level\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn etcd_installed() -> bool {
    Path::new("/usr/bin/etcd").exists()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n") + "\n"
}

/// A gRPC channel to a member's client address (`host:port`), for tonic's clients.
pub async fn grpc_channel(client: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{client}"))
        .unwrap()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{client}: {e}"))
}

/// [`LocalCluster::start`] from async code (it waits for the members, blocking).
pub async fn start_cluster(kind: Kind, size: usize) -> LocalCluster {
    tokio::task::spawn_blocking(move || LocalCluster::start(kind, size))
        .await
        .unwrap()
}
