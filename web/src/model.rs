//! The playground's state: a core [`Console`] and the clock that drives it.
//!
//! Virtual time advances only while playing: each animation frame moves it on by the real
//! time elapsed times the speed. Going back in time restores the nearest earlier checkpoint
//! of the run and replays from there ([`Timeline`]; the simulator is deterministic, so the
//! past comes back exactly); acting there forks a new future. The URL fragment holds nodes, seed, time and actions, so a
//! copied URL replays the same run.
//!
//! A link to a late moment would take seconds to replay, so the page opens at the run's start
//! and catches up in slices, a few milliseconds of each animation frame, showing how far it
//! got ([`Playground::catching_up`]). Meanwhile the page answers (panels, language, help), but
//! the run's own controls wait: acting before the linked moment would fork the run there.

use raftbook_core::lesson::{Block, Lesson};
use raftbook_core::scenario::console::Console;
use raftbook_core::scenario::link::Link;
use raftbook_core::scenario::timeline::Timeline;

use crate::i18n::Lang;
use crate::lesson_files::LessonFile;
use crate::notebook::{Notebook, NotebookAction};
use crate::tr;

pub const SPEEDS: [f64; 9] = [0.01, 0.05, 0.25, 1.0, 2.0, 5.0, 10.0, 25.0, 100.0];
pub const DEFAULT_SPEED: usize = 3;

pub struct Playground {
    pub console: Console,
    /// The furthest moment this run has reached (the scrubber's end).
    pub present: u64,
    pub playing: bool,
    pub speed: usize,
    /// The node whose details are shown.
    pub selected: u64,
    /// Where console commands go (0: the leader).
    pub target: u64,
    /// Virtual milliseconds owed but not yet run (time moves in whole milliseconds).
    owed: f64,
    /// An error to show, e.g. a URL that could not be read.
    pub notice: Option<Notice>,
    /// The open lesson, if any.
    pub notebook: Option<Notebook>,
    /// The page's language (and the lessons').
    pub lang: Lang,
    /// Messages jump instead of fly, timers are numbers (the learner's or the system's
    /// `prefers-reduced-motion`).
    pub reduce_motion: bool,
    /// The keyboard help is open.
    pub show_help: bool,
    /// What a screen reader is told, newest last (a polite live region reads them).
    pub announcements: Vec<String>,
    /// Trace events already announced, and the highest commit announced.
    announced: (usize, u64),
    /// A link's moment still being replayed to (see the module docs).
    pub catching_up: Option<CatchUp>,
    /// Checkpoints of this run, for going back in time.
    timeline: Timeline,
    /// The lessons fetched so far, and a lesson waiting for them (see [`Lessons`]).
    lessons: Lessons,
}

/// Each language's lessons, fetched from beside the page after it has painted
/// ([`lesson_files`](crate::lesson_files)).
#[derive(Default)]
struct Lessons {
    fetched: Vec<(Lang, Vec<LessonFile>)>,
    /// Editions asked for (arrived, on their way, or failed: a failure is not asked again).
    asked: Vec<Lang>,
    /// A lesson, and an exercise in it, to open when the page's edition arrives: a `lesson=`
    /// link, or a lesson picked before then.
    waiting: Option<(String, Option<String>)>,
}

/// A replay under way, in slices between frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CatchUp {
    /// The virtual moment to reach.
    pub to: u64,
    /// Virtual milliseconds replayed per slice: grown or shrunk so that a slice takes about
    /// [`CATCH_UP_BUDGET_MS`] of real time, whatever the run's load.
    step: u64,
}

/// Real milliseconds of each animation frame spent replaying a link: enough to replay fast,
/// little enough that the page keeps painting and answering between slices (at about 30
/// frames a second).
pub const CATCH_UP_BUDGET_MS: f64 = 25.0;

/// How many announcements the live region keeps.
const ANNOUNCEMENTS_KEPT: usize = 4;

/// Something the page could not do, said in the page's language.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    NoExercise { id: String, lesson: String },
    NoLesson(String),
    LessonsUnavailable(String),
    LinkUnreadable(String),
    LinkUnreplayable(String),
}

impl Notice {
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Notice::NoExercise { id, lesson } => tr!(lang, "no-exercise", id = id, lesson = lesson),
            Notice::NoLesson(lesson) => tr!(lang, "no-lesson", lesson = lesson),
            Notice::LessonsUnavailable(error) => tr!(lang, "lessons-unavailable", error = error),
            Notice::LinkUnreadable(error) => tr!(lang, "link-unreadable", error = error),
            Notice::LinkUnreplayable(error) => tr!(lang, "link-unreplayable", error = error),
        }
    }
}

impl Playground {
    pub fn new(nodes: usize, seed: u64) -> Playground {
        Self::with_setup(&format!("cluster nodes={nodes} seed={seed}"))
            .expect("nodes checked by the caller")
    }

    /// A fresh run on the cluster a `cluster …` line describes.
    pub fn with_setup(setup: &str) -> Result<Playground, String> {
        let console = Console::new(setup)?;
        Ok(Playground {
            console,
            present: 0,
            playing: false,
            speed: DEFAULT_SPEED,
            selected: 1,
            target: 0,
            owed: 0.0,
            notice: None,
            notebook: None,
            lang: Lang::default(),
            reduce_motion: false,
            show_help: false,
            announcements: Vec::new(),
            announced: (0, 0),
            catching_up: None,
            timeline: Timeline::default(),
            lessons: Lessons::default(),
        })
    }

    /// A run from a URL fragment such as `setup=cluster%20nodes%3D5&t=2500&actions=…`
    /// (`nodes=5&seed=7` is short for a plain set-up), shown in `lang`. A fragment that cannot
    /// be read gives a fresh run and says why.
    pub fn from_fragment(fragment: &str, lang: Lang) -> Playground {
        Playground {
            lang,
            ..Self::from_fragment_alone(fragment, lang)
        }
    }

    fn from_fragment_alone(fragment: &str, lang: Lang) -> Playground {
        // `lesson=04-partitions[&exercise=two-leaders]` opens a lesson (and starts an exercise).
        let param = |key: &str| {
            fragment
                .trim_start_matches('#')
                .split('&')
                .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        if let Some(name) = param("lesson") {
            let mut playground = Playground::new(5, 1);
            playground.lang = lang;
            playground.open_lesson(&name, param("exercise").as_deref());
            return playground;
        }
        match Link::parse(fragment) {
            Ok(None) => Playground::new(5, 1),
            Ok(Some(Link {
                setup,
                time,
                actions,
            })) => match Console::replay(&setup, actions) {
                Ok(console) => {
                    let time = time.max(console.last_action_time());
                    let mut playground = Playground::new(5, 1);
                    playground.console = console;
                    playground.present = time;
                    playground.catching_up = Some(CatchUp {
                        to: time,
                        step: 100,
                    });
                    playground
                }
                Err(error) => Playground {
                    notice: Some(Notice::LinkUnreplayable(error)),
                    ..Playground::new(5, 1)
                },
            },
            Err(error) => Playground {
                notice: Some(Notice::LinkUnreadable(error)),
                ..Playground::new(5, 1)
            },
        }
    }

    /// The URL fragment for this run (or open lesson), with the page's language.
    pub fn fragment(&self) -> String {
        format!("{}&lang={}", self.run_fragment(), self.lang.code())
    }

    fn run_fragment(&self) -> String {
        if let Some(notebook) = &self.notebook {
            let exercise = notebook
                .active
                .and_then(|i| match &notebook.lesson.blocks[i] {
                    raftbook_core::lesson::Block::Exercise(e) => {
                        Some(format!("&exercise={}", e.id))
                    }
                    _ => None,
                });
            return format!(
                "lesson={}{}",
                notebook.lesson.name,
                exercise.unwrap_or_default()
            );
        }
        let link = Link {
            setup: self.console.setup().to_string(),
            time: self.console.now(),
            actions: self.console.actions().to_vec(),
        };
        link.fragment()
    }

    pub fn now(&self) -> u64 {
        self.console.now()
    }

    /// Whether animation frames should come: playing, or catching up with a link.
    pub fn animating(&self) -> bool {
        self.playing || self.catching_up.is_some()
    }

    /// Plays or pauses (not while catching up with a link: see the module docs).
    pub fn toggle_play(&mut self) {
        if self.catching_up.is_none() {
            self.playing = !self.playing;
        }
    }

    /// Replays one frame's slice of a link, for about [`CATCH_UP_BUDGET_MS`] by `clock` (real
    /// milliseconds; core has no clock, the page passes `performance.now`).
    pub fn catch_up(&mut self, clock: &dyn Fn() -> f64) {
        let Some(mut catch_up) = self.catching_up else {
            return;
        };
        let start = clock();
        while self.now() < catch_up.to {
            let slice_start = clock();
            self.console
                .advance_to((self.now() + catch_up.step).min(catch_up.to));
            self.timeline.record(&self.console);
            // Aim each slice at a quarter of the budget, so one never overshoots it by much.
            let took = clock() - slice_start;
            if took < CATCH_UP_BUDGET_MS / 8.0 {
                catch_up.step *= 2;
            } else if took > CATCH_UP_BUDGET_MS / 2.0 {
                catch_up.step = (catch_up.step / 2).max(1);
            }
            if clock() - start >= CATCH_UP_BUDGET_MS {
                break;
            }
        }
        self.catching_up = (self.now() < catch_up.to).then_some(catch_up);
        self.nothing_to_announce();
        self.check_exercise();
    }

    /// One animation frame, `real_ms` after the last.
    pub fn frame(&mut self, real_ms: f64) {
        if !self.playing {
            return;
        }
        // Cap the step: a tab in the background comes back with a huge gap.
        self.owed += real_ms.min(100.0) * SPEEDS[self.speed];
        let whole = self.owed.floor();
        if whole >= 1.0 {
            self.owed -= whole;
            let until = self.now() + whole as u64;
            match &mut self.notebook {
                // A lesson cell is running: it moves time, and pauses when it is done.
                Some(notebook) if notebook.is_running() => {
                    if !notebook.frame(&mut self.console, until) {
                        self.playing = false;
                    }
                    // A cell acts at this moment: the run's future starts here.
                    self.present = self.now();
                    self.timeline.forget_after(self.now());
                }
                _ => {
                    self.console.advance_to(until);
                    self.present = self.present.max(until);
                }
            }
            self.timeline.record(&self.console);
        }
        self.check_exercise();
    }

    fn check_exercise(&mut self) {
        if let Some(notebook) = &mut self.notebook {
            notebook.check(&self.console);
        }
        self.announce();
    }

    /// Puts what happened since the last look into words for screen readers: new leaders,
    /// commits, crashes, restarts, pauses, network changes, a safety violation. At high speed
    /// only the latest few are kept, as a polite reader would skip the rest anyway.
    fn announce(&mut self) {
        use raftbook_core::node::{NodeEvent, Role};
        use raftbook_core::sim::trace::TraceKind;
        let lang = self.lang;
        let cluster = self.console.cluster();
        let trace = cluster.trace();
        let (from, mut committed) = self.announced;
        let mut said = Vec::new();
        for event in trace.since(from) {
            let line = match &event.what {
                TraceKind::Node {
                    node,
                    event:
                        NodeEvent::RoleChanged {
                            role: Role::Leader,
                            term,
                            ..
                        },
                } => tr!(lang, "announce-leader", id = node, term = term),
                TraceKind::Node {
                    event: NodeEvent::Committed { index },
                    ..
                } if *index > committed => {
                    committed = *index;
                    tr!(lang, "announce-committed", index = index)
                }
                TraceKind::Crash { node, .. } => tr!(lang, "announce-crash", id = node),
                TraceKind::Restart { node } => tr!(lang, "announce-restart", id = node),
                TraceKind::Pause { node } => tr!(lang, "announce-pause", id = node),
                TraceKind::Resume { node } => tr!(lang, "announce-resume", id = node),
                TraceKind::Network { state } => tr!(lang, "announce-network", state = state),
                _ => continue,
            };
            said.push(line);
        }
        if trace.len() > from {
            if let Some(violation) = cluster.violation() {
                said.push(tr!(lang, "announce-violation", detail = violation));
            }
        }
        self.announced = (trace.len(), committed);
        if !said.is_empty() {
            self.announcements.extend(said);
            let extra = self.announcements.len().saturating_sub(ANNOUNCEMENTS_KEPT);
            self.announcements.drain(..extra);
        }
    }

    /// This language's lessons: none until they have arrived.
    pub fn catalogue(&self) -> impl Iterator<Item = &Lesson> {
        let lessons = self.edition(self.lang).unwrap_or_default();
        lessons.iter().map(|file| &file.lesson)
    }

    fn edition(&self, lang: Lang) -> Option<&[LessonFile]> {
        let (_, lessons) = self.lessons.fetched.iter().find(|(l, _)| *l == lang)?;
        Some(lessons)
    }

    /// The edition the page shows and has not asked for yet: the page fetches it, and hands
    /// it to [`Playground::edition_arrived`].
    pub fn edition_to_fetch(&mut self) -> Option<Lang> {
        let lang = self.lang;
        (!self.lessons.asked.contains(&lang)).then(|| {
            self.lessons.asked.push(lang);
            lang
        })
    }

    /// `lang`'s lessons arrived (or could not be fetched: the page says why). The lesson
    /// waiting for them opens, or the open one turns to the page's language.
    pub fn edition_arrived(&mut self, lang: Lang, fetched: Result<Vec<LessonFile>, String>) {
        match fetched {
            Ok(lessons) => self.lessons.fetched.push((lang, lessons)),
            Err(error) => {
                self.lessons.waiting = None;
                self.notice = Some(Notice::LessonsUnavailable(error));
                return;
            }
        }
        if lang != self.lang {
            return;
        }
        if let Some((name, exercise)) = self.lessons.waiting.take() {
            self.open_lesson(&name, exercise.as_deref());
        } else if self.notebook.as_ref().is_some_and(|n| n.lang != lang) {
            self.set_lang(lang);
        }
    }

    /// The lesson waiting for its edition to arrive, if any.
    pub fn lesson_waiting(&self) -> Option<&str> {
        self.lessons.waiting.as_ref().map(|(name, _)| name.as_str())
    }

    /// Opens lesson `name`, and starts its exercise `exercise` if given; if this language's
    /// lessons have not arrived yet, as soon as they do.
    pub fn open_lesson(&mut self, name: &str, exercise: Option<&str>) {
        let Some(catalogue) = self.edition(self.lang) else {
            self.lessons.waiting = Some((name.to_string(), exercise.map(str::to_string)));
            return;
        };
        let Some(lesson) = catalogue.iter().find(|l| l.lesson.name == name).cloned() else {
            self.notice = Some(Notice::NoLesson(name.to_string()));
            return;
        };
        self.notebook = Some(Notebook::open(lesson, self.lang));
        self.notice = None;
        let Some(id) = exercise else {
            return;
        };
        let index = self.notebook.as_ref().and_then(|notebook| {
            notebook
                .lesson
                .blocks
                .iter()
                .position(|b| matches!(b, Block::Exercise(e) if e.id == id))
        });
        match index {
            Some(index) => self.notebook_action(NotebookAction::StartExercise(index)),
            None => {
                self.notice = Some(Notice::NoExercise {
                    id: id.to_string(),
                    lesson: name.to_string(),
                })
            }
        }
    }

    /// Shows the page, and the open lesson, in `lang`. The lesson opens again in the other
    /// edition at the same block (both editions have the same blocks, cells and answers),
    /// once that edition has arrived.
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        let (Some(open), Some(catalogue)) = (&self.notebook, self.edition(lang)) else {
            return;
        };
        if let Some(lesson) = catalogue.iter().find(|l| l.lesson.name == open.lesson.name) {
            let mut notebook = Notebook::open(lesson.clone(), lang);
            notebook.focus = open
                .focus
                .min(notebook.lesson.blocks.len().saturating_sub(1));
            notebook.ran = open.ran.clone();
            notebook.active = open.active;
            notebook.checking = open.checking;
            self.notebook = Some(notebook);
        }
    }

    pub fn notebook_action(&mut self, action: NotebookAction) {
        let Some(notebook) = &mut self.notebook else {
            return;
        };
        if self.catching_up.is_some()
            && !matches!(action, NotebookAction::Focus(_) | NotebookAction::Close)
        {
            return;
        }
        // Resetting to a cell or starting an exercise builds a new run; running cells acts at
        // this moment, which starts the run's future here.
        if matches!(
            action,
            NotebookAction::ResetTo(_) | NotebookAction::StartExercise(_)
        ) {
            self.timeline = Timeline::default();
        } else {
            self.timeline.forget_after(self.console.now());
        }
        match action {
            NotebookAction::RunCell(index) => {
                notebook.run_cell(index);
                self.playing = notebook.is_running();
            }
            NotebookAction::RunAll(index) => {
                notebook.run_all(index);
                self.playing = notebook.is_running();
            }
            NotebookAction::ResetTo(index) => {
                notebook.reset_to(index, &mut self.console);
                self.playing = false;
            }
            NotebookAction::StartExercise(index) => {
                notebook.start_exercise(index, &mut self.console);
                self.playing = false;
            }
            NotebookAction::Answer(index, option) => notebook.answer(index, option),
            NotebookAction::Check(index) => notebook.checking = Some(index),
            NotebookAction::Focus(forward) => notebook.move_focus(forward),
            NotebookAction::Close => self.notebook = None,
        }
        self.present = self.now();
        self.check_exercise();
    }

    /// Runs to the next event (a message arriving, a node's tick).
    pub fn run_next_event(&mut self) {
        if self.catching_up.is_some() {
            return;
        }
        self.playing = false;
        self.console.run_next_event();
        self.present = self.present.max(self.now());
        self.check_exercise();
    }

    pub fn act(&mut self, line: &str) {
        if self.catching_up.is_some() {
            return;
        }
        self.console.act(line);
        // Acting in the past forks: this moment is the new present.
        self.present = self.now();
        self.timeline.forget_after(self.now());
        self.check_exercise();
    }

    /// Shows the run at virtual time `time`, between 0 and the present.
    pub fn scrub(&mut self, time: u64) {
        if self.catching_up.is_some() {
            return;
        }
        let time = time.min(self.present);
        if self.now() == self.present {
            self.timeline.keep(&self.console);
        }
        // The nearest checkpoint at or before `time`, if going back, or if it is ahead of us.
        // With none before `time` and going back, replay from the start.
        match self.timeline.restore(time, self.console.actions()) {
            Some(checkpoint) if time < self.now() || checkpoint.now() > self.now() => {
                self.console = checkpoint;
            }
            None if time < self.now() => {
                let actions = self.console.actions().to_vec();
                self.console =
                    Console::replay(self.console.setup(), actions).expect("replaying our own run");
            }
            _ => {}
        }
        self.console.advance_to(time);
        self.timeline.record(&self.console);
        self.nothing_to_announce();
    }

    /// What the run did up to now was replayed, not lived: the live region says none of it.
    fn nothing_to_announce(&mut self) {
        let cluster = self.console.cluster();
        self.announced = (cluster.trace().len(), cluster.max_committed());
    }

    pub fn restart(&mut self, nodes: usize, seed: u64) {
        let (speed, lang, reduce_motion) = (self.speed, self.lang, self.reduce_motion);
        let lessons = std::mem::take(&mut self.lessons);
        *self = Playground::new(nodes, seed);
        self.speed = speed;
        self.lang = lang;
        self.reduce_motion = reduce_motion;
        self.lessons = Lessons {
            waiting: None,
            ..lessons
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A run under load, shared at `t`.
    fn link(t: u64) -> String {
        let mut console = Console::new("cluster nodes=3 seed=2").expect("a cluster");
        console.act("load 20");
        console.advance_to(1000);
        console.act("put shared yes");
        Link {
            setup: console.setup().to_string(),
            time: t,
            actions: console.actions().to_vec(),
        }
        .fragment()
    }

    #[test]
    fn a_link_replays_in_slices_to_the_same_run() {
        let mut playground = Playground::from_fragment(&link(20_000), Lang::default());
        assert_eq!(playground.now(), 0, "the page opens at the start");
        assert_eq!(playground.present, 20_000);
        // A clock that moves 5 ms each time it is read: a frame holds a few slices.
        let clock = Cell::new(0.0);
        let tick = || {
            clock.set(clock.get() + 5.0);
            clock.get()
        };
        let mut slices = 0;
        while playground.catching_up.is_some() {
            let before = playground.now();
            // The run's controls wait meanwhile.
            playground.toggle_play();
            playground.act("crash 1");
            playground.scrub(0);
            assert!(!playground.playing);
            assert_eq!(
                playground.console.actions().len(),
                2,
                "nothing forked the link"
            );
            playground.catch_up(&tick);
            assert!(playground.now() > before, "each slice moves on");
            slices += 1;
        }
        assert!(
            slices > 1,
            "a 20 s run under load takes more than one slice"
        );
        assert_eq!(playground.now(), 20_000);

        let mut at_once = Console::replay(
            playground.console.setup(),
            playground.console.actions().to_vec(),
        )
        .expect("replays");
        at_once.advance_to(20_000);
        assert_eq!(
            at_once.cluster().trace().hash(),
            playground.console.cluster().trace().hash(),
            "slices give the run a replay at once gives"
        );
        assert_eq!(at_once.lines(), playground.console.lines());
        playground.toggle_play();
        assert!(playground.playing, "the controls are back");
    }
}
