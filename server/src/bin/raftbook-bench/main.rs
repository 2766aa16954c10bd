//! `raftbook-bench`: a raftbook cluster measured against etcd 3.4, through etcd's v3 API.
//!
//! - `raftbook-bench --compare` (what `cargo xtask bench-server` runs): starts a fresh
//!   3-member raftbook cluster and a fresh 3-member etcd cluster (`/usr/bin/etcd`) on
//!   loopback, in turn, `--runs` times, and measures each the same way:
//!   - puts of 256 B values over 10k keys at 1, 16, 100 and 500 clients: per second, p50, p99;
//!   - linearizable and serializable gets at 100 clients, per second;
//!   - 10,000 leases granted, then revoked, from 16 clients, per second;
//!   - on a second fresh cluster, 200,000 small keys loaded in transactions of 100 puts:
//!     the largest member's resident memory; the same after each key is written again; then
//!     the first compaction, which forgets the first versions: how long it took, elections
//!     meanwhile, the slowest serializable read on any member meanwhile, memory after.
//!
//!   It prints each run, then a table of the medians and the ratios.
//! - `raftbook-bench --endpoints 127.0.0.1:2379,…`: puts only, against any running cluster.
//!
//! Each client is a closed loop: one request at a time, on its own connection.

mod local;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use local::{ready, Local};
use workloads::Rate;

#[derive(Parser)]
#[command(about = "A raftbook cluster against etcd 3.4: puts, gets, leases, memory, compaction")]
struct Args {
    /// Client endpoints (host:port, comma-separated): measure puts on this cluster only.
    #[arg(long)]
    endpoints: Option<String>,
    /// Start a raftbook cluster and an etcd cluster and measure both, in turn.
    #[arg(long)]
    compare: bool,
    /// Rounds of the comparison (this machine is noisy: the table gives medians).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds each put or get step lasts.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Clients for `--endpoints`.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Keys loaded before the compaction.
    #[arg(long, default_value_t = 200_000)]
    keys: u64,
    /// Leases granted and revoked.
    #[arg(long, default_value_t = 10_000)]
    leases: u64,
}

const PUT_CLIENTS: [usize; 4] = [1, 16, 100, 500];
const RANGE_CLIENTS: usize = 100;

/// One cluster's figures in one run, as (name, value, higher is better) rows.
type Figures = Vec<(String, f64, bool)>;

/// Measures a fresh cluster of `program`; the memory and compaction figures on a second
/// fresh one, so that they count the loaded keys and not the history of the steps before.
async fn measure(program: &Path, name: &str, args: &Args) -> Result<Figures, String> {
    let cluster = Local::start(program, name)?;
    ready(&cluster.endpoints).await?;
    let step = Duration::from_secs(args.seconds);
    let endpoints = &cluster.endpoints;
    let mut rows: Figures = Vec::new();
    let rate = |rows: &mut Figures, name: &str, r: Rate| {
        rows.push((format!("{name}/s"), r.per_second, true));
        rows.push((format!("{name} p50 ms"), r.p50.as_secs_f64() * 1e3, false));
        rows.push((format!("{name} p99 ms"), r.p99.as_secs_f64() * 1e3, false));
    };
    for clients in PUT_CLIENTS {
        let r = workloads::puts(endpoints, clients, step, args.value_size).await?;
        rate(&mut rows, &format!("put, {clients} clients"), r);
    }
    for (serializable, kind) in [(false, "linearizable"), (true, "serializable")] {
        let r = workloads::ranges(endpoints, RANGE_CLIENTS, step, serializable).await?;
        rate(
            &mut rows,
            &format!("{kind} get, {RANGE_CLIENTS} clients"),
            r,
        );
    }
    let (grants, revokes) = workloads::leases(endpoints, args.leases).await?;
    rows.push(("lease grants/s".into(), grants, true));
    rows.push(("lease revokes/s".into(), revokes, true));
    drop(cluster);
    let cluster = Local::start(program, name)?;
    ready(&cluster.endpoints).await?;
    let c = workloads::load_and_compact(&cluster, args.keys).await?;
    let keys = args.keys / 1000;
    rows.push((format!("memory, {keys}k keys MiB"), c.loaded_mib, false));
    rows.push(("memory, each rewritten MiB".into(), c.rewritten_mib, false));
    rows.push((
        "first compaction ms".into(),
        c.duration.as_secs_f64() * 1e3,
        false,
    ));
    rows.push(("elections during it".into(), c.elections as f64, false));
    rows.push((
        "slowest read during it ms".into(),
        c.slowest_read.as_secs_f64() * 1e3,
        false,
    ));
    rows.push(("memory after it MiB".into(), c.after_mib, false));
    Ok(rows)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn compare(args: &Args) -> Result<(), String> {
    let raftbook = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("raftbook");
    let clusters = [
        ("raftbook", raftbook),
        ("etcd", PathBuf::from("/usr/bin/etcd")),
    ];
    // runs[cluster][run]
    let mut runs: Vec<Vec<Figures>> = vec![Vec::new(), Vec::new()];
    for run in 1..=args.runs {
        // Alternate which goes first, so neither always meets a warmer machine.
        let order: Vec<usize> = if run % 2 == 1 { vec![0, 1] } else { vec![1, 0] };
        for c in order {
            let (name, program) = &clusters[c];
            let figures = measure(program, name, args).await?;
            println!("run {run}, {name}:");
            for (row, value, _) in &figures {
                println!("  {row}: {value:.2}");
            }
            runs[c].push(figures);
        }
    }
    println!(
        "\nmedians of {} runs (3 members on loopback each, fsync on):\n",
        args.runs
    );
    println!("| measure | etcd 3.4 | raftbook | raftbook / etcd |");
    println!("|---|---|---|---|");
    for (i, (row, _, higher_is_better)) in runs[0][0].iter().enumerate() {
        let ours = median(runs[0].iter().map(|f| f[i].1).collect());
        let theirs = median(runs[1].iter().map(|f| f[i].1).collect());
        let ratio = if theirs > 0.0 {
            format!("{:.2}", ours / theirs)
        } else {
            "-".into()
        };
        let better = if *higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        println!("| {row} ({better}) | {theirs:.1} | {ours:.1} | {ratio} |");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if args.compare {
        return compare(&args).await;
    }
    let endpoints: Vec<String> = args
        .endpoints
        .clone()
        .ok_or("give --endpoints or --compare")?
        .split(',')
        .map(str::to_string)
        .collect();
    let step = Duration::from_secs(args.seconds);
    let r = workloads::puts(&endpoints, args.clients, step, args.value_size).await?;
    println!(
        "{}: {:.0} puts/s, p50 {:.2} ms, p99 {:.2} ms ({} clients, {} B values)",
        endpoints.join(","),
        r.per_second,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        args.clients,
        args.value_size
    );
    Ok(())
}
