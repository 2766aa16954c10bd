//! etcdctl's views of the cluster — `member list`, `endpoint status`, `endpoint health` and
//! `endpoint hashkv` — of the simulated members, in etcdctl 3.4's four formats: simple,
//! `-w table`, `-w json` and `-w fields`. Simulated members are named `n1`… and have
//! made-up URLs (`http://n1:2379`).

use crate::etcd::api::ResponseHeader;
use crate::etcd::etcdctl::{print_table, Format};
use crate::etcd::write_out::{header_json, header_lines};
use crate::node::Role;
use crate::sim::Cluster;

/// The header a member puts on its answers.
fn header_of(cluster: &Cluster, id: u64) -> ResponseHeader {
    cluster.server(id).map(|s| s.header()).unwrap_or_default()
}

fn header_fields(h: &ResponseHeader) -> String {
    let mut out = String::new();
    header_lines(h, &mut out);
    out
}

/// `etcdctl member list`, as the leader answers it (etcd's cluster service sends no
/// revision).
pub fn member_list(cluster: &Cluster, format: Format) -> String {
    let Some((leader, node)) = cluster
        .leader()
        .and_then(|id| cluster.node(id).map(|n| (id, n)))
    else {
        return "Error: etcdserver: no leader\n".into();
    };
    let (voters, learners) = node.members();
    let mut members: Vec<(u64, bool)> = voters
        .into_iter()
        .map(|id| (id, false))
        .chain(learners.into_iter().map(|id| (id, true)))
        .collect();
    members.sort_unstable();
    let urls = |id: u64| (format!("http://n{id}:2380"), format!("http://n{id}:2379"));
    let header = ResponseHeader {
        revision: 0,
        ..header_of(cluster, leader)
    };
    match format {
        Format::Json => {
            let members: Vec<String> = members
                .iter()
                .map(|&(id, learner)| {
                    let (peer, client) = urls(id);
                    let learner = if learner { r#","isLearner":true"# } else { "" };
                    format!(
                        r#"{{"ID":{id},"name":"n{id}","peerURLs":["{peer}"],"clientURLs":["{client}"]{learner}}}"#
                    )
                })
                .collect();
            format!(
                "{{{},\"members\":[{}]}}\n",
                header_json(&header),
                members.join(",")
            )
        }
        Format::Fields => {
            let mut out = header_fields(&header);
            for &(id, learner) in &members {
                let (peer, client) = urls(id);
                out += &format!(
                    "\"ID\" : {id}\n\"Name\" : \"n{id}\"\n\"PeerURL\" : \"{peer}\"\n\"ClientURL\" : \"{client}\"\n\"IsLearner\" : {learner}\n\n"
                );
            }
            out
        }
        Format::Simple | Format::Table | Format::Protobuf => {
            let rows: Vec<Vec<String>> = members
                .iter()
                .map(|&(id, learner)| {
                    let (peer, client) = urls(id);
                    vec![
                        format!("{id:x}"),
                        "started".into(),
                        format!("n{id}"),
                        peer,
                        client,
                        learner.to_string(),
                    ]
                })
                .collect();
            let headers = [
                "ID",
                "STATUS",
                "NAME",
                "PEER ADDRS",
                "CLIENT ADDRS",
                "IS LEARNER",
            ];
            rows_or_table(format, &headers, &rows)
        }
    }
}

fn rows_or_table(format: Format, headers: &[&str], rows: &[Vec<String>]) -> String {
    if format == Format::Table {
        print_table(headers, rows)
    } else {
        rows.iter().map(|row| row.join(", ") + "\n").collect()
    }
}

/// One member's answer to `endpoint status`.
struct Status {
    endpoint: String,
    header: ResponseHeader,
    db_size: usize,
    leader: u64,
    learner: bool,
    raft_index: u64,
    raft_term: u64,
    applied: u64,
}

/// `etcdctl endpoint status` of the members `ids`. A member that is down cannot answer: its
/// error comes after the others'.
pub fn endpoint_status(cluster: &Cluster, ids: &[u64], format: Format) -> String {
    let mut statuses = Vec::new();
    let mut errors = String::new();
    for &id in ids {
        let Some(server) = cluster.server(id) else {
            errors += &format!("Error: n{id}:2379 is unreachable (member down)\n");
            continue;
        };
        let node = server.node();
        statuses.push(Status {
            endpoint: format!("n{id}:2379"),
            header: server.header(),
            db_size: server.store().stats().bytes,
            leader: node.leader_id(),
            learner: node.role() == Role::Learner,
            raft_index: node.storage().last_index(),
            raft_term: node.term(),
            applied: node.applied(),
        });
    }
    let printed = match format {
        Format::Json => {
            let items: Vec<String> = statuses
                .iter()
                .map(|s| {
                    let learner = if s.learner { r#","isLearner":true"# } else { "" };
                    format!(
                        r#"{{"Endpoint":"{}","Status":{{{},"version":"3.4.23-raftbook","dbSize":{},"leader":{},"raftIndex":{},"raftTerm":{},"raftAppliedIndex":{},"dbSizeInUse":{}{learner}}}}}"#,
                        s.endpoint,
                        header_json(&s.header),
                        s.db_size,
                        s.leader,
                        s.raft_index,
                        s.raft_term,
                        s.applied,
                        s.db_size
                    )
                })
                .collect();
            format!("[{}]\n", items.join(","))
        }
        Format::Fields => statuses
            .iter()
            .map(|s| {
                format!(
                    "{}\"Version\" : \"3.4.23-raftbook\"\n\"DBSize\" : {}\n\"Leader\" : {}\n\"IsLearner\" : {}\n\"RaftIndex\" : {}\n\"RaftTerm\" : {}\n\"RaftAppliedIndex\" : {}\n\"Errors\" : []\n\"Endpoint\" : \"{}\"\n\n",
                    header_fields(&s.header),
                    s.db_size,
                    s.leader,
                    s.learner,
                    s.raft_index,
                    s.raft_term,
                    s.applied,
                    s.endpoint
                )
            })
            .collect(),
        Format::Simple | Format::Table | Format::Protobuf => {
            let rows: Vec<Vec<String>> = statuses
                .iter()
                .map(|s| {
                    let size = if s.db_size >= 1024 {
                        format!("{} kB", s.db_size / 1024)
                    } else {
                        format!("{} B", s.db_size)
                    };
                    vec![
                        s.endpoint.clone(),
                        format!("{:x}", s.header.member_id),
                        "3.4.23-raftbook".to_string(),
                        size,
                        (s.leader == s.header.member_id).to_string(),
                        s.learner.to_string(),
                        s.raft_term.to_string(),
                        s.raft_index.to_string(),
                        s.applied.to_string(),
                        String::new(),
                    ]
                })
                .collect();
            let headers = [
                "ENDPOINT",
                "ID",
                "VERSION",
                "DB SIZE",
                "IS LEADER",
                "IS LEARNER",
                "RAFT TERM",
                "RAFT INDEX",
                "RAFT APPLIED INDEX",
                "ERRORS",
            ];
            rows_or_table(format, &headers, &rows)
        }
    };
    printed + &errors
}

/// `etcdctl endpoint hashkv [--rev=N]` of the members `ids`: each member's hash of its store
/// up to that revision (see [`crate::etcd::mvcc::MvccStore::hash_kv`]). Members that agree
/// print the same number.
pub fn endpoint_hashkv(cluster: &Cluster, ids: &[u64], revision: i64, format: Format) -> String {
    let mut hashes = Vec::new();
    let mut errors = String::new();
    for &id in ids {
        let Some(server) = cluster.server(id) else {
            errors += &format!("Error: n{id}:2379 is unreachable (member down)\n");
            continue;
        };
        match server.store().mvcc.hash_kv(revision) {
            Ok(hash) => hashes.push((
                format!("n{id}:2379"),
                server.header(),
                hash,
                server.store().mvcc.compact_revision(),
            )),
            Err(error) => errors += &format!("Error: {error}\n"),
        }
    }
    let printed = match format {
        Format::Json => {
            let items: Vec<String> = hashes
                .iter()
                .map(|(endpoint, header, hash, compacted)| {
                    let compacted = if *compacted != 0 {
                        format!(r#","compact_revision":{compacted}"#)
                    } else {
                        String::new()
                    };
                    // Go's JSON leaves zero values out.
                    let hash = if *hash != 0 {
                        format!(r#","hash":{hash}"#)
                    } else {
                        String::new()
                    };
                    format!(
                        r#"{{"Endpoint":"{endpoint}","HashKV":{{{}{hash}{compacted}}}}}"#,
                        header_json(header)
                    )
                })
                .collect();
            format!("[{}]\n", items.join(","))
        }
        Format::Fields => hashes
            .iter()
            .map(|(endpoint, header, hash, _)| {
                format!(
                    "{}\"Endpoint\" : \"{endpoint}\"\n\"Hash\" : {hash}\n\n",
                    header_fields(header)
                )
            })
            .collect(),
        Format::Simple | Format::Table | Format::Protobuf => {
            let rows: Vec<Vec<String>> = hashes
                .iter()
                .map(|(endpoint, _, hash, _)| vec![endpoint.clone(), hash.to_string()])
                .collect();
            rows_or_table(format, &["ENDPOINT", "HASH"], &rows)
        }
    };
    printed + &errors
}

/// `etcdctl endpoint health` of the members asked: each one's answer time (`None`: it did
/// not answer in time); simple output goes to standard error in etcdctl, which a terminal
/// shows alike.
pub fn endpoint_health(answers: &[(u64, Option<u64>)], format: Format) -> String {
    let took = |ms: u64| format!("{ms}ms");
    let error = "failed to commit proposal: context deadline exceeded";
    match format {
        Format::Json => {
            let items: Vec<String> = answers
                .iter()
                .map(|&(node, answer)| match answer {
                    Some(ms) => format!(
                        r#"{{"endpoint":"n{node}:2379","health":true,"took":"{}"}}"#,
                        took(ms)
                    ),
                    None => format!(
                        r#"{{"endpoint":"n{node}:2379","health":false,"took":"","error":"{error}"}}"#
                    ),
                })
                .collect();
            format!("[{}]\n", items.join(","))
        }
        Format::Fields => answers
            .iter()
            .map(|&(node, answer)| {
                format!(
                    "\"Endpoint\" : \"n{node}:2379\"\n\"Health\" : {}\n\"Took\" : {}\n\"Error\" : {}\n\n",
                    answer.is_some(),
                    answer.map(took).unwrap_or_default(),
                    if answer.is_some() { "" } else { error }
                )
            })
            .collect(),
        Format::Table => {
            let rows: Vec<Vec<String>> = answers
                .iter()
                .map(|&(node, answer)| {
                    vec![
                        format!("n{node}:2379"),
                        answer.is_some().to_string(),
                        answer.map(took).unwrap_or_default(),
                        if answer.is_some() { String::new() } else { error.to_string() },
                    ]
                })
                .collect();
            print_table(&["ENDPOINT", "HEALTH", "TOOK", "ERROR"], &rows)
        }
        Format::Simple | Format::Protobuf => answers
            .iter()
            .map(|&(node, answer)| match answer {
                Some(ms) => format!(
                    "n{node}:2379 is healthy: successfully committed proposal: took = {}\n",
                    took(ms)
                ),
                None => format!("n{node}:2379 is unhealthy: {error}\n"),
            })
            .collect(),
    }
}
