//! etcd's concurrency recipes as etcdctl 3.4 runs them: `etcdctl lock NAME` (a mutex),
//! `etcdctl elect NAME PROPOSAL` (a leader election) and `etcdctl elect -l NAME` (watching
//! who leads), each a client of the simulated cluster made only of ordinary requests, as
//! clientv3's `concurrency` package makes them.
//!
//! Both start a **session**: a lease (10 s for a lock, `--ttl`; 60 s for an election) kept
//! alive until the client stops. Then:
//!
//! 1. **Enter** with one transaction: if my key `NAME/<lease in hex>` was never created, put
//!    it on my lease. Its create revision is my place in the queue.
//! 2. **Wait for my turn**: read the key under `NAME/` created last *before* mine; if there
//!    is one, watch it until it is deleted (its holder unlocked, or its lease ran out), then
//!    look again. Each waiter watches only its predecessor, so a release wakes one client,
//!    not all of them.
//! 3. **Hold**: with no key before mine, the lock (or the leadership) is mine; etcdctl reads
//!    my key and prints it (`get`'s format: the key, then its value).
//! 4. **Stop** (etcdctl's Ctrl-C): a lock deletes its key; an election resigns (deletes its
//!    key if it still has the create revision it won with). The keep-alive stops, so the
//!    lease runs out later. Stopped while still waiting, etcdctl prints `Error: context
//!    canceled`. If the lease runs out under a holder, etcdctl prints `Error: session
//!    expired` (`Error: elect: session expired`).
//!
//! An **observer** (`elect -l`) reads the oldest key under `NAME/` (or, with none, watches the
//! prefix for the first one), prints it, and watches that key: each put prints it again
//! (a leader proclaiming a new value), its delete means look for the next leader.
//!
//! A holder that is merely *paused* still believes it holds the lock after its lease ran out
//! and another client took it: the reason writes under a lock need a fencing token (the lock
//! key's create revision; etcdctl gives a command run under `lock` the key as
//! `ETCD_LOCK_KEY`). If the session's member crashes, it carries on through the leader (as
//! its keep-alive does, and as etcd's client fails over to another endpoint), repeating the
//! step it was in: each step is safe to repeat. Any other failure (a timeout) ends the
//! session with etcdctl's error.

use std::collections::BTreeMap;

use super::clients::{ClientEvent, Failure, Outcome};
use super::cluster::{Cluster, Scheduled};
use crate::etcd::api::{
    prefix_end, Compare, CompareResult, CompareTarget, DeleteRangeRequest, EventType, KeyValue,
    LeaseGrantRequest, PutRequest, RangeRequest, RangeResponse, Request, RequestOp, Response,
    ResponseOp, SortOrder, SortTarget, TxnRequest, WatchCreateRequest, WatchResponse,
};

/// Which recipe a session runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipe {
    /// `etcdctl lock NAME`: the key's value is empty.
    Lock,
    /// `etcdctl elect NAME PROPOSAL`: the key's value is the proposal.
    Elect { proposal: Vec<u8> },
    /// `etcdctl elect -l NAME`: prints each leader (its key and value) as it comes.
    Observe,
}

/// etcdctl's `lock --ttl` default, in seconds.
pub const LOCK_TTL: i64 = 10;
/// clientv3's session TTL, which `etcdctl elect` uses, in seconds.
pub const ELECTION_TTL: i64 = 60;

/// What a session tells its terminal.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The session's lease was granted (the console calls it `$LEASE`).
    Granted { lease: i64 },
    /// The lock or the leadership is held: etcdctl prints this read of the session's key.
    Holding { key: RangeResponse },
    /// An observer saw the election's leader (or its new value): etcdctl prints it.
    Observed { leader: RangeResponse },
    /// The session ended with etcdctl's error (`session expired`, `context canceled`, …).
    Failed { error: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Granting,
    Entering,
    /// Reading the key created last before ours.
    Looking,
    /// Watching that key until it is deleted.
    Waiting {
        node: u64,
        watch_id: i64,
    },
    /// Reading our own key, to print it.
    Reading,
    /// An observer reading the oldest key: the leader.
    Observing,
    Holding,
    Over,
}

#[derive(Clone, Debug)]
pub(super) struct Session {
    node: u64,
    name: Vec<u8>,
    recipe: Recipe,
    lease: i64,
    key: Vec<u8>,
    /// The session lease's TTL, in seconds.
    ttl: i64,
    /// Our key's create revision: our place in the queue.
    revision: i64,
    step: Step,
    /// When the lock (or leadership) was held, and when the session was stopped.
    held_at: Option<u64>,
    stopped_at: Option<u64>,
    /// An observer's leader key, once seen.
    leader: Option<Vec<u8>>,
    /// What an observer's watch brought, not yet acted on.
    observed: Vec<Observed>,
}

#[derive(Clone, Debug)]
enum Observed {
    Put(KeyValue),
    Deleted,
}

impl Session {
    fn prefix(&self) -> Vec<u8> {
        [self.name.as_slice(), b"/"].concat()
    }

    fn expired_error(&self) -> &'static str {
        match self.recipe {
            Recipe::Lock => "session expired",
            Recipe::Elect { .. } | Recipe::Observe => "elect: session expired",
        }
    }
}

/// What wakes a session up, from the cluster's event queue: a session acts on what it heard
/// after the member that told it has finished its step, never in the middle of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum SessionWake {
    Answered {
        request: u64,
    },
    /// The predecessor's key was deleted: seen on the session's watch `watch_id` on `node`.
    PredecessorGone {
        session: usize,
        node: u64,
        watch_id: i64,
    },
    /// That watch was canceled (its member crashed, say).
    WatchLost {
        session: usize,
        node: u64,
        watch_id: i64,
    },
    /// An observer's watch brought puts or a delete.
    Observed {
        session: usize,
        node: u64,
        watch_id: i64,
    },
}

/// Every session, with the requests and watches that belong to them.
#[derive(Clone, Default)]
pub(super) struct Sessions {
    sessions: Vec<Session>,
    /// Request id → session.
    requests: BTreeMap<u64, usize>,
    /// (member, watch id) → session.
    watches: BTreeMap<(u64, i64), usize>,
    /// A session creating a watch on a member: the next `created` from it is the session's.
    creating: Option<(u64, usize)>,
}

impl Sessions {
    /// Whether a watch response belongs to a session (then it is not the console's): a watch
    /// a session owns, or the one it is creating now.
    pub(super) fn claims_watch(&mut self, node: u64, response: &WatchResponse) -> bool {
        if self.watches.contains_key(&(node, response.watch_id)) {
            return true;
        }
        match self.creating {
            Some((creator, index)) if creator == node && response.created => {
                self.creating = None;
                self.watches.insert((node, response.watch_id), index);
                self.sessions[index].step = Step::Waiting {
                    node,
                    watch_id: response.watch_id,
                };
                true
            }
            _ => false,
        }
    }

    /// Whether a lease is a session's (its renewals are not printed).
    pub(super) fn owns_lease(&self, lease: i64) -> bool {
        self.sessions
            .iter()
            .any(|s| s.lease == lease && s.step != Step::Over)
    }
}

/// A lock's or candidate's session as the exercise checks see it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    pub name: String,
    pub recipe: Recipe,
    pub lease: i64,
    pub key: Vec<u8>,
    /// When it held the lock (or leadership), if it did.
    pub held_at: Option<u64>,
    /// When `stop-lock`/`stop-elect` stopped it (etcdctl's Ctrl-C), if it did.
    pub stopped_at: Option<u64>,
}

impl Cluster {
    /// Every lock, election and observer session so far, in the order they started.
    pub fn session_history(&self) -> Vec<SessionRecord> {
        self.sessions
            .sessions
            .iter()
            .map(|s| SessionRecord {
                name: String::from_utf8_lossy(&s.name).into_owned(),
                recipe: s.recipe.clone(),
                lease: s.lease,
                key: s.key.clone(),
                held_at: s.held_at,
                stopped_at: s.stopped_at,
            })
            .collect()
    }

    /// Starts `etcdctl lock NAME --ttl=TTL` or `etcdctl elect NAME PROPOSAL` on a client of
    /// member `node`. What it prints comes as [`ClientEvent::Session`].
    pub fn start_session(
        &mut self,
        node: u64,
        name: &str,
        recipe: Recipe,
        ttl: i64,
    ) -> Result<(), String> {
        self.running_server(node)?;
        let index = self.sessions.sessions.len();
        self.sessions.sessions.push(Session {
            node,
            name: name.as_bytes().to_vec(),
            recipe,
            lease: 0,
            key: Vec::new(),
            ttl,
            revision: 0,
            step: Step::Granting,
            held_at: None,
            stopped_at: None,
            leader: None,
            observed: Vec::new(),
        });
        match self.sessions.sessions[index].recipe {
            Recipe::Observe => self.look_for_leader(index),
            _ => self.session_request(index, Request::LeaseGrant(LeaseGrantRequest { ttl, id: 0 })),
        }
        Ok(())
    }

    /// etcdctl's Ctrl-C for the oldest running session on `name` of the kind `like` is
    /// (a lock, a candidate, an observer).
    pub fn stop_session(&mut self, name: &str, like: &Recipe) -> Result<(), String> {
        let kind = std::mem::discriminant(like);
        let index = self
            .sessions
            .sessions
            .iter()
            .position(|s| {
                s.name == name.as_bytes()
                    && s.step != Step::Over
                    && std::mem::discriminant(&s.recipe) == kind
            })
            .ok_or_else(|| {
                let what = match like {
                    Recipe::Lock => "lock",
                    Recipe::Elect { .. } => "elect",
                    Recipe::Observe => "elect -l",
                };
                format!("no {what} running on {name}")
            })?;
        let session = self.sessions.sessions[index].clone();
        let _ = self.stop_keep_alive(session.lease);
        if let Step::Waiting { node, watch_id } = session.step {
            let _ = self.cancel_watch(node, watch_id);
            self.sessions.watches.remove(&(node, watch_id));
        }
        let release = match (&session.recipe, session.key.is_empty()) {
            (_, true) | (Recipe::Observe, _) => None,
            (Recipe::Lock, false) => Some(Request::DeleteRange(DeleteRangeRequest {
                key: session.key.clone(),
                ..Default::default()
            })),
            // Resign: delete the key only if it is still the one we won with.
            (Recipe::Elect { .. }, false) => Some(Request::Txn(TxnRequest {
                compare: vec![Compare {
                    result: CompareResult::Equal,
                    target: CompareTarget::Create(session.revision),
                    key: session.key.clone(),
                    range_end: Vec::new(),
                }],
                success: vec![RequestOp::DeleteRange(DeleteRangeRequest {
                    key: session.key.clone(),
                    ..Default::default()
                })],
                failure: Vec::new(),
            })),
        };
        // An observer just stops; a lock or candidate not yet holding was still in Lock() or
        // Campaign(), which Ctrl-C cancels.
        let held = session.step == Step::Holding || session.recipe == Recipe::Observe;
        self.sessions.sessions[index].step = Step::Over;
        self.sessions.sessions[index].stopped_at = Some(self.now());
        if let Some(release) = release {
            let target = self.session_target(session.node);
            if let Some(target) = target {
                let _ = self.request(target, release);
            }
        }
        if !held {
            self.session_event(SessionEvent::Failed {
                error: "context canceled".into(),
            });
        }
        Ok(())
    }

    /// The member a session's client talks to: its own, or, that one down, the leader (as
    /// the keep-alive does).
    fn session_target(&mut self, node: u64) -> Option<u64> {
        if self.running_server(node).is_ok() {
            Some(node)
        } else {
            self.leader()
        }
    }

    fn session_request(&mut self, index: usize, request: Request) {
        let node = self.sessions.sessions[index].node;
        match self.request(node, request) {
            Ok(id) => {
                self.sessions.requests.insert(id, index);
                // An answer given on the spot came before the id was noted.
                if self.is_answered(id) {
                    self.session_answered(id);
                }
            }
            Err(error) => self.end_session(index, error),
        }
    }

    fn end_session(&mut self, index: usize, error: String) {
        let session = &mut self.sessions.sessions[index];
        if session.step == Step::Over {
            return;
        }
        session.step = Step::Over;
        let lease = session.lease;
        let _ = self.stop_keep_alive(lease);
        self.session_event(SessionEvent::Failed { error });
    }

    fn session_event(&mut self, event: SessionEvent) {
        self.push_client_event(ClientEvent::Session(event));
    }

    /// A request was answered (called for every answer): a session's wakes up to it.
    pub(super) fn session_answered(&mut self, request_id: u64) {
        if self.sessions.requests.contains_key(&request_id) {
            let now = self.now();
            self.schedule(
                now,
                Scheduled::Session(SessionWake::Answered {
                    request: request_id,
                }),
            );
        }
    }

    pub(super) fn wake_session(&mut self, wake: SessionWake) {
        match wake {
            SessionWake::Answered { request } => self.act_on_answer(request),
            // Only for the watch the session waits on now: an older one's news is stale.
            SessionWake::PredecessorGone {
                session,
                node,
                watch_id,
            } => {
                if self.sessions.sessions[session].step == (Step::Waiting { node, watch_id }) {
                    // Cancelled while still ours, so its last response is not the console's.
                    let _ = self.cancel_watch(node, watch_id);
                    self.sessions.watches.remove(&(node, watch_id));
                    self.look_for_predecessor(session);
                }
            }
            SessionWake::Observed {
                session,
                node,
                watch_id,
            } => self.observed(session, node, watch_id),
            SessionWake::WatchLost {
                session,
                node,
                watch_id,
            } => {
                if self.sessions.sessions[session].step == (Step::Waiting { node, watch_id }) {
                    self.sessions.watches.remove(&(node, watch_id));
                    self.fail_over(session);
                }
            }
        }
    }

    /// The session's member is gone: carry on through the leader, repeating the step the
    /// session was in.
    fn fail_over(&mut self, index: usize) {
        let node = self.sessions.sessions[index].node;
        let Some(target) = self.session_target(node) else {
            return self.end_session(index, "no leader".into());
        };
        self.sessions.sessions[index].node = target;
        match self.sessions.sessions[index].step.clone() {
            Step::Granting => {
                let ttl = self.sessions.sessions[index].ttl;
                self.session_request(index, Request::LeaseGrant(LeaseGrantRequest { ttl, id: 0 }));
            }
            Step::Entering => {
                let enter = self.enter(index);
                self.session_request(index, enter);
            }
            Step::Looking | Step::Reading => self.look_for_predecessor(index),
            Step::Waiting { .. } if self.sessions.sessions[index].recipe == Recipe::Observe => {
                self.sessions.sessions[index].leader = None;
                self.look_for_leader(index);
            }
            Step::Waiting { .. } => self.look_for_predecessor(index),
            Step::Observing => self.look_for_leader(index),
            Step::Holding | Step::Over => {}
        }
    }

    fn observed(&mut self, session: usize, node: u64, watch_id: i64) {
        if self.sessions.sessions[session].step != (Step::Waiting { node, watch_id }) {
            return;
        }
        for seen in std::mem::take(&mut self.sessions.sessions[session].observed) {
            let leader = self.sessions.sessions[session].leader.clone();
            match (seen, leader) {
                // The first key under the prefix: the first leader.
                (Observed::Put(kv), None) => {
                    let _ = self.cancel_watch(node, watch_id);
                    self.sessions.watches.remove(&(node, watch_id));
                    let from = kv.mod_revision + 1;
                    self.show_leader(session, kv.clone());
                    self.watch_leader(session, kv.key, from);
                    return;
                }
                // The leader proclaimed a new value.
                (Observed::Put(kv), Some(_)) => self.show_leader(session, kv),
                // A key deleted before any leader was seen: nothing to show.
                (Observed::Deleted, None) => {}
                // The leader is gone: find the next.
                (Observed::Deleted, Some(_)) => {
                    let _ = self.cancel_watch(node, watch_id);
                    self.sessions.watches.remove(&(node, watch_id));
                    self.sessions.sessions[session].leader = None;
                    self.look_for_leader(session);
                    return;
                }
            }
        }
    }

    fn show_leader(&mut self, session: usize, kv: KeyValue) {
        self.sessions.sessions[session].leader = Some(kv.key.clone());
        let leader = RangeResponse {
            count: 1,
            kvs: vec![kv],
            ..Default::default()
        };
        self.session_event(SessionEvent::Observed { leader });
    }

    /// An observer reads the oldest key under the prefix: the leader, if any.
    fn look_for_leader(&mut self, index: usize) {
        self.read_queue(index, Step::Observing, SortOrder::Ascend, 0);
    }

    fn watch_leader(&mut self, index: usize, key: Vec<u8>, from: i64) {
        let watch = WatchCreateRequest {
            key,
            start_revision: from,
            ..Default::default()
        };
        self.watch_for_session(index, watch);
    }

    fn act_on_answer(&mut self, request_id: u64) {
        let Some(index) = self.sessions.requests.remove(&request_id) else {
            return;
        };
        if self.sessions.sessions[index].step == Step::Over {
            return;
        }
        let response = match &self.requests()[&request_id].outcome {
            Outcome::Done { response, .. } => response.clone(),
            Outcome::Failed {
                failure: Failure::MemberCrashed,
                ..
            } => return self.fail_over(index),
            Outcome::Failed { failure, .. } => return self.end_session(index, failure.to_string()),
            Outcome::Pending => return,
        };
        let step = self.sessions.sessions[index].step.clone();
        match (step, response) {
            (Step::Granting, Response::LeaseGrant(grant)) => {
                let session = &mut self.sessions.sessions[index];
                session.lease = grant.id;
                session.key = [session.prefix(), format!("{:x}", grant.id).into_bytes()].concat();
                session.step = Step::Entering;
                let node = session.node;
                let enter = self.enter(index);
                self.session_event(SessionEvent::Granted { lease: grant.id });
                if let Err(error) = self.keep_alive(node, grant.id) {
                    return self.end_session(index, error);
                }
                self.session_request(index, enter);
            }
            (Step::Entering, Response::Txn(answer)) => {
                let session = &mut self.sessions.sessions[index];
                session.revision = if answer.succeeded {
                    answer.header.revision
                } else {
                    match answer.responses.first() {
                        Some(ResponseOp::Range(mine)) => {
                            mine.kvs.first().map_or(0, |kv| kv.create_revision)
                        }
                        _ => 0,
                    }
                };
                self.look_for_predecessor(index);
            }
            (Step::Looking, Response::Range(before)) => match before.kvs.first() {
                None => {
                    let key = self.sessions.sessions[index].key.clone();
                    self.sessions.sessions[index].step = Step::Reading;
                    self.session_request(
                        index,
                        Request::Range(RangeRequest {
                            key,
                            ..Default::default()
                        }),
                    );
                }
                Some(predecessor) => {
                    let watch = WatchCreateRequest {
                        key: predecessor.key.clone(),
                        start_revision: before.header.revision,
                        ..Default::default()
                    };
                    self.watch_for_session(index, watch);
                }
            },
            (Step::Observing, Response::Range(oldest)) => match oldest.kvs.first().cloned() {
                Some(kv) => {
                    let key = kv.key.clone();
                    self.show_leader(index, kv);
                    self.watch_leader(index, key, oldest.header.revision + 1);
                }
                // No leader yet: watch the prefix for the first key.
                None => {
                    let prefix = self.sessions.sessions[index].prefix();
                    let watch = WatchCreateRequest {
                        range_end: prefix_end(&prefix),
                        key: prefix,
                        start_revision: oldest.header.revision,
                        ..Default::default()
                    };
                    self.watch_for_session(index, watch);
                }
            },
            (Step::Reading, Response::Range(mine)) => {
                if mine.kvs.is_empty() {
                    return self.end_session(index, "lock lost on init".into());
                }
                let now = self.now();
                let session = &mut self.sessions.sessions[index];
                session.step = Step::Holding;
                session.held_at = Some(now);
                self.session_event(SessionEvent::Holding { key: mine });
            }
            (_, _) => {}
        }
    }

    /// The transaction that puts the session's key in the queue (clientv3's `Mutex.Lock`
    /// also reads the oldest key in the same transaction; the look that follows finds the
    /// same, so it is left out here).
    fn enter(&self, index: usize) -> Request {
        let session = &self.sessions.sessions[index];
        let value = match &session.recipe {
            Recipe::Elect { proposal } => proposal.clone(),
            Recipe::Lock | Recipe::Observe => Vec::new(),
        };
        Request::Txn(TxnRequest {
            compare: vec![Compare {
                result: CompareResult::Equal,
                target: CompareTarget::Create(0),
                key: session.key.clone(),
                range_end: Vec::new(),
            }],
            success: vec![RequestOp::Put(PutRequest {
                key: session.key.clone(),
                value,
                lease: session.lease,
                ..Default::default()
            })],
            failure: vec![RequestOp::Range(RangeRequest {
                key: session.key.clone(),
                ..Default::default()
            })],
        })
    }

    /// Reads the key created last before ours (clientv3's `waitDeletes`).
    fn look_for_predecessor(&mut self, index: usize) {
        let before = self.sessions.sessions[index].revision - 1;
        self.read_queue(index, Step::Looking, SortOrder::Descend, before);
    }

    /// Reads one key of the queue under the session's prefix, in create-revision `order`
    /// (created at `before` or earlier, unless 0), as step `step`.
    fn read_queue(&mut self, index: usize, step: Step, order: SortOrder, before: i64) {
        let session = &mut self.sessions.sessions[index];
        session.step = step;
        let prefix = session.prefix();
        let read = Request::Range(RangeRequest {
            range_end: prefix_end(&prefix),
            key: prefix,
            sort_order: order,
            sort_target: SortTarget::Create,
            limit: 1,
            max_create_revision: before,
            ..Default::default()
        });
        self.session_request(index, read);
    }

    fn watch_for_session(&mut self, index: usize, watch: WatchCreateRequest) {
        let Some(node) = self.session_target(self.sessions.sessions[index].node) else {
            return self.end_session(index, "no leader".into());
        };
        // The member answers a new watch at once; its `created` (and any history replayed
        // with it) is claimed for this session by `Sessions::claims_watch`.
        self.sessions.creating = Some((node, index));
        let created = self.watch(node, watch);
        if self.sessions.creating.take().is_some() || created.is_err() {
            self.end_session(index, "lost watcher waiting for delete".into());
        }
    }

    /// A response on a session's watch: a delete of the predecessor means look again; a
    /// canceled watch (its member crashed) ends the session.
    pub(super) fn session_watch(&mut self, node: u64, response: &WatchResponse) {
        let Some(&session) = self.sessions.watches.get(&(node, response.watch_id)) else {
            return;
        };
        let watch_id = response.watch_id;
        if self.sessions.sessions[session].recipe == Recipe::Observe && !response.canceled {
            let seen = response.events.iter().map(|e| match e.kind {
                EventType::Put => Observed::Put(e.kv.clone()),
                EventType::Delete => Observed::Deleted,
            });
            let observer = &mut self.sessions.sessions[session];
            let before = observer.observed.len();
            observer.observed.extend(seen);
            if observer.observed.len() > before {
                let now = self.now();
                let wake = SessionWake::Observed {
                    session,
                    node,
                    watch_id,
                };
                self.schedule(now, Scheduled::Session(wake));
            }
            return;
        }
        let wake = if response.canceled {
            SessionWake::WatchLost {
                session,
                node,
                watch_id,
            }
        } else if response.events.iter().any(|e| e.kind == EventType::Delete) {
            SessionWake::PredecessorGone {
                session,
                node,
                watch_id,
            }
        } else {
            return;
        };
        let now = self.now();
        self.schedule(now, Scheduled::Session(wake));
    }

    /// Member `node` crashed: the sessions watching through it lose their watches.
    pub(super) fn sessions_lose_member(&mut self, node: u64) {
        let lost: Vec<(i64, usize)> = self
            .sessions
            .watches
            .iter()
            .filter(|((on, _), _)| *on == node)
            .map(|(&(_, watch_id), &session)| (watch_id, session))
            .collect();
        let now = self.now();
        for (watch_id, session) in lost {
            let wake = SessionWake::WatchLost {
                session,
                node,
                watch_id,
            };
            self.schedule(now, Scheduled::Session(wake));
        }
    }

    /// A session's lease is gone (its keep-alive heard so): a holder ends with etcdctl's
    /// error; a waiter waits on, as clientv3's `Lock` does (it finds its key gone once its
    /// turn comes: "lock lost on init").
    pub(super) fn session_lease_gone(&mut self, lease: i64) {
        let holding = self
            .sessions
            .sessions
            .iter()
            .position(|s| s.lease == lease && s.step == Step::Holding);
        if let Some(index) = holding {
            let error = self.sessions.sessions[index].expired_error().to_string();
            self.end_session(index, error);
        }
    }
}
