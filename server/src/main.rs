//! `raftbook`: a cluster member speaking etcd's v3 API (run it like `etcd`, with etcd's
//! flags; with none, a single-member cluster), a local cluster in one command, or the
//! browser playground's server.

use clap::{Parser, Subcommand};
use raftbook_server::{config, play, serve, snapshot, supervise};

#[derive(Parser)]
#[command(
    name = "raftbook",
    about = "Learn Raft and etcd by running them",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    member: config::MemberArgs,
}

#[derive(Subcommand)]
enum Commands {
    /// Start a local cluster (members infra1…) and supervise it.
    Cluster(supervise::ClusterArgs),
    /// Serve the browser playground.
    Play(play::PlayArgs),
    /// Backups: `etcdctl snapshot save` writes one; restore starts a new cluster from it.
    #[command(subcommand)]
    Snapshot(SnapshotCommands),
}

#[derive(Subcommand)]
enum SnapshotCommands {
    /// Restore a saved snapshot into a new member's data directory (run it for each member
    /// of the new cluster, with the flags that member will be started with).
    Restore(Box<snapshot::RestoreArgs>),
}

/// mimalloc rather than glibc's malloc: a member allocates and frees small objects on every
/// request from two threads (the network's and the member loop's), which mimalloc's
/// per-thread pages serve faster (puts at 16 to 500 clients: 1.2 to 1.3× glibc's,
/// `raftbook-bench`), and it hands emptied pages back to the system, so memory falls after a
/// compaction.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread for the network (gRPC, the peer streams, the JSON gateway), beside the member's
/// own loop thread (member.rs), which does the Raft work and the fsyncs. More network threads
/// only add hand-offs between threads: on 2 cores with 3 members, a pool of workers per
/// member served puts and reads at 0.74 to 0.99 of the rate this does (`raftbook-bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Commands::Play(args)) => play::serve(args).await,
        Some(Commands::Snapshot(SnapshotCommands::Restore(args))) => snapshot::restore(*args),
        Some(Commands::Cluster(args)) => {
            let result = supervise::run(args).await;
            // Its members are stopped; exit now. The runtime would otherwise wait for the
            // read of the terminal, which cannot be cancelled (tokio's stdin), until a key is
            // pressed.
            if let Err(error) = &result {
                eprintln!("raftbook: {error}");
            }
            std::process::exit(i32::from(result.is_err()));
        }
        None => serve::run_member(cli.member).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("raftbook: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
