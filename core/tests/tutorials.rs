//! The tutorials' etcdctl commands work in the playground's console: every line of
//! `tutorial_etcdctl_lines.txt` (all the etcdctl lines of the Chinese etcd tutorials, as a
//! reader types them) is taken by a console on a running cluster, and none is refused as an
//! unknown command, an unknown flag or bad usage. etcd's own answers (a key not found, a
//! revision compacted) are fine: they are what etcd says too. The golden scenarios pin the
//! exact output of the tutorials' examples against etcd 3.4.

use raftbook_core::scenario::console::{Console, LineKind};

#[test]
fn every_tutorial_etcdctl_line_is_understood_by_the_console() {
    let lines: Vec<&str> = include_str!("tutorial_etcdctl_lines.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert!(lines.len() >= 50, "the tutorials' lines are there");
    let mut console = Console::new("cluster nodes=3 seed=1").expect("a cluster");
    console.advance_to(3_000);
    let mut refused = Vec::new();
    for line in &lines {
        let before = console.lines().len();
        console.act(line);
        let at = console.now();
        console.advance_to(at + 1_000);
        for printed in &console.lines().skip(before) {
            let etcds_own_answer = printed.text.starts_with("Error: etcdserver:")
                || printed.text.contains("context deadline exceeded");
            if printed.kind == LineKind::Error && !etcds_own_answer {
                refused.push(format!("{line}: {}", printed.text));
            }
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}
