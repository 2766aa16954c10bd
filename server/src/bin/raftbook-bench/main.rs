//! `raftbook-bench`: put throughput and latency against an etcd-API cluster.
//!
//! - `raftbook-bench --endpoints 127.0.0.1:2379,…`: measures any cluster that speaks etcd's
//!   v3 API (raftbook's or etcd's);
//! - `raftbook-bench --compare`: starts a 3-member raftbook cluster and a 3-member etcd
//!   cluster (`/usr/bin/etcd`) on loopback, measures both the same way, prints the ratio.
//!
//! Each of `--clients` concurrent clients (one gRPC connection each, spread over the
//! endpoints) puts `--puts / --clients` keys of `--value-size` bytes, one after the other.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use raftbook_server::pb;
use raftbook_server::pb::kv_client::KvClient;

#[derive(Parser)]
#[command(about = "Put throughput and p50/p99 latency of an etcd-API cluster")]
struct Args {
    /// Client endpoints (host:port, comma-separated).
    #[arg(long)]
    endpoints: Option<String>,
    /// Start a raftbook cluster and an etcd cluster and measure both.
    #[arg(long)]
    compare: bool,
    #[arg(long, default_value_t = 16)]
    clients: usize,
    #[arg(long, default_value_t = 10_000)]
    puts: usize,
    #[arg(long, default_value_t = 256)]
    value_size: usize,
}

struct Figures {
    throughput: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(endpoints: &[String], args: &Args) -> Result<Figures, String> {
    let per_client = args.puts / args.clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let endpoint = format!("http://{}", endpoints[c % endpoints.len()]);
        let value = vec![b'v'; args.value_size];
        tasks.push(tokio::spawn(async move {
            let channel = tonic::transport::Endpoint::from_shared(endpoint)
                .map_err(|e| e.to_string())?
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            let mut kv = KvClient::new(channel);
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let put = pb::PutRequest {
                    key: format!("bench/{c}/{i}").into_bytes(),
                    value: value.clone(),
                    ..Default::default()
                };
                let t = Instant::now();
                kv.put(put).await.map_err(|e| e.to_string())?;
                latencies.push(t.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(Figures {
        throughput: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    })
}

fn print(name: &str, f: &Figures, args: &Args) {
    println!(
        "{name}: {:.0} puts/s, p50 {:.2} ms, p99 {:.2} ms ({} puts, {} clients, {} B values)",
        f.throughput,
        f.p50.as_secs_f64() * 1000.0,
        f.p99.as_secs_f64() * 1000.0,
        args.puts,
        args.clients,
        args.value_size
    );
}

/// A local 3-member cluster of `program` (raftbook or etcd: same flags), killed on drop.
struct Local {
    children: Vec<Child>,
    endpoints: Vec<String>,
    dir: PathBuf,
}

impl Local {
    fn start(program: &Path, tag: &str) -> Result<Local, String> {
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

/// Waits until a put succeeds (a leader is elected).
async fn ready(endpoints: &[String]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(endpoint) =
            tonic::transport::Endpoint::from_shared(format!("http://{}", endpoints[0]))
        {
            if let Ok(channel) = endpoint.connect().await {
                let put = pb::PutRequest {
                    key: b"bench/ready".to_vec(),
                    ..Default::default()
                };
                if KvClient::new(channel).put(put).await.is_ok() {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("the cluster did not come up".into())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if args.compare {
        let raftbook = std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("raftbook");
        let mut results = Vec::new();
        for (name, program) in [
            ("raftbook", raftbook),
            ("etcd 3.4", PathBuf::from("/usr/bin/etcd")),
        ] {
            let cluster = Local::start(&program, name.split(' ').next().unwrap_or(name))?;
            ready(&cluster.endpoints).await?;
            let figures = measure(&cluster.endpoints, &args).await?;
            print(name, &figures, &args);
            results.push(figures);
        }
        let (ours, theirs) = (&results[0], &results[1]);
        println!(
            "raftbook / etcd: throughput ×{:.2}, p50 ×{:.2}, p99 ×{:.2}",
            ours.throughput / theirs.throughput,
            ours.p50.as_secs_f64() / theirs.p50.as_secs_f64(),
            ours.p99.as_secs_f64() / theirs.p99.as_secs_f64()
        );
        return Ok(());
    }
    let endpoints: Vec<String> = args
        .endpoints
        .clone()
        .ok_or("give --endpoints or --compare")?
        .split(',')
        .map(str::to_string)
        .collect();
    let figures = measure(&endpoints, &args).await?;
    print(&endpoints.join(","), &figures, &args);
    Ok(())
}
