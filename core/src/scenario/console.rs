//! The playground's console: the scenario language with time flowing by itself.
//!
//! In a golden script, `put foo bar` waits for its answer. In the playground time is the
//! learner's to play, pause or step, so a [`Console`] never blocks: commands are *actions*
//! taken at a moment of virtual time, requests are answered (and printed) when the cluster
//! gets there, and watch output streams in as it arrives.
//!
//! The whole run is its `cluster …` set-up line (nodes, seed, settings) plus the list of
//! timed actions. Replaying that list into a
//! fresh console gives the same run (the simulator is deterministic), which is how the
//! playground goes back in time, and how a URL shares a run. Acting at an earlier moment
//! forks: the actions after it are dropped and a new future begins.

use serde::Serialize;

use super::commands::{self, Reply, Started};
use super::{CommandLine, Scenario};
use crate::etcd::api::{PutRequest, Request};
use crate::sim::Cluster;

/// The line to act on when the learner picked member `target` in the console's drop-down
/// (0: the leader). A command sent to one member (etcdctl's, `propose`, `read`, …) goes to
/// `target` unless it names a member itself; any other command (`crash 2`) goes as typed.
pub fn route(line: &str, target: u64) -> String {
    let Ok(command) = CommandLine::parse(line, 0) else {
        return line.to_string();
    };
    let name = command.name.as_str();
    let sent_to_one_member =
        commands::ETCDCTL.contains(&name) || commands::TARGETED.contains(&name);
    let names_a_member = command
        .words
        .iter()
        .any(|(word, quoted)| !quoted && word.starts_with("node="));
    if target == 0 || !sent_to_one_member || names_a_member {
        line.to_string()
    } else {
        format!("{} node={target}", line.trim_end())
    }
}

/// One user action: a scenario command line taken at a moment of virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimedAction {
    pub at: u64,
    pub line: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    /// What the learner typed (or clicked).
    CommandLine,
    /// An answer, as etcdctl prints it.
    Output,
    /// Something the cluster did: a new leader, a watch event.
    Event,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsoleLine {
    pub at: u64,
    pub kind: LineKind,
    pub text: String,
}

#[derive(Clone)]
pub struct Console {
    /// The `cluster …` command that made the cluster.
    setup: String,
    scenario: Scenario,
    actions: Vec<TimedAction>,
    /// Actions before this index have been taken (the rest wait for their time to come).
    taken: usize,
    /// Everything printed, in a persistent vector (`im`) that a copy of the console shares.
    lines: im::Vector<ConsoleLine>,
    /// Requests waiting for their answer, and how to print it.
    waiting: Vec<(u64, Reply)>,
    /// Background client load: puts per virtual second, and when the next one goes.
    load: Option<(u64, u64)>,
    load_count: u64,
    /// A `txn -i` reading the lines typed after it.
    txn_input: Option<TxnInput>,
}

/// `txn -i`, as etcdctl reads it: compares, then success requests, then failure requests,
/// one a line, each list ended by an empty line, each announced by etcdctl's prompt.
#[derive(Clone)]
struct TxnInput {
    /// The lists read so far; the last is being read.
    lists: Vec<Vec<String>>,
    /// The member the transaction goes to (`node=`), or the leader.
    node: Option<u64>,
    style: crate::etcd::etcdctl::Style,
}

/// etcdctl's prompts for each list of `txn -i`.
const TXN_PROMPTS: [&str; 3] = [
    "compares:",
    "success requests (get, put, del):",
    "failure requests (get, put, del):",
];

impl Console {
    /// A console on a new cluster made by `setup`, a `cluster nodes=5 seed=7 …` line.
    pub fn new(setup: &str) -> Result<Console, String> {
        Self::replay(setup, Vec::new())
    }

    /// A console that will take `actions` as time reaches each one.
    pub fn replay(setup: &str, actions: Vec<TimedAction>) -> Result<Console, String> {
        let setup = setup.trim().to_string();
        if !setup.starts_with("cluster") {
            return Err(format!(
                "a run starts with a `cluster …` line, not {setup:?}"
            ));
        }
        let mut scenario = Scenario::new();
        let created = scenario.run_line(&setup, 0);
        if !created.is_empty() {
            return Err(created.trim_start_matches("error: ").trim().to_string());
        }
        Ok(Console {
            setup,
            scenario,
            actions,
            taken: 0,
            lines: im::Vector::new(),
            waiting: Vec::new(),
            load: None,
            load_count: 0,
            txn_input: None,
        })
    }

    pub fn setup(&self) -> &str {
        &self.setup
    }

    pub fn nodes(&self) -> usize {
        self.cluster().config().nodes
    }

    pub fn seed(&self) -> u64 {
        self.cluster().config().seed
    }

    pub fn now(&self) -> u64 {
        self.cluster().now()
    }

    pub fn cluster(&self) -> &Cluster {
        self.scenario
            .cluster
            .as_ref()
            .expect("a console always has a cluster")
    }

    /// A copy of this console whose trace keeps no events (see [`super::timeline`]).
    pub fn without_trace_events(&self) -> Console {
        let mut copy = self.clone();
        let trace = copy.cluster().trace().without_events();
        copy.cluster_mut().set_trace(trace);
        copy
    }

    /// A copy of this console (made by [`Console::without_trace_events`]) with its trace's
    /// events taken from `run`, the trace of the same run later on.
    pub fn with_trace_events_of(&self, run: &crate::sim::trace::Trace) -> Console {
        let mut copy = self.clone();
        let trace = copy.cluster().trace().with_events_of(run);
        copy.cluster_mut().set_trace(trace);
        copy
    }

    pub fn lines(&self) -> &im::Vector<ConsoleLine> {
        &self.lines
    }

    pub fn actions(&self) -> &[TimedAction] {
        &self.actions
    }

    /// Puts per virtual second of the background load (0: none).
    pub fn load_rate(&self) -> u64 {
        self.load.map_or(0, |(rate, _)| rate)
    }

    /// The time of the last action: a replay must get at least this far.
    pub fn last_action_time(&self) -> u64 {
        self.actions.last().map_or(0, |a| a.at)
    }

    /// Takes an action now. Actions recorded for later moments (we are looking at the past)
    /// are dropped first: a new future begins here. Returns the id of the request the action
    /// started, if it started one that is not answered yet.
    pub fn act(&mut self, line: &str) -> Option<u64> {
        self.actions.truncate(self.taken);
        self.actions.push(TimedAction {
            at: self.now(),
            line: line.trim().to_string(),
        });
        self.take_due_actions()
    }

    /// Replaces the recorded actions with `actions`, of which those already taken must be
    /// the same: for a console restored from a checkpoint of this run
    /// ([`crate::scenario::timeline`]), which takes the rest as their time comes.
    pub fn set_actions(&mut self, actions: Vec<TimedAction>) {
        debug_assert_eq!(
            actions.get(..self.taken),
            Some(&self.actions[..self.taken]),
            "a checkpoint's past actions are the run's"
        );
        self.actions = actions;
    }

    /// Shows a line the console does not act on (a lesson's `run 3s`, say).
    pub fn note(&mut self, line: &str) {
        self.print(LineKind::CommandLine, &format!("> {line}"));
    }

    /// Lets virtual time pass up to `until`, taking recorded actions as their time comes.
    pub fn advance_to(&mut self, until: u64) {
        self.advance(until, true, |_| false);
    }

    /// Runs event by event until `done` holds (checked before each event), but no further
    /// than `until`. Returns whether `done` held. Recorded actions are not taken meanwhile:
    /// this is for running a lesson's cells, which act only at the present.
    pub fn advance_until(&mut self, until: u64, done: impl Fn(&Cluster) -> bool) -> bool {
        self.advance(until, false, done)
    }

    /// The console's one clock. Events run one at a time, so answers and watch events are
    /// printed at the moment they came; time stops at exactly the moment of each recorded
    /// action and each background put, so a replay takes them at the same moments.
    fn advance(&mut self, until: u64, take_actions: bool, done: impl Fn(&Cluster) -> bool) -> bool {
        loop {
            let next_action = self
                .actions
                .get(self.taken)
                .map(|a| a.at)
                .filter(|&at| take_actions && at <= until);
            let next_load = self.load.map(|(_, at)| at).filter(|&at| at <= until);
            let stop = [next_action, next_load, Some(until)]
                .into_iter()
                .flatten()
                .min()
                .expect("until");
            while self.cluster().next_event_time().is_some_and(|t| t <= stop) {
                if done(self.cluster()) {
                    return true;
                }
                if !self.cluster_mut().run_next_event() {
                    return false; // a safety violation stopped the run
                }
                self.collect();
            }
            if done(self.cluster()) {
                return true;
            }
            self.cluster_mut().run_until_time(stop);
            if take_actions {
                self.take_due_actions();
            }
            self.send_load();
            if stop == until {
                return done(self.cluster());
            }
        }
    }

    /// Processes the next scheduled event only (the playground's "step"). A recorded action
    /// or background put due before it is taken first, at exactly its time.
    pub fn run_next_event(&mut self) {
        let Some(at) = self.cluster().next_event_time() else {
            return;
        };
        let next_action = self
            .actions
            .get(self.taken)
            .map(|a| a.at)
            .filter(|&t| t <= at);
        let next_load = self.load.map(|(_, t)| t).filter(|&t| t <= at);
        match next_action.into_iter().chain(next_load).min() {
            Some(time) => self.advance_to(time),
            None => {
                self.cluster_mut().run_next_event();
                self.collect();
                self.take_due_actions();
            }
        }
    }

    fn cluster_mut(&mut self) -> &mut Cluster {
        self.scenario
            .cluster
            .as_mut()
            .expect("a console always has a cluster")
    }

    /// Takes the actions whose time has come; returns the request the last one started.
    fn take_due_actions(&mut self) -> Option<u64> {
        self.collect();
        let mut started = None;
        while let Some(action) = self
            .actions
            .get(self.taken)
            .filter(|a| a.at <= self.now())
            .cloned()
        {
            self.taken += 1;
            started = self.take(&action.line);
        }
        started
    }

    fn print(&mut self, kind: LineKind, text: &str) {
        let at = self.now();
        for line in text.lines() {
            self.lines.push_back(ConsoleLine {
                at,
                kind,
                text: line.to_string(),
            });
        }
    }

    /// Whether the next line typed is input to a command (`txn -i`), not a command: an
    /// empty line counts, and it goes to no member in particular.
    pub fn reading_input(&self) -> bool {
        self.txn_input.is_some()
    }

    /// A line of `txn -i`'s input; once the failure requests end, the transaction goes.
    fn take_txn_input(&mut self, line: &str) -> Option<u64> {
        // Shown as typed, an empty line too (it ends a list).
        self.lines.push_back(ConsoleLine {
            at: self.now(),
            kind: LineKind::CommandLine,
            text: line.to_string(),
        });
        let input = self.txn_input.as_mut().expect("reading a txn");
        if !line.trim().is_empty() {
            input
                .lists
                .last_mut()
                .expect("a list")
                .push(line.trim().to_string());
            return None;
        }
        if input.lists.len() < TXN_PROMPTS.len() {
            let prompt = TXN_PROMPTS[input.lists.len()];
            input.lists.push(Vec::new());
            self.print(LineKind::Output, prompt);
            return None;
        }
        let input = self.txn_input.take().expect("reading a txn");
        let invocation =
            crate::etcd::etcdctl::txn_from_lines(&input.lists[0], &input.lists[1], &input.lists[2])
                .map(|txn| crate::etcd::etcdctl::Invocation {
                    action: crate::etcd::etcdctl::Action::Request(Request::Txn(txn)),
                    style: input.style,
                });
        let started = match invocation {
            Ok(invocation) => commands::send(&mut self.scenario, invocation, input.node),
            Err(error) => Ok(Started::Answered(Err(format!("Error: {error}\n")))),
        };
        self.show_started(started)
    }

    /// Carries out one action; returns the request it started, if one still waits.
    fn take(&mut self, line: &str) -> Option<u64> {
        if self.txn_input.is_some() {
            return self.take_txn_input(line);
        }
        self.print(LineKind::CommandLine, &format!("> {line}"));
        let command = match CommandLine::parse(line, 0) {
            Ok(command) => command,
            Err(error) => {
                self.print(LineKind::Error, &error.message);
                return None;
            }
        };
        let name = command.name.as_str();
        let result: Result<String, Result<String, String>> =
            if commands::TIME_PASSING.contains(&name) || name == "cluster" {
                // In the playground, time is played, not commanded.
                Err(Err(format!(
                    "`{name}` is for scripts: here time flows with play, pause and step"
                )))
            } else if name == "load" {
                self.set_load(&command).map_err(Err)
            } else if commands::is_request(name) {
                let request = commands::start_request(&mut self.scenario, &command);
                return self.show_started(request);
            } else {
                commands::run(&mut self.scenario, &command)
                    .map(|output| output + &self.scenario.report_violation())
                    .map_err(Err)
            };
        self.show(result);
        None
    }

    /// Shows a started request's first words (or its error) and waits for its answer.
    fn show_started(&mut self, started: Result<Started, String>) -> Option<u64> {
        let mut waiting = None;
        let result = match started {
            Ok(Started::Answered(printed)) => printed.map_err(Ok),
            Ok(Started::Request { id, reply, preface }) => {
                self.waiting.push((id, reply));
                waiting = Some(id);
                Ok(preface)
            }
            Ok(Started::ReadTxnInput { node, style }) => {
                self.txn_input = Some(TxnInput {
                    lists: vec![Vec::new()],
                    node,
                    style,
                });
                Ok(TXN_PROMPTS[0].to_string())
            }
            Err(error) => Err(Err(error)),
        };
        self.show(result);
        waiting.filter(|id| self.waiting.iter().any(|(w, _)| w == id))
    }

    /// `Ok`: output; `Err(Ok)`: an etcdctl error as etcdctl prints it; `Err(Err)`: a command
    /// that could not run.
    fn show(&mut self, result: Result<String, Result<String, String>>) {
        match result {
            Ok(text) => self.print(LineKind::Output, &text),
            Err(Ok(printed)) => self.print(LineKind::Error, &printed),
            Err(Err(error)) => self.print(LineKind::Error, &format!("error: {error}")),
        }
        self.collect();
    }

    /// `load 20`: 20 puts per virtual second to the leader, to keep the cluster busy
    /// (`load 0` stops). The puts are not printed.
    fn set_load(&mut self, command: &CommandLine) -> Result<String, String> {
        let args = command.bind(&[])?;
        let rate = args.one("puts per second, e.g. `load 20`", |w| {
            w.parse::<u64>().map_err(|_| format!("bad rate {w:?}"))
        })?;
        self.load = (rate > 0).then(|| (rate, self.now()));
        Ok(String::new())
    }

    fn send_load(&mut self) {
        let Some((rate, at)) = self.load else { return };
        if at > self.now() {
            return;
        }
        if let Some(leader) = self.cluster().leader() {
            self.load_count += 1;
            let key = format!("load/{}", self.load_count % 16);
            let put = PutRequest {
                key: key.into_bytes(),
                value: self.load_count.to_string().into_bytes(),
                ..Default::default()
            };
            let _ = self.cluster_mut().request(leader, Request::Put(put));
        }
        self.load = Some((rate, at + (1000 / rate).max(1)));
    }

    /// Prints what happened since the last look: answers, leadership changes, watch events.
    fn collect(&mut self) {
        let (watched, answered) = self.scenario.report_client_events();
        let events = self.scenario.report_leadership() + &watched;
        if !events.is_empty() {
            self.print(LineKind::Event, &events);
        }
        // etcdctl gives up after its command timeout: "context deadline exceeded".
        let now = self.now();
        let waiting = std::mem::take(&mut self.waiting);
        for (id, reply) in waiting {
            let invoked_at = self.cluster().requests()[&id].invoked_at;
            let timed_out = now >= invoked_at + commands::DEFAULT_WAIT_MS;
            // Done when an answer of its came and none is missing (a health check asks every
            // member).
            let ids = reply.request_ids(id);
            let complete = ids.iter().any(|id| answered.contains(id))
                && ids.iter().all(|&id| self.cluster().is_answered(id));
            if complete || timed_out {
                match commands::finish(&mut self.scenario, id, &reply) {
                    Ok(text) => self.print(LineKind::Output, &text),
                    Err(text) => self.print(LineKind::Error, &text),
                }
            } else {
                self.waiting.push((id, reply));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::link::{decode_actions, encode_actions};

    fn texts(console: &Console) -> Vec<String> {
        console.lines().iter().map(|l| l.text.clone()).collect()
    }

    #[test]
    fn txn_i_reads_its_lists_as_etcdctl_prompts_for_them() {
        let mut console = Console::new("cluster nodes=3 seed=1").unwrap();
        console.advance_to(3000);
        console.act("put key1 v");
        console.advance_to(3500);
        for line in [
            "txn -i",
            r#"mod("key1") > "0""#,
            "",
            r#"put key1 "overwrote-key1""#,
            "",
            r#"put key1 "created-key1""#,
            "put key2 extra",
            "",
        ] {
            assert!(console.act(line).is_none() || line.is_empty());
        }
        assert!(
            !console.reading_input(),
            "the last empty line ends the input"
        );
        console.advance_to(4000);
        let text = texts(&console).join("\n");
        let expected = "> txn -i\ncompares:\nmod(\"key1\") > \"0\"\n\nsuccess requests (get, put, del):\nput key1 \"overwrote-key1\"\n\nfailure requests (get, put, del):\nput key1 \"created-key1\"\nput key2 extra\n\nSUCCESS\n\nOK";
        assert!(text.contains(expected), "{text}");
        // While reading, a line is input, not a command; a bad compare is etcdctl's error.
        for line in ["txn -i", "nonsense", "", "", ""] {
            console.act(line);
        }
        let text = texts(&console).join("\n");
        assert!(text.contains("Error: malformed comparison"), "{text}");
        console.act("txn -i -w yaml");
        assert!(texts(&console)
            .join("\n")
            .ends_with("Error: unsupported output format"));
        assert!(!console.reading_input());
    }

    #[test]
    fn requests_are_answered_as_time_passes_and_watches_stream() {
        let mut console = Console::new("cluster nodes=3 seed=1").unwrap();
        console.advance_to(3000);
        console.act("watch foo node=2");
        console.act("put foo bar");
        assert_eq!(
            texts(&console).last().unwrap(),
            "> put foo bar",
            "not answered before time passes"
        );
        console.advance_to(4000);
        let text = texts(&console).join("\n");
        assert!(text.contains("> put foo bar\n"), "{text}");
        assert!(text.contains("OK"), "{text}");
        assert!(text.contains("[n2 watch 0]\nPUT\nfoo\nbar"), "{text}");
        console.act("run 1s");
        assert!(texts(&console).last().unwrap().contains("time flows"));
    }

    #[test]
    fn replaying_the_actions_gives_the_same_run_and_acting_in_the_past_forks() {
        let mut console = Console::new("cluster nodes=5 seed=9").unwrap();
        console.advance_to(2000);
        console.act("crash 1");
        console.advance_to(2500);
        console.act("load 50");
        console.act("put a 1 node=3");
        console.advance_to(9000);
        let actions = decode_actions(&encode_actions(console.actions())).unwrap();
        assert_eq!(actions, console.actions());

        let mut replayed = Console::replay("cluster nodes=5 seed=9", actions.clone()).unwrap();
        replayed.advance_to(9000);
        assert_eq!(replayed.lines(), console.lines());
        assert_eq!(
            replayed.cluster().trace().hash(),
            console.cluster().trace().hash()
        );

        // Back to 2200 ms, then act: the later actions are gone.
        let mut forked = Console::replay("cluster nodes=5 seed=9", actions).unwrap();
        forked.advance_to(2200);
        forked.act("crash 2");
        assert_eq!(
            forked
                .actions()
                .iter()
                .map(|a| a.line.as_str())
                .collect::<Vec<_>>(),
            ["crash 1", "crash 2"]
        );
    }

    /// Background puts go out at the same moments whichever way time passes (playing,
    /// running a lesson cell, stepping), so a replay of the action list matches.
    #[test]
    fn background_load_keeps_its_moments_however_time_passes() {
        let run = |how: &dyn Fn(&mut Console)| {
            let mut console = Console::new("cluster nodes=3 seed=5").unwrap();
            console.advance_to(1500);
            console.act("load 37");
            how(&mut console);
            console.cluster().trace().hash()
        };
        let played = run(&|c| c.advance_to(4000));
        let waited = run(&|c| {
            c.advance_until(4000, |_| false);
        });
        let stepped = run(&|c| {
            while c.now() < 4000 && c.cluster().next_event_time().is_some_and(|t| t <= 4000) {
                c.run_next_event();
            }
            c.advance_to(4000);
        });
        assert_eq!(waited, played);
        assert_eq!(stepped, played);
    }

    /// The member picked in the drop-down goes only to commands sent to one member.
    #[test]
    fn the_picked_member_is_added_only_where_a_member_is_meant() {
        assert_eq!(route("crash 2", 3), "crash 2");
        assert_eq!(route("partition 1,2 | 3", 3), "partition 1,2 | 3");
        assert_eq!(route("put a 1", 3), "put a 1 node=3");
        assert_eq!(route("propose x=1", 2), "propose x=1 node=2");
        assert_eq!(route("get a node=1", 3), "get a node=1");
        assert_eq!(route("put a 1", 0), "put a 1");

        let mut console = Console::new("cluster nodes=3 seed=1").unwrap();
        console.advance_to(3000);
        console.act(&route("crash 2", 3));
        let text = texts(&console).join("\n");
        assert!(
            text.ends_with("> crash 2\nn2 crashed (1 unsynced commit-index updates lost; entries and votes are synced before any reply)"),
            "{text}"
        );
    }

    /// `propose`, `read` and membership changes print their result once it comes.
    #[test]
    fn cluster_requests_print_their_result_when_answered() {
        let mut console = Console::new("cluster nodes=3 seed=1").unwrap();
        console.advance_to(3000);
        console.act("propose x=1");
        console.act("read node=3");
        console.advance_to(4000);
        let text = texts(&console).join("\n");
        assert!(!text.contains("pending"), "{text}");
        assert!(text.contains("put x=1 at n2: ok, index"), "{text}");
        assert!(text.contains("(linearizable) at n3: ok, index"), "{text}");
    }

    /// Errors are told by what happened, not by what the text says.
    #[test]
    fn a_value_named_error_is_output_and_errors_are_errors() {
        let mut console = Console::new("cluster nodes=3 seed=1").unwrap();
        console.advance_to(3000);
        console.act("put k Error");
        console.advance_to(3500);
        console.act("get k --print-value-only");
        console.act("crash 9");
        console.act("get");
        console.advance_to(4000);
        let kind = |text: &str| {
            console
                .lines()
                .iter()
                .rev()
                .find(|l| l.text == text)
                .map(|l| l.kind)
        };
        assert_eq!(kind("Error"), Some(LineKind::Output));
        assert_eq!(kind("error: no node 9"), Some(LineKind::Error));
        assert!(console
            .lines()
            .iter()
            .any(|l| l.kind == LineKind::Error && l.text.starts_with("Error: ")));
    }

    #[test]
    fn bad_action_lists_are_refused_with_a_reason() {
        assert!(decode_actions("12 crash 1")
            .unwrap_err()
            .contains("action 1"));
        assert!(decode_actions("500:crash 1\n100:heal")
            .unwrap_err()
            .contains("go back"));
        assert!(Console::new("cluster nodes=12").is_err());
        assert!(Console::new("crash 1").is_err());
    }
}
