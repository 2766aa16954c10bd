//! Randomized fault testing: for each of many seeds, a random mix of crashes, restarts,
//! partitions, one-way cuts, message loss, reordering and client requests (puts, gets,
//! deletes, compare-and-put transactions, watches), written as scenario commands. The
//! simulator checks Raft's safety properties after every event; at the end we heal
//! everything and check liveness (a leader within bounded virtual time, every acknowledged
//! write applied on every node), that the client history is linearizable, and that every
//! watch stream saw exactly the store's history.
//!
//! The whole run, the healing epilogue included, is scenario commands, so a failing seed is
//! shrunk to the shortest command list that still fails and printed as a script that
//! reproduces it by itself (`cargo xtask console FILE`), and as a playground link that
//! replays it in the browser. `CHAOS_SEEDS=N` runs more (or fewer) seeds; CI runs 2,000.
//!
//! A checker that never fires proves nothing, so the same harness also runs members that
//! lose their disks (`wipe`), which breaks Raft's assumptions: the checker must catch it,
//! and the printed reproductions must fail the same way when pasted back.

use raftbook_core::etcd::api::Response;
use raftbook_core::scenario::console::Console;
use raftbook_core::scenario::link::Link;
use raftbook_core::scenario::Scenario;
use raftbook_core::sim::{NodeStatus, Outcome, Violation};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Virtual time the healed cluster gets to elect a leader and catch every node up.
const LIVENESS_BOUND: &str = "30s";

/// How many seeds CI runs.
const DEFAULT_SEEDS: u64 = 2000;

/// Which faults a run may inject.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Faults {
    /// What a correct Raft must survive.
    Survivable,
    /// Those, and members whose disks are wiped: a broken node that the checker must catch.
    WipedDisks,
}

fn random_script(seed: u64, faults: Faults) -> (String, Vec<String>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nodes: u64 = rng.gen_range(3..=5);
    let on_off = |b: bool| if b { "on" } else { "off" };
    let setup = format!(
        "cluster nodes={nodes} seed={seed} prevote={} checkquorum={} snapshot-interval={} catchup={} reorder={}",
        on_off(rng.gen_bool(0.7)),
        on_off(rng.gen_bool(0.7)),
        [0, 5, 10, 20].choose(&mut rng).unwrap(),
        rng.gen_range(0..5),
        on_off(rng.gen_bool(0.3)),
    );
    let node = |rng: &mut ChaCha8Rng| rng.gen_range(1..=nodes);
    // Every member watches the keys from the start.
    let mut actions: Vec<String> = (1..=nodes)
        .map(|n| format!("watch --prefix k node={n}"))
        .collect();
    // Values are unique, so a read tells which write it saw.
    let mut written: Vec<String> = vec!["v0".into()];
    for step in 0..rng.gen_range(20..60) {
        let key = format!("k{}", rng.gen_range(0..3));
        let action = match rng.gen_range(0..100) {
            0..=17 => {
                written.push(format!("v{step}"));
                format!("put {key} v{step} node={} wait=0", node(&mut rng))
            }
            18..=27 => format!("get {key} node={} wait=0", node(&mut rng)),
            28..=31 => format!("del {key} node={} wait=0", node(&mut rng)),
            32..=34 => {
                let expected = written.choose(&mut rng).unwrap().clone();
                written.push(format!("v{step}"));
                format!("txn value(\"{key}\") = \"{expected}\" then put {key} v{step} else get {key} node={} wait=0", node(&mut rng))
            }
            35..=54 => format!("run {}ms", rng.gen_range(10..1500)),
            55..=62 => format!("crash {}", node(&mut rng)),
            63..=72 => format!("restart {}", node(&mut rng)),
            73..=77 => {
                let mut ids: Vec<u64> = (1..=nodes).collect();
                ids.shuffle(&mut rng);
                let split = rng.gen_range(1..nodes as usize);
                let group = |g: &[u64]| g.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
                format!(
                    "partition {} | {}",
                    group(&ids[..split]),
                    group(&ids[split..])
                )
            }
            78..=81 => format!("cut {}->{}", node(&mut rng), node(&mut rng)),
            82..=88 => "heal".to_string(),
            89..=92 => format!("net loss={:.2}", rng.gen_range(0.0..0.3)),
            93..=95 if faults == Faults::WipedDisks => {
                let n = node(&mut rng);
                actions.extend([format!("crash {n}"), format!("wipe {n}")]);
                format!("restart {n}")
            }
            93..=95 => format!("pause {}", node(&mut rng)),
            96..=97 => format!("resume {}", node(&mut rng)),
            _ => format!("transfer-leader {}", node(&mut rng)),
        };
        actions.push(action);
    }
    (setup, actions)
}

/// Runs a script; `Ok` says what was checked, `Err` says which property failed
/// (a panic inside raft-rs counts: it is raft-rs's own invariant checks firing) and gives
/// the whole script that ran, healing epilogue included.
fn check(setup: &str, actions: &[String]) -> Result<Totals, Failure> {
    let mut script = Vec::new();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_and_check(setup, actions, &mut script)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panic: {message}"))
    })
    .map_err(|why| Failure { script, why })
}

/// A failed run: the script that ran, and why it failed.
struct Failure {
    script: Vec<String>,
    why: String,
}

fn run_and_check(
    setup: &str,
    actions: &[String],
    script: &mut Vec<String>,
) -> Result<Totals, String> {
    let mut scenario = Scenario::new();
    let mut run = |scenario: &mut Scenario, line: &str| {
        script.push(line.to_string());
        scenario.run_line(line, script.len())
    };
    run(&mut scenario, setup);
    for action in actions {
        // Errors such as "node 3 is already down" are expected; violations are not.
        let output = run(&mut scenario, action);
        if output.contains("SAFETY VIOLATION") {
            return Err(output);
        }
    }
    // Heal everything, then demand progress: as commands, so the script shows them too.
    let mut epilogue = vec!["heal".to_string(), "net loss=0".to_string()];
    let cluster = scenario.cluster_ref().expect("the set-up made a cluster");
    for id in cluster.node_ids() {
        match cluster.status(id) {
            Some(NodeStatus::Down) => epilogue.push(format!("restart {id}")),
            Some(NodeStatus::Paused) => epilogue.push(format!("resume {id}")),
            _ => {}
        }
    }
    epilogue.push(format!("stabilize timeout={LIVENESS_BOUND}"));
    let mut output = String::new();
    for line in &epilogue {
        output += &run(&mut scenario, line);
    }
    if output.contains("SAFETY VIOLATION") {
        return Err(output);
    }
    if output.contains("error") {
        return Err(format!(
            "liveness: no stable leader {LIVENESS_BOUND} after healing: {output}"
        ));
    }
    let cluster = scenario.cluster_ref().unwrap();
    let operations = raftbook_core::sim::history::check_linearizable(cluster)?;
    let leader = cluster.leader().expect("stable");
    let watch_events =
        raftbook_core::sim::history::check_watch_streams(cluster, leader, b"k", b"l")?;
    let mut acknowledged = 0;
    for request in cluster.requests().values() {
        if let Outcome::Done {
            index,
            response: Response::Put(_) | Response::Txn(_) | Response::DeleteRange(_),
            ..
        } = request.outcome
        {
            acknowledged += 1;
            for id in cluster.node_ids() {
                let Some(node) = cluster.node(id) else {
                    return Err(format!("liveness: n{id} is down after healing"));
                };
                let applied = node.applied();
                if applied < index {
                    return Err(format!(
                        "liveness: n{id} applied {applied}, acknowledged request #{} is at {index}",
                        request.id
                    ));
                }
            }
        }
    }
    Ok(Totals {
        acknowledged,
        operations,
        watch_events,
    })
}

/// What one run checked.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    /// Writes acknowledged to clients (each checked to be applied on every node).
    acknowledged: usize,
    /// Client operations in the linearizability check.
    operations: usize,
    /// Watch events checked against the store's history.
    watch_events: usize,
}

/// What kind of failure a run ended in: the property violated, a panic, or liveness.
fn kind(why: &str) -> &str {
    if let Some(rest) = why.split("SAFETY VIOLATION: ").nth(1) {
        return rest.split(" violated").next().unwrap_or(rest);
    }
    why.split(':').next().unwrap_or(why)
}

/// Removes chunks of actions, largest first, while the run still fails the same way.
fn shrink(setup: &str, mut actions: Vec<String>, failure: &str) -> Vec<String> {
    let same = |candidate: &[String]| {
        check(setup, candidate).is_err_and(|f| kind(&f.why) == kind(failure))
    };
    let mut chunk = actions.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < actions.len() {
            let mut candidate = actions.clone();
            candidate.drain(start..(start + chunk).min(candidate.len()));
            if same(&candidate) {
                actions = candidate;
            } else {
                start += chunk;
            }
        }
        chunk /= 2;
    }
    actions
}

/// A failing seed, shrunk: its reproduction as a script and as a playground link.
fn reproduce(seed: u64, setup: &str, actions: Vec<String>, failure: &str) -> String {
    let shortest = shrink(setup, actions, failure);
    let Failure { script, why } = check(setup, &shortest).expect_err("the shrunk run still fails");
    let link = Link::from_script(&script)
        .map(|link| link.fragment())
        .unwrap_or_else(|e| e);
    format!(
        "seed {seed} fails: {failure}\n\nshortest reproduction ({} actions), as a scenario script \
         (`cargo xtask console FILE`):\n{}\n\nwhich fails with: {why}\n\nin the playground: \
         http://127.0.0.1:8080/#{link}",
        shortest.len(),
        script.join("\n"),
    )
}

fn chaos_seeds() -> u64 {
    std::env::var("CHAOS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEEDS)
}

#[test]
fn random_faults_never_break_safety_or_liveness() {
    let seeds = chaos_seeds();
    // Panics are caught and reported with the shrunk reproduction; keep stderr readable.
    std::panic::set_hook(Box::new(|_| {}));
    let mut total = Totals::default();
    for seed in 1..=seeds {
        let (setup, actions) = random_script(seed, Faults::Survivable);
        match check(&setup, &actions) {
            Ok(totals) => {
                total.acknowledged += totals.acknowledged;
                total.operations += totals.operations;
                total.watch_events += totals.watch_events;
            }
            Err(Failure { why, .. }) => {
                let report = reproduce(seed, &setup, actions, &why);
                drop(std::panic::take_hook()); // back to the default hook, to print this:
                panic!("{report}");
            }
        }
    }
    drop(std::panic::take_hook());
    // The test is only as good as its load: writes must get through (many are refused
    // without a leader, time out, or are lost with crashed nodes).
    let Totals {
        acknowledged,
        operations,
        watch_events,
    } = total;
    assert!(
        acknowledged > seeds as usize,
        "only {acknowledged} writes acknowledged in {seeds} seeds"
    );
    assert!(
        watch_events > seeds as usize,
        "only {watch_events} watch events in {seeds} seeds"
    );
    eprintln!(
        "chaos: {seeds} seeds; {acknowledged} acknowledged writes checked on every node; \
         {operations} client operations checked linearizable; {watch_events} watch events checked"
    );
}

/// The violation a script ends with, run line by line as `cargo xtask console FILE` runs it.
fn violation_of_script(script: &[String]) -> Option<Violation> {
    let mut scenario = Scenario::new();
    for (number, line) in script.iter().enumerate() {
        scenario.run_line(line, number + 1);
    }
    scenario.cluster_ref()?.violation().cloned()
}

/// The violation a playground link shows, opened as the page opens it: read the fragment,
/// replay its actions, play to its moment.
fn violation_of_link(fragment: &str) -> Option<Violation> {
    let link = Link::parse(fragment)
        .expect("a link we printed")
        .expect("not empty");
    let mut console = Console::replay(&link.setup, link.actions).expect("its set-up line");
    console.advance_to(link.time);
    console.cluster().violation().cloned()
}

/// Broken nodes must be caught: members that lose their disks make the checker fire within
/// a few hundred seeds, and every reproduction it prints, pasted back into the console or
/// opened as a link, fails with the same violation at the same moment.
#[test]
fn wiped_disks_are_caught_and_their_reproductions_fail_the_same_way() {
    std::panic::set_hook(Box::new(|_| {}));
    let mut caught = Vec::new();
    for seed in 1..=300 {
        let (setup, actions) = random_script(seed, Faults::WipedDisks);
        let Err(Failure { script, why }) = check(&setup, &actions) else {
            continue;
        };
        if !why.contains("SAFETY VIOLATION") {
            continue; // a wiped member may also just stall the cluster; we want the checker
        }
        let shortest = shrink(&setup, actions, &why);
        let Failure { script: shrunk, .. } = check(&setup, &shortest).expect_err("still fails");
        caught.push((seed, script, shrunk));
        if caught.len() == 3 {
            break;
        }
    }
    drop(std::panic::take_hook());
    assert_eq!(
        caught.len(),
        3,
        "wiping disks broke no safety property the checker saw in 300 seeds"
    );
    for (seed, script, shrunk) in caught {
        for script in [script, shrunk] {
            let pasted = violation_of_script(&script);
            let pasted = pasted
                .unwrap_or_else(|| panic!("seed {seed}: the script passes\n{}", script.join("\n")));
            let link = Link::from_script(&script).unwrap().fragment();
            let opened = violation_of_link(&link);
            let opened = opened
                .unwrap_or_else(|| panic!("seed {seed}: the link passes\n{}", script.join("\n")));
            let same = |v: &Violation| (v.property, v.detail.clone(), v.time);
            assert_eq!(
                same(&opened),
                same(&pasted),
                "seed {seed}: the link fails differently\n{}",
                script.join("\n")
            );
        }
    }
}

/// The link the browser test opens (`web/e2e/playground.test.mjs`): the wiped disk of the
/// golden scenario `16_wiped_disk_breaks_raft.txt`, pinned in a file so the page is shown
/// exactly this run. `UPDATE_GOLDEN=1` rewrites the file.
#[test]
fn the_wiped_disk_link_shows_its_violation() {
    let script: Vec<String> = [
        "cluster nodes=3 seed=1",
        "wait-leader",
        "isolate 3",
        "put x 1",
        "crash 2",
        "wipe 2",
        "restart 2",
        "heal",
        "isolate 1",
        "run 5s",
    ]
    .map(String::from)
    .into();
    let fragment = Link::from_script(&script).unwrap().fragment();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/links/wiped_disk.link");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{fragment}\n")).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        pinned.trim(),
        fragment,
        "{} is stale (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
    let pasted = violation_of_script(&script).expect("the script breaks leader completeness");
    let opened = violation_of_link(&fragment).expect("so does the link");
    assert_eq!(pasted.property, "leader completeness");
    assert_eq!(
        (opened.property, opened.detail, opened.time),
        (pasted.property, pasted.detail, pasted.time)
    );
}
