//! The scenario commands.
//!
//! | command | what it does |
//! |---|---|
//! | `cluster nodes=5 seed=7 [tick=100ms election=10 heartbeat=1 prevote=on checkquorum=on latency=10-30ms loss=0 reorder=off snapshot-interval=0 catchup=5 max-append=1048576]` | a new cluster (`max-append=0`: one entry per append message) |
//! | `run 2s`, `tick [N]` | let virtual time pass (N ticks of `tick`) |
//! | `deliver` | run until every message now in flight has arrived |
//! | `stabilize [timeout=30s]` | run until one leader and every member has applied its log |
//! | `wait-leader [timeout=10s]` | run until some node is leader |
//! | `partition 1,2 \| 3,4,5`, `isolate 3` | split the network into groups |
//! | `cut 1->3`, `cut 1<->3`, `heal [1->3]` | block one link direction (or both); heal one or all |
//! | `net latency=10-30ms loss=0.1 reorder=on`, `link 1->2 latency=… loss=…` | network quality |
//! | `crash 2`, `restart 2`, `pause 2`, `resume 2` | node faults |
//! | `wipe 2` | empty a crashed node's disk, breaking Raft's assumptions (the checker shows what follows) |
//! | `propose x=1 [node=3] [wait=5s]` | propose `put x 1` (to the leader by default), wait, show the log index |
//! | `campaign 3`, `transfer-leader 2` | start an election; hand over leadership |
//! | `add-node [learner]`, `remove-node 4`, `promote 4` | membership changes, one at a time (etcd's way) |
//! | `joint-change add=4,5 remove=1` | several at once, by joint consensus (raft-rs's `ConfChangeV2`; etcd 3.4 never does this) |
//! | `snapshot 3` | node 3 snapshots its state and compacts its log |
//! | `read [node=3] [wait=5s]` | a linearizable read of all keys (ReadIndex): waits until the node may answer |
//! | `put`, `get`, `del`, `txn`, `watch`, `lease …`, `compaction` `[node=3]` | etcdctl's commands, printed as etcdctl prints them (see [`crate::etcd::etcdctl`]); sent to the leader unless `node=` says otherwise |
//! | | in those, `$LEASE` stands for the id of the lease granted last (by `lease grant`, or by a `lock`'s or `elect`'s session) |
//! | `lock NAME [--ttl=10]`, `elect NAME PROPOSAL`, `elect -l NAME` (`[node=3]`); `stop-lock NAME`, `stop-elect [-l] NAME` | etcdctl's lock, election and election observer (see [`crate::sim::sessions`]): a lock or candidate prints its key once held, an observer each leader; `stop-…` is etcdctl's Ctrl-C |
//! | `member list`, `endpoint status [node=3]`, `endpoint health [node=3]`, `version` | etcdctl's cluster views and version |
//! | `unwatch 0 [node=3]`, `watch-progress [node=3]` | cancel a watch; ask for a progress notification |
//! | `lease keep-alive $LEASE` (renews every TTL/3 until stopped), `stop-keep-alive $LEASE` | a running keep-alive, and its Ctrl-C |
//! | `drop 17`, `delay 17 200ms` | drop message 17 while in flight, or hold it back longer |
//! | `status`, `log [3]`, `logs`, `messages`, `requests`, `trace [last=20]` | look |
//! | `durability [KEY]` | each acknowledged put (the last 10): which members hold its entry, which leaders came after, whether it is lost |
//!
//! Time-passing commands report leadership changes as they happen; every command is
//! followed by what watches received meanwhile.

use std::collections::BTreeSet;

use crate::etcd::api::{RangeRequest, Request as EtcdRequest};
use crate::etcd::etcdctl::{self, Action, Format};
use crate::node::NodeConfig;
use crate::scenario::parse::{duration_ms, node_id, node_list, number, on_off, Args, CommandLine};
use crate::scenario::wait::Wait;
use crate::scenario::Scenario;
use crate::scenario::{cluster_views, format};
use crate::sim::network::LinkConfig;
use crate::sim::sessions::ELECTION_TTL;
use crate::sim::{Cluster, ClusterConfig, Outcome, Recipe};

pub fn run(scenario: &mut Scenario, command: &CommandLine) -> Result<String, String> {
    let bind = |known: &[&str]| command.bind(known);
    match command.name.as_str() {
        "cluster" => new_cluster(
            scenario,
            &bind(&[
                "nodes",
                "seed",
                "tick",
                "election",
                "heartbeat",
                "prevote",
                "checkquorum",
                "latency",
                "loss",
                "reorder",
                "snapshot-interval",
                "catchup",
                "max-append",
            ])?,
        ),
        name if TIME_PASSING.contains(&name) => {
            let wait = Wait::of(command, scenario.cluster()?)?.expect("a time-passing command");
            pass_time(scenario, |c| wait.run(c))
        }
        "partition" => {
            let args = bind(&[])?;
            let groups = args
                .words
                .join(" ")
                .split('|')
                .map(|group| node_list(&group.replace(' ', "")).map(BTreeSet::from_iter))
                .collect::<Result<Vec<_>, _>>()?;
            network(scenario, |n, ids| {
                n.set_partition(groups, ids.iter().copied())
            })
        }
        "isolate" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            network(scenario, |n, ids| {
                let rest: BTreeSet<u64> = ids.iter().copied().filter(|&id| id != node).collect();
                n.set_partition(vec![BTreeSet::from([node]), rest], ids.iter().copied())
            })
        }
        "cut" => {
            let (from, to, both) = bind(&[])?.one("a link such as 1->3 or 1<->3", link)?;
            network(scenario, |n, _| {
                n.cut(from, to);
                if both {
                    n.cut(to, from);
                }
            })
        }
        "heal" => {
            let args = bind(&[])?;
            if args.words.is_empty() {
                network(scenario, |n, _| n.heal())
            } else {
                let (from, to, both) = args.one("a link such as 1->3 or 1<->3", link)?;
                network(scenario, |n, _| {
                    n.restore(from, to);
                    if both {
                        n.restore(to, from);
                    }
                })
            }
        }
        "net" => {
            let args = bind(&["latency", "loss", "reorder"])?;
            let reorder = args.option("reorder").map(on_off).transpose()?;
            let link = link_config(&args, scenario.cluster()?.network().default_link)?;
            network(scenario, |n, _| {
                n.default_link = link;
                n.reorder = reorder.unwrap_or(n.reorder);
            })
        }
        "link" => {
            let args = bind(&["latency", "loss"])?;
            let (from, to, both) = args.one("a link such as 1->3 or 1<->3", link)?;
            let config = link_config(&args, scenario.cluster()?.network().link(from, to))?;
            network(scenario, |n, _| {
                n.links.insert((from, to), config);
                if both {
                    n.links.insert((to, from), config);
                }
            })
        }
        "crash" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            let cluster = scenario.cluster()?;
            cluster.crash(node)?;
            let lost = match cluster.trace().last().map(|e| &e.what) {
                Some(crate::sim::trace::TraceKind::Crash { lost_writes, .. }) => *lost_writes,
                _ => 0,
            };
            // raft-rs asks for a sync before any reply that depends on a write (new entries,
            // a vote, a term, a snapshot); only commit-index updates may wait, and the leader
            // tells the commit index again.
            Ok(match lost {
                0 => format!("n{node} crashed (every write was synced)\n"),
                n => format!(
                    "n{node} crashed ({n} unsynced commit-index updates lost; entries and votes are synced before any reply)\n"
                ),
            })
        }
        "wipe" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            scenario.cluster()?.wipe(node)?;
            Ok(format!(
                "n{node}'s disk is empty now: it forgot its votes and its log\n"
            ))
        }
        "restart" | "pause" | "resume" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            let cluster = scenario.cluster()?;
            match command.name.as_str() {
                "restart" => cluster.restart(node)?,
                "pause" => cluster.pause(node)?,
                _ => cluster.resume(node)?,
            }
            Ok(String::new())
        }
        "campaign" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            scenario.cluster()?.campaign(node)?;
            Ok(String::new())
        }
        "transfer-leader" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            scenario.cluster()?.transfer_leader(node)?;
            Ok(String::new())
        }
        "snapshot" => {
            let node = bind(&[])?.one("a node id", node_id)?;
            let cluster = scenario.cluster()?;
            cluster.take_snapshot(node)?;
            let storage = cluster.node(node).expect("snapshot succeeded").storage();
            let meta = storage.snapshot_metadata();
            Ok(format!(
                "n{node} snapshot at index {} (term {}); log starts at {}\n",
                meta.index,
                meta.term,
                storage.first_index()
            ))
        }
        "drop" => {
            let id = bind(&[])?.one("a message id", number)?;
            scenario.cluster()?.drop_message(id)?;
            Ok(format!("message #{id} dropped\n"))
        }
        "delay" => {
            let args = bind(&[])?;
            let [id, by] = args.words.as_slice() else {
                return Err("usage: delay <message id> <duration>".into());
            };
            let arrives = scenario
                .cluster()?
                .delay_message(number(id)?, duration_ms(by)?)?;
            Ok(format!("message #{id} now arrives at {arrives}ms\n"))
        }
        "durability" => {
            let args = bind(&[])?;
            let key = match args.words.as_slice() {
                [] => None,
                [key] => Some(key.as_str()),
                _ => return Err("usage: durability [KEY]".into()),
            };
            Ok(format::durability(scenario.cluster()?, key, 10))
        }
        "status" => {
            bind(&[])?;
            Ok(format::status(scenario.cluster()?))
        }
        "log" => {
            let args = bind(&[])?;
            let cluster = scenario.cluster()?;
            let nodes = if args.words.is_empty() {
                cluster.node_ids()
            } else {
                args.words
                    .iter()
                    .map(|w| node_id(w))
                    .collect::<Result<_, _>>()?
            };
            Ok(nodes
                .into_iter()
                .map(|id| format::log(cluster, id))
                .collect())
        }
        "logs" => {
            bind(&[])?;
            Ok(format::logs(scenario.cluster()?))
        }
        "messages" => {
            bind(&[])?;
            Ok(format::messages(scenario.cluster()?))
        }
        "requests" => {
            bind(&[])?;
            Ok(format::requests(scenario.cluster()?))
        }
        "trace" => {
            let last = bind(&["last"])?.option_or("last", 20, number)?;
            let trace = &scenario.cluster()?.trace();
            let start = trace.len().saturating_sub(last as usize);
            Ok(trace
                .since(start)
                .map(|e| serde_json::to_string(e).expect("serialises") + "\n")
                .collect())
        }
        name if is_request(name) => request_command(scenario, command),
        "version" => {
            bind(&[])?;
            // What etcdctl 3.4.23 prints: its own version and the API version it speaks.
            Ok("etcdctl version: 3.4.23\nAPI version: 3.4\n".into())
        }
        "member" => {
            let args = bind(&["-w", "--write-out"])?;
            let (words, format) = write_out(&args, "member list")?;
            if words != ["list"] {
                return Err("usage: member list [-w simple|table|json|fields]".into());
            }
            Ok(cluster_views::member_list(scenario.cluster()?, format))
        }
        "stop-keep-alive" => {
            let args = bind(&[])?;
            let lease = match args.words.as_slice() {
                [word] if word == "$LEASE" => scenario
                    .last_lease
                    .ok_or("no lease granted yet for $LEASE")?,
                [word] => {
                    i64::from_str_radix(word, 16).map_err(|_| format!("not a lease id: {word}"))?
                }
                _ => return Err("usage: stop-keep-alive <lease id or $LEASE>".into()),
            };
            scenario.cluster()?.stop_keep_alive(lease)?;
            Ok(String::new())
        }
        // etcdctl's Ctrl-C for a running `lock`, `elect` or `elect -l` (the oldest on that name).
        "stop-lock" | "stop-elect" => {
            let args = bind(&[])?;
            let usage = || format!("usage: {} NAME", command.name);
            let like = match (command.name.as_str(), args.words.as_slice()) {
                ("stop-lock", [_]) => Recipe::Lock,
                ("stop-elect", [_]) => Recipe::Elect {
                    proposal: Vec::new(),
                },
                ("stop-elect", [flag, _]) if flag == "-l" => Recipe::Observe,
                _ => return Err(usage()),
            };
            let name = args.words.last().ok_or_else(usage)?;
            scenario.cluster()?.stop_session(name, &like)?;
            Ok(String::new())
        }
        "unwatch" => {
            let args = bind(&["node"])?;
            let watch_id = args.one("a watch id", number)? as i64;
            let cluster = scenario.cluster()?;
            let node = target_node(&args, cluster)?;
            cluster.cancel_watch(node, watch_id)?;
            Ok(String::new())
        }
        "watch-progress" => {
            let args = bind(&["node"])?;
            let cluster = scenario.cluster()?;
            let node = target_node(&args, cluster)?;
            cluster.request_watch_progress(node)?;
            Ok(String::new())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

/// Commands that let virtual time pass (see [`Wait`]).
pub const TIME_PASSING: [&str; 5] = ["run", "tick", "deliver", "stabilize", "wait-leader"];

/// Whether `name` is a request command: started by [`start_request`], answered later.
pub fn is_request(name: &str) -> bool {
    ETCDCTL.contains(&name) || CLUSTER_REQUESTS.contains(&name) || name == "endpoint"
}

/// etcdctl's commands, printed as etcdctl prints them.
pub const ETCDCTL: [&str; 10] = [
    "put",
    "get",
    "del",
    "txn",
    "watch",
    "lease",
    "compaction",
    "compact",
    "lock",
    "elect",
];
/// Cluster requests that go through the log (or ReadIndex) and are answered later.
pub const CLUSTER_REQUESTS: [&str; 6] = [
    "propose",
    "read",
    "add-node",
    "remove-node",
    "promote",
    "joint-change",
];
/// Commands sent to one member with `node=N` (without it: the leader; `endpoint`: every member).
pub const TARGETED: [&str; 5] = ["propose", "read", "unwatch", "watch-progress", "endpoint"];

/// A request command once started: what a caller waits for.
pub enum Started {
    /// Answered on the spot: etcdctl's output, or etcdctl's error (`Error: …`) as it prints it.
    Answered(Result<String, String>),
    /// A request on its way: `preface` is printed now, the answer with [`finish`] once it came
    /// or timed out.
    Request {
        id: u64,
        reply: Reply,
        preface: String,
    },
    /// `txn -i`: the lines typed next are the transaction, for member `node` (by default the
    /// leader) and printed in `style`.
    ReadTxnInput {
        node: Option<u64>,
        style: etcdctl::Style,
    },
}

/// How a request's answer is printed.
#[derive(Clone)]
pub enum Reply {
    /// As etcdctl prints it.
    Etcdctl(etcdctl::Invocation),
    /// As the request list prints it: `#3 put x=1 at n2: ok, index 7 (40ms)`.
    Summary,
    /// `etcdctl endpoint health`: a linearizable read sent to each running member (its node
    /// and request id), printed once all are answered; `down` members cannot be asked.
    Health {
        asked: Vec<(u64, u64)>,
        down: Vec<u64>,
        format: Format,
    },
}

impl Reply {
    /// The requests whose answers this reply prints (`id`: the one it was started with).
    pub fn request_ids(&self, id: u64) -> Vec<u64> {
        match self {
            Reply::Health { asked, .. } => asked.iter().map(|&(_, id)| id).collect(),
            _ => vec![id],
        }
    }
}

/// Runs a request command: starts it, lets time pass until it is answered (at most
/// `wait=`, 5 s by default), and prints the answer; an etcdctl error prints as etcdctl's.
fn request_command(scenario: &mut Scenario, command: &CommandLine) -> Result<String, String> {
    let wait = command.wait_ms()?.unwrap_or(DEFAULT_WAIT_MS);
    let (id, reply, preface) = match start_request(scenario, command)? {
        Started::Answered(printed) => return Ok(printed.unwrap_or_else(|error| error)),
        Started::Request { id, reply, preface } => (id, reply, preface),
        Started::ReadTxnInput { .. } => {
            return Err(
                "txn -i reads its compares and requests from the lines typed after it, \
                        in the playground's console; in a script, write the transaction on one \
                        line"
                    .into(),
            )
        }
    };
    let mut out = preface;
    let ids = reply.request_ids(id);
    out += &pass_time(scenario, |c| {
        c.run_until(wait, |c| ids.iter().all(|&id| c.is_answered(id)));
        Ok(())
    })?;
    out += &finish(scenario, id, &reply).unwrap_or_else(|error| error);
    Ok(out)
}

/// Starts a request command (etcdctl's, or one of [`CLUSTER_REQUESTS`]) without letting
/// time pass. `Err` is a command that could not be started (bad usage, no leader).
pub fn start_request(scenario: &mut Scenario, command: &CommandLine) -> Result<Started, String> {
    let bind = |known: &[&str]| command.bind(known);
    let started = |id, preface: String| {
        Ok(Started::Request {
            id,
            reply: Reply::Summary,
            preface,
        })
    };
    match command.name.as_str() {
        "propose" => {
            let args = bind(&["node", "wait"])?;
            let text = args.words.join(" ");
            if text.is_empty() {
                return Err("propose what? e.g. `propose x=1`".into());
            }
            let cluster = scenario.cluster()?;
            let node = target_node(&args, cluster)?;
            let (key, value) = text.split_once('=').unwrap_or((&text, ""));
            let put = crate::etcd::api::PutRequest {
                key: key.into(),
                value: value.into(),
                ..Default::default()
            };
            started(cluster.request(node, EtcdRequest::Put(put))?, String::new())
        }
        "read" => {
            let args = bind(&["node", "wait"])?;
            let cluster = scenario.cluster()?;
            let node = target_node(&args, cluster)?;
            let all_keys = RangeRequest {
                key: vec![0],
                range_end: vec![0],
                ..Default::default()
            };
            started(
                cluster.request(node, EtcdRequest::Range(all_keys))?,
                String::new(),
            )
        }
        "add-node" => {
            let args = bind(&["wait"])?;
            let learner = match args.words.as_slice() {
                [] => false,
                [word] if word == "learner" => true,
                _ => return Err("usage: add-node [learner]".into()),
            };
            let (node, id) = scenario.cluster()?.add_node(learner)?;
            started(id, format!("n{node} started\n"))
        }
        "joint-change" => {
            let args = bind(&["add", "remove", "wait"])?;
            if !args.words.is_empty() {
                return Err("usage: joint-change add=4,5 [remove=1,2]".into());
            }
            let list = |name: &str| args.option(name).map_or(Ok(Vec::new()), node_list);
            let (add, remove) = (list("add")?, list("remove")?);
            if add.is_empty() && remove.is_empty() {
                return Err("usage: joint-change add=4,5 [remove=1,2]".into());
            }
            let id = scenario.cluster()?.change_members_jointly(&add, &remove)?;
            started(id, String::new())
        }
        "remove-node" | "promote" => {
            let args = bind(&["wait"])?;
            let node = args.one("a node id", node_id)?;
            let cluster = scenario.cluster()?;
            let id = if command.name == "promote" {
                cluster.promote(node)?
            } else {
                cluster.remove_node(node)?
            };
            started(id, String::new())
        }
        "endpoint" => {
            let args = bind(&["node", "-w", "--write-out", "--rev"])?;
            let cluster = scenario.cluster()?;
            let nodes = match args.option("node") {
                Some(id) => vec![node_id(id)?],
                None => cluster.node_ids(),
            };
            let (words, format) = write_out(&args, "endpoint")?;
            let revision = match args.option("--rev") {
                Some(rev) => rev
                    .parse::<i64>()
                    .map_err(|_| format!("--rev: not a revision: {rev:?}"))?,
                None => 0,
            };
            let answered = |text: String| Ok(Started::Answered(Ok(text)));
            match words.as_slice() {
                ["status"] => answered(cluster_views::endpoint_status(cluster, &nodes, format)),
                ["hashkv"] => answered(cluster_views::endpoint_hashkv(
                    cluster, &nodes, revision, format,
                )),
                ["health"] => start_health_check(cluster, nodes, format),
                _ => Err("usage: endpoint status|health|hashkv [--rev=N] [-w simple|table|json|fields] [node=3]".into()),
            }
        }
        _ => start_etcdctl(scenario, command),
    }
}

/// etcdctl's `-w`/`--write-out`, given as `-w=table` or `-w table`: the command's own words,
/// and the format (`simple` by default). Written as two words, the format is the last word:
/// the parser moves flags after the command's words.
fn write_out<'a>(args: &'a Args, command: &str) -> Result<(Vec<&'a str>, Format), String> {
    let mut words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let format = match args.option("-w").or(args.option("--write-out")) {
        None => "simple",
        Some("") => words
            .pop()
            .ok_or_else(|| format!("{command} -w: which format?"))?,
        Some(format) => format,
    };
    match format.parse() {
        Ok(Format::Protobuf) | Err(_) => Err(format!(
            "{command} -w {format}: here simple, table, json or fields"
        )),
        Ok(format) => Ok((words, format)),
    }
}

/// `etcdctl endpoint health`: as etcdctl checks a member, a linearizable read of the key
/// `health` through it; the member is healthy if the read commits in time.
fn start_health_check(
    cluster: &mut Cluster,
    nodes: Vec<u64>,
    format: Format,
) -> Result<Started, String> {
    let health = RangeRequest {
        key: b"health".to_vec(),
        ..Default::default()
    };
    let (mut asked, mut down) = (Vec::new(), Vec::new());
    for node in nodes {
        match cluster.request(node, EtcdRequest::Range(health.clone())) {
            Ok(id) => asked.push((node, id)),
            Err(_) => down.push(node),
        }
    }
    let Some(&(_, id)) = asked.first() else {
        // Nobody to ask: every endpoint fails at once.
        return Ok(Started::Answered(print_health(cluster, &[], &down, format)));
    };
    Ok(Started::Request {
        id,
        reply: Reply::Health {
            asked,
            down,
            format,
        },
        preface: String::new(),
    })
}

/// The health check's lines, in the order the answers came (those that never came last): `Ok`
/// if every member is healthy, else `Err` ending in etcdctl's verdict.
fn print_health(
    cluster: &Cluster,
    asked: &[(u64, u64)],
    down: &[u64],
    format: Format,
) -> Result<String, String> {
    let mut answers: Vec<(u64, u64, Option<u64>)> = asked
        .iter()
        .map(|&(node, id)| {
            let request = &cluster.requests()[&id];
            match request.outcome {
                Outcome::Done { at, .. } => (at, node, Some(at - request.invoked_at)),
                _ => (u64::MAX, node, None),
            }
        })
        .collect();
    answers.sort_by_key(|&(at, node, _)| (at, node));
    answers.extend(down.iter().map(|&node| (u64::MAX, node, None)));
    let answers: Vec<(u64, Option<u64>)> = answers
        .into_iter()
        .map(|(_, node, took)| (node, took))
        .collect();
    let out = cluster_views::endpoint_health(&answers, format);
    if answers.iter().any(|&(_, took)| took.is_none()) {
        Err(out + "Error: unhealthy cluster\n")
    } else {
        Ok(out)
    }
}

/// Parses an etcdctl command line and sends it, without letting time pass.
fn start_etcdctl(scenario: &mut Scenario, command: &CommandLine) -> Result<Started, String> {
    let mut words = vec![command.name.clone()];
    let mut node = None;
    for (word, quoted) in &command.words {
        match word.split_once('=') {
            Some(("node", id)) if !quoted => node = Some(node_id(id)?),
            Some(("wait", _)) if !quoted => {}
            // `$LEASE`: the lease granted last, since its id is drawn at random.
            _ if word.contains("$LEASE") => {
                let lease = scenario
                    .last_lease
                    .ok_or("no lease granted yet for $LEASE")?;
                words.push(word.replace("$LEASE", &format!("{lease:016x}")));
            }
            _ => words.push(word.clone()),
        }
    }
    let invocation = match etcdctl::parse(&words) {
        Ok(invocation) => invocation,
        Err(error) => return Ok(Started::Answered(Err(format!("Error: {error}\n")))),
    };
    send(scenario, invocation, node)
}

/// Sends a parsed etcdctl invocation to member `node` (by default the leader).
pub fn send(
    scenario: &mut Scenario,
    invocation: etcdctl::Invocation,
    node: Option<u64>,
) -> Result<Started, String> {
    let asked_for = node;
    let cluster = scenario.cluster()?;
    let node = match node {
        Some(node) => node,
        None => cluster
            .leader()
            .ok_or("no leader to send it to (use node=N)")?,
    };
    match invocation.action.clone() {
        Action::ReadWatchesFromInput => Ok(Started::Answered(Ok(String::new()))),
        // Which member gets it is settled once the input is read (the leader may change).
        Action::ReadTxnFromInput => Ok(Started::ReadTxnInput {
            node: asked_for,
            style: invocation.style,
        }),
        Action::KeepAlive(lease) => {
            cluster.keep_alive(node, lease)?;
            scenario.keep_alive_styles.insert(lease, invocation.style);
            Ok(Started::Answered(Ok(String::new())))
        }
        // etcdctl prints nothing until the lock (or leadership) is held; then the session
        // reports, as a running etcdctl would.
        Action::Lock { name, ttl } => {
            cluster.start_session(node, &name, Recipe::Lock, ttl)?;
            Ok(Started::Answered(Ok(String::new())))
        }
        Action::Elect { name, proposal } => {
            let recipe = Recipe::Elect {
                proposal: proposal.into_bytes(),
            };
            cluster.start_session(node, &name, recipe, ELECTION_TTL)?;
            Ok(Started::Answered(Ok(String::new())))
        }
        Action::Observe { name } => {
            cluster.start_session(node, &name, Recipe::Observe, ELECTION_TTL)?;
            Ok(Started::Answered(Ok(String::new())))
        }
        Action::Watch(watch) => {
            let before = cluster.watch_deliveries().len();
            cluster.watch(node, watch)?;
            // The member answers at once; its `created` names the watch, whose events print
            // in this watch's `-w`.
            let created = cluster
                .watch_deliveries()
                .skip(before)
                .iter()
                .find(|d| d.node == node && d.response.created)
                .map(|d| d.response.watch_id);
            if let Some(watch_id) = created {
                scenario
                    .watch_styles
                    .insert((node, watch_id), invocation.style);
            }
            Ok(Started::Answered(Ok(String::new())))
        }
        Action::Request(request) => Ok(Started::Request {
            id: cluster.request(node, request)?,
            reply: Reply::Etcdctl(invocation),
            preface: String::new(),
        }),
    }
}

/// The answer to a started request: its output, or its error (for etcdctl, `Error: …` as
/// etcdctl prints it). A request with no answer yet gave up waiting.
pub fn finish(scenario: &mut Scenario, id: u64, reply: &Reply) -> Result<String, String> {
    let Some(cluster) = scenario.cluster.as_ref() else {
        return Ok(String::new());
    };
    let request = &cluster.requests()[&id];
    match reply {
        Reply::Health {
            asked,
            down,
            format,
        } => print_health(cluster, asked, down, *format),
        Reply::Summary => match request.outcome {
            Outcome::Failed { .. } => Err(format::request(request) + "\n"),
            _ => Ok(format::request(request) + "\n"),
        },
        Reply::Etcdctl(invocation) => match &request.outcome {
            Outcome::Pending => Err(etcdctl::print_failure(
                invocation,
                "context deadline exceeded",
            )),
            Outcome::Failed { failure, .. } => {
                Err(etcdctl::print_failure(invocation, &failure.to_string()))
            }
            Outcome::Done { response, .. } => {
                if let crate::etcd::api::Response::LeaseGrant(grant) = response {
                    scenario.last_lease = Some(grant.id);
                }
                Ok(etcdctl::print_result(invocation, &Ok(response.clone())))
            }
        },
    }
}

/// How long a request command waits for its answer by default: etcdctl's
/// `--command-timeout`, after which it gives up with "context deadline exceeded".
pub const DEFAULT_WAIT_MS: u64 = 5_000;

/// The node a client request goes to: `node=N`, or else the current leader.
fn target_node(args: &Args, cluster: &Cluster) -> Result<u64, String> {
    match args.option("node") {
        Some(node) => node_id(node),
        None => cluster
            .leader()
            .ok_or_else(|| "no leader to send it to (use node=N)".to_string()),
    }
}

fn new_cluster(scenario: &mut Scenario, args: &Args) -> Result<String, String> {
    let d = ClusterConfig::default();
    let nodes = args.option_or("nodes", d.nodes as u64, number)? as usize;
    if !(1..=9).contains(&nodes) {
        return Err(format!("nodes={nodes}: a cluster has 1 to 9 nodes"));
    }
    let config = ClusterConfig {
        nodes,
        seed: args.option_or("seed", d.seed, number)?,
        tick_ms: args.option_or("tick", d.tick_ms, duration_ms)?.max(1),
        node: NodeConfig {
            id: 0,
            election_tick: args
                .option_or("election", d.node.election_tick as u64, number)?
                .max(2) as usize,
            heartbeat_tick: args
                .option_or("heartbeat", d.node.heartbeat_tick as u64, number)?
                .max(1) as usize,
            pre_vote: args.option_or("prevote", d.node.pre_vote, on_off)?,
            check_quorum: args.option_or("checkquorum", d.node.check_quorum, on_off)?,
            snapshot_interval: args.option_or(
                "snapshot-interval",
                d.node.snapshot_interval,
                number,
            )?,
            snapshot_catchup_entries: args.option_or(
                "catchup",
                d.node.snapshot_catchup_entries,
                number,
            )?,
            max_append_bytes: args.option_or("max-append", d.node.max_append_bytes, number)?,
        },
        link: link_config(args, d.link)?,
        reorder: args.option_or("reorder", d.reorder, on_off)?,
        trace: true,
    };
    if config.node.heartbeat_tick >= config.node.election_tick {
        return Err("heartbeat must be shorter than election".into());
    }
    scenario.cluster = Some(Cluster::new(config));
    scenario.reset_reports();
    Ok(String::new())
}

/// `latency=10-30ms` (or `latency=20ms`) and `loss=0.1`, on top of `base`.
fn link_config(args: &Args, base: LinkConfig) -> Result<LinkConfig, String> {
    let mut config = base;
    if let Some(latency) = args.option("latency") {
        let (min, max) = match latency.split_once('-') {
            Some((min, max)) => {
                // `10-30ms`: the unit after the second number applies to both.
                let unit: String = max
                    .chars()
                    .skip_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                (duration_ms(&format!("{min}{unit}"))?, duration_ms(max)?)
            }
            None => (duration_ms(latency)?, duration_ms(latency)?),
        };
        if min > max {
            return Err(format!("latency={latency}: minimum above maximum"));
        }
        (config.latency_min_ms, config.latency_max_ms) = (min, max);
    }
    if let Some(loss) = args.option("loss") {
        config.loss = loss
            .parse()
            .ok()
            .filter(|l| (0.0..=1.0).contains(l))
            .ok_or(format!("loss={loss}: expected 0 to 1"))?;
    }
    Ok(config)
}

/// `1->3` (one way) or `1<->3` (both ways).
fn link(text: &str) -> Result<(u64, u64, bool), String> {
    let (from, to, both) = if let Some((a, b)) = text.split_once("<->") {
        (a, b, true)
    } else if let Some((a, b)) = text.split_once("->") {
        (a, b, false)
    } else {
        return Err(format!(
            "expected a link such as 1->3 or 1<->3, got {text:?}"
        ));
    };
    Ok((node_id(from)?, node_id(to)?, both))
}

fn network(
    scenario: &mut Scenario,
    change: impl FnOnce(&mut crate::sim::network::Network, &[u64]),
) -> Result<String, String> {
    let cluster = scenario.cluster()?;
    cluster.change_network(change);
    Ok(format!("network: {}\n", cluster.network().describe()))
}

/// Runs `run` on the cluster, then reports leadership changes (and `run`'s error, if any).
/// A safety violation needs no reporting here: `Scenario::run_line` reports it.
fn pass_time(
    scenario: &mut Scenario,
    run: impl FnOnce(&mut Cluster) -> Result<(), String>,
) -> Result<String, String> {
    let result = run(scenario.cluster()?);
    let mut out = scenario.report_leadership();
    if let Err(error) = result {
        out.push_str(&format!("error: {error}\n"));
    }
    Ok(out)
}
