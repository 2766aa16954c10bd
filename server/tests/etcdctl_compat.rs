//! Real etcdctl 3.4 against a 3-member raftbook cluster and, side by side, a 3-member real
//! etcd 3.4 cluster: every command of the list below must print the same on both (ids,
//! ports, times and sizes aside).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{clean, etcdctl, run_with_stdin, Kind, LocalCluster};
use regex::Regex;

/// One etcdctl invocation; `$LEASE` is the lease granted last.
enum Step {
    Run(&'static str),
    /// With standard input (`txn -i`, `watch -i`).
    Input(&'static str, &'static str),
    /// Starts `watch …` in the background for `seconds`, runs the steps, then shows what the
    /// watch printed.
    Watch(&'static str, f64, Vec<Step>),
    /// Compared after removing all numbers (terms, indexes, sizes differ by nature).
    Loose(&'static str),
    /// Loose, with the endpoints written as URLs (`http://127.0.0.1:2379`), as etcd's docs
    /// write them: etcd's client then sends the URL as the HTTP/2 authority.
    Urls(&'static str),
}

use Step::*;

fn script() -> Vec<Step> {
    vec![
        Run("put foo bar"),
        Run("put foo1 bar1"),
        Run("put foo bar_new"),
        Run("put foo1 bar1_new"),
        Run("put foo2 bar2"),
        Run("put foo3 bar3"),
        Run("get foo"),
        Run("get foo --print-value-only"),
        Run("get foo -w json"),
        Run("get foo --hex"),
        Run("get foo -w table"),
        Run("get foo foo3"),
        Run("get --prefix foo"),
        Run("get --prefix --limit=1 foo"),
        Run("get --prefix --limit 2 foo -w json"),
        Run("get foo --prefix --rev=3"),
        Run("get foo --rev=100"),
        Run("get foo --prefix --keys-only"),
        Run("get foo --prefix --order=DESCEND --sort-by=MODIFY"),
        Run("put a 123"),
        Run("put b 456"),
        Run("put z 789"),
        Run("get --from-key b"),
        Run("del a"),
        Run("del foo foo2"),
        Run("put zoo val"),
        Run("del --prev-kv zoo"),
        Run("del --prefix foo"),
        Run("del --from-key b"),
        Run("get --prefix \"\""),
        Watch(
            "watch --prefix w --prev-kv",
            2.0,
            vec![Run("put w1 x"), Run("put w1 y"), Run("del w1")],
        ),
        Watch("watch w1 w3", 1.5, vec![Run("put w2 range")]),
        Watch("watch --rev=2 foo", 1.5, vec![]),
        Input("watch -i", "watch w1\nput w1 interactive\n"),
        Run("compaction 5"),
        Run("get --rev=4 foo"),
        Run("compaction 3"),
        Run("lease grant 60"),
        Run("put --lease=$LEASE leased v"),
        Run("lease timetolive --keys $LEASE"),
        Run("lease keep-alive --once $LEASE"),
        Run("lease list"),
        Run("lease revoke $LEASE"),
        Run("get leased"),
        Run("lease timetolive $LEASE"),
        Run("lease revoke $LEASE"),
        Run("put k v --lease=1234"),
        Input(
            "txn -i",
            "create(\"lock\") = \"0\"\n\nput lock me\n\nget lock\n\n",
        ),
        Input(
            "txn -i",
            "create(\"lock\") = \"0\"\n\nput lock you\n\nget lock\n\n",
        ),
        Input(
            "txn -i",
            "value(\"lock\") = \"me\"\n\nput lock me2\ndel k\n\nget lock\n\n",
        ),
        Run("put \"\" x"),
        Run("lock mylock echo got-the-lock"),
        // `elect -l` observes the election while a candidate wins it.
        Watch(
            "elect -l myelection",
            3.5,
            vec![Watch("elect myelection p1", 1.5, vec![])],
        ),
        Loose("member list -w table"),
        // etcd's cluster service sends no revision in the header.
        Loose("member list -w json"),
        Loose("endpoint health"),
        Loose("endpoint status -w table"),
        // Each member's hash of its store: raftbook hashes its own encoding, so the numbers
        // are not etcd's; the lines are the same.
        Loose("endpoint hashkv"),
        Loose("defrag"),
        Urls("put spelled-as-url yes"),
        Urls("get spelled-as-url"),
        Urls("endpoint status"),
        Urls("endpoint status -w table"),
        Urls("endpoint status --cluster"),
        Urls("endpoint health --cluster"),
        Urls("endpoint hashkv"),
        Urls("member list"),
    ]
}

fn normalise(text: &str, loose: bool) -> String {
    let rules = [
        (r"\b[0-9a-f]{12,16}\b", "<ID>"),
        (r#""(cluster_id|member_id)":\d+"#, "\"$1\":<ID>"),
        (r#""raft_term":\d+"#, "\"raft_term\":<TERM>"),
        (r"took = \S+", "took = <T>"),
        (r"remaining\(\d+s\)", "remaining(<N>s)"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<PORT>"),
        (r"3\.4\.23(-raftbook)?", "<VERSION>"),
        (r"\d+(\.\d+)? (B|kB|MB)", "<SIZE>"),
    ];
    let mut text = text.to_string();
    for (pattern, replacement) in rules {
        text = Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    if loose {
        for (pattern, replacement) in [(r"\d+", "<N>"), (r"-+", "-"), (r" +", " ")] {
            text = Regex::new(pattern)
                .unwrap()
                .replace_all(&text, replacement)
                .into_owned();
        }
        // Rows come in id order, which differs: compare them sorted.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        text = lines.join("\n");
    }
    text
}

fn words(line: &str, lease: &str) -> Vec<String> {
    let line = line.replace("$LEASE", lease);
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                if !quoted && current.is_empty() {
                    words.push(String::new());
                }
            }
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Runs the script; returns (command, output) pairs.
fn run_script(
    cluster: &LocalCluster,
    steps: &[Step],
    lease: &mut String,
    into: &mut Vec<(String, String, bool)>,
) {
    let endpoints = cluster.endpoints();
    let urls = endpoints
        .split(',')
        .map(|e| format!("http://{e}"))
        .collect::<Vec<_>>()
        .join(",");
    for step in steps {
        match step {
            Run(line) | Loose(line) | Urls(line) => {
                let args = words(line, lease);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let spelled = if matches!(step, Urls(_)) {
                    &urls
                } else {
                    &endpoints
                };
                let output = etcdctl(spelled, &args, None);
                if line.starts_with("lease grant") {
                    *lease = output
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                }
                let label = match step {
                    Urls(_) => format!("{line} (endpoints written as URLs)"),
                    _ => line.to_string(),
                };
                into.push((label, output, matches!(step, Loose(_) | Urls(_))));
            }
            Input(line, stdin) => {
                let args = words(line, lease);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                into.push((
                    format!("{line} <<< {stdin:?}"),
                    etcdctl(&endpoints, &args, Some(stdin)),
                    false,
                ));
            }
            Watch(line, seconds, inner) => {
                let mut command = Command::new("timeout");
                command
                    .arg(format!("{seconds}"))
                    .arg("etcdctl")
                    .env("ETCDCTL_API", "3")
                    .arg(format!("--endpoints={endpoints}"))
                    .args(words(line, lease));
                let handle = std::thread::spawn(move || run_with_stdin(command, None));
                // Let the watcher connect before anything happens.
                std::thread::sleep(Duration::from_millis(800));
                run_script(cluster, inner, lease, into);
                into.push((
                    format!("{line} (in the background)"),
                    clean(&handle.join().unwrap()),
                    false,
                ));
            }
        }
    }
}

#[test]
fn etcdctl_prints_the_same_on_raftbook_and_on_etcd() {
    if !common::etcd_installed() {
        panic!("real etcd is the reference: apt-get install etcd-server (cargo xtask setup does)");
    }
    let steps = script();
    let mut results = Vec::new();
    for kind in [Kind::Raftbook, Kind::Etcd] {
        let cluster = LocalCluster::start(kind, 3);
        let mut outputs = Vec::new();
        run_script(&cluster, &steps, &mut String::new(), &mut outputs);
        results.push(outputs);
    }
    let (ours, theirs) = (&results[0], &results[1]);
    assert_eq!(ours.len(), theirs.len());
    let mut differences = Vec::new();
    for ((command, got, loose), (_, expected, _)) in ours.iter().zip(theirs) {
        if normalise(got, *loose) != normalise(expected, *loose) {
            differences.push(format!(
                "etcdctl {command}\n--- etcd printed:\n{expected}--- raftbook printed:\n{got}"
            ));
        }
    }
    eprintln!("etcdctl: {} commands compared with real etcd", ours.len());
    assert!(
        differences.is_empty(),
        "{} of {} commands differ:\n\n{}",
        differences.len(),
        ours.len(),
        differences.join("\n")
    );
}
