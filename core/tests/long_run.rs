//! An hour-long run must not hold millions of trace events: the trace keeps the latest
//! [`KEPT_EVENTS`] and, for the checks that look back over the whole run, the facts they need.
//! Here a split vote, a crash and a snapshot sent to a lagging member happen early, then a
//! busy cluster runs until their events have long left the trace, and the facts still tell.

use raftbook_core::scenario::console::Console;
use raftbook_core::sim::trace::{KEPT_EVENTS, LET_GO_BATCH};

/// The split vote of `scenarios/03_split_vote.txt`, then a member down while the others move
/// on past two snapshots, then back and sent one.
fn eventful_start() -> Console {
    let mut console = Console::new(
        "cluster nodes=4 seed=1 prevote=off checkquorum=off snapshot-interval=50 catchup=2",
    )
    .expect("a cluster");
    for line in [
        "net latency=40ms",
        "link 1->3 latency=5ms",
        "link 2->4 latency=5ms",
        "campaign 1",
        "campaign 2",
    ] {
        console.act(line);
    }
    console.advance_to(console.now() + 200);
    console.act("net latency=10ms");
    console.advance_to(console.now() + 3_000);
    console.act("crash 3");
    console.act("load 200");
    console.advance_to(console.now() + 2_000);
    console.act("restart 3");
    console.advance_to(console.now() + 2_000);
    console
}

/// What the checks read, as text.
fn facts(console: &Console) -> String {
    let cluster = console.cluster();
    let facts = cluster.trace().facts();
    format!(
        "split vote {}, snapshot installed {}, down over time {:?}, first leader {:?}, \
         term of index 5 {:?}",
        facts.split_vote_before(cluster.highest_term()),
        facts.snapshot_installed(),
        facts.down_over_time(),
        facts.leaders().first(),
        facts.applied_term(5),
    )
}

#[test]
fn what_happened_early_is_still_known_after_its_events_leave_the_trace() {
    let mut console = eventful_start();
    let early = facts(&console);
    assert!(
        early.starts_with("split vote true, snapshot installed true, down over time [(0, 0), ("),
        "{early}"
    );
    let eventful_until = console.cluster().trace().len();
    while console.cluster().trace().first_kept() <= eventful_until {
        console.advance_to(console.now() + 5_000);
    }
    let trace = console.cluster().trace();
    assert!(trace.events().count() < KEPT_EVENTS + LET_GO_BATCH);
    assert!(trace.len() > eventful_until + KEPT_EVENTS);
    assert_eq!(facts(&console), early);
    // Positions still count from the run's start; what is gone is simply not there.
    assert_eq!(trace.since(0).next(), trace.events().next());

    // The same seed and actions give the same kept events and the same facts.
    let mut again = eventful_start();
    again.advance_to(console.now());
    assert_eq!(again.cluster().trace().hash(), trace.hash());
    assert_eq!(again.cluster().trace().len(), trace.len());
    assert_eq!(facts(&again), early);
}
