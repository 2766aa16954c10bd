//! The panels beside the cluster: every node's log, the selected member's details and
//! state machine, the console, and the safety checks.

use raftbook_core::etcd::view::StoreView;
use raftbook_core::scenario::console::LineKind;
use raftbook_core::sim::cluster::NodeStatus;
use raftbook_core::view::EntryView;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::model::Playground;

/// How many of the newest entries each log row shows.
const LOG_TAIL: usize = 16;

/// One row per node: a snapshot block for the compacted prefix, then entries with index and
/// term (coloured by term), committed solid and uncommitted hollow, commit and applied marked.
pub fn logs(playground: &Playground) -> Html {
    let cluster = playground.console.cluster();
    let rows = cluster.node_ids().into_iter().filter_map(|id| cluster.node_view_with_tail(id, LOG_TAIL)).map(|view| {
        let node = &view.node;
        let (commit, applied, role) = match &node.raft {
            Some(raft) => (raft.commit, raft.applied, raft.role.name()),
            None => (0, 0, "down"),
        };
        let entry = |e: &EntryView| {
            let class = classes!(
                "entry",
                format!("t{}", e.term % 8),
                if e.index <= commit { "committed" } else { "uncommitted" },
                (e.index == commit).then_some("commit-mark"),
                (e.index == applied).then_some("applied-mark"),
            );
            html! {
                <span class={class} title={format!("index {} term {}: {}", e.index, e.term, e.summary)}>
                    <b>{e.index}</b><i>{format!("t{}", e.term)}</i><small>{short(&e.summary)}</small>
                </span>
            }
        };
        let progress: Html = node.raft.iter().flat_map(|r| &r.progress).filter(|p| p.id != node.id).map(|p| {
            html! { <span class="progress">{format!("n{} match {} next {} {}", p.id, p.matched, p.next, p.state)}</span> }
        }).collect();
        html! {
            <div class="log-row" data-log={node.id.to_string()}>
                <span class="log-label">{format!("n{} {role}", node.id)}<br/><small>{format!("commit {commit} applied {applied}")}</small></span>
                <div class="entries">
                    if node.snapshot_index > 0 {
                        <span class="entry snapshot" title="compacted into a snapshot">{format!("snap ≤{}", node.snapshot_index)}</span>
                    }
                    { for node.entries.iter().map(entry) }
                </div>
                if node.raft.as_ref().is_some_and(|r| !r.progress.is_empty()) {
                    <div class="progress-list">{"leader's view: "}{progress}</div>
                }
            </div>
        }
    });
    html! { <section class="logs"><h2>{"Logs"}</h2>{ for rows }</section> }
}

fn short(summary: &str) -> String {
    let mut text: String = summary.chars().take(14).collect();
    if summary.chars().count() > 14 {
        text.push('…');
    }
    text
}

/// The selected member: its Raft state, fault buttons, and its etcd state machine.
pub fn member(playground: &Playground, act: &Callback<String>) -> Html {
    let id = playground.selected;
    let cluster = playground.console.cluster();
    let Some(view) = cluster.node_view_with_tail(id, 0) else {
        return html! {};
    };
    let button = |label: &str, line: String, title: &str| {
        let act = act.clone();
        let onclick = Callback::from(move |_: MouseEvent| act.emit(line.clone()));
        html! { <button {onclick} title={title.to_string()} data-action={label.to_string()}>{label}</button> }
    };
    let buttons = match view.status {
        NodeStatus::Down => {
            html! { {button("restart", format!("restart {id}"), "start it again from its disk")} }
        }
        NodeStatus::Paused => {
            html! { {button("resume", format!("resume {id}"), "let it run again")} }
        }
        NodeStatus::Up => html! { <>
            {button("crash", format!("crash {id}"), "power loss: unsynced writes are lost")}
            {button("pause", format!("pause {id}"), "freeze it (like SIGSTOP)")}
            {button("isolate", format!("isolate {id}"), "cut it off from everyone")}
            {button("campaign", format!("campaign {id}"), "start an election now")}
            {button("make leader", format!("transfer-leader {id}"), "ask the leader to hand over")}
            {button("snapshot", format!("snapshot {id}"), "snapshot and compact its log")}
        </> },
    };
    let raft = view
        .node
        .raft
        .as_ref()
        .map(|r| {
            format!(
                "{} · term {} · voted {} · leader {} · commit {} · applied {}",
                r.role.name(),
                r.term,
                if r.vote == 0 {
                    "—".into()
                } else {
                    format!("n{}", r.vote)
                },
                if r.leader == 0 {
                    "—".into()
                } else {
                    format!("n{}", r.leader)
                },
                r.commit,
                r.applied
            )
        })
        .unwrap_or_else(|| "down: only its disk remains".into());
    let store = cluster
        .server(id)
        .map(|server| StoreView::of(server, cluster.now()));
    html! {
        <section class="member" data-member={id.to_string()}>
            <h2>{format!("Member n{id}")}</h2>
            <p class="raft-state">{raft}</p>
            <div class="buttons">{buttons}</div>
            if let Some(store) = store { {state_machine(&store)} }
        </section>
    }
}

fn state_machine(store: &StoreView) -> Html {
    let keys: Html = store.keys.iter().map(|kv| html! {
        <tr data-key={kv.key.clone()}><td>{&kv.key}</td><td class="value">{&kv.value}</td><td>{kv.create_revision}</td><td>{kv.mod_revision}</td><td>{kv.version}</td><td>{&kv.lease}</td></tr>
    }).collect();
    let leases: Html = store.leases.iter().map(|lease| {
        let left = match lease.remaining_ms {
            Some(ms) => format!("{:.1}s left", ms as f64 / 1000.0),
            None => "(the leader counts it down)".into(),
        };
        html! { <li>{format!("{} TTL {}s, {left}, keys [{}]", lease.id, lease.ttl, lease.keys.join(" "))}</li> }
    }).collect();
    let watches: Html = store.watches.iter().map(|w| html! {
        <li>{format!("watch {} on {}{} (next revision {})", w.watch_id, w.key, if w.range_end.is_empty() { String::new() } else { format!(" .. {}", w.range_end) }, w.next_revision)}</li>
    }).collect();
    html! {
        <div class="store">
            <p>{format!("revision {} · compacted at {} · {} versions kept", store.revision, store.compact_revision, store.versions)}</p>
            <table>
                <thead><tr><th>{"key"}</th><th>{"value"}</th><th>{"create"}</th><th>{"mod"}</th><th>{"ver"}</th><th>{"lease"}</th></tr></thead>
                <tbody>{keys}</tbody>
            </table>
            if !store.leases.is_empty() { <h3>{"Leases"}</h3><ul>{leases}</ul> }
            if !store.watches.is_empty() { <h3>{"Watches"}</h3><ul>{watches}</ul> }
        </div>
    }
}

/// The console: etcdctl and scenario commands, answers as etcdctl prints them.
pub fn console(
    playground: &Playground,
    act: &Callback<String>,
    set_target: &Callback<u64>,
) -> Html {
    let lines = playground.console.lines();
    let shown = &lines[lines.len().saturating_sub(120)..];
    let target = playground.target;
    let onkeydown = {
        let act = act.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" {
                let input: HtmlInputElement = event.target_unchecked_into();
                let line = input.value();
                if !line.trim().is_empty() {
                    let routed = raftbook_core::scenario::console::route(&line, target);
                    act.emit(routed);
                    input.set_value("");
                }
            }
        })
    };
    let onchange = {
        let set_target = set_target.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            set_target.emit(select.value().parse().unwrap_or(0));
        })
    };
    let nodes = playground.console.cluster().node_ids();
    html! {
        <section class="console">
            <h2>{"Console"}</h2>
            // The outer box is laid out bottom-up, so it stays scrolled to the newest line.
            <div class="console-output">
                <pre id="console-output">
                    { for shown.iter().map(|line| {
                        let class = match line.kind { LineKind::CommandLine => "cmd", LineKind::Output => "out", LineKind::Event => "event", LineKind::Error => "err" };
                        html! { <span class={class}>{&line.text}{"\n"}</span> }
                    }) }
                </pre>
            </div>
            <div class="console-input">
                <select id="console-target" {onchange} title="which member the command goes to">
                    <option value="0" selected={target == 0}>{"→ leader"}</option>
                    { for nodes.iter().map(|&id| html! { <option value={id.to_string()} selected={target == id}>{format!("→ n{id}")}</option> }) }
                </select>
                <input id="console-input" type="text" {onkeydown} spellcheck="false" autocomplete="off"
                    placeholder="put foo bar · get foo --prefix · watch foo · lease grant 10 · txn … · crash 2 · partition 1,2 | 3,4,5" />
            </div>
        </section>
    }
}

/// The core's safety checkers, run on every event.
pub fn safety(playground: &Playground) -> Html {
    match playground.console.cluster().violation() {
        Some(violation) => html! {
            <section class="safety violated" id="safety">
                <h2>{"Safety violation"}</h2>
                <p>{violation.to_string()}</p>
            </section>
        },
        None => html! {
            <section class="safety ok" id="safety">
                <span>{"✔ safety holds: election safety, leader append-only, log matching, leader completeness, state machine safety (Raft paper, Figure 3)"}</span>
            </section>
        },
    }
}
