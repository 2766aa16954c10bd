//! Clients of the simulated cluster: the requests they send, the answers and watch events
//! that come back, and the history of both.
//!
//! A request goes to one member ([`Cluster::request`]); its answer comes back as a
//! [`ClientEvent::Answered`] when the member replies (or fails it when the member crashes).
//! Watch responses come back as [`ClientEvent::Watch`]. A client that keeps a lease alive
//! ([`Cluster::keep_alive`]) renews it from the cluster's own event queue, every third of the
//! TTL, and hears each renewal as a [`ClientEvent::Renewed`]. A client takes its events with
//! [`Cluster::take_client_events`], in the order they happened. The whole history (every
//! request with its outcome, every watch response) stays for the checkers
//! ([`crate::sim::history`]) and for lessons' exercise conditions.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::cluster::{Cluster, Scheduled};
use super::trace::TraceKind;
use crate::etcd::api::{
    EtcdError, LeaseKeepAliveResponse, Request as EtcdRequest, Response, WatchCreateRequest,
    WatchResponse,
};
use crate::node::{MembershipChange, NodeError};

/// A client request made through the cluster, and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRequest {
    pub id: u64,
    pub node: u64,
    /// Words for a request that is not an etcd request (a membership change); an etcd
    /// request's words are made from it when asked for (see [`ClientRequest::what`]).
    label: Option<String>,
    /// The etcd request (none for membership changes).
    pub request: Option<EtcdRequest>,
    /// The membership change asked for (none for etcd requests).
    pub membership: Option<MembershipChange>,
    pub invoked_at: u64,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pending,
    /// Answered: applied (or, for a read, read) at log `index`.
    Done {
        at: u64,
        index: u64,
        response: Response,
    },
    /// Refused, timed out, or lost with the node it was sent to. Unless refused on the spot,
    /// the client cannot know whether it happened.
    Failed {
        at: u64,
        failure: Failure,
    },
}

/// One response on a watch stream, and where and when it came.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchDelivery {
    pub time: u64,
    pub node: u64,
    #[serde(skip)]
    pub response: WatchResponse,
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "failure", rename_all = "kebab-case")]
pub enum Failure {
    /// The member answered with one of etcd's errors (a timeout among them).
    #[error("{0}")]
    Refused(#[serde(skip)] EtcdError),
    /// The member crashed before it answered.
    #[error("node crashed")]
    MemberCrashed,
    /// The leader would not start the membership change.
    #[error("{0}")]
    MembershipRefused(#[serde(skip)] NodeError),
}

/// What comes back to the clients, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// Request `id` was answered, failed or lost (see its [`Outcome`]).
    Answered { id: u64 },
    /// A watch stream sent a response.
    Watch(WatchDelivery),
    /// A kept-alive lease was renewed for the answer's `ttl` seconds, or (`ttl` 0) is gone:
    /// expired or revoked, which ends the keep-alive.
    Renewed(LeaseKeepAliveResponse),
    /// A lock or election client has something to print (see [`super::sessions`]).
    Session(super::sessions::SessionEvent),
}

/// Every client request and watch response so far, and the events not yet taken. The history
/// is kept in persistent collections (`im`), which a copy shares with the original (the
/// playground keeps one in each checkpoint of a run).
#[derive(Clone, Default)]
pub(super) struct Clients {
    next_request_id: u64,
    /// Every request, by id. Each is shared (`Arc`): a checkpoint's copy of the map copies the
    /// map's nodes as they change, and a node of 64 whole requests is 19 KB.
    requests: im::OrdMap<u64, Arc<ClientRequest>>,
    watch_deliveries: im::Vector<WatchDelivery>,
    events: Vec<ClientEvent>,
    /// Leases kept alive, and the member each client talks to.
    keep_alives: BTreeMap<i64, u64>,
    /// Renewals on their way: request id → lease.
    renewals: BTreeMap<u64, i64>,
}

/// How soon a keep-alive whose renewal failed (a timeout, a crashed member) tries again.
const RENEW_RETRY_MS: u64 = 500;

impl Cluster {
    /// Sends an etcd request to member `node`; returns the request id. Its answer comes as a
    /// [`ClientEvent::Answered`].
    pub fn request(&mut self, node: u64, request: EtcdRequest) -> Result<u64, String> {
        self.send_request(node, request, |_, _| {})
    }

    /// Sends a request; `noted` sees its id before it goes (an answer may come at once).
    fn send_request(
        &mut self,
        node: u64,
        request: EtcdRequest,
        noted: impl FnOnce(&mut Clients, u64),
    ) -> Result<u64, String> {
        self.running_server(node)?;
        let id = self.new_request(node, None, Some(request.clone()), None);
        noted(&mut self.clients, id);
        self.input_to(node, |member, now| member.request(now, id, request))?;
        Ok(id)
    }

    /// Starts a watch on member `node`; its responses come as [`ClientEvent::Watch`].
    pub fn watch(&mut self, node: u64, request: WatchCreateRequest) -> Result<(), String> {
        self.input_to(node, |member, now| member.watch(now, request))
    }

    pub fn cancel_watch(&mut self, node: u64, watch_id: i64) -> Result<(), String> {
        self.input_to(node, |member, now| member.cancel_watch(now, watch_id))
    }

    pub fn request_watch_progress(&mut self, node: u64) -> Result<(), String> {
        self.input_to(node, |member, now| member.request_progress(now))
    }

    /// Keeps lease `lease` alive through member `node`, as etcdctl's `lease keep-alive` does
    /// until stopped: a renewal now, then every third of the TTL the cluster answers with.
    /// Each answer comes as a [`ClientEvent::Renewed`]. If `node` goes down, the client asks
    /// the leader instead, as etcd's client fails over to another endpoint.
    pub fn keep_alive(&mut self, node: u64, lease: i64) -> Result<(), String> {
        self.running_server(node)?;
        self.clients.keep_alives.insert(lease, node);
        self.renew(lease);
        Ok(())
    }

    /// Stops keeping `lease` alive (etcdctl's Ctrl-C); it expires a TTL later.
    pub fn stop_keep_alive(&mut self, lease: i64) -> Result<(), String> {
        match self.clients.keep_alives.remove(&lease) {
            Some(_) => Ok(()),
            None => Err(format!("lease {lease:016x} is not being kept alive")),
        }
    }

    /// Sends the next renewal of a kept-alive lease (scheduled by [`Scheduled::Renew`]).
    pub(super) fn renew(&mut self, lease: i64) {
        let Some(&node) = self.clients.keep_alives.get(&lease) else {
            return; // stopped meanwhile
        };
        let target = if self.running_server(node).is_ok() {
            Some(node)
        } else {
            self.leader()
        };
        let request =
            EtcdRequest::LeaseKeepAlive(crate::etcd::api::LeaseKeepAliveRequest { id: lease });
        let noted = |clients: &mut Clients, id| {
            clients.renewals.insert(id, lease);
        };
        match target.map(|target| self.send_request(target, request, noted)) {
            Some(Ok(_)) => {}
            _ => {
                let at = self.now() + RENEW_RETRY_MS;
                self.schedule(at, Scheduled::Renew { lease });
            }
        }
    }

    /// A renewal's answer: schedules the next one (a third of the TTL on), or ends the
    /// keep-alive if the lease is gone.
    fn renewal_answered(&mut self, request_id: u64) {
        let Some(lease) = self.clients.renewals.remove(&request_id) else {
            return;
        };
        if !self.clients.keep_alives.contains_key(&lease) {
            return;
        }
        let answer = match &self.clients.requests[&request_id].outcome {
            Outcome::Done {
                response: Response::LeaseKeepAlive(answer),
                ..
            } => LeaseKeepAliveResponse {
                id: lease,
                ..answer.clone()
            },
            _ => {
                let at = self.now() + RENEW_RETRY_MS;
                self.schedule(at, Scheduled::Renew { lease });
                return;
            }
        };
        // A lock's or election's session renews quietly, as etcdctl's does; its lease gone,
        // the session hears of it.
        let ttl = answer.ttl;
        if !self.sessions.owns_lease(lease) {
            self.clients.events.push(ClientEvent::Renewed(answer));
        } else if ttl <= 0 {
            self.session_lease_gone(lease);
        }
        if ttl > 0 {
            let at = self.now() + (ttl as u64 * 1000 / 3).max(1);
            self.schedule(at, Scheduled::Renew { lease });
        } else {
            self.clients.keep_alives.remove(&lease);
        }
    }

    /// Every request so far, by id, with what became of it.
    pub fn requests(&self) -> &im::OrdMap<u64, Arc<ClientRequest>> {
        &self.clients.requests
    }

    /// Every watch response any member sent, in order.
    pub fn watch_deliveries(&self) -> &im::Vector<WatchDelivery> {
        &self.clients.watch_deliveries
    }

    /// Whether request `id` has its answer (or never existed).
    pub fn is_answered(&self, id: u64) -> bool {
        self.clients
            .requests
            .get(&id)
            .is_none_or(|r| r.outcome != Outcome::Pending)
    }

    /// The answers and watch responses that came since the last call, in order.
    pub fn take_client_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.clients.events)
    }

    /// Notes a new request (with `label` as its words unless it is an etcd request), and
    /// traces it.
    pub(super) fn new_request(
        &mut self,
        node: u64,
        label: Option<String>,
        request: Option<EtcdRequest>,
        membership: Option<MembershipChange>,
    ) -> u64 {
        self.clients.next_request_id += 1;
        let id = self.clients.next_request_id;
        let now = self.now();
        let noted = Arc::new(ClientRequest {
            id,
            node,
            label,
            request,
            membership,
            invoked_at: now,
            outcome: Outcome::Pending,
        });
        // Describing a put was 2.6% of the simulator's work: only a recording trace asks.
        if self.trace.enabled {
            let what = noted.what();
            self.trace
                .record(now, TraceKind::Request { id, node, what });
        }
        self.clients.requests.insert(id, noted);
        id
    }

    /// A member answered request `request_id` (or the request failed).
    pub(super) fn answer(
        &mut self,
        request_id: u64,
        index: u64,
        result: Result<Response, EtcdError>,
    ) {
        let at = self.now();
        let outcome = match result {
            Ok(response) => Outcome::Done {
                at,
                index,
                response,
            },
            Err(error) => Outcome::Failed {
                at,
                failure: Failure::Refused(error),
            },
        };
        self.complete(request_id, outcome);
    }

    pub(super) fn push_client_event(&mut self, event: ClientEvent) {
        self.clients.events.push(event);
    }

    pub(super) fn deliver_watch(&mut self, node: u64, response: WatchResponse) {
        // A lock's or election's own watch is that client's business, not the console's.
        if self.sessions.claims_watch(node, &response) {
            return self.session_watch(node, &response);
        }
        let delivery = WatchDelivery {
            time: self.now(),
            node,
            response,
        };
        self.clients.watch_deliveries.push_back(delivery.clone());
        self.clients.events.push(ClientEvent::Watch(delivery));
    }

    /// Member `id` crashed: its clients' requests fail (they cannot know whether they took
    /// effect) and its watch streams break.
    pub(super) fn disconnect_clients(&mut self, id: u64) {
        let lost: Vec<u64> = self
            .clients
            .requests
            .values()
            .filter(|r| r.node == id && r.outcome == Outcome::Pending)
            .map(|r| r.id)
            .collect();
        for request in lost {
            self.complete(
                request,
                Outcome::Failed {
                    at: self.now(),
                    failure: Failure::MemberCrashed,
                },
            );
        }
        let broken: Vec<i64> = self
            .clients
            .watch_deliveries
            .iter()
            .filter(|d| d.node == id && d.response.created)
            .map(|d| d.response.watch_id)
            .collect();
        for watch_id in broken {
            let response = WatchResponse {
                watch_id,
                canceled: true,
                cancel_reason: "member crashed".into(),
                ..Default::default()
            };
            self.deliver_watch(id, response);
        }
        self.sessions_lose_member(id);
    }

    pub(super) fn complete(&mut self, request_id: u64, outcome: Outcome) {
        let now = self.now();
        let Some(request) = self.clients.requests.get_mut(&request_id) else {
            return;
        };
        let request = Arc::make_mut(request);
        if request.outcome != Outcome::Pending {
            return;
        }
        let text = match &outcome {
            Outcome::Done { index, .. } => format!("ok at index {index}"),
            Outcome::Failed { failure, .. } => format!("failed: {failure}"),
            Outcome::Pending => return, // no answer yet
        };
        let node = request.node;
        request.outcome = outcome;
        self.trace.record(
            now,
            TraceKind::Response {
                id: request_id,
                node,
                outcome: text,
            },
        );
        self.clients
            .events
            .push(ClientEvent::Answered { id: request_id });
        self.renewal_answered(request_id);
        self.session_answered(request_id);
    }
}

impl ClientRequest {
    /// A few words for the request, for the trace and the `requests` list.
    pub fn what(&self) -> String {
        match (&self.label, &self.request) {
            (Some(label), _) => label.clone(),
            (None, Some(request)) => describe_request(request),
            (None, None) => String::new(),
        }
    }
}

/// A few words for an etcd request.
fn describe_request(request: &EtcdRequest) -> String {
    use crate::etcd::store::{describe_range, Command};
    if let Ok(command) = Command::from_request(request.clone()) {
        return command.describe();
    }
    match request {
        EtcdRequest::Range(range) => {
            let how = if range.serializable {
                "serializable"
            } else {
                "linearizable"
            };
            format!(
                "get {} ({how})",
                describe_range(&range.key, &range.range_end)
            )
        }
        EtcdRequest::LeaseKeepAlive(k) => format!("lease keep-alive {:016x}", k.id),
        EtcdRequest::LeaseTimeToLive(t) => format!("lease timetolive {:016x}", t.id),
        _ => "lease list".into(),
    }
}
