//! Lessons: Markdown notebooks whose cells run on the simulated cluster.
//!
//! A lesson is a Markdown file a teacher can read, diff and write. Besides prose it has
//! four kinds of fenced blocks:
//!
//! ````text
//! ```scenario
//! cluster nodes=3 seed=1
//! wait-leader
//! ---
//! 1418ms n2 became leader (term 2)
//! ```
//!
//! ```predict
//! How many of 5 nodes can crash before writes stop?
//! - one
//!   why: four of five are still a majority
//! * two
//!   why: three of five are a majority; with two gone, writes go on
//! - three
//!   why: two of five are not a majority: writes stop
//! ```
//!
//! ```exercise two-leaders
//! goal: Get two nodes to believe they are leader, in different terms.
//! setup: cluster nodes=5 seed=5 checkquorum=off
//! setup: wait-leader
//! check: leaders >= 2
//! check: leader terms differ
//! not: run 30s
//! not: crash 1; run 30s
//! solution:
//! isolate 1
//! run 3s
//! ```
//!
//! ```real-cluster
//! $ etcdctl put greeting hello
//! OK
//! cluster> kill infra1
//! $ etcdctl --endpoints=127.0.0.1:22379 get greeting
//! greeting
//! hello
//! ```
//! ````
//!
//! - A **cell** holds scenario commands and, under `---`, the output they give: the lesson's
//!   test runs every cell and compares ([`verify`]); `UPDATE_LESSONS=1` rewrites the outputs.
//! - A **prediction** asks a question before the cell that answers it runs; `*` marks the
//!   right answer, and each option's `why:` is shown once the learner picked it.
//! - An **exercise** states a goal and the [`check::Condition`]s that mean it is reached. It
//!   starts from its `setup:` commands, or, without them, from the state the cells before it
//!   leave. Its `solution:` must reach the goal ([`verify`]). Doing nothing must not, nor may
//!   any of its `not:` moves (cheap moves that skip what the goal asks, commands separated by
//!   `;`; at least two): each is run, then 30 s of virtual time pass, with the conditions
//!   checked after every event, as the playground checks them while a learner plays.
//! - A **real-cluster** block is the same idea tried outside the simulator: `cluster>` lines
//!   are typed into `raftbook cluster`'s terminal, `$` lines into a shell, each followed by
//!   what it prints. The server's `real_cluster` test runs every such block against a real
//!   `raftbook cluster` with real etcdctl and compares.

pub mod check;
pub mod runner;

use check::Condition;

use crate::scenario::script;
use crate::scenario::Scenario;

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// The file's name without `.md`: how URLs name the lesson.
    pub name: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Prose(String),
    Cell(Cell),
    Predict(Predict),
    Exercise(Exercise),
    RealCluster(RealCluster),
}

/// A session on a real cluster: what to type where, and what it prints.
#[derive(Clone, Debug, PartialEq)]
pub struct RealCluster {
    /// The line of the opening fence.
    pub line: usize,
    pub steps: Vec<RealStep>,
}

impl RealCluster {
    /// The session as a learner sees it in a terminal.
    pub fn transcript(&self) -> String {
        let mut lines = Vec::new();
        for step in &self.steps {
            match step {
                RealStep::Shell {
                    command, expected, ..
                } => {
                    lines.push(format!("$ {command}"));
                    lines.extend(expected.iter().cloned());
                }
                RealStep::Cluster { input, .. } => lines.push(format!("cluster> {input}")),
            }
        }
        lines.join("\n")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RealStep {
    /// A `$ ` line: a shell command (etcdctl, usually) and the lines it prints.
    Shell {
        line: usize,
        command: String,
        expected: Vec<String>,
    },
    /// A `cluster> ` line: typed into `raftbook cluster`'s terminal (`kill infra2`).
    Cluster { line: usize, input: String },
}

impl RealStep {
    /// The step without its line number, to compare two editions.
    fn unplaced(&self) -> RealStep {
        match self {
            RealStep::Shell {
                command, expected, ..
            } => RealStep::Shell {
                line: 0,
                command: command.clone(),
                expected: expected.clone(),
            },
            RealStep::Cluster { input, .. } => RealStep::Cluster {
                line: 0,
                input: input.clone(),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The line of the opening fence.
    pub line: usize,
    /// Each command with its line.
    pub commands: Vec<(usize, String)>,
    pub expected: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Predict {
    pub line: usize,
    pub question: String,
    pub options: Vec<String>,
    /// Why each option is right or wrong (its `why:` line), shown once the learner picked it.
    pub why: Vec<String>,
    pub answer: usize,
}

/// Every lesson asks at least this many predictions.
pub const MIN_PREDICTIONS: usize = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct Exercise {
    pub line: usize,
    pub id: String,
    pub goal: String,
    pub setup: Vec<String>,
    pub checks: Vec<Condition>,
    /// Moves that must not solve it, each a list of commands, with its line.
    pub not: Vec<(usize, Vec<String>)>,
    pub solution: Vec<String>,
}

/// Where a translated lesson differs from the original in more than its prose: a different
/// cell, expected output, prediction (its number of options or its right answer), exercise
/// (its id, set-up, checks, `not:` moves or solution) or real-cluster session. Empty when the two editions teach the
/// same run, so a learner of either meets the same cluster, questions and checks.
pub fn edition_differences(original: &Lesson, translated: &Lesson) -> Vec<String> {
    let runnable = |lesson: &Lesson| -> Vec<Block> {
        lesson
            .blocks
            .iter()
            .filter(|b| !matches!(b, Block::Prose(_)))
            .cloned()
            .collect()
    };
    let (original_blocks, translated_blocks) = (runnable(original), runnable(translated));
    if original_blocks.len() != translated_blocks.len() {
        return vec![format!(
            "{} cells, predictions and exercises, against {} in the original",
            translated_blocks.len(),
            original_blocks.len()
        )];
    }
    let mut differences = Vec::new();
    for (a, b) in original_blocks.iter().zip(&translated_blocks) {
        let (same, line) = match (a, b) {
            (Block::Cell(a), Block::Cell(b)) => {
                let commands = |c: &Cell| {
                    c.commands
                        .iter()
                        .map(|(_, c)| c.clone())
                        .collect::<Vec<_>>()
                };
                (
                    commands(a) == commands(b) && a.expected == b.expected,
                    b.line,
                )
            }
            (Block::Predict(a), Block::Predict(b)) => (
                a.options.len() == b.options.len() && a.answer == b.answer,
                b.line,
            ),
            (Block::Exercise(a), Block::Exercise(b)) => {
                let moves = |e: &Exercise| e.not.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>();
                let same = a.id == b.id
                    && a.setup == b.setup
                    && a.checks == b.checks
                    && moves(a) == moves(b)
                    && a.solution == b.solution;
                (same, b.line)
            }
            (Block::RealCluster(a), Block::RealCluster(b)) => {
                let steps =
                    |r: &RealCluster| r.steps.iter().map(RealStep::unplaced).collect::<Vec<_>>();
                (steps(a) == steps(b), b.line)
            }
            (_, Block::Cell(Cell { line, .. }))
            | (_, Block::Predict(Predict { line, .. }))
            | (_, Block::Exercise(Exercise { line, .. }))
            | (_, Block::RealCluster(RealCluster { line, .. })) => (false, *line),
            (_, Block::Prose(_)) => (false, 0),
        };
        if !same {
            differences.push(format!(
                "line {line}: this block differs from the original's in more than prose"
            ));
        }
    }
    differences
}

/// How long doing nothing (or a `not:` move) is given to solve an exercise by accident.
pub const IDLE_MS: u64 = 30_000;
/// Every exercise lists at least this many `not:` moves.
pub const MIN_NOT_MOVES: usize = 2;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LessonError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Lesson {
    /// Reads a lesson; `name` is its file name without `.md`.
    pub fn parse(name: &str, text: &str) -> Result<Lesson, LessonError> {
        let error = |line: usize, message: String| LessonError {
            file: format!("{name}.md"),
            line,
            message,
        };
        let mut title = None;
        let mut blocks = Vec::new();
        let mut prose = String::new();
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        while let Some((number, line)) = lines.next() {
            let Some(info) = line
                .trim_end()
                .strip_prefix("```")
                .filter(|info| !info.is_empty())
            else {
                if title.is_none() {
                    if let Some(heading) = line.strip_prefix("# ") {
                        title = Some(heading.trim().to_string());
                        continue;
                    }
                }
                prose.push_str(line);
                prose.push('\n');
                continue;
            };
            let mut body = Vec::new();
            loop {
                match lines.next() {
                    Some((_, l)) if l.trim_end() == "```" => break,
                    Some((n, l)) => body.push((n, l.to_string())),
                    None => {
                        return Err(error(number, "this block is never closed with ```".into()))
                    }
                }
            }
            let (kind, argument) = info.split_once(' ').unwrap_or((info, ""));
            let block = match kind {
                "scenario" => Block::Cell(parse_cell(number, &body)),
                "predict" => {
                    Block::Predict(parse_predict(number, &body).map_err(|m| error(number, m))?)
                }
                "exercise" => Block::Exercise(
                    parse_exercise(number, argument.trim(), &body).map_err(|(l, m)| error(l, m))?,
                ),
                "real-cluster" => Block::RealCluster(
                    parse_real_cluster(number, &body).map_err(|(l, m)| error(l, m))?,
                ),
                // Other code blocks (```text, ```sh) are prose.
                _ => {
                    prose.push_str(line);
                    prose.push('\n');
                    for (_, l) in &body {
                        prose.push_str(l);
                        prose.push('\n');
                    }
                    prose.push_str("```\n");
                    continue;
                }
            };
            if !prose.trim().is_empty() {
                blocks.push(Block::Prose(std::mem::take(&mut prose).trim().to_string()));
            }
            prose.clear();
            blocks.push(block);
        }
        if !prose.trim().is_empty() {
            blocks.push(Block::Prose(prose.trim().to_string()));
        }
        let title =
            title.ok_or_else(|| error(1, "a lesson starts with a `# Title` line".into()))?;
        Ok(Lesson {
            name: name.to_string(),
            title,
            blocks,
        })
    }

    pub fn exercises(&self) -> impl Iterator<Item = &Exercise> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Exercise(e) => Some(e),
            _ => None,
        })
    }

    pub fn real_clusters(&self) -> impl Iterator<Item = &RealCluster> {
        self.blocks.iter().filter_map(|b| match b {
            Block::RealCluster(r) => Some(r),
            _ => None,
        })
    }

    /// The commands of every cell before block `index`.
    pub fn commands_before(&self, index: usize) -> Vec<String> {
        self.blocks[..index]
            .iter()
            .filter_map(|b| match b {
                Block::Cell(cell) => Some(cell.commands.iter().map(|(_, c)| c.clone())),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The prediction that must be answered before cell `index` runs, if any: the nearest
    /// block before it that is not prose. The page gates cells by it; [`verify`] checks each
    /// prediction gates the cell after it.
    pub fn prediction_before(&self, index: usize) -> Option<usize> {
        let previous = (0..index)
            .rev()
            .find(|&i| !matches!(self.blocks[i], Block::Prose(_)))?;
        matches!(self.blocks[previous], Block::Predict(_)).then_some(previous)
    }

    /// The commands that set an exercise's starting state: its own set-up, or the cells
    /// before it.
    pub fn exercise_start(&self, index: usize) -> Vec<String> {
        match &self.blocks[index] {
            Block::Exercise(exercise) if !exercise.setup.is_empty() => exercise.setup.clone(),
            _ => self.commands_before(index),
        }
    }
}

fn parse_cell(line: usize, body: &[(usize, String)]) -> Cell {
    let split = body
        .iter()
        .position(|(_, l)| l.trim() == "---")
        .unwrap_or(body.len());
    let commands = body[..split]
        .iter()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .cloned()
        .collect();
    let expected = body
        .get(split + 1..)
        .unwrap_or_default()
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    Cell {
        line,
        commands,
        expected,
    }
}

fn parse_predict(line: usize, body: &[(usize, String)]) -> Result<Predict, String> {
    let mut question = Vec::new();
    let mut options = Vec::new();
    let mut why: Vec<String> = Vec::new();
    let mut answer = None;
    for (_, text) in body {
        if let Some(option) = text.strip_prefix("- ") {
            options.push(option.trim().to_string());
            why.push(String::new());
        } else if let Some(option) = text.strip_prefix("* ") {
            answer = Some(options.len());
            options.push(option.trim().to_string());
            why.push(String::new());
        } else if let (Some(reason), Some(last)) =
            (text.trim_start().strip_prefix("why:"), why.last_mut())
        {
            *last = reason.trim().to_string();
        } else if options.is_empty() {
            question.push(text.trim());
        } else if !text.trim().is_empty() {
            return Err(format!(
                "after the options, only more options (`- …`, `* …`) and their `why:` lines: {text:?}"
            ));
        }
    }
    let answer = answer.ok_or("mark the right option with `* `")?;
    if options.len() < 2 {
        return Err("a prediction needs two options or more".into());
    }
    Ok(Predict {
        line,
        question: question.join(" ").trim().to_string(),
        options,
        why,
        answer,
    })
}

fn parse_exercise(
    line: usize,
    id: &str,
    body: &[(usize, String)],
) -> Result<Exercise, (usize, String)> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err((line, format!("an exercise needs an id of letters, digits and dashes: ```exercise my-id (got {id:?})")));
    }
    let mut exercise = Exercise {
        line,
        id: id.to_string(),
        goal: String::new(),
        setup: Vec::new(),
        checks: Vec::new(),
        not: Vec::new(),
        solution: Vec::new(),
    };
    let mut in_solution = false;
    for (number, text) in body {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        if in_solution {
            exercise.solution.push(trimmed.to_string());
        } else if let Some(goal) = trimmed.strip_prefix("goal:") {
            exercise.goal = goal.trim().to_string();
        } else if let Some(setup) = trimmed.strip_prefix("setup:") {
            exercise.setup.push(setup.trim().to_string());
        } else if let Some(check) = trimmed.strip_prefix("check:") {
            exercise
                .checks
                .push(Condition::parse(check.trim()).map_err(|m| (*number, m))?);
        } else if let Some(moves) = trimmed.strip_prefix("not:") {
            let commands: Vec<String> = moves
                .split(';')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            exercise.not.push((*number, commands));
        } else if trimmed == "solution:" {
            in_solution = true;
        } else {
            return Err((
                *number,
                format!("expected goal:, setup:, check:, not: or solution:, got {trimmed:?}"),
            ));
        }
    }
    if exercise.goal.is_empty() || exercise.checks.is_empty() || exercise.solution.is_empty() {
        return Err((
            line,
            "an exercise needs a goal:, at least one check: and a solution:".into(),
        ));
    }
    Ok(exercise)
}

fn parse_real_cluster(
    line: usize,
    body: &[(usize, String)],
) -> Result<RealCluster, (usize, String)> {
    let mut steps = Vec::new();
    for (number, text) in body {
        if let Some(command) = text.strip_prefix("$ ") {
            steps.push(RealStep::Shell {
                line: *number,
                command: command.trim().to_string(),
                expected: Vec::new(),
            });
        } else if let Some(input) = text.strip_prefix("cluster> ") {
            steps.push(RealStep::Cluster {
                line: *number,
                input: input.trim().to_string(),
            });
        } else if let Some(RealStep::Shell { expected, .. }) = steps.last_mut() {
            expected.push(text.clone());
        } else {
            return Err((
                *number,
                format!("output must follow a `$ ` command, got {text:?}"),
            ));
        }
    }
    if steps.is_empty() {
        return Err((
            line,
            "a real-cluster block needs `$ ` or `cluster> ` lines".into(),
        ));
    }
    Ok(RealCluster { line, steps })
}

/// Runs commands on a scenario, returning everything they printed.
fn run_commands(scenario: &mut Scenario, commands: &[String]) -> String {
    commands
        .iter()
        .map(|line| scenario.run_line(line, 0))
        .collect()
}

/// Whether every condition holds.
fn solved(checks: &[Condition], cluster: &crate::sim::Cluster) -> bool {
    checks.iter().all(|c| c.holds(cluster))
}

/// Runs `moves` on the exercise's starting cluster, then lets [`IDLE_MS`] pass, checking the
/// conditions after every command and every event: whether the exercise was solved at any
/// moment, as the playground would have marked it.
fn solved_by(lesson: &Lesson, index: usize, exercise: &Exercise, moves: &[String]) -> bool {
    let mut attempt = Scenario::new();
    run_commands(&mut attempt, &lesson.exercise_start(index));
    for command in moves {
        attempt.run_line(command, 0);
        if attempt
            .cluster_ref()
            .is_some_and(|c| solved(&exercise.checks, c))
        {
            return true;
        }
    }
    let Some(cluster) = attempt.cluster().ok() else {
        return false;
    };
    cluster.run_until(IDLE_MS, |c| solved(&exercise.checks, c))
}

/// Runs a lesson natively: every cell must print its expected output, every exercise's
/// solution must reach its goal, and doing nothing must not. Also returns each cell's
/// actual output (for `UPDATE_LESSONS`).
pub fn verify(lesson: &Lesson) -> (Vec<LessonError>, Vec<Vec<String>>) {
    let file = format!("{}.md", lesson.name);
    let error = |line: usize, message: String| LessonError {
        file: file.clone(),
        line,
        message,
    };
    let mut errors = Vec::new();
    let mut outputs = Vec::new();
    let mut scenario = Scenario::new();
    for (index, block) in lesson.blocks.iter().enumerate() {
        match block {
            Block::Cell(cell) => {
                let mut output = String::new();
                // A cell may break Raft on purpose (lesson 16 wipes a disk): then its expected
                // output, written by the lesson's author, shows the violation.
                let breaks_on_purpose = cell
                    .expected
                    .iter()
                    .any(|e| e.starts_with("SAFETY VIOLATION"));
                let violated =
                    |s: &Scenario| s.cluster_ref().is_some_and(|c| c.violation().is_some());
                for (line, command) in &cell.commands {
                    let violated_before = violated(&scenario);
                    let printed = scenario.run_line(command, *line);
                    let newly_violated = !violated_before && violated(&scenario);
                    if newly_violated && !breaks_on_purpose
                        || printed.starts_with("error:")
                            && !cell.expected.iter().any(|e| e.starts_with("error:"))
                    {
                        errors.push(error(
                            *line,
                            format!("`{command}` failed: {}", printed.trim()),
                        ));
                    }
                    output.push_str(&printed);
                }
                let actual = script::format_output(&output);
                if actual != cell.expected {
                    let (expected, got) = (cell.expected.join("\n"), actual.join("\n"));
                    let difference = script::first_difference(&expected, &got).unwrap_or_default();
                    errors.push(error(cell.line, format!("the cell's output differs (UPDATE_LESSONS=1 rewrites it):\n{difference}")));
                }
                outputs.push(actual);
            }
            Block::Exercise(exercise) => {
                let mut attempt = Scenario::new();
                let mut transcript = run_commands(&mut attempt, &lesson.exercise_start(index));
                if attempt.cluster_ref().is_none() {
                    errors.push(error(
                        exercise.line,
                        "the exercise starts without a cluster (give it `setup: cluster …`)".into(),
                    ));
                    continue;
                }
                if solved_by(lesson, index, exercise, &[]) {
                    errors.push(error(
                        exercise.line,
                        format!(
                            "exercise {} is solved by doing nothing for {} s",
                            exercise.id,
                            IDLE_MS / 1000
                        ),
                    ));
                }
                if exercise.not.len() < MIN_NOT_MOVES {
                    errors.push(error(
                        exercise.line,
                        format!(
                            "exercise {} lists {} `not:` moves; list at least {MIN_NOT_MOVES} cheap moves that must not solve it",
                            exercise.id,
                            exercise.not.len()
                        ),
                    ));
                }
                for (line, moves) in &exercise.not {
                    if solved_by(lesson, index, exercise, moves) {
                        errors.push(error(
                            *line,
                            format!(
                                "exercise {} is solved by a move that must not solve it: {}",
                                exercise.id,
                                moves.join("; ")
                            ),
                        ));
                    }
                }
                transcript.push_str(&run_commands(&mut attempt, &exercise.solution));
                let cluster = attempt.cluster_ref().expect("checked");
                let unmet: Vec<&str> = exercise
                    .checks
                    .iter()
                    .filter(|c| !c.holds(cluster))
                    .map(|c| c.text.as_str())
                    .collect();
                if !unmet.is_empty() {
                    errors.push(error(
                        exercise.line,
                        format!(
                            "the solution of {} leaves unmet: {}\n{transcript}",
                            exercise.id,
                            unmet.join("; ")
                        ),
                    ));
                }
            }
            Block::Predict(predict) => {
                if let Some(option) = predict.why.iter().position(String::is_empty) {
                    errors.push(error(
                        predict.line,
                        format!(
                            "option {} of the prediction has no `why:` line (say why it is right or wrong)",
                            option + 1
                        ),
                    ));
                }
                let next = (index + 1..lesson.blocks.len())
                    .find(|&i| !matches!(lesson.blocks[i], Block::Prose(_)));
                let gates_a_cell = next.is_some_and(|cell| {
                    matches!(lesson.blocks[cell], Block::Cell(_))
                        && lesson.prediction_before(cell) == Some(index)
                });
                if !gates_a_cell {
                    errors.push(error(
                        predict.line,
                        "a prediction goes right before the cell that answers it".into(),
                    ));
                }
            }
            // Real-cluster sessions run in the server's `real_cluster` test, on real processes.
            Block::Prose(_) | Block::RealCluster(_) => {}
        }
    }
    (errors, outputs)
}

/// The lesson's text with each cell's output replaced by `outputs` (in cell order).
pub fn with_outputs(text: &str, lesson: &Lesson, outputs: &[Vec<String>]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let cells: Vec<&Cell> = lesson
        .blocks
        .iter()
        .filter_map(|b| {
            if let Block::Cell(c) = b {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    // From the last cell up, so earlier line numbers stay right.
    for (cell, output) in cells.iter().zip(outputs).rev() {
        let open = cell.line - 1;
        let close = (open + 1..lines.len())
            .find(|&i| lines[i].trim_end() == "```")
            .expect("parsed");
        let separator = (open + 1..close).find(|&i| lines[i].trim() == "---");
        let start = match separator {
            Some(i) => i + 1,
            None => {
                lines.insert(close, "---".into());
                close + 1
            }
        };
        let end = (start..lines.len())
            .find(|&i| lines[i].trim_end() == "```")
            .expect("parsed");
        lines.splice(start..end, output.iter().cloned());
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const LESSON: &str = "# T\n\nProse.\n\n```scenario\ncluster nodes=3 seed=1\nwait-leader\n---\nwrong output\n```\n\n```exercise e1\ngoal: a leader\ncheck: leaders >= 1\nsolution:\nwait-leader\n```\n";

    #[test]
    fn a_broken_lesson_is_reported_with_its_line() {
        let lesson = Lesson::parse("broken", LESSON).unwrap();
        assert_eq!(lesson.blocks.len(), 3);
        let (errors, outputs) = verify(&lesson);
        assert_eq!(
            outputs,
            vec![vec!["1418ms n2 became leader (term 2)".to_string()]]
        );
        // The cell's output is wrong (line 5); the exercise is solved before anything is
        // done, since the cells before it already elected a leader, and lists no `not:`
        // moves (line 12).
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 12, 12], "{errors:?}");
        assert!(errors[0]
            .to_string()
            .starts_with("broken.md:5: the cell's output differs"));
    }

    /// An exercise that waiting or a listed cheap move solves is reported, with the line.
    #[test]
    fn dishonest_exercises_are_reported() {
        let exercise = |check: &str, not: &str| {
            format!("# T\n```exercise e\ngoal: g\nsetup: cluster nodes=3 seed=1\ncheck: {check}\n{not}solution:\ncrash 2\n```\n")
        };
        let errors = |text: &str| verify(&Lesson::parse("x", text).unwrap()).0;

        // A leader appears by itself: doing nothing for 30 s solves it.
        let waited = errors(&exercise("leaders >= 1", "not: crash 3\nnot: crash 1\n"));
        assert!(
            waited[0]
                .message
                .contains("solved by doing nothing for 30 s"),
            "{waited:?}"
        );

        // `crash 1` is listed as a move that must not solve it, but does (line 6).
        let cheap = errors(&exercise("nodes down >= 1", "not: crash 1\nnot: run 1s\n"));
        assert_eq!(cheap.len(), 1, "{cheap:?}");
        assert_eq!(cheap[0].line, 6);
        assert!(cheap[0]
            .message
            .contains("a move that must not solve it: crash 1"));

        // Honest: neither waiting nor the listed moves solve it; the solution does.
        let honest = errors(&exercise(
            "nodes down >= 1",
            "not: run 1s\nnot: heal; run 5s\n",
        ));
        assert!(honest.is_empty(), "{honest:?}");
    }

    #[test]
    fn bad_blocks_name_their_line() {
        let unclosed = Lesson::parse("x", "# T\n```scenario\nrun 1s\n").unwrap_err();
        assert_eq!(
            (unclosed.line, unclosed.message.contains("never closed")),
            (2, true)
        );
        let bad_check = Lesson::parse(
            "x",
            "# T\n```exercise e\ngoal: g\ncheck: pigs fly\nsolution:\nrun 1s\n```\n",
        )
        .unwrap_err();
        assert_eq!(bad_check.line, 4);
        let no_answer = Lesson::parse("x", "# T\n```predict\nQ?\n- a\n- b\n```\n").unwrap_err();
        assert!(no_answer.message.contains("right option"));
        assert!(Lesson::parse("x", "no title").is_err());
    }

    #[test]
    fn outputs_are_written_back_into_the_cells() {
        let lesson = Lesson::parse("x", LESSON).unwrap();
        let text = with_outputs(LESSON, &lesson, &[vec!["new".into()]]);
        assert!(text.contains("wait-leader\n---\nnew\n```"), "{text}");
        assert_eq!(Lesson::parse("x", &text).unwrap().blocks.len(), 3);
    }

    #[test]
    fn editions_may_differ_in_prose_only() {
        let english = "# 1. Quorum\n\nProse.\n\n```predict\nWhat happens?\n- fails\n  why: no\n* works\n  why: yes\n```\n\n```scenario\ncluster nodes=3 seed=1\n---\nout\n```\n\n```exercise e1\ngoal: a leader\ncheck: leaders >= 1\nnot: run 1s\nnot: crash 1\nsolution:\nwait-leader\n```\n\n```real-cluster\n$ etcdctl put a 1\nOK\ncluster> kill infra1\n```\n";
        let translate = |text: &str| {
            text.replace("Quorum", "法定人数")
                .replace("Prose.", "正文。")
                .replace("What happens?", "会发生什么？")
                .replace("goal: a leader", "goal: 选出领导者")
                .replace("why: no", "why: 不对")
        };
        let parse = |text: &str| Lesson::parse("l", text).expect("parses");
        let original = parse(english);
        assert!(edition_differences(&original, &parse(&translate(english))).is_empty());
        for (what, changed) in [
            (
                "an expected output",
                english.replace("---\nout", "---\nother"),
            ),
            ("a command", english.replace("seed=1", "seed=2")),
            (
                "the right answer",
                english
                    .replace("- fails", "* fails")
                    .replace("* works", "- works"),
            ),
            ("a check", english.replace("leaders >= 1", "leaders >= 2")),
            (
                "a not: move",
                english.replace("not: crash 1", "not: crash 2"),
            ),
            (
                "the solution",
                english.replace("\nwait-leader\n", "\nrun 3s\n"),
            ),
            ("a whole block", english.replace("```scenario", "```text")),
            (
                "a real-cluster output",
                english.replace("put a 1\nOK", "put a 1\nERROR"),
            ),
            (
                "a real-cluster step",
                english.replace("kill infra1", "kill infra2"),
            ),
        ] {
            assert!(
                !edition_differences(&original, &parse(&translate(&changed))).is_empty(),
                "a translation with {what} changed passed"
            );
        }
    }

    #[test]
    fn a_real_cluster_session_is_steps_with_their_output() {
        let text = "# T\n\n```real-cluster\ncluster> kill infra1\n$ etcdctl get a\na\n1\n```\n";
        let lesson = Lesson::parse("t", text).expect("parses");
        let session = lesson.real_clusters().next().expect("a session");
        assert_eq!(
            session.steps,
            vec![
                RealStep::Cluster {
                    line: 4,
                    input: "kill infra1".into()
                },
                RealStep::Shell {
                    line: 5,
                    command: "etcdctl get a".into(),
                    expected: vec!["a".into(), "1".into()]
                },
            ]
        );
        assert_eq!(
            session.transcript(),
            "cluster> kill infra1\n$ etcdctl get a\na\n1"
        );
        // Output with no command before it is a mistake, named with its line.
        let error = Lesson::parse("t", "# T\n\n```real-cluster\nOK\n```\n").unwrap_err();
        assert_eq!((error.line, error.file.as_str()), (4, "t.md"));
    }
}
