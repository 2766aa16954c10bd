//! Every lesson's "try it on a real cluster" session runs as a learner would run it: a real
//! `raftbook cluster` (three members on etcd's Procfile ports, 2379/22379/32379) in one
//! terminal, real etcdctl 3.4 in a shell in another. Each `$` line's output must be what the
//! lesson shows; `cluster>` lines are typed into the cluster's terminal. What is random on a
//! real cluster is not compared: lease and member ids, and the time and client id in
//! etcdctl's log lines. An output shown as a single `…` is not compared at all: the lesson
//! says why it differs from run to run (which member leads, say).
//!
//! `UPDATE_REAL_CLUSTER=1` rewrites the shown outputs in both editions (read the diff);
//! `REAL_CLUSTER_LESSON=17-tutorial-cluster` runs one lesson's session only.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use raftbook_core::lesson::{Block, Lesson, RealStep};

/// How long one command may take: etcdctl's own timeout is 5 s, but lesson 17's first
/// `go run` compiles etcd's Go client (about 15 s here; minutes on a slow machine).
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// The lines a child prints, read on a thread so a silent child cannot hang the test.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// `raftbook cluster` in a temporary directory, with its terminal.
struct RealCluster {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<String>,
    _dir: tempfile::TempDir,
}

impl RealCluster {
    fn start() -> RealCluster {
        for port in common::procfile_ports() {
            assert!(
                common::port_free(port),
                "port {port} is taken: is another cluster (raftbook or etcd) running?"
            );
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut child = Command::new(env!("CARGO_BIN_EXE_raftbook"))
            .args(["cluster", "--dir"])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("raftbook cluster starts");
        let stdin = child.stdin.take().expect("a terminal");
        let output = lines_of(child.stdout.take().expect("an output"));
        let cluster = RealCluster {
            child,
            stdin,
            output,
            _dir: dir,
        };
        // The learner waits for the cluster to come up before typing; so does the test.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = Command::new("etcdctl")
                .args([
                    "--endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379",
                    "endpoint",
                    "health",
                ])
                .output()
                .expect("etcdctl runs (cargo xtask setup installs it)");
            if health.status.success() {
                // What the cluster printed on starting is not an answer to a typed line.
                while cluster.output.try_recv().is_ok() {}
                return cluster;
            }
            assert!(
                Instant::now() < deadline,
                "raftbook cluster is not healthy after 30 s: {}",
                String::from_utf8_lossy(&health.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Types a line into the cluster's terminal and waits for its answer.
    fn type_line(&mut self, input: &str) -> Result<(), String> {
        writeln!(self.stdin, "{input}").map_err(|e| e.to_string())?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        while let Ok(line) = self.output.recv_timeout(deadline - Instant::now()) {
            // Members' logs are prefixed with their names; the supervisor's own lines are not.
            if let Some(answer) = line.strip_prefix("raftbook cluster: ") {
                return if answer.contains("no member") || answer.contains("commands:") {
                    Err(format!("the cluster refused {input:?}: {answer}"))
                } else {
                    Ok(())
                };
            }
        }
        Err(format!("no answer to {input:?}"))
    }
}

impl Drop for RealCluster {
    fn drop(&mut self) {
        // `quit` stops the members; killing only the supervisor would leave them running.
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

/// A shell in another terminal, kept for the whole session as a learner's would be.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<String>,
}

const DONE: &str = "__raftbook_step_done__";

impl Shell {
    fn start(dir: &Path) -> Shell {
        let mut child = Command::new("bash")
            .args(["--norc", "--noprofile"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("bash runs");
        let mut stdin = child.stdin.take().expect("a terminal");
        // A terminal shows both streams, in order.
        writeln!(stdin, "exec 2>&1").expect("bash reads");
        let output = lines_of(child.stdout.take().expect("an output"));
        Shell {
            child,
            stdin,
            output,
        }
    }

    fn run(&mut self, command: &str) -> Result<Vec<String>, String> {
        writeln!(self.stdin, "{command}\necho {DONE}").map_err(|e| e.to_string())?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(line) if line == DONE => return Ok(printed),
                Ok(line) => printed.push(line),
                Err(_) => {
                    return Err(format!(
                        "{command:?} did not finish; it printed {printed:?}"
                    ))
                }
            }
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// An output shown as this is not compared (the lesson says why it varies).
const VARIES: &str = "…";

/// What may differ between two runs of the same session: ids a real cluster draws at random
/// (lease ids, member ids; etcdctl prints them in hex), the time and client id in etcdctl's
/// log lines, the process id and script line in the shell's notice of a killed job, and
/// trailing spaces.
fn comparable(lines: &[String]) -> Vec<String> {
    let random = [
        (r"\b[0-9a-f]{10,16}\b", "<id>"),
        (r#""ts":"[^"]*""#, r#""ts":<time>"#),
        (r"client-[0-9a-f-]+", "client-<id>"),
        (r"^bash: line \d+: +\d+ ", "bash: line <n>: <pid> "),
    ]
    .map(|(pattern, with)| (regex::Regex::new(pattern).expect("a regex"), with));
    lines
        .iter()
        .map(|l| {
            let mut line = l.trim_end().to_string();
            for (pattern, with) in &random {
                line = pattern.replace_all(&line, *with).into_owned();
            }
            line
        })
        .collect()
}

/// Whether a command printed what the lesson shows.
fn printed_as_shown(printed: &[String], shown: &[String]) -> bool {
    shown == [VARIES] || comparable(printed) == comparable(shown)
}

/// The English lessons (the Chinese edition has the same sessions; `editions` checks that).
fn lessons() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("lessons/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

/// Replaces the body of the `nth` real-cluster block of a lesson.
fn rewrite_block(text: &str, nth: usize, body: &str) -> String {
    let mut out = Vec::new();
    let mut seen = 0;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        out.push(line.to_string());
        if line.trim_end() == "```real-cluster" {
            if seen == nth {
                // `split`, not `lines`: an output's last line may be empty (a deleted key's
                // value), and it must stay.
                out.extend(body.split('\n').map(str::to_string));
                for skipped in lines.by_ref() {
                    if skipped.trim_end() == "```" {
                        out.push(skipped.to_string());
                        break;
                    }
                }
            }
            seen += 1;
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn every_lesson_ends_with_a_session_that_runs_on_a_real_cluster() {
    if !common::etcd_installed() {
        panic!("etcdctl is missing: run `cargo xtask setup`");
    }
    let update = std::env::var_os("UPDATE_REAL_CLUSTER").is_some();
    let mut failures = Vec::new();
    let mut sessions = 0;
    let only = std::env::var("REAL_CLUSTER_LESSON").ok();
    for path in lessons() {
        if only
            .as_ref()
            .is_some_and(|only| !path.ends_with(format!("{only}.md")))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let lesson = Lesson::parse(&name, &text).expect("the lessons test checks they parse");
        let blocks: Vec<_> = lesson.real_clusters().cloned().collect();
        if blocks.is_empty() {
            failures.push(format!("{name}.md: no ```real-cluster block: end with one"));
            continue;
        }
        let last_runnable = lesson
            .blocks
            .iter()
            .rev()
            .find(|b| !matches!(b, Block::Prose(_)));
        if !matches!(last_runnable, Some(Block::RealCluster(_))) {
            failures.push(format!(
                "{name}.md: the real-cluster session comes at the end"
            ));
        }
        let mut updated = text.clone();
        for (nth, block) in blocks.iter().enumerate() {
            sessions += 1;
            let mut cluster = RealCluster::start();
            // The shell starts in `lessons/`, where lesson 17 runs its Go programs from.
            let mut shell = Shell::start(path.parent().expect("lessons/"));
            let mut steps = block.steps.clone();
            for step in &mut steps {
                match step {
                    RealStep::Cluster { line, input } => {
                        if let Err(e) = cluster.type_line(input) {
                            failures.push(format!("{name}.md:{line}: {e}"));
                        }
                    }
                    RealStep::Shell {
                        line,
                        command,
                        expected,
                    } => match shell.run(command) {
                        Ok(printed) => {
                            if !printed_as_shown(&printed, expected) {
                                failures.push(format!(
                                    "{name}.md:{line}: `{command}` printed\n{}\ninstead of\n{}",
                                    printed.join("\n"),
                                    expected.join("\n")
                                ));
                            }
                            if expected != &[VARIES] {
                                *expected = printed;
                            }
                        }
                        Err(e) => failures.push(format!("{name}.md:{line}: {e}")),
                    },
                }
            }
            let session = raftbook_core::lesson::RealCluster {
                line: block.line,
                steps,
            };
            updated = rewrite_block(&updated, nth, &session.transcript());
        }
        if update && updated != text {
            std::fs::write(&path, &updated).expect("writable");
            let zh = path
                .parent()
                .expect("lessons/")
                .join("zh")
                .join(path.file_name().expect("a name"));
            if let Ok(translated) = std::fs::read_to_string(&zh) {
                let mut translated = translated;
                let again = Lesson::parse(&name, &updated).expect("still parses");
                for (nth, block) in again.real_clusters().enumerate() {
                    translated = rewrite_block(&translated, nth, &block.transcript());
                }
                std::fs::write(&zh, translated).expect("writable");
            }
        }
    }
    assert!(
        sessions >= 18 || only.is_some(),
        "every lesson has a session ({sessions} found)"
    );
    if !update {
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    } else {
        assert!(
            failures.iter().all(|f| f.contains("printed")),
            "{}",
            failures.join("\n\n")
        );
    }
}

#[test]
fn a_wrong_output_is_caught() {
    // The comparison is not blind: a different value or a missing line differs.
    let shown = vec!["greeting".to_string(), "hello".to_string()];
    assert_ne!(
        comparable(&shown),
        comparable(&["greeting".into(), "bye".into()])
    );
    assert_ne!(comparable(&shown), comparable(&["greeting".into()]));
    assert!(printed_as_shown(&["anything".into()], &[VARIES.into()]));
    // A killed job's notice names a process id and a script line that differ each run.
    assert!(printed_as_shown(
        &["bash: line 18: 10257 Killed                  /tmp/cronlock A 30".into()],
        &["bash: line 17: 9921 Killed                  /tmp/cronlock A 30".into()]
    ));
    assert!(!printed_as_shown(
        &["anything".into()],
        &["…".into(), "more".into()]
    ));
    // Only random ids are not compared.
    assert_eq!(
        comparable(&["lease 694d7a1e2b1f8c04 granted with TTL(10s)".into()]),
        comparable(&["lease 32698b9ac9e5ad05 granted with TTL(10s)".into()])
    );
    assert_ne!(
        comparable(&["lease 694d7a1e2b1f8c04 granted with TTL(10s)".into()]),
        comparable(&["lease 694d7a1e2b1f8c04 granted with TTL(60s)".into()])
    );
}
