//! etcd's gRPC services, on the client port: each call becomes a core request to the member
//! loop, and its answer (or etcd error) goes back as etcd's message (or status).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use raftbook_core::etcd::api::{self as api, Call, EtcdError};
use raftbook_core::node::MembershipChange;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status, Streaming};

use crate::convert;
use crate::member::{Input, MemberHandle};
use crate::pb;

type Answer<T> = Result<GrpcResponse<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The version Maintenance.Status reports: etcd's API level, and who implements it.
pub const VERSION: &str = "3.4.23-raftbook";

/// One handle, all services.
#[derive(Clone)]
pub struct Services {
    pub member: MemberHandle,
    /// The name and client URL each member told us, kept once heard. etcd publishes them
    /// through the log when a member starts, so `member list` still names a member that is
    /// down; raftbook asks each member and remembers the answer.
    pub introduced: Arc<Mutex<HashMap<u64, (String, String)>>>,
}

/// Sends a typed request to the member loop; its typed answer, or etcd's error as a status.
async fn call<C: Call>(member: &MemberHandle, request: C) -> Result<C::Answer, Status> {
    member.call(request).await.map_err(|e| convert::status(&e))
}

#[tonic::async_trait]
impl pb::kv_server::Kv for Services {
    async fn range(&self, request: GrpcRequest<pb::RangeRequest>) -> Answer<pb::RangeResponse> {
        let request = convert::range_request(request.into_inner());
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(convert::range_response(answer)))
    }

    async fn put(&self, request: GrpcRequest<pb::PutRequest>) -> Answer<pb::PutResponse> {
        let request = convert::put_request(request.into_inner());
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(convert::put_response(answer)))
    }

    async fn delete_range(
        &self,
        request: GrpcRequest<pb::DeleteRangeRequest>,
    ) -> Answer<pb::DeleteRangeResponse> {
        let request = convert::delete_request(request.into_inner());
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(convert::delete_response(answer)))
    }

    async fn txn(&self, request: GrpcRequest<pb::TxnRequest>) -> Answer<pb::TxnResponse> {
        let request = convert::txn_request(request.into_inner())?;
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(convert::txn_response(answer)))
    }

    async fn compact(
        &self,
        request: GrpcRequest<pb::CompactionRequest>,
    ) -> Answer<pb::CompactionResponse> {
        let r = request.into_inner();
        let request = api::CompactionRequest {
            revision: r.revision,
            physical: r.physical,
        };
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(pb::CompactionResponse {
            header: convert::header(answer.header),
        }))
    }
}

#[tonic::async_trait]
impl pb::watch_server::Watch for Services {
    type WatchStream = BoxStream<pb::WatchResponse>;

    /// One gRPC stream carries many watches: creates and cancels come in, every watch's
    /// responses go out. As in etcd, a stream numbers its own watches from 0, or takes the
    /// id a client chose and refuses one already in use. When the client goes away, its
    /// watches are cancelled.
    async fn watch(
        &self,
        request: GrpcRequest<Streaming<pb::WatchRequest>>,
    ) -> Answer<Self::WatchStream> {
        let mut incoming = request.into_inner();
        let (out, responses) = mpsc::unbounded_channel::<api::WatchResponse>();
        let member = self.member.clone();
        tokio::spawn(async move {
            // The stream's watch ids, and the member's id of each.
            let mut mine: HashMap<i64, i64> = HashMap::new();
            let mut next_id = 0;
            while let Some(Ok(request)) = incoming.next().await {
                use pb::watch_request::RequestUnion;
                match request.request_union {
                    Some(RequestUnion::CreateRequest(create)) => {
                        let id_on_stream = if create.watch_id == 0 {
                            // etcd's numbering: the next id no watch of the stream holds,
                            // never going back to one given before.
                            while mine.contains_key(&next_id) {
                                next_id += 1;
                            }
                            next_id += 1;
                            next_id - 1
                        } else if mine.contains_key(&create.watch_id) {
                            member.send(Input::RefuseWatch {
                                reason: EtcdError::DuplicateWatchId,
                                stream: out.clone(),
                            });
                            continue;
                        } else {
                            create.watch_id
                        };
                        let (created, id) = oneshot::channel();
                        member.send(Input::Watch {
                            request: convert::watch_create(create),
                            id_on_stream,
                            stream: out.clone(),
                            created,
                        });
                        if let Ok(id) = id.await {
                            mine.insert(id_on_stream, id);
                        }
                    }
                    Some(RequestUnion::CancelRequest(cancel)) => {
                        if let Some(id) = mine.remove(&cancel.watch_id) {
                            member.send(Input::CancelWatch(id));
                        }
                    }
                    Some(RequestUnion::ProgressRequest(_)) => member.send(Input::WatchProgress),
                    None => {}
                }
            }
            for id in mine.into_values() {
                member.send(Input::CancelWatch(id));
            }
        });
        let stream =
            UnboundedReceiverStream::new(responses).map(|r| Ok(convert::watch_response(r)));
        Ok(GrpcResponse::new(Box::pin(stream)))
    }
}

#[tonic::async_trait]
impl pb::lease_server::Lease for Services {
    type LeaseKeepAliveStream = BoxStream<pb::LeaseKeepAliveResponse>;

    async fn lease_grant(
        &self,
        request: GrpcRequest<pb::LeaseGrantRequest>,
    ) -> Answer<pb::LeaseGrantResponse> {
        let r = request.into_inner();
        let request = api::LeaseGrantRequest {
            ttl: r.ttl,
            id: r.id,
        };
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(pb::LeaseGrantResponse {
            header: convert::header(answer.header),
            id: answer.id,
            ttl: answer.ttl,
            error: String::new(),
        }))
    }

    async fn lease_revoke(
        &self,
        request: GrpcRequest<pb::LeaseRevokeRequest>,
    ) -> Answer<pb::LeaseRevokeResponse> {
        let request = api::LeaseRevokeRequest {
            id: request.into_inner().id,
        };
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(pb::LeaseRevokeResponse {
            header: convert::header(answer.header),
        }))
    }

    async fn lease_keep_alive(
        &self,
        request: GrpcRequest<Streaming<pb::LeaseKeepAliveRequest>>,
    ) -> Answer<Self::LeaseKeepAliveStream> {
        let mut incoming = request.into_inner();
        let (out, responses) = mpsc::unbounded_channel();
        let member = self.member.clone();
        tokio::spawn(async move {
            while let Some(Ok(request)) = incoming.next().await {
                let request = api::LeaseKeepAliveRequest { id: request.id };
                let answer = call(&member, request)
                    .await
                    .map(|k| pb::LeaseKeepAliveResponse {
                        header: convert::header(k.header),
                        id: k.id,
                        ttl: k.ttl,
                    });
                if out.send(answer).is_err() {
                    break;
                }
            }
        });
        Ok(GrpcResponse::new(Box::pin(UnboundedReceiverStream::new(
            responses,
        ))))
    }

    async fn lease_time_to_live(
        &self,
        request: GrpcRequest<pb::LeaseTimeToLiveRequest>,
    ) -> Answer<pb::LeaseTimeToLiveResponse> {
        let r = request.into_inner();
        let request = api::LeaseTimeToLiveRequest {
            id: r.id,
            keys: r.keys,
        };
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(pb::LeaseTimeToLiveResponse {
            header: convert::header(answer.header),
            id: answer.id,
            ttl: answer.ttl,
            granted_ttl: answer.granted_ttl,
            keys: answer.keys,
        }))
    }

    async fn lease_leases(
        &self,
        _: GrpcRequest<pb::LeaseLeasesRequest>,
    ) -> Answer<pb::LeaseLeasesResponse> {
        let answer = call(&self.member, api::LeaseLeasesRequest).await?;
        Ok(GrpcResponse::new(pb::LeaseLeasesResponse {
            header: convert::header(answer.header),
            leases: answer
                .leases
                .into_iter()
                .map(|id| pb::LeaseStatus { id })
                .collect(),
        }))
    }
}

/// The answer to a call that reaches a member whose loop has stopped.
fn member_stopped() -> Status {
    Status::unavailable("etcdserver: member stopped")
}

impl Services {
    /// The member's state now (unavailable once its loop has stopped).
    async fn member_status(&self) -> Result<crate::member::Status, Status> {
        self.member.status().await.ok_or_else(member_stopped)
    }

    /// The member's hash of its history up to `revision` (0: now), with the header and the
    /// compaction point: `HashKV`'s answer, and `Hash`'s.
    async fn member_hash_kv(
        &self,
        revision: i64,
    ) -> Result<(api::ResponseHeader, u32, i64), Status> {
        let answer = self
            .member
            .hash_kv(revision)
            .await
            .ok_or_else(member_stopped)?;
        answer.map_err(|e| convert::status(&e))
    }

    async fn members(&self) -> Result<(pb::ResponseHeader, Vec<pb::Member>), Status> {
        let status = self.member_status().await?;
        let config = &self.member.config;
        let mut members = Vec::new();
        for (&id, learner) in status
            .voters
            .iter()
            .map(|id| (id, false))
            .chain(status.learners.iter().map(|id| (id, true)))
        {
            let peer_url = config
                .peers
                .get(&id)
                .map(|p| p.peer_url.clone())
                .or_else(|| status.added_members.get(&id).cloned());
            // Name and client URL: ours we know; the others tell (a member added but not yet
            // started has none, and etcdctl shows it "unstarted").
            let (name, client_url) = if id == config.id {
                (config.name.clone(), config.client_url.clone())
            } else {
                let heard = match &peer_url {
                    Some(url) => crate::peer::info_of(url)
                        .await
                        .map(|i| (i.name, i.client_url)),
                    None => None,
                };
                let mut introduced = self.introduced.lock().expect("not poisoned");
                match heard {
                    Some(info) => {
                        introduced.insert(id, info.clone());
                        info
                    }
                    None => introduced.get(&id).cloned().unwrap_or_default(),
                }
            };
            members.push(pb::Member {
                id,
                name,
                peer_ur_ls: peer_url.into_iter().collect(),
                client_ur_ls: if client_url.is_empty() {
                    Vec::new()
                } else {
                    vec![client_url]
                },
                is_learner: learner,
            });
        }
        let mut header = convert::header(status.header.clone()).expect("a header");
        // etcd's cluster service fills in cluster id, member id and term, not a revision.
        header.revision = 0;
        Ok((header, members))
    }

    /// Sends a promotion to the leader's client port and passes on its answer.
    async fn promote_on_leader(&self, id: u64) -> Answer<pb::MemberPromoteResponse> {
        let status = self.member_status().await?;
        let leader_url = match self.member.config.peers.get(&status.leader) {
            Some(peer) => Some(peer.peer_url.clone()),
            None => status.added_members.get(&status.leader).cloned(),
        };
        let leader = match leader_url {
            Some(url) => crate::peer::info_of(&url).await,
            None => None,
        }
        .ok_or_else(|| convert::status(&EtcdError::NoLeader))?;
        let mut client = pb::cluster_client::ClusterClient::connect(leader.client_url)
            .await
            .map_err(|_| convert::status(&EtcdError::NoLeader))?;
        client.member_promote(pb::MemberPromoteRequest { id }).await
    }

    async fn change(&self, change: MembershipChange, info: Vec<u8>) -> Result<(), Status> {
        let (reply, answer) = oneshot::channel();
        self.member.send(Input::Membership {
            change,
            info,
            reply,
        });
        answer
            .await
            .unwrap_or(Err(EtcdError::Timeout))
            .map(|_| ())
            .map_err(|e| convert::status(&e))
    }
}

#[tonic::async_trait]
impl pb::cluster_server::Cluster for Services {
    /// Adds a member by its peer URL. Its id is derived like a founding member's (from the
    /// URL and the cluster token), so the new member, started with `--initial-cluster-state
    /// existing`, finds its own id; its URL is replicated with the change, so every member
    /// can reach it.
    async fn member_add(
        &self,
        request: GrpcRequest<pb::MemberAddRequest>,
    ) -> Answer<pb::MemberAddResponse> {
        let request = request.into_inner();
        let url = request
            .peer_ur_ls
            .first()
            .ok_or_else(|| Status::invalid_argument("etcdserver: member add needs a peer URL"))?
            .clone();
        crate::config::host_port(&url).map_err(Status::invalid_argument)?;
        let id = crate::config::member_id(&url, &self.member.config.token);
        let change = if request.is_learner {
            MembershipChange::AddLearner(id)
        } else {
            MembershipChange::AddVoter(id)
        };
        let info = serde_json::to_vec(&serde_json::json!({ "peer_url": url })).expect("JSON");
        self.change(change, info).await?;
        let (header, members) = self.members().await?;
        let member = pb::Member {
            id,
            peer_ur_ls: vec![url],
            is_learner: request.is_learner,
            ..Default::default()
        };
        Ok(GrpcResponse::new(pb::MemberAddResponse {
            header: Some(header),
            member: Some(member),
            members,
        }))
    }

    async fn member_remove(
        &self,
        request: GrpcRequest<pb::MemberRemoveRequest>,
    ) -> Answer<pb::MemberRemoveResponse> {
        let change = MembershipChange::Remove(request.into_inner().id);
        self.change(change, Vec::new()).await?;
        let (header, members) = self.members().await?;
        Ok(GrpcResponse::new(pb::MemberRemoveResponse {
            header: Some(header),
            members,
        }))
    }

    async fn member_list(
        &self,
        _: GrpcRequest<pb::MemberListRequest>,
    ) -> Answer<pb::MemberListResponse> {
        let (header, members) = self.members().await?;
        Ok(GrpcResponse::new(pb::MemberListResponse {
            header: Some(header),
            members,
        }))
    }

    async fn member_promote(
        &self,
        request: GrpcRequest<pb::MemberPromoteRequest>,
    ) -> Answer<pb::MemberPromoteResponse> {
        let id = request.into_inner().id;
        match self
            .change(MembershipChange::AddVoter(id), Vec::new())
            .await
        {
            // Only the leader knows whether the learner has caught up: ask it, as etcd does.
            Err(status) if status.message() == EtcdError::NotLeader.to_string() => {
                return self.promote_on_leader(id).await;
            }
            answer => answer?,
        }
        let (header, members) = self.members().await?;
        Ok(GrpcResponse::new(pb::MemberPromoteResponse {
            header: Some(header),
            members,
        }))
    }
}

#[tonic::async_trait]
impl pb::maintenance_server::Maintenance for Services {
    type SnapshotStream = BoxStream<pb::SnapshotResponse>;

    /// The member's store as a snapshot file ([`crate::snapshot`]), in etcd's 32 KiB pieces,
    /// each saying how many bytes are still to come.
    async fn snapshot(&self, _: GrpcRequest<pb::SnapshotRequest>) -> Answer<Self::SnapshotStream> {
        let store = self
            .member
            .save_snapshot()
            .await
            .ok_or_else(member_stopped)?;
        let file = crate::snapshot::file_bytes(&store);
        let total = file.len();
        let pieces: Vec<_> = file
            .chunks(crate::snapshot::CHUNK)
            .scan(0, |sent, piece| {
                *sent += piece.len();
                Some(Ok(pb::SnapshotResponse {
                    header: None,
                    remaining_bytes: (total - *sent) as u64,
                    blob: piece.to_vec(),
                }))
            })
            .collect();
        Ok(GrpcResponse::new(Box::pin(tokio_stream::iter(pieces))))
    }

    async fn alarm(&self, request: GrpcRequest<pb::AlarmRequest>) -> Answer<pb::AlarmResponse> {
        let request = convert::alarm_request(request.into_inner());
        let answer = call(&self.member, request).await?;
        Ok(GrpcResponse::new(convert::alarm_response(answer)))
    }

    /// etcd rewrites its database file to give back the pages compaction freed. raftbook's
    /// store lives in memory, where compaction frees the space itself, and its files on disk
    /// (WAL, snapshot) are rewritten at each snapshot: there is nothing to defragment, and
    /// the member says so by answering at once, as etcd does when it is done.
    async fn defragment(
        &self,
        _: GrpcRequest<pb::DefragmentRequest>,
    ) -> Answer<pb::DefragmentResponse> {
        let status = self.member_status().await?;
        Ok(GrpcResponse::new(pb::DefragmentResponse {
            header: convert::header(status.header),
        }))
    }

    /// etcd's `Hash` (of its whole backend, "for testing"): here the hash of the store's
    /// history now, as `HashKV` at the current revision.
    async fn hash(&self, _: GrpcRequest<pb::HashRequest>) -> Answer<pb::HashResponse> {
        let (header, hash, _) = self.member_hash_kv(0).await?;
        Ok(GrpcResponse::new(pb::HashResponse {
            header: convert::header(header),
            hash,
        }))
    }

    /// The hash of this member's store up to a revision: members that agree give the same
    /// (see `MvccStore::hash_kv`; etcd hashes its own encoding, so the numbers are not etcd's).
    async fn hash_kv(&self, request: GrpcRequest<pb::HashKvRequest>) -> Answer<pb::HashKvResponse> {
        let revision = request.into_inner().revision;
        let (header, hash, compact_revision) = self.member_hash_kv(revision).await?;
        Ok(GrpcResponse::new(pb::HashKvResponse {
            header: convert::header(header),
            hash,
            compact_revision,
        }))
    }

    async fn status(&self, _: GrpcRequest<pb::StatusRequest>) -> Answer<pb::StatusResponse> {
        let status = self.member_status().await?;
        let header = convert::header(status.header.clone()).expect("a header");
        Ok(GrpcResponse::new(pb::StatusResponse {
            header: Some(header),
            version: VERSION.into(),
            db_size: status.db_size as i64,
            leader: status.leader,
            raft_index: status.commit,
            raft_term: status.term,
            raft_applied_index: status.applied,
            errors: Vec::new(),
            db_size_in_use: status.db_size as i64,
            is_learner: status.is_learner,
        }))
    }
}

/// tonic answers a call to an unknown method of a known service with `UNIMPLEMENTED` and no
/// message; grpc-go, and so etcd, says which: "unknown method Foo for service
/// etcdserverpb.KV". (Unknown services are answered by the client port's fallback.)
pub async fn name_unknown_methods(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Every call passes here: keep the URI (a reference count), make no string.
    let uri = request.uri().clone();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let unimplemented = headers
        .get("grpc-status")
        .and_then(|status| status.to_str().ok()?.parse::<i32>().ok())
        == Some(tonic::Code::Unimplemented as i32);
    if unimplemented && !headers.contains_key("grpc-message") {
        if let Some((service, method)) = uri.path().trim_start_matches('/').split_once('/') {
            let message = format!("unknown method {method} for service {service}");
            if let Ok(value) = axum::http::HeaderValue::from_str(&message) {
                headers.insert("grpc-message", value);
            }
        }
    }
    response
}
