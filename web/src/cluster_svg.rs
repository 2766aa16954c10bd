//! The cluster drawn as SVG: nodes in a circle, the links between them, messages in flight.
//!
//! - A node shows its id, role (in words, not only colour), term and vote. Its ring is the
//!   election timer draining (a leader's ring is its heartbeat timer).
//! - A link is drawn solid when open, dashed red when cut, half-dashed when one way is cut.
//!   Click a link to cut or restore it both ways; shift-click to cut one way (from the lower
//!   id to the higher).
//! - Each message is a dot labelled with its kind, placed by how far it has travelled
//!   between the simulator's send and arrival times. Hover for its contents; click to drop it.

use raftbook_core::sim::{MachineView, NodeStatus};
use raftbook_core::view::MessageView;
use yew::prelude::*;

use crate::model::Playground;
use crate::panels::role_name;
use crate::tr;

const CENTER: f64 = 200.0;
const RADIUS: f64 = 140.0;
const NODE_RADIUS: f64 = 30.0;

fn position(index: usize, count: usize) -> (f64, f64) {
    let angle = -std::f64::consts::FRAC_PI_2 + index as f64 * std::f64::consts::TAU / count as f64;
    (CENTER + RADIUS * angle.cos(), CENTER + RADIUS * angle.sin())
}

/// The segment between two node centres, shortened by the nodes' radius plus a ring.
fn rim_to_rim((x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> ((f64, f64), (f64, f64)) {
    let length = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(1.0);
    let (ux, uy) = ((x2 - x1) / length, (y2 - y1) / length);
    let rim = NODE_RADIUS + 10.0;
    (
        (x1 + ux * rim, y1 + uy * rim),
        (x2 - ux * rim, y2 - uy * rim),
    )
}

pub fn cluster_svg(
    playground: &Playground,
    act: &Callback<String>,
    select: &Callback<u64>,
) -> Html {
    let lang = playground.lang;
    let cluster = playground.console.cluster();
    let ids = cluster.node_ids();
    let place = |id: u64| position(ids.iter().position(|&i| i == id).unwrap_or(0), ids.len());
    let now = cluster.now();

    let mut links = Vec::new();
    for (i, &a) in ids.iter().enumerate() {
        for &b in &ids[i + 1..] {
            let (forward, backward) = (
                cluster.network().check(a, b).is_ok(),
                cluster.network().check(b, a).is_ok(),
            );
            let class = match (forward, backward) {
                (true, true) => "link open",
                (false, false) => "link cut",
                _ => "link one-way",
            };
            // Rim to rim, so a node drawn before its links is not crossed by them.
            let ((x1, y1), (x2, y2)) = rim_to_rim(place(a), place(b));
            let toggle = move |one_way: bool| match (forward && backward, one_way) {
                (true, true) => format!("cut {a}->{b}"),
                (true, false) => format!("cut {a}<->{b}"),
                (false, _) => format!("heal {a}<->{b}"),
            };
            let onclick = {
                let act = act.clone();
                Callback::from(move |event: MouseEvent| act.emit(toggle(event.shift_key())))
            };
            let onkeydown = {
                let act = act.clone();
                Callback::from(move |event: KeyboardEvent| {
                    if event.key() == "Enter" {
                        event.prevent_default();
                        act.emit(toggle(event.shift_key()));
                    }
                })
            };
            let title = match (forward, backward) {
                (true, true) => tr!(lang, "link-open", a = a, b = b),
                (false, false) => tr!(lang, "link-cut", a = a, b = b),
                (f, _) => tr!(
                    lang,
                    "link-one-way",
                    a = a,
                    b = b,
                    from = if f { a } else { b },
                    to = if f { b } else { a }
                ),
            };
            links.push(html! {
                <g class={class} data-link={format!("{a}-{b}")} {onclick} {onkeydown}
                   tabindex="0" role="button" aria-label={title.clone()}>
                    <line class="hit" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                    <line class="wire" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                    <title>{title}</title>
                </g>
            });
        }
    }

    let nodes: Html = ids
        .iter()
        .filter_map(|&id| cluster.node_view_with_tail(id, 0))
        .map(|view| node(&view, place(view.node.id), playground, &ids, (select, act)))
        .collect();

    // A label over a node would hide the node's own text: near a node, a message shows only
    // its dot (its kind stays in its title and accessible name).
    let centres: Vec<(f64, f64)> = ids.iter().map(|&id| place(id)).collect();
    let messages: Html = cluster
        .in_flight()
        .map(|flight| {
            let view = MessageView::new(&flight.message);
            // From the rim of the sender to the rim of the receiver, so a dot never covers a
            // node (clicking a node must select it, not drop a message).
            let ((x1, y1), (x2, y2)) = rim_to_rim(place(view.from), place(view.to));
            let span = flight.arrives_at.saturating_sub(flight.sent_at).max(1) as f64;
            // With reduced motion a message does not fly: it waits halfway, then is gone.
            let progress = if playground.reduce_motion {
                0.5
            } else {
                (now.saturating_sub(flight.sent_at) as f64 / span).clamp(0.0, 1.0)
            };
            let (x, y) = (x1 + (x2 - x1) * progress, y1 + (y2 - y1) * progress);
            let id = flight.id;
            let onclick = {
                let act = act.clone();
                Callback::from(move |_: MouseEvent| act.emit(format!("drop {id}")))
            };
            let onkeydown = {
                let act = act.clone();
                Callback::from(move |event: KeyboardEvent| {
                    if matches!(event.key().as_str(), "Enter" | "Delete" | "Backspace") {
                        event.prevent_default();
                        act.emit(format!("drop {id}"));
                    }
                })
            };
            let detail = tr!(
                lang,
                "message-title",
                id = id,
                summary = view.summary(),
                from = view.from,
                to = view.to,
                reject = if view.reject { tr!(lang, "message-reject") } else { String::new() },
                sent = flight.sent_at,
                arrives = flight.arrives_at
            );
            html! {
                <g class={classes!("message", view.kind().to_lowercase(), view.reject.then_some("reject"))} data-message={id.to_string()} {onclick} {onkeydown}
                   tabindex="0" role="button" aria-label={detail.replace('\n', "; ")}>
                    <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="6" />
                    if !label_covers_a_node((x, y), view.kind().len(), &centres) {
                        <text x={format!("{:.1}", x + 8.0)} y={format!("{:.1}", y - 6.0)}>{view.kind()}</text>
                    }
                    <title>{detail}</title>
                </g>
            }
        })
        .collect();

    html! {
        <svg class="cluster" viewBox="0 0 400 400" role="group" aria-label={tr!(lang, "cluster-group-label")}>
            // Nodes first: Tab reaches them before the links and messages.
            { nodes }
            { for links }
            { messages }
        </svg>
    }
}

/// Moves keyboard focus to node `id` of the drawing.
fn focus_node(id: u64) {
    use wasm_bindgen::JsCast;
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("svg.cluster g.node[data-node=\"{id}\"]"))
                .ok()?
        })
        .and_then(|e| e.dyn_into::<web_sys::SvgElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

/// What a key does on a focused node: a command, or moving to another node.
fn node_key(key: &str, id: u64, ids: &[u64]) -> Option<Result<String, u64>> {
    let at = ids.iter().position(|&i| i == id)?;
    let step = |by: isize| ids[(at as isize + by).rem_euclid(ids.len() as isize) as usize];
    Some(match key {
        "ArrowRight" | "ArrowDown" => Err(step(1)),
        "ArrowLeft" | "ArrowUp" => Err(step(-1)),
        "c" => Ok(format!("crash {id}")),
        "r" => Ok(format!("restart {id}")),
        "i" => Ok(format!("isolate {id}")),
        "e" => Ok(format!("campaign {id}")),
        "l" => Ok(format!("transfer-leader {id}")),
        "s" => Ok(format!("snapshot {id}")),
        _ => return None,
    })
}

fn node(
    view: &MachineView,
    (x, y): (f64, f64),
    playground: &Playground,
    ids: &[u64],
    (select, act): (&Callback<u64>, &Callback<String>),
) -> Html {
    let (lang, selected) = (playground.lang, playground.selected);
    let id = view.node.id;
    // `role` names the state for styles and tests, `shown` in the page's language.
    let (role, shown, term, vote, timer) = match (&view.node.raft, &view.status) {
        (Some(raft), status) => {
            let (role, shown) = if *status == NodeStatus::Paused {
                ("paused".to_string(), tr!(lang, "role-paused"))
            } else {
                (raft.role.name().to_string(), role_name(lang, raft.role))
            };
            // Leaders show the heartbeat timer, others the election timer, draining.
            let (elapsed, timeout) = if raft.role == raftbook_core::node::Role::Leader {
                (raft.heartbeat_elapsed, raft.heartbeat_timeout)
            } else {
                (raft.election_elapsed, raft.election_timeout)
            };
            let left = 1.0 - (elapsed as f64 / timeout.max(1) as f64).clamp(0.0, 1.0);
            let ticks = timeout.saturating_sub(elapsed);
            (
                role,
                shown,
                raft.term.to_string(),
                raft.vote,
                Some((left, ticks)),
            )
        }
        (None, _) => (
            "down".to_string(),
            tr!(lang, "role-down"),
            "?".into(),
            0,
            None,
        ),
    };
    let circumference = std::f64::consts::TAU * (NODE_RADIUS + 6.0);
    let onclick = {
        let select = select.clone();
        Callback::from(move |_: MouseEvent| select.emit(id))
    };
    let onkeydown = {
        let (select, act, ids) = (select.clone(), act.clone(), ids.to_vec());
        let paused = view.status == NodeStatus::Paused;
        Callback::from(move |event: KeyboardEvent| {
            let key = event.key();
            if key == "Enter" {
                event.prevent_default();
                select.emit(id);
                return;
            }
            let action = match key.as_str() {
                "p" => Some(Ok(format!(
                    "{} {id}",
                    if paused { "resume" } else { "pause" }
                ))),
                key => node_key(key, id, &ids),
            };
            match action {
                Some(Ok(line)) => {
                    event.prevent_default();
                    select.emit(id);
                    act.emit(line);
                }
                Some(Err(next)) => {
                    // Arrows move between nodes here, not through time.
                    event.prevent_default();
                    select.emit(next);
                    focus_node(next);
                }
                None => {}
            }
        })
    };
    let vote = if vote == 0 {
        "—".to_string()
    } else {
        format!("n{vote}")
    };
    // The timer drains as a ring; with reduced motion it is a number of ticks left.
    let (ring, ticks) = match timer {
        Some((left, ticks)) => (left, Some(ticks)),
        None => (0.0, None),
    };
    let reduce = playground.reduce_motion;
    // The accessible name starts with what the node shows (WCAG's "label in name"), then
    // says it in words.
    let shown_ticks = ticks
        .filter(|_| reduce)
        .map(|t| format!(" {}", tr!(lang, "timer-ticks", ticks = t)))
        .unwrap_or_default();
    let label = format!(
        "n{id} {shown} T{term} ✓{vote}{shown_ticks}. {}",
        tr!(
            lang,
            "node-label",
            id = id,
            role = shown.clone(),
            term = term.clone(),
            vote = vote.clone()
        )
    );
    html! {
        <g class={classes!("node", role.clone(), (selected == id).then_some("selected"))}
           data-node={id.to_string()} data-role={role.clone()} data-term={term.clone()} {onclick} {onkeydown}
           tabindex="0" role="button" aria-label={label} aria-pressed={(selected == id).to_string()}>
            if !reduce {
                <circle class="timer" cx={x.to_string()} cy={y.to_string()} r={(NODE_RADIUS + 6.0).to_string()}
                    stroke-dasharray={format!("{:.1} {:.1}", circumference * ring, circumference)}
                    transform={format!("rotate(-90 {x} {y})")} />
            } else if let Some(ticks) = ticks {
                <text class="ticks" x={x.to_string()} y={(y + NODE_RADIUS + 14.0).to_string()}>{format!("{} ", tr!(lang, "timer-ticks", ticks = ticks))}</text>
            }
            <circle class="body" cx={x.to_string()} cy={y.to_string()} r={NODE_RADIUS.to_string()} />
            // Each line ends in a space (SVG does not draw it), so the lines read as words
            // and the accessible name can start with them.
            <text class="id" x={x.to_string()} y={(y - 8.0).to_string()}>{format!("n{id} ")}</text>
            <text class="role" x={x.to_string()} y={(y + 6.0).to_string()}>{format!("{shown} ")}</text>
            <text class="term" x={x.to_string()} y={(y + 18.0).to_string()}>{format!("T{term} ✓{vote} ")}</text>
            <title>{tr!(lang, "node-title", id = id)}</title>
        </g>
    }
}

/// Whether a message's label (to the right of and above its dot at `dot`, `letters` long)
/// would cover part of a node drawn at one of `centres`.
fn label_covers_a_node(dot: (f64, f64), letters: usize, centres: &[(f64, f64)]) -> bool {
    // The label's box, roughly: 6 px a letter, 12 px high, its baseline 6 px above the dot.
    let (left, right) = (dot.0 + 8.0, dot.0 + 8.0 + 6.0 * letters as f64);
    let (top, bottom) = (dot.1 - 18.0, dot.1 - 3.0);
    centres.iter().any(|&(cx, cy)| {
        let nearest = (cx.clamp(left, right), cy.clamp(top, bottom));
        (nearest.0 - cx).hypot(nearest.1 - cy) < NODE_RADIUS + 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_hidden_only_where_it_would_cover_a_node() {
        let node = [(200.0, 200.0)];
        // Arriving at the node's left rim: the label would run across the node.
        assert!(label_covers_a_node(
            (200.0 - NODE_RADIUS - 6.0, 205.0),
            13,
            &node
        ));
        // Halfway across an empty stretch: shown.
        assert!(!label_covers_a_node((60.0, 300.0), 13, &node));
        // Just below and right of the node: the label is clear of it.
        assert!(!label_covers_a_node(
            (205.0, 200.0 + NODE_RADIUS + 20.0),
            13,
            &node
        ));
    }
}
