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

use crate::i18n::Lang;
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
            let ((x1, y1), (x2, y2)) = (place(a), place(b));
            let onclick = {
                let act = act.clone();
                Callback::from(move |event: MouseEvent| {
                    let line = match (forward && backward, event.shift_key()) {
                        (true, true) => format!("cut {a}->{b}"),
                        (true, false) => format!("cut {a}<->{b}"),
                        (false, _) => format!("heal {a}<->{b}"),
                    };
                    act.emit(line);
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
                <g class={class} data-link={format!("{a}-{b}")} {onclick}>
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
        .map(|view| {
            node(
                &view,
                place(view.node.id),
                playground.selected,
                select,
                lang,
            )
        })
        .collect();

    let messages: Html = cluster
        .in_flight()
        .map(|flight| {
            let view = MessageView::new(&flight.message);
            // From the rim of the sender to the rim of the receiver, so a dot never covers a
            // node (clicking a node must select it, not drop a message).
            let ((x1, y1), (x2, y2)) = rim_to_rim(place(view.from), place(view.to));
            let span = flight.arrives_at.saturating_sub(flight.sent_at).max(1) as f64;
            let progress = (now.saturating_sub(flight.sent_at) as f64 / span).clamp(0.0, 1.0);
            let (x, y) = (x1 + (x2 - x1) * progress, y1 + (y2 - y1) * progress);
            let id = flight.id;
            let onclick = {
                let act = act.clone();
                Callback::from(move |_: MouseEvent| act.emit(format!("drop {id}")))
            };
            let detail = tr!(
                lang,
                "message-title",
                id = id,
                summary = view.summary,
                from = view.from,
                to = view.to,
                reject = if view.reject { tr!(lang, "message-reject") } else { String::new() },
                sent = flight.sent_at,
                arrives = flight.arrives_at
            );
            html! {
                <g class={classes!("message", view.kind.to_lowercase(), view.reject.then_some("reject"))} data-message={id.to_string()} {onclick}>
                    <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="6" />
                    <text x={format!("{:.1}", x + 8.0)} y={format!("{:.1}", y - 6.0)}>{view.kind}</text>
                    <title>{detail}</title>
                </g>
            }
        })
        .collect();

    html! {
        <svg class="cluster" viewBox="0 0 400 400" role="img" aria-label={tr!(lang, "cluster-label")}>
            { for links }
            { nodes }
            { messages }
        </svg>
    }
}

fn node(
    view: &MachineView,
    (x, y): (f64, f64),
    selected: u64,
    select: &Callback<u64>,
    lang: Lang,
) -> Html {
    let id = view.node.id;
    // `role` names the state for styles and tests, `shown` in the page's language.
    let (role, shown, term, vote, ring) = match (&view.node.raft, &view.status) {
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
            (role, shown, raft.term.to_string(), raft.vote, left)
        }
        (None, _) => (
            "down".to_string(),
            tr!(lang, "role-down"),
            "?".into(),
            0,
            0.0,
        ),
    };
    let circumference = std::f64::consts::TAU * (NODE_RADIUS + 6.0);
    let onclick = {
        let select = select.clone();
        Callback::from(move |_: MouseEvent| select.emit(id))
    };
    let vote = if vote == 0 {
        "—".to_string()
    } else {
        format!("n{vote}")
    };
    html! {
        <g class={classes!("node", role.clone(), (selected == id).then_some("selected"))}
           data-node={id.to_string()} data-role={role.clone()} data-term={term.clone()} {onclick}>
            <circle class="timer" cx={x.to_string()} cy={y.to_string()} r={(NODE_RADIUS + 6.0).to_string()}
                stroke-dasharray={format!("{:.1} {:.1}", circumference * ring, circumference)}
                transform={format!("rotate(-90 {x} {y})")} />
            <circle class="body" cx={x.to_string()} cy={y.to_string()} r={NODE_RADIUS.to_string()} />
            <text class="id" x={x.to_string()} y={(y - 8.0).to_string()}>{format!("n{id}")}</text>
            <text class="role" x={x.to_string()} y={(y + 6.0).to_string()}>{shown}</text>
            <text class="term" x={x.to_string()} y={(y + 18.0).to_string()}>{format!("T{term} ✓{vote}")}</text>
            <title>{tr!(lang, "node-title", id = id)}</title>
        </g>
    }
}
