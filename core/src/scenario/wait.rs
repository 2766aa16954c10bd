//! The commands that let time pass (`run`, `tick`, `deliver`, `stabilize`, `wait-leader`),
//! as [`Wait`]s: run until a moment, or until something holds, with a deadline.
//!
//! A script runs a wait to its end at once ([`Wait::run`]); the playground runs a lesson's
//! waits a frame at a time, animated. Both stop at exactly the same event, so a lesson run in
//! the browser reaches the same state as its golden output says.

use super::parse::{duration_ms, CommandLine};
use crate::sim::Cluster;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Every event up to the deadline.
    Time,
    /// Some node is leader.
    Leader,
    /// One leader that every member follows, all logs applied.
    Stable,
    /// Client request `id` is answered.
    Answered(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    pub until: Until,
    pub deadline: u64,
}

impl Wait {
    /// The wait a time-passing command asks for; `None` for any other command.
    pub fn of(command: &CommandLine, cluster: &Cluster) -> Result<Option<Wait>, String> {
        let bind = |known: &[&str]| command.bind(known);
        let now = cluster.now();
        let (until, after) = match command.name.as_str() {
            "run" => (
                Until::Time,
                bind(&[])?.one("a duration such as 2s", duration_ms)?,
            ),
            "tick" => {
                let args = bind(&[])?;
                let ticks = if args.words.is_empty() {
                    1
                } else {
                    args.one("a number of ticks", |w| {
                        w.parse::<u64>()
                            .map_err(|_| format!("expected a number, got {w:?}"))
                    })?
                };
                (Until::Time, ticks * cluster.config().tick_ms)
            }
            "deliver" => {
                bind(&[])?;
                let last = cluster
                    .in_flight()
                    .map(|m| m.arrives_at)
                    .max()
                    .unwrap_or(now);
                (Until::Time, last.saturating_sub(now))
            }
            "stabilize" => (
                Until::Stable,
                bind(&["timeout"])?.option_or("timeout", 30_000, duration_ms)?,
            ),
            "wait-leader" => (
                Until::Leader,
                bind(&["timeout"])?.option_or("timeout", 10_000, duration_ms)?,
            ),
            _ => return Ok(None),
        };
        Ok(Some(Wait {
            until,
            deadline: now + after,
        }))
    }

    pub fn done(&self, cluster: &Cluster) -> bool {
        match self.until {
            Until::Time => cluster.now() >= self.deadline,
            Until::Leader => cluster.leader().is_some(),
            Until::Stable => cluster.is_stable(),
            Until::Answered(id) => cluster.is_answered(id),
        }
    }

    /// Runs the wait to its end. Returns an error if it ended at the deadline unmet.
    pub fn run(&self, cluster: &mut Cluster) -> Result<(), String> {
        let limit = self.deadline.saturating_sub(cluster.now());
        match self.until {
            Until::Time => {
                cluster.run_until_time(self.deadline);
                Ok(())
            }
            _ => {
                let wait = *self;
                if cluster.run_until(limit, move |c| wait.done(c)) {
                    Ok(())
                } else {
                    Err(self.unmet(limit))
                }
            }
        }
    }

    /// What to say when the deadline passed first.
    pub fn unmet(&self, limit: u64) -> String {
        match self.until {
            Until::Leader => format!("no leader after {limit}ms"),
            Until::Stable => format!("not stable after {limit}ms"),
            Until::Time | Until::Answered(_) => String::new(),
        }
    }
}
