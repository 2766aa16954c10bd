//! etcd's own Go client against raftbook and, side by side, against a real etcd 3.4: the
//! etcd tutorials' Go programs (copied as the tutorials print them, but for the endpoint and,
//! where it moved, the import path) and clientv3's concurrency recipes (Mutex, Election).
//! Built with Debian's Go and clientv3 3.4.23 sources in GOPATH mode (`cargo xtask setup`
//! installs both; nothing is downloaded). Both clusters must print the same, numbers aside
//! (ids, revisions, times), and what each program is for must show; so the test checks
//! etcd's behaviour, not raftbook's idea of it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Kind, LocalCluster};
use regex::Regex;

const PROGRAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/go");

/// Builds program `name` (a folder under `tests/go`) for `endpoint`, in `dir`.
fn build(name: &str, endpoint: &str, dir: &Path) -> PathBuf {
    let source = std::fs::read_to_string(Path::new(PROGRAMS).join(name).join("main.go"))
        .expect("the program's source");
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("a folder");
    std::fs::write(folder.join("main.go"), source.replace("ENDPOINT", endpoint)).expect("writable");
    let binary = dir.join(format!("{name}.bin"));
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&folder)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .output()
        .expect("go is installed (cargo xtask setup)");
    assert!(
        built.status.success(),
        "go build {name}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    binary
}

fn printed(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// What the programs print on one cluster, each under a heading.
fn run_all(kind: Kind) -> String {
    let cluster = LocalCluster::start(kind, 3);
    cluster.wait_healthy();
    let endpoint = cluster.members[0].client.clone();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut out = String::new();

    let kv = build("kvwatchlease", &endpoint, dir.path());
    out += "## kvwatchlease\n";
    out += &printed(&Command::new(&kv).output().expect("runs"));

    // Two cron workers: the second starts while the first holds the lock.
    let cron = build("cronlock", &endpoint, dir.path());
    let first = Command::new(&cron)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::thread::sleep(Duration::from_millis(1500));
    let second = Command::new(&cron).output().expect("runs");
    let first = first.wait_with_output().expect("finishes");
    out += "## cronlock, first worker\n";
    out += without_exit_race_panic(&printed(&first));
    out += "## cronlock, second worker\n";
    out += without_exit_race_panic(&printed(&second));

    let recipes = build("recipes", &endpoint, dir.path());
    out += "## recipes\n";
    out += &printed(&Command::new(&recipes).output().expect("runs"));
    out
}

/// The tutorial's cron worker has a race of its own, on etcd as on raftbook: its keep-alive
/// goroutine tests `keepRespChan == nil` where it means `keepResp == nil`, so when `main`
/// returns and the deferred `cancelFunc()` closes the channel, the goroutine reads a nil
/// response and dereferences it (line 81). Whether it gets there before the process exits is
/// up to the scheduler (CI saw it on etcd). The program stays as the tutorial prints it; this
/// cuts that one panic, and only that one: any other panic stays in the output and fails the
/// comparison.
fn without_exit_race_panic(printed: &str) -> &str {
    const PANIC: &str = "panic: runtime error: invalid memory address or nil pointer dereference\n";
    let Some(start) = printed.find(PANIC) else {
        return printed;
    };
    let trace = &printed[start..];
    let in_keep_alive_goroutine = Regex::new(
        r"\ngoroutine \d+ \[running\]:\nmain\.main\.func1\(\)\n\t\S*/cronlock/main\.go:81 ",
    )
    .expect("a regex")
    .is_match(trace);
    if in_keep_alive_goroutine {
        &printed[..start]
    } else {
        printed
    }
}

/// Numbers differ between clusters and runs (ids, revisions, times, how many renewals fit in
/// a few seconds), and so does the order in which a program's goroutines print: compare the
/// distinct lines, without their numbers.
fn comparable(text: &str) -> Vec<String> {
    let number = Regex::new(r"\d+").expect("a regex");
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("{\"level\""))
        // The tutorial's watch() registers its watch in a goroutine and writes at once:
        // whether the watch is there in time for the put is a race, on etcd as on raftbook
        // (the delete comes late enough to be seen).
        .filter(|l| !l.starts_with("&{PUT key:\"sample_key\""))
        .map(|l| number.replace_all(l.trim_end(), "N").into_owned())
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// What each program is for, in the order it happens (checked on both clusters).
const EXPECTED: [&str; 10] = [
    "sample_value\nnot found\n",
    "&{DELETE key:\"sample_key\"",
    "ttl 10",
    "写入成功",
    "续租成功",
    "## cronlock, first worker\n",
    "收到自动续租应答:",
    "## cronlock, second worker\n",
    "A holds the lock\nB waits while A holds it: true\nA unlocked\nB holds the lock\n",
    "leader: p1\np2 waits while p1 leads: true\nleader after proclaiming: p1-again\nleader after p1 resigned: p2\ndone\n",
];

/// The lines between two headings.
fn section<'a>(printed: &'a str, from: &str, to: &str) -> &'a str {
    let start = printed.find(from).map_or(printed.len(), |i| i + from.len());
    let rest = &printed[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[test]
fn etcds_go_client_runs_the_same_on_raftbook_and_on_etcd() {
    if !common::etcd_installed() || !Path::new("/usr/bin/go").exists() {
        panic!("real etcd and Go are needed: cargo xtask setup installs them");
    }
    let ours = run_all(Kind::Raftbook);
    let theirs = run_all(Kind::Etcd);
    for (who, printed) in [("raftbook", &ours), ("etcd", &theirs)] {
        for expected in EXPECTED {
            assert!(
                printed.contains(expected),
                "{who} printed\n{printed}\nwithout {expected:?}"
            );
        }
        // The first worker took the lock and worked; the second, started while the first held
        // it, was refused. (Each worker's keep-alive lines come in between, in any order.)
        let first = section(
            printed,
            "## cronlock, first worker",
            "## cronlock, second worker",
        );
        assert!(
            first.contains("处理任务\n"),
            "{who}'s first worker printed {first:?}"
        );
        assert!(
            !first.contains("锁被占用"),
            "{who}'s first worker printed {first:?}"
        );
        let second = section(printed, "## cronlock, second worker", "## recipes");
        assert!(
            second.contains("锁被占用: xxx\n"),
            "{who}'s second worker printed {second:?}"
        );
        assert!(
            !second.contains("处理任务"),
            "{who}'s second worker printed {second:?}"
        );
    }
    assert_eq!(
        comparable(&ours),
        comparable(&theirs),
        "raftbook printed\n{ours}\netcd printed\n{theirs}"
    );
}

#[test]
fn the_comparison_is_not_blind() {
    assert_eq!(
        comparable("写入成功 18159\n续租成功 time:1 id:2,ttl:10\n续租成功 time:3 id:2,ttl:10\n"),
        comparable("写入成功 5\n续租成功 time:9 id:7,ttl:10\n")
    );
    assert_ne!(comparable("锁被占用: xxx\n"), comparable("处理任务\n"));
}

#[test]
fn only_the_tutorials_exit_race_panic_is_cut() {
    let race =
        "锁被占用: xxx\npanic: runtime error: invalid memory address or nil pointer dereference\n\
        [signal SIGSEGV: segmentation violation code=0x1 addr=0x8 pc=0x8c4cb3]\n\n\
        goroutine 15 [running]:\nmain.main.func1()\n\t/tmp/.tmpop1Fpi/cronlock/main.go:81 +0x53\n\
        created by main.main\n\t/tmp/.tmpop1Fpi/cronlock/main.go:73 +0x405\n";
    assert_eq!(without_exit_race_panic(race), "锁被占用: xxx\n");
    // The same panic anywhere else in the program is a failure to see.
    let elsewhere = race.replace("main.go:81 ", "main.go:109 ");
    assert_eq!(without_exit_race_panic(&elsewhere), elsewhere);
    let other = race.replace(
        "nil pointer dereference",
        "index out of range [0] with length 0",
    );
    assert_eq!(without_exit_race_panic(&other), other);
}
