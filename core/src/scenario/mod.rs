//! The scenario language: plain-text commands that drive a simulated cluster.
//!
//! Golden tests, lessons and the browser console all speak it. A [`Scenario`] holds one
//! cluster and runs commands against it, one line at a time, returning what a person would
//! want to read. [`Scenario::run_script`] runs a whole script (see [`script`]) and returns it
//! with every block's output filled in.
//!
//! The commands are listed in [`commands`].

pub mod cluster_views;
pub mod commands;
pub mod console;
pub mod format;
pub mod link;
pub mod parse;
pub mod script;
pub mod timeline;
pub mod wait;

use std::collections::BTreeMap;

use crate::node::Role;
use crate::sim::{ClientEvent, Cluster, SessionEvent};

pub use parse::{Args, CommandLine, ParseError};

/// A running scenario: at most one cluster, created by the `cluster` command.
#[derive(Clone, Default)]
pub struct Scenario {
    cluster: Option<Cluster>,
    /// Trace events already reported, so each command reports only what it caused.
    reported: usize,
    /// The last role we reported for each node.
    roles: BTreeMap<u64, Role>,
    /// The lease granted last, for `$LEASE` in commands.
    last_lease: Option<i64>,
    /// How each running `watch` prints (its `-w`), by member and watch id.
    watch_styles: BTreeMap<(u64, i64), crate::etcd::etcdctl::Style>,
    /// How each running `lease keep-alive` prints, by lease.
    keep_alive_styles: BTreeMap<i64, crate::etcd::etcdctl::Style>,
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one command line and returns its output. Errors are part of the output
    /// (`error: …`), as a learner at a console would see them.
    pub fn run_line(&mut self, line: &str, line_number: usize) -> String {
        let result = CommandLine::parse(line, line_number)
            .map_err(|e| e.message)
            .and_then(|command| commands::run(self, &command));
        let mut output = match result {
            Ok(output) => output,
            Err(error) => format!("error: {error}\n"),
        };
        output.push_str(&self.report_client_events().0);
        output.push_str(&self.report_violation());
        output
    }

    /// Runs every block of a script; returns the script with fresh outputs.
    pub fn run_script(&mut self, text: &str) -> String {
        let parts = script::parse(text);
        let outputs: Vec<Vec<String>> = parts
            .iter()
            .filter_map(|part| match part {
                script::Part::Block(block) => Some(block),
                script::Part::Text(_) => None,
            })
            .map(|block| {
                let output: String = block
                    .commands
                    .iter()
                    .map(|(number, line)| self.run_line(line, *number))
                    .collect();
                script::format_output(&output)
            })
            .collect();
        script::render(&parts, &outputs)
    }

    /// The lease granted last (what `$LEASE` stands for in commands).
    pub fn last_lease(&self) -> Option<i64> {
        self.last_lease
    }

    /// The cluster, if a `cluster` command made one.
    pub fn cluster_ref(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    pub fn cluster(&mut self) -> Result<&mut Cluster, String> {
        self.cluster
            .as_mut()
            .ok_or_else(|| "no cluster yet: start with `cluster nodes=5`".to_string())
    }

    /// Starts reporting afresh on a new cluster.
    fn reset_reports(&mut self) {
        self.reported = 0;
        self.roles.clear();
    }

    /// Leadership changes since the last report, one line each.
    fn report_leadership(&mut self) -> String {
        use crate::node::NodeEvent;
        use crate::sim::trace::TraceKind;
        let Some(cluster) = &self.cluster else {
            return String::new();
        };
        let mut out = String::new();
        for event in cluster.trace().since(self.reported) {
            if let TraceKind::Crash { node, .. } = &event.what {
                self.roles.remove(node);
            }
            if let TraceKind::Halted { node, reason } = &event.what {
                out.push_str(&format!(
                    "{}ms n{node} stopped itself: {reason}\n",
                    event.time
                ));
            }
            if let TraceKind::Node {
                node,
                event: NodeEvent::RoleChanged { role, term, .. },
            } = &event.what
            {
                let previous = self.roles.insert(*node, *role);
                if *role == Role::Leader {
                    out.push_str(&format!(
                        "{}ms n{node} became leader (term {term})\n",
                        event.time
                    ));
                } else if previous == Some(Role::Leader) {
                    out.push_str(&format!(
                        "{}ms n{node} stepped down (term {term}, now {})\n",
                        event.time,
                        role.name()
                    ));
                }
            }
        }
        self.reported = cluster.trace().len();
        out
    }

    /// What came back to the clients since the last report: watch responses, printed as
    /// `etcdctl watch` prints them under a line naming the member and watch, and the ids of
    /// the requests that were answered (a caller that did not wait for them prints them).
    fn report_client_events(&mut self) -> (String, Vec<u64>) {
        let Some(cluster) = &mut self.cluster else {
            return (String::new(), Vec::new());
        };
        let mut out = String::new();
        let mut answered = Vec::new();
        let simple = crate::etcd::etcdctl::Style::default();
        for event in cluster.take_client_events() {
            let delivery = match event {
                ClientEvent::Answered { id } => {
                    answered.push(id);
                    continue;
                }
                // What a running `etcdctl lease keep-alive` prints at each renewal, in its
                // `-w`; at the end only the simple format says the lease is gone.
                ClientEvent::Renewed(answer) => {
                    let style = self.keep_alive_styles.get(&answer.id).unwrap_or(&simple);
                    if answer.ttl > 0 || style.format == crate::etcd::etcdctl::Format::Simple {
                        out.push_str(&crate::etcd::etcdctl::print_response(
                            style,
                            &crate::etcd::api::Response::LeaseKeepAlive(answer),
                        ));
                    }
                    continue;
                }
                ClientEvent::Session(SessionEvent::Granted { lease }) => {
                    self.last_lease = Some(lease);
                    continue;
                }
                // What a running `etcdctl lock`/`elect` prints: its key once held (as `get`
                // prints it), or the error it exits with.
                ClientEvent::Session(
                    SessionEvent::Holding { key: shown, .. }
                    | SessionEvent::Observed { leader: shown },
                ) => {
                    out.push_str(&crate::etcd::etcdctl::print_response(
                        &simple,
                        &crate::etcd::api::Response::Range(shown),
                    ));
                    continue;
                }
                ClientEvent::Session(SessionEvent::Failed { error, .. }) => {
                    out.push_str(&format!("Error: {error}\n"));
                    continue;
                }
                ClientEvent::Watch(delivery) => delivery,
            };
            let response = &delivery.response;
            let heading = format!("[n{} watch {}]", delivery.node, response.watch_id);
            if response.created {
                out.push_str(&format!("{heading} created\n"));
            } else if response.canceled && response.cancel_reason.is_empty() {
                out.push_str(&format!("{heading} canceled\n"));
            } else {
                let style = self
                    .watch_styles
                    .get(&(delivery.node, response.watch_id))
                    .unwrap_or(&simple);
                out.push_str(&format!(
                    "{heading}\n{}",
                    crate::etcd::etcdctl::print_watch(style, response)
                ));
            }
        }
        (out, answered)
    }

    fn report_violation(&mut self) -> String {
        match self.cluster.as_ref().and_then(Cluster::violation) {
            Some(violation) => format!("SAFETY VIOLATION: {violation}\n"),
            None => String::new(),
        }
    }
}
