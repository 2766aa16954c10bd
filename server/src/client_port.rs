//! The client port: one TCP port for gRPC (HTTP/2) and the JSON gateway (HTTP/1), served with
//! the connection settings etcd's clients rely on.
//!
//! Two differences from hyper's defaults, each something etcd 3.4 does:
//! - **no practical limit on streams per connection.** etcd's client multiplexes every call
//!   and every watch of a program over one connection; hyper's default of 200 concurrent
//!   streams made the 201st call (even a put) wait until its deadline when 200 watches were
//!   open. etcd (grpc-go) allows 2^32 - 1.
//! - **an authority written as a URL is accepted**, through [`crate::authority`].
//!
//! Nagle's algorithm is off: answers are small and should leave at once.

use std::future::Future;

use axum::serve::Listener;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::authority::MendAuthority;

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    mut listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().max_concurrent_streams(u32::MAX);
    tokio::pin!(shutdown);
    loop {
        // axum's accept, which rides out a failed accept (a client gone before it was taken,
        // or no file descriptors left for a moment) instead of ending the client port.
        let (socket, _) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => return,
        };
        let _ = socket.set_nodelay(true);
        let io = TokioIo::new(MendAuthority::new(socket));
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        tokio::spawn(async move {
            // A connection's errors are its client's (a reset, a bad request): hyper has
            // answered them already where HTTP allows.
            let _ = builder.serve_connection_with_upgrades(io, service).await;
        });
    }
}
