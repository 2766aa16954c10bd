//! `raftbook cluster --size 3`: a local cluster in one command, like etcd's Procfile run by
//! goreman. Members `infra1…` listen for clients on 2379, 22379, 32379… and for peers on
//! 12380, 22380, 32380… (etcd's Procfile ports). Their logs come out prefixed and coloured.
//! Type `kill infra2` (a crash: SIGKILL), `start infra2`, `list` or `quit` on standard input;
//! Ctrl-C stops them all.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// How many members.
    #[arg(long, default_value_t = 3)]
    pub size: usize,
    /// Where the members' data directories go.
    #[arg(long, default_value = "raftbook-cluster")]
    pub dir: PathBuf,
}

/// etcd's Procfile ports: member 1 has 2379/12380, member n (n > 1) has n2379/n2380.
pub fn ports(n: usize) -> (u16, u16) {
    let client = if n == 1 {
        2379
    } else {
        (n * 10000 + 2379) as u16
    };
    (client, (n * 10000 + 2380) as u16)
}

/// The flags of member `n` of a local cluster of `size`.
pub fn member_flags(n: usize, size: usize, dir: &std::path::Path) -> Vec<String> {
    let initial: Vec<String> = (1..=size)
        .map(|i| format!("infra{i}=http://127.0.0.1:{}", ports(i).1))
        .collect();
    let (client, peer) = ports(n);
    crate::config::local_member_flags(
        &format!("infra{n}"),
        &dir.join(format!("infra{n}.raftbook")),
        client,
        peer,
        &initial.join(","),
    )
}

const COLOURS: [&str; 5] = ["\x1b[32m", "\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m"];

fn spawn(n: usize, args: &ClusterArgs) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(member_flags(n, args.size, &args.dir))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("infra{n}: {e}"))?;
    let prefix = format!("{}infra{n} |\x1b[0m ", COLOURS[(n - 1) % COLOURS.len()]);
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let prefix = prefix.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                println!("{prefix}{line}");
            }
        });
    }
    Ok(child)
}

pub async fn run(args: ClusterArgs) -> Result<(), String> {
    if !(1..=9).contains(&args.size) {
        return Err("--size: 1 to 9 members".into());
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let mut members: BTreeMap<String, Child> = BTreeMap::new();
    for n in 1..=args.size {
        members.insert(format!("infra{n}"), spawn(n, &args)?);
    }
    let endpoints: Vec<String> = (1..=args.size)
        .map(|n| format!("127.0.0.1:{}", ports(n).0))
        .collect();
    println!("raftbook cluster: {} members; try: ETCDCTL_API=3 etcdctl --endpoints={} member list -w table", args.size, endpoints.join(","));
    println!("raftbook cluster: commands: kill <name> | start <name> | list | quit");
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    // Stopped by Ctrl-C or by `kill` (SIGTERM), the supervisor stops its members first: left
    // running, they would hold the ports the next `raftbook cluster` needs.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            line = stdin.next_line() => {
                let Ok(Some(line)) = line else { break };
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["kill", name] => match members.get_mut(*name) {
                        Some(child) => { let _ = child.kill().await; println!("raftbook cluster: {name} killed"); }
                        None => println!("raftbook cluster: no member {name}"),
                    },
                    ["start", name] => match name.strip_prefix("infra").and_then(|n| n.parse::<usize>().ok()).filter(|n| (1..=args.size).contains(n)) {
                        Some(n) => {
                            if let Some(mut old) = members.remove(*name) { let _ = old.kill().await; }
                            members.insert(name.to_string(), spawn(n, &args)?);
                            println!("raftbook cluster: {name} started");
                        }
                        None => println!("raftbook cluster: no member {name}"),
                    },
                    ["list"] => for (name, child) in members.iter_mut() {
                        let state = if matches!(child.try_wait(), Ok(None)) { "running" } else { "stopped" };
                        println!("raftbook cluster: {name} {state}");
                    },
                    ["quit"] => break,
                    [] => {}
                    _ => println!("raftbook cluster: commands: kill <name> | start <name> | list | quit"),
                }
            }
        }
    }
    for child in members.values_mut() {
        let _ = child.kill().await;
    }
    Ok(())
}
