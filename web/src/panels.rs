//! The panels beside the cluster: every node's log, the selected member's details and
//! state machine, the console, and the safety checks.

use raftbook_core::etcd::view::StoreView;
use raftbook_core::node::Role;
use raftbook_core::scenario::console::LineKind;
use raftbook_core::sim::NodeStatus;
use raftbook_core::view::EntryView;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::i18n::Lang;
use crate::model::Playground;
use crate::tr;

/// A role (or state) of a member, in the page's language.
pub fn role_name(lang: Lang, role: Role) -> String {
    match role {
        Role::Follower => tr!(lang, "role-follower"),
        Role::PreCandidate => tr!(lang, "role-pre-candidate"),
        Role::Candidate => tr!(lang, "role-candidate"),
        Role::Leader => tr!(lang, "role-leader"),
        Role::Learner => tr!(lang, "role-learner"),
    }
}

/// A leader's replication state for one follower, in the page's language.
fn progress_state(lang: Lang, state: &str) -> String {
    match state {
        "probe" => tr!(lang, "progress-probe"),
        "replicate" => tr!(lang, "progress-replicate"),
        _ => tr!(lang, "progress-snapshot"),
    }
}

/// How many of the newest entries each log row shows.
const LOG_TAIL: usize = 16;

/// One row per node: a snapshot block for the compacted prefix, then entries with index and
/// term (coloured by term), committed solid and rounded, uncommitted hollow, dashed and
/// square, commit and applied marked.
///
/// The rows come drawn (as components, which draw again in their own turns).
pub fn logs(lang: Lang, section: &NodeRef, rows: impl Iterator<Item = Html>) -> Html {
    // A table a screen reader can walk: a row per member, a cell per entry.
    html! { <section class="logs" ref={section.clone()}><h2 id="logs-title">{tr!(lang, "logs")}</h2><div role="table" aria-labelledby="logs-title">{ for rows }</div></section> }
}

/// Node `id`'s row of [`logs`].
pub fn log_row(playground: &Playground, id: u64) -> Html {
    let lang = playground.lang;
    let Some(view) = playground
        .console
        .cluster()
        .node_view_with_tail(id, LOG_TAIL)
    else {
        return html! {};
    };
    let node = &view.node;
    let (commit, applied, role) = match &node.raft {
        Some(raft) => (raft.commit, raft.applied, role_name(lang, raft.role)),
        None => (0, 0, tr!(lang, "role-down")),
    };
    let entry = |e: &EntryView| {
        let class = classes!(
            "entry",
            format!("t{}", e.term % 8),
            if e.index <= commit {
                "committed"
            } else {
                "uncommitted"
            },
            (e.index == commit).then_some("commit-mark"),
            (e.index == applied).then_some("applied-mark"),
        );
        let state = if e.index <= commit {
            tr!(lang, "entry-committed")
        } else {
            tr!(lang, "entry-uncommitted")
        };
        // The title is the tooltip and, as the cell's content is hidden from screen readers,
        // its accessible name too: one attribute to write, not two, in every redraw.
        html! {
            <span class={class} role="cell" title={tr!(lang, "log-entry-label", index = e.index, term = e.term, state = state, summary = e.summary)}>
                <b aria-hidden="true">{e.index}</b><i aria-hidden="true">{format!("t{}", e.term)}</i><small aria-hidden="true">{short(&e.summary)}</small>
            </span>
        }
    };
    let progress: Html = node.raft.iter().flat_map(|r| &r.progress).filter(|p| p.id != node.id).map(|p| {
        html! { <span class="progress">{tr!(lang, "log-progress", id = p.id, matched = p.matched, next = p.next, state = progress_state(lang, p.state))}</span> }
    }).collect();
    html! {
        <div class="log-row" data-log={node.id.to_string()} role="row">
            <span class="log-label" role="rowheader">{format!("n{} {role}", node.id)}<br/><small>{tr!(lang, "log-commit", commit = commit, applied = applied)}</small></span>
            <div class="entries" role="presentation">
                if node.snapshot_index > 0 {
                    <span class="entry snapshot" title={tr!(lang, "log-snapshot-title")}>{tr!(lang, "log-snapshot", index = node.snapshot_index)}</span>
                }
                { for node.entries.iter().map(entry) }
            </div>
            if node.raft.as_ref().is_some_and(|r| !r.progress.is_empty()) {
                <div class="progress-list">{tr!(lang, "leaders-view")}{progress}</div>
            }
        </div>
    }
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
    let lang = playground.lang;
    let id = playground.selected;
    let cluster = playground.console.cluster();
    let Some(view) = cluster.node_view_with_tail(id, 0) else {
        return html! {};
    };
    // `action` names the button for tests and styles whatever the language.
    let button = |action: &str, label: String, line: String, title: String| {
        let act = act.clone();
        let onclick = Callback::from(move |_: MouseEvent| act.emit(line.clone()));
        html! { <button {onclick} {title} data-action={action.to_string()}>{label}</button> }
    };
    let buttons = match view.status {
        NodeStatus::Down => {
            html! { {button("restart", tr!(lang, "restart"), format!("restart {id}"), tr!(lang, "restart-title"))} }
        }
        NodeStatus::Paused => {
            html! { {button("resume", tr!(lang, "resume"), format!("resume {id}"), tr!(lang, "resume-title"))} }
        }
        NodeStatus::Up => html! { <>
            {button("crash", tr!(lang, "crash"), format!("crash {id}"), tr!(lang, "crash-title"))}
            {button("pause", tr!(lang, "pause-node"), format!("pause {id}"), tr!(lang, "pause-node-title"))}
            {button("isolate", tr!(lang, "isolate"), format!("isolate {id}"), tr!(lang, "isolate-title"))}
            {button("campaign", tr!(lang, "campaign"), format!("campaign {id}"), tr!(lang, "campaign-title"))}
            {button("make leader", tr!(lang, "make-leader"), format!("transfer-leader {id}"), tr!(lang, "make-leader-title"))}
            {button("snapshot", tr!(lang, "snapshot"), format!("snapshot {id}"), tr!(lang, "snapshot-title"))}
        </> },
    };
    let raft = view
        .node
        .raft
        .as_ref()
        .map(|r| {
            let who = |id: u64| {
                if id == 0 {
                    "—".to_string()
                } else {
                    format!("n{id}")
                }
            };
            tr!(
                lang,
                "member-state",
                role = role_name(lang, r.role),
                term = r.term,
                vote = who(r.vote),
                leader = who(r.leader),
                commit = r.commit,
                applied = r.applied
            )
        })
        .unwrap_or_else(|| tr!(lang, "member-down"));
    let store = cluster
        .server(id)
        .map(|server| StoreView::of(server, cluster.now()));
    html! {
        <section class="member" data-member={id.to_string()}>
            <h2>{tr!(lang, "member", id = id)}</h2>
            <p class="raft-state">{raft}</p>
            <div class="buttons">{buttons}</div>
            if let Some(store) = store { {state_machine(&store, lang)} }
        </section>
    }
}

fn state_machine(store: &StoreView, lang: Lang) -> Html {
    let keys: Html = store.keys.iter().map(|kv| html! {
        <tr data-key={kv.key.clone()}><td>{&kv.key}</td><td class="value">{&kv.value}</td><td>{kv.create_revision}</td><td>{kv.mod_revision}</td><td>{kv.version}</td><td>{&kv.lease}</td></tr>
    }).collect();
    let leases: Html = store.leases.iter().map(|lease| {
        let left = match lease.remaining_ms {
            Some(ms) => tr!(lang, "lease-left", seconds = format!("{:.1}", ms as f64 / 1000.0)),
            None => tr!(lang, "lease-leader-counts"),
        };
        html! { <li>{tr!(lang, "lease-line", id = lease.id, ttl = lease.ttl, left = left, keys = lease.keys.join(" "))}</li> }
    }).collect();
    let watches: Html = store.watches.iter().map(|w| html! {
        <li>{tr!(lang, "watch-line", id = w.watch_id, key = w.key, range = if w.range_end.is_empty() { String::new() } else { format!(" .. {}", w.range_end) }, next = w.next_revision)}</li>
    }).collect();
    html! {
        <div class="store">
            <p>{tr!(lang, "store-summary", revision = store.revision, compacted = store.compact_revision, versions = store.versions)}</p>
            <table>
                <thead><tr><th>{tr!(lang, "column-key")}</th><th>{tr!(lang, "column-value")}</th><th>{tr!(lang, "column-create")}</th><th>{tr!(lang, "column-mod")}</th><th>{tr!(lang, "column-version")}</th><th>{tr!(lang, "column-lease")}</th></tr></thead>
                <tbody>{keys}</tbody>
            </table>
            if !store.leases.is_empty() { <h3>{tr!(lang, "leases")}</h3><ul>{leases}</ul> }
            if !store.watches.is_empty() { <h3>{tr!(lang, "watches")}</h3><ul>{watches}</ul> }
        </div>
    }
}

/// The console: etcdctl and scenario commands, answers as etcdctl prints them.
pub fn console(
    playground: &Playground,
    act: &Callback<String>,
    set_target: &Callback<u64>,
) -> Html {
    let lang = playground.lang;
    let lines = playground.console.lines();
    let shown = lines.skip(lines.len().saturating_sub(120));
    let target = playground.target;
    // While `txn -i` reads its input, every line goes as typed (an empty one ends a list).
    let reading_input = playground.console.reading_input();
    let onkeydown = {
        let act = act.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" {
                let input: HtmlInputElement = event.target_unchecked_into();
                let line = input.value();
                if reading_input {
                    act.emit(line);
                    input.set_value("");
                } else if !line.trim().is_empty() {
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
            <h2>{tr!(lang, "console")}</h2>
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
                <select id="console-target" {onchange} title={tr!(lang, "console-target-title")}>
                    <option value="0" selected={target == 0}>{tr!(lang, "to-leader")}</option>
                    { for nodes.iter().map(|&id| html! { <option value={id.to_string()} selected={target == id}>{format!("→ n{id}")}</option> }) }
                </select>
                // Disabled while a link replays (the run's controls wait), so nothing typed is lost.
                <input id="console-input" type="text" {onkeydown} spellcheck="false" autocomplete="off"
                    disabled={playground.catching_up.is_some()}
                    placeholder="put foo bar · get foo --prefix · watch foo · lease grant 10 · txn … · crash 2 · partition 1,2 | 3,4,5" />
            </div>
        </section>
    }
}

/// The core's safety checkers, run on every event.
pub fn safety(playground: &Playground) -> Html {
    let lang = playground.lang;
    match playground.console.cluster().violation() {
        Some(violation) => html! {
            <section class="safety violated" id="safety">
                <h2>{tr!(lang, "safety-violation")}</h2>
                <p>{violation.to_string()}</p>
            </section>
        },
        None => html! {
            <section class="safety ok" id="safety">
                <span>{tr!(lang, "safety-holds")}</span>
            </section>
        },
    }
}
