//! `raftbook play`: serves the playground's files over HTTP on a local port.
//!
//! The playground is static (index.html, style.css, the WASM module and its JS glue), so
//! this is a file server; it prints the URL to open. Port 0 picks a free port (the
//! end-to-end tests use that and read the URL from the first line printed).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tower_http::services::ServeDir;

#[derive(clap::Args)]
pub struct PlayArgs {
    /// The built playground (`cargo xtask play` builds it into target/web).
    #[arg(long, default_value = "target/web")]
    dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// 0 picks a free port.
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

pub async fn serve(args: PlayArgs) -> Result<(), String> {
    if !args.dir.join("index.html").is_file() {
        return Err(format!(
            "{} has no index.html: build the playground with `cargo xtask play`",
            args.dir.display()
        ));
    }
    let address: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    // The first line printed is the URL (tests read it).
    println!("raftbook playground: http://{bound}/");
    tracing::info!(dir = %args.dir.display(), "serving the playground");
    let app = Router::new().fallback_service(ServeDir::new(&args.dir));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
