//! Checkpoints of a run, for time travel.
//!
//! Going back in time means showing the run as it was at an earlier moment. The simulator is
//! deterministic, so replaying the actions from the seed gets there exactly, but the cost
//! grows with the run: minutes of replay for an hour-long one. So the playground keeps
//! copies of the whole [`Console`] (cluster, clients, checkers, trace) as the run goes, and
//! goes back by restoring the nearest earlier copy and replaying only from there.
//!
//! A copy is cheap because everything that grows with the run lives in persistent collections
//! (`im`): a copy shares them with the original, and only what changes afterwards is copied,
//! a piece at a time. Still, each checkpoint ends up owning about a megabyte of pieces (a
//! 5-node cluster at 50 puts a second), so their number is bounded: past
//! [`MAX_CHECKPOINTS`], every other one goes and the spacing doubles. The checkpoints stay
//! evenly spread over the whole run, so any moment is at most one spacing of replay away.
//!
//! The trace is the exception. It keeps only its latest events, but a checkpoint would keep
//! the ones of its own moment alive, and checkpoints spread over the whole run would keep the
//! whole run's. So checkpoints keep no events: the timeline keeps the trace of the run as far
//! as it went, and a restored checkpoint takes its events from there (the same run has the
//! same events up to the checkpoint). A checkpoint older than the run's oldest kept event comes
//! back with none before it, and gains the ones it replays; its length and facts are whole.

use crate::scenario::console::{Console, TimedAction};
use crate::sim::trace::Trace;

/// The most checkpoints kept: an hour-long run keeps one every 4 virtual seconds, so a scrub
/// replays at most 4 s (about 20 ms in the browser at 50 puts a second; 8 s took up to 77).
/// Each checkpoint owns about 0.6 MiB of pieces at 50 puts a second.
pub const MAX_CHECKPOINTS: usize = 960;

/// The spacing of a new run's checkpoints, in virtual milliseconds.
pub const FIRST_SPACING_MS: u64 = 1000;

#[derive(Clone)]
pub struct Timeline {
    /// Copies of the console, oldest first, at least `spacing` apart, without trace events.
    checkpoints: Vec<Console>,
    spacing: u64,
    /// The run's trace, as far as it went since the latest checkpoint.
    trace: Trace,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            checkpoints: Vec::new(),
            spacing: FIRST_SPACING_MS,
            trace: Trace::default(),
        }
    }
}

impl Timeline {
    /// Offers the run as it is now: kept if it is a spacing past the last checkpoint.
    ///
    /// Between checkpoints, the timeline still takes the run's trace as it is now (the
    /// checkpoints before this moment need only the events they share with it). The trace
    /// lets go of its oldest events as it grows; held from the last checkpoint, they would
    /// all be freed at once when the next one replaced it: with 9 nodes at 200 puts/s and 10x,
    /// about 2 ms in every sixth frame, which taking the trace at every offer spreads out.
    pub fn record(&mut self, console: &Console) {
        let last = self.checkpoints.last().map(Console::now);
        if last.is_none_or(|last| console.now() >= last + self.spacing) {
            self.keep(console);
        } else if last.is_some_and(|last| console.now() >= last) {
            self.trace = console.cluster().trace().clone();
        }
    }

    /// Keeps the run as it is now, however close to the last checkpoint (if later than it):
    /// for the present, when the learner leaves it to look back, so that coming back costs
    /// no replay at all.
    pub fn keep(&mut self, console: &Console) {
        if self
            .checkpoints
            .last()
            .is_some_and(|last| last.now() >= console.now())
        {
            return;
        }
        self.trace = console.cluster().trace().clone();
        self.checkpoints.push(console.without_trace_events());
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Keep the first (the run's start) and every other one after it.
            let mut index = 0;
            self.checkpoints.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.spacing *= 2;
        }
    }

    /// The run at the latest checkpoint at or before `time`, ready to replay on from there
    /// taking `actions`: the run's actions as they are now (a checkpoint holds those known
    /// when it was taken; the ones before it are the same, as checkpoints after a fork are
    /// forgotten).
    pub fn restore(&self, time: u64, actions: &[TimedAction]) -> Option<Console> {
        let at = self.checkpoints.partition_point(|c| c.now() <= time);
        let mut console = self.checkpoints[at.checked_sub(1)?].with_trace_events_of(&self.trace);
        console.set_actions(actions.to_vec());
        Some(console)
    }

    /// Forgets the checkpoints after `time`: the run took another course from there. (The
    /// run's trace stays until the next checkpoint replaces it: up to `time`, the two courses
    /// share their events.)
    pub fn forget_after(&mut self, time: u64) {
        let keep = self.checkpoints.partition_point(|c| c.now() <= time);
        self.checkpoints.truncate(keep);
    }

    /// How many checkpoints are kept.
    pub fn len(&self) -> usize {
        self.checkpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.checkpoints.is_empty()
    }

    /// The virtual milliseconds between checkpoints now.
    pub fn spacing(&self) -> u64 {
        self.spacing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // That a checkpoint is left alone by the run going on, and that a restored one runs on
    // exactly as the run did, is tested natively and in WASM in `core/tests/determinism.rs`.

    #[test]
    fn checkpoints_stay_bounded_and_spread_over_the_whole_run() {
        let mut console = Console::new("cluster nodes=3 seed=1").expect("a cluster");
        let mut timeline = Timeline::default();
        let end = 3 * MAX_CHECKPOINTS as u64 * FIRST_SPACING_MS;
        for t in (0..=end).step_by(250) {
            console.advance_to(t);
            timeline.record(&console);
        }
        assert!(timeline.len() <= MAX_CHECKPOINTS);
        assert_eq!(timeline.spacing(), 4 * FIRST_SPACING_MS);
        // Any moment has a checkpoint at most one spacing (and one recording step) before it.
        for t in (0..=end).step_by(777) {
            let restored = timeline.restore(t, &[]).expect("a checkpoint");
            assert!(t - restored.now() < timeline.spacing() + 250, "at {t}");
        }
    }

    #[test]
    fn checkpoints_keep_no_trace_events_and_get_them_back_from_the_run() {
        let mut console = Console::new("cluster nodes=3 seed=1").expect("a cluster");
        console.act("load 50");
        let mut timeline = Timeline::default();
        let mut at_3s = None;
        for t in (0..=6_000).step_by(500) {
            console.advance_to(t);
            timeline.record(&console);
            if t == 3_000 {
                at_3s = Some(console.clone());
            }
        }
        assert!(timeline
            .checkpoints
            .iter()
            .all(|c| c.cluster().trace().events().next().is_none()));
        let restored = timeline.restore(3_000, console.actions()).unwrap();
        let original = at_3s.unwrap();
        assert_eq!(restored.now(), 3_000);
        let (restored, original) = (restored.cluster().trace(), original.cluster().trace());
        assert!(original.len() > 1_000);
        assert_eq!(restored.len(), original.len());
        assert_eq!(restored.hash(), original.hash());
        assert_eq!(restored.facts(), original.facts());
    }

    #[test]
    fn offering_a_moment_scrubbed_back_to_keeps_every_checkpoints_events() {
        let mut console = Console::new("cluster nodes=3 seed=1").expect("a cluster");
        console.act("load 50");
        let mut timeline = Timeline::default();
        let mut originals = Vec::new();
        for t in (0..=6_700).step_by(100) {
            console.advance_to(t);
            timeline.record(&console);
            if t % FIRST_SPACING_MS == 0 {
                originals.push(console.clone());
            }
        }
        // Scrubbed back to before the last checkpoint, and to just after it (where the
        // timeline takes the trace of the moment shown, which ends before the run's present).
        for back in [4_200, 6_200] {
            let mut earlier = timeline.restore(back, console.actions()).unwrap();
            earlier.advance_to(back);
            timeline.record(&earlier);
            for original in &originals {
                let restored = timeline.restore(original.now(), console.actions()).unwrap();
                assert_eq!(restored.now(), original.now());
                let (restored, original) = (restored.cluster().trace(), original.cluster().trace());
                assert_eq!(restored.hash(), original.hash(), "after offering {back}");
            }
        }
    }

    #[test]
    fn forgetting_after_a_fork() {
        let mut console = Console::new("cluster nodes=3 seed=1").expect("a cluster");
        let mut timeline = Timeline::default();
        for t in (0..=5_000).step_by(500) {
            console.advance_to(t);
            timeline.record(&console);
        }
        timeline.forget_after(2_500);
        assert_eq!(timeline.restore(5_000, &[]).map(|c| c.now()), Some(2_000));
    }
}
