//! `raftbook`: the native side of raftbook.
//!
//! - `raftbook play --dir DIR`: serves the playground (the WASM app built into `DIR` by
//!   `cargo xtask play`) at a local URL.

mod play;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "raftbook", about = "Learn Raft and etcd by running them")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve the browser playground.
    Play(play::PlayArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let result = match Cli::parse().command {
        Commands::Play(args) => play::serve(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("raftbook: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
