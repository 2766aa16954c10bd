//! Starting a member: its loop, its peer port and its client port (gRPC and HTTP together).

use std::sync::Arc;

use tonic::service::Routes;

use crate::config::MemberArgs;
use crate::failpoint::Failpoints;
use crate::grpc::Services;
use crate::metrics::Metrics;
use crate::pb;
use crate::peer::{self, Transport};

pub async fn run_member(args: MemberArgs) -> Result<(), String> {
    let serve_failpoints = args.failpoints;
    let mut config = args.resolve()?;
    if config.join_existing {
        config.cluster_id = existing_cluster_id(&config).await?;
    }
    let metrics = Arc::new(Metrics::default());
    let failpoints = Arc::new(Failpoints::default());
    let (inputs, receiver) = std::sync::mpsc::channel();
    let others = config
        .peers
        .values()
        .filter(|p| p.id != config.id)
        .map(|p| (p.id, p.peer_url.clone()))
        .collect();
    let transport = Transport::new(
        others,
        config.cluster_id,
        inputs.clone(),
        metrics.clone(),
        tokio::runtime::Handle::current(),
        failpoints.clone(),
    );
    let (peer_listen, client_listen, name, id) = (
        config.peer_listen.clone(),
        config.client_listen.clone(),
        config.name.clone(),
        config.id,
    );
    let member = crate::member::start(
        config,
        metrics,
        inputs.clone(),
        receiver,
        transport,
        failpoints.clone(),
    )?;

    let peer_listener = tokio::net::TcpListener::bind(&peer_listen)
        .await
        .map_err(|e| format!("cannot listen for peers on {peer_listen}: {e}"))?;
    let info = peer::PeerInfo {
        name: name.clone(),
        client_url: member.config.client_url.clone(),
        cluster_id: member.config.cluster_id,
    };
    let peer_app = peer::router(
        id,
        member.config.cluster_id,
        info,
        inputs,
        failpoints.clone(),
    );
    tokio::spawn(async move { axum::serve(peer_listener, peer_app).await });

    let services = Services {
        member: member.clone(),
        introduced: Default::default(),
    };
    let grpc = Routes::new(pb::kv_server::KvServer::new(services.clone()))
        .add_service(pb::watch_server::WatchServer::new(services.clone()))
        .add_service(pb::lease_server::LeaseServer::new(services.clone()))
        .add_service(pb::cluster_server::ClusterServer::new(services.clone()))
        .add_service(pb::maintenance_server::MaintenanceServer::new(services))
        .into_axum_router();
    let mut app = grpc.merge(crate::http::router(member));
    if serve_failpoints {
        app = app.merge(crate::failpoint::router(failpoints));
    }
    let app = app
        .fallback(crate::http::not_found)
        .layer(axum::middleware::from_fn(crate::grpc::name_unknown_methods))
        .layer(axum::middleware::from_fn(crate::txn_depth::limit_txn_depth));
    let client_listener = tokio::net::TcpListener::bind(&client_listen)
        .await
        .map_err(|e| format!("cannot listen for clients on {client_listen}: {e}"))?;
    tracing::info!(
        name,
        id = format!("{id:x}"),
        clients = client_listen,
        peers = peer_listen,
        "member serving"
    );
    println!("raftbook member {name} ({id:x}) serving clients on http://{client_listen}, peers on http://{peer_listen}");
    crate::client_port::serve(client_listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// A member joining a running cluster takes the cluster's id from a member already in it.
async fn existing_cluster_id(config: &crate::config::MemberConfig) -> Result<u64, String> {
    for _ in 0..50 {
        for peer in config.peers.values().filter(|p| p.id != config.id) {
            if let Some(info) = peer::info_of(&peer.peer_url).await {
                return Ok(info.cluster_id);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Err("--initial-cluster-state existing: no member of --initial-cluster answers".into())
}
