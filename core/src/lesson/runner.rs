//! Running a lesson's cells in the playground, animated.
//!
//! The playground's [`Console`] never blocks, but a cell is a little script: `put` waits for
//! its answer, `run 3s` lets three seconds pass, `wait-leader` waits for a leader. A
//! [`CellRunner`] takes the cell's commands one at a time and, for each wait, lets time pass
//! only as far as the frame allows, so the learner sees it happen at the chosen speed. Each
//! wait stops at exactly the event a script would stop at ([`Wait`]), so the visible cluster
//! reaches the state the lesson's printed output shows.

use std::collections::VecDeque;

use crate::scenario::commands::DEFAULT_WAIT_MS;
use crate::scenario::console::Console;
use crate::scenario::wait::{Until, Wait};
use crate::scenario::CommandLine;

#[derive(Default)]
pub struct CellRunner {
    queue: VecDeque<String>,
    waiting: Option<Wait>,
}

impl CellRunner {
    pub fn new(commands: Vec<String>) -> CellRunner {
        CellRunner {
            queue: commands.into(),
            waiting: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.waiting.is_none()
    }

    /// Carries on with the commands, letting virtual time pass no further than `until`.
    /// A `cluster …` command starts a new console.
    pub fn advance(&mut self, console: &mut Console, until: u64) -> Result<(), String> {
        loop {
            if let Some(wait) = self.waiting {
                let limit = wait.deadline.min(until);
                let finished = match wait.until {
                    Until::Time => {
                        console.advance_to(limit);
                        console.now() >= wait.deadline
                    }
                    _ => {
                        console.advance_until(limit, |c| wait.done(c))
                            || console.now() >= wait.deadline
                    }
                };
                if !finished {
                    return Ok(());
                }
                self.waiting = None;
            }
            let Some(line) = self.queue.pop_front() else {
                return Ok(());
            };
            self.start(console, &line)?;
        }
    }

    /// Takes one command: acts on the console, and notes what to wait for.
    fn start(&mut self, console: &mut Console, line: &str) -> Result<(), String> {
        let command = CommandLine::parse(line, 0).map_err(|e| e.message)?;
        if command.name == "cluster" {
            *console = Console::new(line)?;
            return Ok(());
        }
        if let Some(wait) = Wait::of(&command, console.cluster())? {
            console.note(line);
            self.waiting = Some(wait);
            return Ok(());
        }
        // A request command (etcdctl's, or propose/read/membership) waits for its answer.
        if let Some(id) = console.act(line) {
            // As in a script: `wait=` or the scripts' default.
            let wait_ms = command.wait_ms()?.unwrap_or(DEFAULT_WAIT_MS);
            self.waiting = Some(Wait {
                until: Until::Answered(id),
                deadline: console.now() + wait_ms,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    /// The animated run, a frame at a time, ends where the script run ends.
    #[test]
    fn a_cell_run_in_frames_reaches_the_scripts_state() {
        let cell = [
            "cluster nodes=5 seed=4",
            "wait-leader",
            "put a 1",
            "crash 2",
            "run 1500ms",
            "put b 2 node=3",
            "get a",
            "stabilize",
        ];
        let mut scenario = Scenario::new();
        for line in cell {
            scenario.run_line(line, 0);
        }
        let mut console = Console::new("cluster nodes=3 seed=99").unwrap();
        let mut runner = CellRunner::new(cell.iter().map(|s| s.to_string()).collect());
        let mut frames = 0;
        while !runner.is_done() {
            let until = console.now() + 16;
            runner.advance(&mut console, until).unwrap();
            frames += 1;
        }
        assert!(frames > 100, "animated over many frames");
        let (script, animated) = (scenario.cluster_ref().unwrap(), console.cluster());
        assert_eq!(animated.now(), script.now());
        assert_eq!(animated.view(), script.view());
        assert_eq!(
            animated.server(1).unwrap().store(),
            script.server(1).unwrap().store()
        );
    }
}
