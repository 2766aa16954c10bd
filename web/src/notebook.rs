//! The notebook pane: a lesson beside the cluster.
//!
//! Running a cell drives the visible cluster, animated at the chosen speed (a core
//! [`CellRunner`] lets time pass a frame at a time and stops where the lesson's script
//! would). "Run all" queues every cell from the current one; "reset to here" replays the
//! cells before a block at once. A prediction must be answered before the next cell runs.
//! An exercise, once started, is checked after every frame and every action, whether the
//! learner clicked or typed; solved exercises and answered predictions are remembered in
//! the browser's local storage.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use raftbook_core::lesson::runner::CellRunner;
use raftbook_core::lesson::{Block, Lesson};
use raftbook_core::scenario::console::Console;
use yew::prelude::*;

use crate::i18n::Lang;
use crate::lesson_files::LessonFile;
use crate::tr;

const SOLVED_KEY: &str = "raftbook.solved";
/// Predictions answered, as `lesson/block=option` lines.
const ANSWERS_KEY: &str = "raftbook.answers";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored_lines(key: &str) -> BTreeSet<String> {
    storage()
        .and_then(|s| s.get_item(key).ok()?)
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn store_lines(key: &str, lines: BTreeSet<String>) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, &lines.into_iter().collect::<Vec<_>>().join("\n"));
    }
}

/// The exercises of `lesson` solved in this browser (stored as `lesson/exercise` lines).
fn stored_solved(lesson: &str) -> BTreeSet<String> {
    stored_lines(SOLVED_KEY)
        .iter()
        .filter_map(|line| {
            line.strip_prefix(lesson)?
                .strip_prefix('/')
                .map(str::to_string)
        })
        .collect()
}

fn remember_solved(lesson: &str, exercise: &str) {
    let mut solved = stored_lines(SOLVED_KEY);
    if solved.insert(format!("{lesson}/{exercise}")) {
        store_lines(SOLVED_KEY, solved);
    }
}

/// This lesson's answered predictions, as stored.
fn stored_answers(lesson: &str) -> BTreeMap<usize, usize> {
    stored_lines(ANSWERS_KEY)
        .iter()
        .filter_map(|line| {
            let (block, option) = line
                .strip_prefix(lesson)?
                .strip_prefix('/')?
                .split_once('=')?;
            Some((block.parse().ok()?, option.parse().ok()?))
        })
        .collect()
}

fn remember_answer(lesson: &str, block: usize, option: usize) {
    let mut answers = stored_lines(ANSWERS_KEY);
    answers.insert(format!("{lesson}/{block}={option}"));
    store_lines(ANSWERS_KEY, answers);
}

pub struct Notebook {
    pub lesson: Lesson,
    /// The edition the lesson is in.
    pub lang: Lang,
    /// Each prose block's HTML (rendered when the playground was built), by block.
    prose: Vec<Option<AttrValue>>,
    /// The block the learner is at (back/next move it).
    pub focus: usize,
    /// The cell being run, and the runner taking its commands.
    running: Option<(usize, CellRunner)>,
    /// Cells queued by "run all".
    queue: VecDeque<usize>,
    pub ran: BTreeSet<usize>,
    /// The option picked for each prediction.
    pub answers: BTreeMap<usize, usize>,
    /// The exercise being attempted.
    pub active: Option<usize>,
    /// The exercise whose conditions are shown ("check my answer").
    pub checking: Option<usize>,
    /// Ids of this lesson's exercises solved in this browser (also in local storage).
    pub solved: BTreeSet<String>,
    pub error: Option<NotebookError>,
}

/// Why the notebook could not do what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum NotebookError {
    /// A cell waits for the prediction before it.
    AnswerFirst,
    /// A command of a cell failed (the scenario language's own words).
    Run(String),
}

impl Notebook {
    pub fn open(file: LessonFile, lang: Lang) -> Notebook {
        let LessonFile { lesson, prose } = file;
        let mut html = prose.iter();
        let prose = lesson
            .blocks
            .iter()
            .map(|b| match b {
                Block::Prose(_) => html.next().cloned(),
                _ => None,
            })
            .collect();
        let (answers, solved) = (stored_answers(&lesson.name), stored_solved(&lesson.name));
        Notebook {
            lesson,
            lang,
            prose,
            focus: 0,
            running: None,
            queue: VecDeque::new(),
            ran: BTreeSet::new(),
            answers,
            active: None,
            checking: None,
            solved,
            error: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The prediction that must be answered before block `index` may run, if any.
    fn unanswered_prediction(&self, index: usize) -> Option<usize> {
        self.lesson
            .prediction_before(index)
            .filter(|p| !self.answers.contains_key(p))
    }

    /// Starts running cell `index` (animated from the next frame on).
    pub fn run_cell(&mut self, index: usize) {
        if let Some(prediction) = self.unanswered_prediction(index) {
            self.focus = prediction;
            self.error = Some(NotebookError::AnswerFirst);
            self.queue.clear();
            return;
        }
        let Block::Cell(cell) = &self.lesson.blocks[index] else {
            return;
        };
        self.error = None;
        self.focus = index;
        self.running = Some((
            index,
            CellRunner::new(cell.commands.iter().map(|(_, c)| c.clone()).collect()),
        ));
    }

    /// Runs every cell from `index` on, one after the other.
    pub fn run_all(&mut self, index: usize) {
        self.queue = (index..self.lesson.blocks.len())
            .filter(|&i| matches!(self.lesson.blocks[i], Block::Cell(_)))
            .collect();
        if let Some(first) = self.queue.pop_front() {
            self.run_cell(first);
        }
    }

    /// Brings the cluster to the state the cells before block `index` leave, at once.
    pub fn reset_to(&mut self, index: usize, console: &mut Console) {
        self.replay(self.lesson.commands_before(index), console);
        self.ran = (0..index)
            .filter(|&i| matches!(self.lesson.blocks[i], Block::Cell(_)))
            .collect();
        self.focus = index;
    }

    /// Sets up exercise `index` and starts checking it.
    pub fn start_exercise(&mut self, index: usize, console: &mut Console) {
        self.replay(self.lesson.exercise_start(index), console);
        self.active = Some(index);
        self.checking = Some(index);
        self.focus = index;
    }

    fn replay(&mut self, commands: Vec<String>, console: &mut Console) {
        self.running = None;
        self.queue.clear();
        let mut runner = CellRunner::new(commands);
        if let Err(error) = runner.advance(console, u64::MAX) {
            self.error = Some(NotebookError::Run(error));
        }
    }

    /// One frame while a cell runs: time may pass up to `until`. Returns whether a cell is
    /// still running.
    pub fn frame(&mut self, console: &mut Console, until: u64) -> bool {
        let Some((index, runner)) = &mut self.running else {
            return false;
        };
        let index = *index;
        if let Err(error) = runner.advance(console, until) {
            self.error = Some(NotebookError::Run(error));
            self.running = None;
            self.queue.clear();
            return false;
        }
        if runner.is_done() {
            self.running = None;
            self.ran.insert(index);
            if let Some(next) = self.queue.pop_front() {
                self.run_cell(next);
            }
        }
        self.running.is_some()
    }

    /// Marks the active exercise solved if its conditions hold now (called every frame, so
    /// an exercise solved already is not checked again).
    pub fn check(&mut self, console: &Console) {
        let Some(index) = self.active else { return };
        let Block::Exercise(exercise) = &self.lesson.blocks[index] else {
            return;
        };
        if self.solved.contains(&exercise.id) {
            return;
        }
        if exercise.checks.iter().all(|c| c.holds(console.cluster())) {
            remember_solved(&self.lesson.name, &exercise.id);
            self.solved.insert(exercise.id.clone());
        }
    }

    /// The learner's answer to the prediction at block `index` (kept in local storage).
    pub fn answer(&mut self, index: usize, option: usize) {
        self.answers.insert(index, option);
        remember_answer(&self.lesson.name, index, option);
        self.error = None;
    }

    pub fn move_focus(&mut self, forward: bool) {
        let last = self.lesson.blocks.len().saturating_sub(1);
        self.focus = if forward {
            (self.focus + 1).min(last)
        } else {
            self.focus.saturating_sub(1)
        };
    }
}

/// What the notebook pane's buttons ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum NotebookAction {
    RunCell(usize),
    RunAll(usize),
    ResetTo(usize),
    Answer(usize, usize),
    StartExercise(usize),
    Check(usize),
    Focus(bool),
    Close,
}

pub fn view(
    notebook: &Notebook,
    console: &Console,
    on: &Callback<NotebookAction>,
    lang: Lang,
) -> Html {
    let button = |label: String, action: NotebookAction, class: &str| {
        let on = on.clone();
        let onclick = Callback::from(move |_: MouseEvent| on.emit(action.clone()));
        html! { <button class={class.to_string()} {onclick}>{label}</button> }
    };
    let blocks = notebook.lesson.blocks.iter().enumerate().map(|(index, block)| {
        let focused = notebook.focus == index;
        let body = match block {
            Block::Prose(_) => Html::from_html_unchecked(notebook.prose[index].clone().unwrap_or_default()),
            Block::Cell(cell) => {
                let running = notebook.running.as_ref().is_some_and(|(i, _)| *i == index);
                let ran = notebook.ran.contains(&index);
                html! {
                    <div class={classes!("cell", running.then_some("running"), ran.then_some("ran"))} data-cell={index.to_string()} data-ran={ran.to_string()}>
                        <pre class="commands">{ cell.commands.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\n") }</pre>
                        <div class="cell-buttons">
                            { button(if running { tr!(lang, "running") } else { tr!(lang, "run") }, NotebookAction::RunCell(index), "run-cell") }
                            { button(tr!(lang, "run-all"), NotebookAction::RunAll(index), "run-all") }
                            { button(tr!(lang, "reset-to"), NotebookAction::ResetTo(index), "reset-to") }
                        </div>
                        <details class="expected"><summary>{tr!(lang, "expected-output")}</summary><pre>{ cell.expected.join("\n") }</pre></details>
                    </div>
                }
            }
            Block::Predict(predict) => {
                let answer = notebook.answers.get(&index);
                let options = predict.options.iter().enumerate().map(|(option, text)| {
                    let class = match answer {
                        Some(_) if option == predict.answer => "right",
                        Some(&picked) if picked == option => "wrong",
                        _ => "",
                    };
                    let on = on.clone();
                    let onclick = Callback::from(move |_: MouseEvent| on.emit(NotebookAction::Answer(index, option)));
                    html! { <li><button class={classes!("option", class)} disabled={answer.is_some()} {onclick}>{text}</button></li> }
                });
                html! {
                    <div class="predict" data-predict={index.to_string()}>
                        <p><b>{tr!(lang, "predict")}</b>{&predict.question}</p>
                        <ul>{ for options }</ul>
                        if let Some(&picked) = answer {
                            <p class="verdict">{ if picked == predict.answer { tr!(lang, "right") } else { tr!(lang, "not-quite") } }{ &predict.why[picked] }{ tr!(lang, "run-next") }</p>
                        }
                    </div>
                }
            }
            Block::RealCluster(session) => html! {
                <div class="real-cluster">
                    <p><b>{tr!(lang, "real-cluster")}</b>{tr!(lang, "real-cluster-how")}</p>
                    <pre>{ session.transcript() }</pre>
                </div>
            },
            Block::Exercise(exercise) => {
                let is_solved = notebook.solved.contains(&exercise.id);
                let active = notebook.active == Some(index);
                let conditions = (notebook.checking == Some(index)).then(|| {
                    let rows = exercise.checks.iter().map(|c| {
                        let holds = c.holds(console.cluster());
                        html! { <li class={if holds { "holds" } else { "unmet" }}>{ if holds { "✔ " } else { "✘ " } }<code>{&c.text}</code></li> }
                    });
                    html! { <ul class="conditions">{ for rows }</ul> }
                });
                html! {
                    <div class={classes!("exercise", is_solved.then_some("solved"), active.then_some("active"))} data-exercise={exercise.id.clone()} data-solved={is_solved.to_string()}>
                        <p><b>{ if is_solved { tr!(lang, "exercise-solved") } else { tr!(lang, "exercise") } }</b>{&exercise.goal}</p>
                        <div class="cell-buttons">
                            { button(if active { tr!(lang, "restart-exercise") } else { tr!(lang, "start-exercise") }, NotebookAction::StartExercise(index), "start-exercise") }
                            { button(tr!(lang, "check-answer"), NotebookAction::Check(index), "check-answer") }
                        </div>
                        { conditions.unwrap_or_default() }
                    </div>
                }
            }
        };
        html! { <div class={classes!("block", focused.then_some("focused"))} id={format!("block-{index}")}>{body}</div> }
    });
    html! {
        <section class="notebook" id="notebook" data-lesson={notebook.lesson.name.clone()} data-running={notebook.is_running().to_string()}>
            <div class="notebook-bar">
                <h2>{&notebook.lesson.title}</h2>
                { button(tr!(lang, "back"), NotebookAction::Focus(false), "back") }
                { button(tr!(lang, "next"), NotebookAction::Focus(true), "next") }
                { button(tr!(lang, "close"), NotebookAction::Close, "close") }
            </div>
            if let Some(error) = &notebook.error {
                <p class="notice">{ match error {
                    NotebookError::AnswerFirst => tr!(lang, "answer-first"),
                    NotebookError::Run(error) => error.clone(),
                } }</p>
            }
            <div class="blocks">{ for blocks }</div>
        </section>
    }
}
