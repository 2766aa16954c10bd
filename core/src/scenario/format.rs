//! How the scenario commands print cluster state: short lines that read well in golden
//! files and lessons.

use crate::sim::{ClientRequest, NodeStatus};
use crate::sim::{Cluster, Outcome};
use crate::view::NodeView;

/// ` joint=1,2,3,4,5+1,2,3` while a node is in a joint configuration (new voters, then old).
fn joint(voters: &[u64], outgoing: &[u64]) -> String {
    if outgoing.is_empty() {
        return String::new();
    }
    let list = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    format!(" joint={}+{}", list(voters), list(outgoing))
}

/// One line per node, e.g.
/// `n1 follower term=2 vote=3 leader=3 last=5 commit=5 applied=5`.
pub fn status(cluster: &Cluster) -> String {
    let mut out = format!(
        "time {}ms, network {}\n",
        cluster.now(),
        cluster.network().describe()
    );
    for id in cluster.node_ids() {
        let view = cluster.node_view(id).expect("listed node");
        let node = &view.node;
        let snapshot = if node.snapshot_index > 0 {
            format!(" snapshot={}", node.snapshot_index)
        } else {
            String::new()
        };
        let line = match (&node.raft, view.status) {
            (Some(raft), status) => format!(
                "n{id} {}{}{} term={} vote={} leader={} last={} commit={} applied={}{snapshot}{}",
                raft.role.name(),
                if status == NodeStatus::Paused {
                    " (paused)"
                } else {
                    ""
                },
                if raft.voters.contains(&id) || raft.learners.contains(&id) {
                    ""
                } else {
                    " (not a member)"
                },
                raft.term,
                raft.vote,
                raft.leader,
                node.last_index,
                raft.commit,
                raft.applied,
                joint(&raft.voters, &raft.voters_outgoing),
            ),
            (None, _) => {
                let disk = cluster.durable_storage(id).expect("listed node");
                let hs = disk.hard_state();
                format!(
                    "n{id} DOWN (on disk: term={} vote={} last={} commit={}{snapshot})",
                    hs.term, hs.vote, node.last_index, hs.commit
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Node `id`'s log, one entry per line, committed entries marked.
pub fn log(cluster: &Cluster, id: u64) -> String {
    let Some(view) = cluster.node_view(id) else {
        return format!("error: no node {id}\n");
    };
    let node = &view.node;
    let commit = node.raft.as_ref().map(|r| r.commit);
    let mut out = match commit {
        Some(commit) => format!("n{id} log (commit {commit}):\n"),
        None => format!("n{id} log (down; as on disk):\n"),
    };
    if node.snapshot_index > 0 {
        out.push_str(&format!(
            "  snapshot up to {} (term {})\n",
            node.snapshot_index, node.snapshot_term
        ));
    }
    for entry in &node.entries {
        let mark = match commit {
            Some(commit) if entry.index <= commit => " ",
            Some(_) => "?",
            None => " ",
        };
        out.push_str(&format!(
            "{mark} {} t{} {}\n",
            entry.index, entry.term, entry.summary
        ));
    }
    out
}

/// Every node's log on one line, runs of one term grouped: `n1: [1..3 t1] [4..6 t2] commit=6`.
pub fn logs(cluster: &Cluster) -> String {
    let mut out = String::new();
    for id in cluster.node_ids() {
        let view = cluster.node_view(id).expect("listed node");
        out.push_str(&format!("n{id}: {}\n", compact_log(&view.node)));
    }
    out
}

fn compact_log(node: &NodeView) -> String {
    let mut parts = Vec::new();
    if node.snapshot_index > 0 {
        parts.push(format!("snap..{}", node.snapshot_index));
    }
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    for entry in &node.entries {
        match runs.last_mut() {
            Some((_, last, term)) if *term == entry.term => *last = entry.index,
            _ => runs.push((entry.index, entry.index, entry.term)),
        }
    }
    for (first, last, term) in runs {
        parts.push(if first == last {
            format!("[{first} t{term}]")
        } else {
            format!("[{first}..{last} t{term}]")
        });
    }
    match &node.raft {
        Some(raft) => parts.push(format!("commit={}", raft.commit)),
        None => parts.push("(down)".into()),
    }
    parts.join(" ")
}

pub fn messages(cluster: &Cluster) -> String {
    let mut out = String::new();
    for flight in cluster.in_flight() {
        let view = crate::view::MessageView::new(&flight.message);
        out.push_str(&format!(
            "#{} n{}->n{} {} (sent {}ms, arrives {}ms)\n",
            flight.id,
            view.from,
            view.to,
            view.summary(),
            flight.sent_at,
            flight.arrives_at
        ));
    }
    if out.is_empty() {
        out.push_str("no messages in flight\n");
    }
    out
}

pub fn requests(cluster: &Cluster) -> String {
    cluster
        .requests()
        .values()
        .map(|r| request(r) + "\n")
        .collect()
}

/// `#3 propose x=1 at n2: ok, index 7 (40ms)`.
pub fn request(request: &ClientRequest) -> String {
    let outcome = match &request.outcome {
        Outcome::Pending => "pending (not applied yet)".to_string(),
        Outcome::Done { at, index, .. } if *index > 0 => {
            format!("ok, index {index} ({}ms)", at - request.invoked_at)
        }
        Outcome::Done { at, .. } => format!("ok ({}ms)", at - request.invoked_at),
        Outcome::Failed { failure, .. } => format!("failed: {failure}"),
    };
    format!(
        "#{} {} at n{}: {outcome}",
        request.id,
        request.what(),
        request.node
    )
}

/// Where each acknowledged put's entry is, and why it stays (see [`crate::sim::durability`]):
/// the most recent `limit` ones, of `key` if given.
pub fn durability(cluster: &Cluster, key: Option<&str>, limit: usize) -> String {
    let writes: Vec<_> = cluster
        .acknowledged_writes()
        .into_iter()
        .filter(|w| key.is_none_or(|k| w.key == k.as_bytes()))
        .collect();
    if writes.is_empty() {
        return "no put acknowledged yet\n".into();
    }
    let list = |ids: &[u64]| {
        ids.iter()
            .map(|id| format!("n{id}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::new();
    if writes.len() > limit {
        out.push_str(&format!("({} earlier not shown)\n", writes.len() - limit));
    }
    for write in &writes[writes.len().saturating_sub(limit)..] {
        out.push_str(&format!(
            "put {} {} (OK at {}ms): entry {} of term {}\n",
            String::from_utf8_lossy(&write.key),
            String::from_utf8_lossy(&write.value),
            write.at,
            write.index,
            write.term
        ));
        let majority = write.voters / 2 + 1;
        out.push_str(&format!(
            "  held by {} ({} of {} voters; a majority is {})\n",
            if write.holders.is_empty() {
                "no member".to_string()
            } else {
                list(&write.holders)
            },
            write.holders.len(),
            write.voters,
            majority
        ));
        for (node, term, held) in &write.later_leaders {
            out.push_str(&format!(
                "  later leader n{node} (term {term}) {}\n",
                if *held {
                    "holds it"
                } else {
                    "does NOT hold it"
                }
            ));
        }
        if write.lost(cluster) {
            out.push_str("  LOST: the current leader does not hold it\n");
        }
    }
    out
}
