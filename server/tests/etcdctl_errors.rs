//! The console reads etcdctl's command lines as etcdctl 3.4 reads them: what etcdctl refuses,
//! the console refuses with etcdctl's own words, and what etcdctl takes, the console takes.
//! Each line is given to real etcdctl with no server to reach: it checks its words before it
//! dials, so a refused line fails at once, and a line it takes fails only to connect.

use std::process::{Command, Output};

use raftbook_core::etcd::etcdctl;

/// Real etcdctl, pointed at a port nobody listens on (and stopped after 3 s: some lease
/// commands wait for a server however long it takes).
fn etcdctl_run(line: &str) -> Output {
    Command::new("timeout")
        .args(["3", "etcdctl"])
        .env("ETCDCTL_API", "3")
        .args([
            "--endpoints=127.0.0.1:1",
            "--dial-timeout=200ms",
            "--command-timeout=1s",
        ])
        .args(line.split_whitespace())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("etcdctl is installed (apt-get install etcd-client)")
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

/// Lines etcdctl refuses before dialing; each error is its first line of output.
const REFUSED: &[&str] = &[
    "get",
    "get --foo a",
    "get -x a",
    "get a --limit",
    "get a --limit=abc",
    "get a --rev x",
    "get a --rev=99999999999999999999",
    "get a --prefix=maybe",
    "get a --prefix --from-key",
    "get a b --prefix",
    "get a -w yaml",
    "get a -w JSON",
    "get --write-out",
    "get a --consistency=x",
    "get a --order=sideways",
    "get a --sort-by=size",
    // etcdctl 3.4 has no --count-only (3.5 added it).
    "get a --count-only",
    "put",
    "put a",
    "put a b --ignore-value",
    "put a b --lease=zz",
    "del",
    "del a b c",
    "del a --prefix --from-key",
    "del a b --from-key",
    "watch",
    "lease grant",
    "lease grant x",
    "lease grant 10 20",
    "lease revoke",
    "lease revoke zz",
    "lease timetolive",
    "lease keep-alive",
    "lease keep-alive a b",
    "compaction",
    "compaction x",
    "compaction 5 6",
    "compact",
    "lock",
    "elect",
    "elect a",
    "elect -l a b",
    "txn -w yaml",
    "foo",
];

/// Lines etcdctl takes: it goes on to dial, and fails only at that (or waits until stopped).
const TAKEN: &[&str] = &[
    "get a --prefix=false",
    "get -wjson a",
    "get a -w=fields",
    "get a -- --prefix",
    "get a b c",
    "get a --order=descend --sort-by=modify",
    "get a --limit=0x10 --rev 010",
    "get a --keys-only --print-value-only",
    "put a b c",
    "put a --ignore-value",
    "put a b --lease=1a2b --prev-kv",
    "del a --prev-kv",
    "lease grant 10",
    "lease timetolive 1a --keys",
    "compaction 5 --physical",
    "lease list",
];

#[test]
fn the_console_refuses_what_etcdctl_refuses_in_its_words() {
    let mut differ = Vec::new();
    for line in REFUSED {
        let output = etcdctl_run(line);
        let printed = String::from_utf8_lossy(&output.stderr);
        let theirs = printed
            .lines()
            .find(|l| l.starts_with("Error: "))
            .unwrap_or_else(|| panic!("etcdctl refuses `{line}`, it printed:\n{printed}"));
        assert!(
            !theirs.contains("context deadline exceeded"),
            "etcdctl took `{line}`: {printed}"
        );
        let ours = match etcdctl::parse(&words(line)) {
            Ok(invocation) => format!("taken as {invocation:?}"),
            Err(error) => format!("Error: {error}"),
        };
        if ours != theirs {
            differ.push(format!("`{line}`\n  etcdctl: {theirs}\n  console: {ours}"));
        }
    }
    assert!(differ.is_empty(), "\n{}", differ.join("\n"));
}

#[test]
fn the_console_takes_what_etcdctl_takes() {
    let mut differ = Vec::new();
    for line in TAKEN {
        let output = etcdctl_run(line);
        let printed = String::from_utf8_lossy(&output.stderr);
        let refused = printed
            .lines()
            .any(|l| l.starts_with("Error: ") && !l.contains("context deadline exceeded"));
        assert!(!refused, "etcdctl refuses `{line}`: {printed}");
        if let Err(error) = etcdctl::parse(&words(line)) {
            differ.push(format!("`{line}`: console says {error}"));
        }
    }
    assert!(differ.is_empty(), "\n{}", differ.join("\n"));
}
