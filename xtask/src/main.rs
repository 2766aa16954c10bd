//! `cargo xtask …`: raftbook's build orchestration.
//!
//! - `cargo xtask play`: builds the browser playground (WASM, release) and serves it at a
//!   local URL with `raftbook play`.
//! - `cargo xtask console [SCRIPT]`: the scenario language in a terminal (type `cluster
//!   nodes=5`, `wait-leader`, `put foo bar`, `status` …), or runs a script file and prints
//!   it with outputs.
//! - `cargo xtask gates`: the style gates, which `test` runs first so they fail fast:
//!   `cargo fmt --check`, clippy with `-D warnings` (natively, and for the crates that run
//!   in the browser, on wasm32), and `cargo doc` with `-D warnings` (broken doc links fail).
//! - `cargo xtask test`: the gates, then installs what the tests need (the wasm32 target, wasm-bindgen-cli
//!   matching `Cargo.lock`, Debian's Chromium, etcd and etcdctl, playwright-core), then runs
//!   every test: the workspace's native tests (the native server's against real etcdctl and
//!   real etcd), the WASM determinism test under Node.js, and the playground's end-to-end
//!   tests in headless Chromium.
//! - `cargo xtask bench-web`: in headless Chromium, the simulator's speed in WASM, frames per
//!   second of the playground, and the size of the WASM module.
//! - `cargo xtask bench-server`: a raftbook cluster against an etcd 3.4 cluster: puts, gets,
//!   leases, memory and compaction, side by side (see `raftbook-bench`).
//! - `cargo xtask setup`: only the installing part.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use raftbook_core::scenario::Scenario;

mod lesson_prose;
mod web;

#[derive(Parser)]
#[command(about = "raftbook's build orchestration")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the browser playground and serve it.
    Play {
        /// 0 picks a free port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Run a scenario script, or type scenario commands at a console.
    Console { script: Option<PathBuf> },
    /// Measure the playground's frame rate in headless Chromium, and its size.
    BenchWeb,
    /// Measure put throughput and latency of raftbook and of etcd 3.4, side by side.
    BenchServer,
    /// Install the tools the tests need.
    Setup,
    /// Formatting, lints and docs, as CI checks them.
    Gates,
    /// Install what is needed, then run every test.
    Test,
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Play { port } => build_tools()
            .and_then(|()| web::build())
            .and_then(|()| web::serve(port)),
        Task::Console { script: Some(path) } => play_script(&path),
        Task::Console { script: None } => console(),
        Task::BenchWeb => setup()
            .and_then(|()| web::build())
            .and_then(|()| web::bench()),
        Task::BenchServer => setup()
            .and_then(|()| run("cargo", &["build", "--release", "-p", "raftbook-server"]))
            .and_then(|()| run("target/release/raftbook-bench", &["--compare"])),
        Task::Setup => setup(),
        Task::Gates => gates(),
        Task::Test => gates().and_then(|()| setup()).and_then(|()| test()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn play_script(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    print!("{}", Scenario::new().run_script(&text));
    Ok(())
}

fn console() -> Result<(), String> {
    println!(
        "raftbook console: scenario commands, one per line (try `cluster nodes=5`, `wait-leader`,"
    );
    println!("`put foo bar`, `get foo`, `status`, `crash 1`, `partition 1,2 | 3,4,5`, `logs`). Ctrl-D quits.");
    let mut scenario = Scenario::new();
    let stdin = std::io::stdin();
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        print!("{}", scenario.run_line(&line, number + 1));
        std::io::stdout().flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs a command from the workspace root, failing with its name if it fails.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), String> {
    run_with_env(program, args, &[])
}

/// [`run`], with environment variables set for the command.
fn run_with_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let shown: Vec<String> = env
        .iter()
        .map(|(key, value)| format!("{key}={value:?} "))
        .collect();
    eprintln!("xtask: {}{program} {}", shown.concat(), args.join(" "));
    let started = std::time::Instant::now();
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    report_duration(&format!("{program} {}", args.join(" ")), started);
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Prints how long a step took, if long enough to matter: the whole suite must stay under 30
/// minutes on a fresh machine, and the log then shows where the time goes.
pub(crate) fn report_duration(step: &str, started: std::time::Instant) {
    let took = started.elapsed().as_secs();
    if took >= 10 {
        eprintln!("xtask: {step}: took {}m {:02}s", took / 60, took % 60);
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn installed_version(program: &str) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    Some(
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .nth(1)?
            .to_string(),
    )
}

/// What building the playground needs: the wasm32 target and the matching wasm-bindgen.
fn build_tools() -> Result<(), String> {
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    let version = locked_wasm_bindgen_version()?;
    if installed_version("wasm-bindgen-test-runner").as_deref() != Some(version.as_str()) {
        // Not --locked: wasm-bindgen-cli's own lock file does not build with our toolchain.
        run(
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &version],
        )?;
    }
    Ok(())
}

/// Everything the tests need: the build tools, Node.js, real etcd, Chromium, Playwright.
fn setup() -> Result<(), String> {
    build_tools()?;
    if Command::new("node").arg("--version").output().is_err() {
        return Err("Node.js is needed to run the WASM tests (apt-get install nodejs)".into());
    }
    // Real etcd and etcdctl 3.4: the reference the native server is compared with.
    apt_install_if_missing("/usr/bin/etcd", "etcd-server")?;
    apt_install_if_missing("/usr/bin/etcdctl", "etcd-client")?;
    // Go and etcd's Go client (clientv3 3.4.23, built in GOPATH mode): the tutorials' Go
    // programs run against `raftbook cluster` in lesson 17's real-cluster session.
    apt_install_if_missing("/usr/bin/go", "golang-go")?;
    apt_install_if_missing(
        "/usr/share/gocode/src/go.etcd.io/etcd/clientv3",
        "golang-etcd-server-dev",
    )?;
    web::setup()
}

/// Installs a Debian package if `path` is missing (as root on CI; elsewhere through sudo).
pub(crate) fn apt_install_if_missing(path: &str, package: &str) -> Result<(), String> {
    if Path::new(path).exists() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        if root {
            run("apt-get", args)
        } else {
            run("sudo", &[&["apt-get"], args].concat())
        }
    };
    apt(&["update"])?;
    apt(&["install", "-y", package])
}

/// Style gates: formatting, lints (native and wasm32) and docs, all warnings as errors.
fn gates() -> Result<(), String> {
    run("rustup", &["component", "add", "rustfmt", "clippy"])?;
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    run("cargo", &["fmt", "--all", "--check"])?;
    let deny = ["--", "-D", "warnings"];
    run(
        "cargo",
        &[&["clippy", "--workspace", "--all-targets"][..], &deny].concat(),
    )?;
    // The crates the browser runs, as the browser builds them (one target for both: the
    // server's tokio does not build for wasm32, so not the whole workspace).
    let wasm = [
        "clippy",
        "-p",
        "raftbook-core",
        "-p",
        "raftbook-web",
        "--target",
        "wasm32-unknown-unknown",
    ];
    run("cargo", &[&wasm[..], &deny].concat())?;
    // The native member alone, as `cargo install` builds it: core without its playground
    // (simulator, scenario language, lessons, etcdctl's parser). Fails if the server reaches
    // for any of them.
    run(
        "cargo",
        &[
            &["clippy", "-p", "raftbook-server", "--lib", "--bins"][..],
            &deny,
        ]
        .concat(),
    )?;
    run_with_env(
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}

fn test() -> Result<(), String> {
    // Benchmarks are not run by the suite; the gates' clippy (`--all-targets`) keeps them
    // compiling.
    run("cargo", &["test", "--workspace"])?;
    run(
        "cargo",
        &[
            "build",
            "-p",
            "raftbook-core",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    run(
        "cargo",
        &[
            "test",
            "-p",
            "raftbook-core",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "determinism",
        ],
    )?;
    web::build()?;
    web::end_to_end()
}
