//! The cluster drawn as SVG: nodes in a circle, the links between them, messages in flight.
//!
//! - A node shows its id, role (in words, not only colour), term and vote. Its ring is the
//!   election timer draining (a leader's ring is its heartbeat timer).
//! - A link is drawn solid when open, dashed red when cut, half-dashed when one way is cut.
//!   Click a link to cut or restore it both ways; shift-click to cut one way (from the lower
//!   id to the higher).
//! - Each message is a dot coloured by its kind (the legend says which), placed by how far it
//!   has travelled between the simulator's send and arrival times (its place in the drawing,
//!   its words and which one the pointer is on are kept by [`MessageSlots`]). Its kind is
//!   written beside it where that covers no node, dot or other label. Hover for its
//!   contents; click to drop it. A crowded run, while it plays, draws its messages as one
//!   path of dots per kind ([`dots_by_kind`]).

use std::collections::BTreeMap;
use std::fmt::Write;

use raftbook_core::sim::{MachineView, NodeStatus};
use raftbook_core::view::MessageView;
use yew::prelude::*;

use crate::i18n::Lang;
use crate::message_slots::{kind_classes, Dot, MessageSlots};
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

/// Where node `id` is drawn, among the nodes `ids` in the order they go around the circle.
fn place_among(ids: &[u64], id: u64) -> (f64, f64) {
    position(ids.iter().position(|&i| i == id).unwrap_or(0), ids.len())
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
    slots: &mut MessageSlots,
    (act, select, hover): (&Callback<String>, &Callback<u64>, &Callback<Option<u64>>),
) -> Html {
    let lang = playground.lang;
    let cluster = playground.console.cluster();
    let ids = cluster.node_ids();
    let place = |id: u64| place_among(&ids, id);
    let now = cluster.now();

    let mut links = Vec::new();
    for (i, &a) in ids.iter().enumerate() {
        for &b in &ids[i + 1..] {
            links.push(Link {
                a,
                b,
                forward: cluster.network().check(a, b).is_ok(),
                backward: cluster.network().check(b, a).is_ok(),
            });
        }
    }

    let nodes: Html = ids
        .iter()
        .filter_map(|&id| cluster.node_view_with_tail(id, 0))
        .map(|view| node(&view, place(view.node.id), playground, &ids, (select, act)))
        .collect();

    // Where a message is now: on the line from the rim of its sender to the rim of its
    // receiver (so a dot never covers a node: clicking a node must select it, not drop a
    // message), as far along as it has travelled between its send and arrival times.
    let at = |from: u64, to: u64, sent_at: u64, arrives_at: u64| {
        let ((x1, y1), (x2, y2)) = rim_to_rim(place(from), place(to));
        let span = arrives_at.saturating_sub(sent_at).max(1) as f64;
        // With reduced motion a message does not fly: it waits halfway, then is gone.
        let progress = if playground.reduce_motion {
            0.5
        } else {
            (now.saturating_sub(sent_at) as f64 / span).clamp(0.0, 1.0)
        };
        (x1 + (x2 - x1) * progress, y1 + (y2 - y1) * progress)
    };
    let crowded = slots.crowded(cluster.in_flight().count());
    let as_paths = crowded && playground.playing;
    let messages: Html = if as_paths {
        dots_by_kind(cluster.in_flight().map(|flight| {
            let view = MessageView::new(&flight.message);
            let place = at(view.from, view.to, flight.sent_at, flight.arrives_at);
            (view, place)
        }))
    } else {
        let hovered = slots.hovered;
        let places = slots.update(cluster.in_flight(), lang);
        let dots: Vec<Option<(&Dot, (f64, f64))>> = places
            .iter()
            .map(|dot| {
                dot.as_ref()
                    .map(|d| (d, at(d.view.from, d.view.to, d.sent_at, d.arrives_at)))
            })
            .collect();
        let centres: Vec<(f64, f64)> = ids.iter().map(|&id| place(id)).collect();
        let labelled = if crowded {
            vec![false; dots.len()]
        } else {
            labels_shown(
                &dots
                    .iter()
                    .map(|d| d.map(|(dot, at)| (at, dot.view.kind().len())))
                    .collect::<Vec<_>>(),
                &centres,
            )
        };
        dots.iter()
            .zip(labelled)
            .map(|(dot, labelled)| {
                // An empty place keeps the places after it where they are (see MessageSlots).
                let Some((dot, (x, y))) = dot else {
                    return html! { <g /> };
                };
                // One attribute moves the dot and its label. Only the dot under the pointer
                // has a tooltip: most messages are gone before anyone could point at them.
                html! {
                    <g class={dot.class.clone()} data-message={dot.key.clone()} transform={format!("translate({x:.1} {y:.1})")}
                       tabindex="0" role="button" aria-label={dot.label.clone()}>
                        <circle r="6" />
                        if labelled {
                            <text x="8" y="-6">{dot.view.kind()}</text>
                        }
                        if hovered == Some(dot.id) {
                            <title>{dot.detail.clone()}</title>
                        }
                    </g>
                }
            })
            .collect()
    };
    // A click or key on any dot reaches the group: one listener for all the messages rather
    // than two per dot made again in every frame.
    let on_message_click = {
        let act = act.clone();
        Callback::from(move |event: MouseEvent| {
            if let Some(id) = message_of(&event) {
                act.emit(format!("drop {id}"));
            }
        })
    };
    let on_message_key = {
        let act = act.clone();
        Callback::from(move |event: KeyboardEvent| {
            if matches!(event.key().as_str(), "Enter" | "Delete" | "Backspace") {
                if let Some(id) = message_of(&event) {
                    event.prevent_default();
                    act.emit(format!("drop {id}"));
                }
            }
        })
    };

    let (on_over, on_out) = (hover.clone(), hover.clone());
    let on_message_over = Callback::from(move |event: MouseEvent| {
        on_over.emit(message_of(&event).and_then(|id| id.parse().ok()))
    });
    let on_message_out = Callback::from(move |_: MouseEvent| on_out.emit(None));

    html! { <>
        <svg class="cluster" viewBox="0 0 400 400" role="group" aria-label={tr!(lang, "cluster-group-label")}>
            // Nodes first: Tab reaches them before the links and messages.
            { nodes }
            <Links {links} {lang} ids={ids.clone()} act={act.clone()} />
            if as_paths {
                // The title is the tooltip over any dot: a dot can be picked once paused.
                <g class="messages" role="img" aria-label={tr!(lang, "messages-crowded")}>
                    <title>{tr!(lang, "messages-crowded")}</title>
                    { messages }
                </g>
            } else {
                <g class="messages" onclick={on_message_click} onkeydown={on_message_key}
                   onmouseover={on_message_over} onmouseout={on_message_out}>{ messages }</g>
            }
        </svg>
        <Legend {lang} />
    </> }
}

/// A crowded run's messages while it plays: a path of dots for each kind of message (the
/// rejections in one of their own, drawn last). Some 150 messages come and go each frame
/// at 9 nodes and 200 puts/s, most within one frame; an element for each, with its words,
/// was more than a frame's time on a slow machine, and nobody could point at one anyway.
/// Paused, each message is its own element again, to hover, pick and drop.
fn dots_by_kind(dots: impl Iterator<Item = (MessageView, (f64, f64))>) -> Html {
    let mut paths: BTreeMap<(bool, &'static str), String> = BTreeMap::new();
    for (view, (x, y)) in dots {
        let path = paths.entry((view.reject, view.kind())).or_default();
        // A circle of radius 6 around (x, y), as two half-circle arcs.
        let _ = write!(path, "M{x:.1} {y:.1}m-6 0a6 6 0 1 0 12 0a6 6 0 1 0-12 0");
    }
    paths
        .into_iter()
        .map(
            |((reject, kind), d)| html! { <path class={kind_classes("dots", kind, reject)} {d} /> },
        )
        .collect()
}

#[derive(Properties, PartialEq)]
struct LegendProps {
    lang: Lang,
}

/// What the colours of the messages mean: a crowded run draws its messages without their
/// names (they would cover one another), and a colour is all a dot shows.
#[function_component(Legend)]
fn legend(props: &LegendProps) -> Html {
    let lang = props.lang;
    let kinds = [
        ("append", "Append, AppendResp".to_string()),
        ("heartbeat", "Heartbeat, HeartbeatResp".to_string()),
        ("vote", "Vote, VoteResp".to_string()),
        ("prevote", "PreVote, PreVoteResp".to_string()),
        ("snapshot", "Snapshot".to_string()),
        ("reject", tr!(lang, "legend-rejected")),
    ];
    html! {
        <ul class="legend" aria-label={tr!(lang, "legend-label")}>
            { for kinds.into_iter().map(|(class, words)| html! {
                <li><span class={classes!("swatch", class)} aria-hidden="true"></span>{words}</li>
            }) }
        </ul>
    }
}

/// The id of the message whose dot an event happened on, if it was on one.
fn message_of(event: &Event) -> Option<String> {
    let target: web_sys::Element = event.target_dyn_into()?;
    target
        .closest("g.message")
        .ok()??
        .get_attribute("data-message")
}

/// Whether messages between two nodes get through, each way.
#[derive(Clone, Copy, PartialEq)]
struct Link {
    a: u64,
    b: u64,
    /// `a` to `b`.
    forward: bool,
    /// `b` to `a`.
    backward: bool,
}

#[derive(Properties, PartialEq)]
struct LinksProps {
    /// Between the nodes in the order they are drawn, each pair once.
    links: Vec<Link>,
    /// The nodes, in the order they are drawn around the circle.
    ids: Vec<u64>,
    lang: Lang,
    act: Callback<String>,
}

/// The links, drawn again only when one of them (or the language) changes: they are a
/// component so that yew can skip them in the frames that only move messages.
#[function_component(Links)]
fn links(props: &LinksProps) -> Html {
    let (lang, ids) = (props.lang, &props.ids);
    let place = |id: u64| place_among(ids, id);
    props
        .links
        .iter()
        .map(|&Link { a, b, forward, backward }| {
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
                let act = props.act.clone();
                Callback::from(move |event: MouseEvent| act.emit(toggle(event.shift_key())))
            };
            let onkeydown = {
                let act = props.act.clone();
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
            html! {
                <g class={class} data-link={format!("{a}-{b}")} {onclick} {onkeydown}
                   tabindex="0" role="button" aria-label={title.clone()}>
                    <line class="hit" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                    <line class="wire" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                    <title>{title}</title>
                </g>
            }
        })
        .collect()
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

/// The box a message's label takes, roughly: to the right of and above its dot, 6 px a
/// letter, 12 px high, its baseline 6 px above the dot.
#[derive(Clone, Copy)]
struct LabelBox {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl LabelBox {
    fn of((x, y): (f64, f64), letters: usize) -> LabelBox {
        LabelBox {
            left: x + 8.0,
            right: x + 8.0 + 6.0 * letters as f64,
            top: y - 18.0,
            bottom: y - 3.0,
        }
    }

    /// Whether the box comes within `radius` of `(cx, cy)`.
    fn near(&self, (cx, cy): (f64, f64), radius: f64) -> bool {
        let nearest = (
            cx.clamp(self.left, self.right),
            cy.clamp(self.top, self.bottom),
        );
        (nearest.0 - cx).hypot(nearest.1 - cy) < radius
    }

    fn overlaps(&self, other: &LabelBox) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }
}

/// Which of the messages at `dots` (where each is, and how many letters its kind has; `None`
/// for an empty place) get their label drawn, in order: not one that would cover a node at
/// one of `centres` (it would hide the node's own text), another message's dot (a label on a
/// dot can hardly be read), or a label drawn before it. A message without a label still has
/// its kind in its accessible name and tooltip.
fn labels_shown(dots: &[Option<((f64, f64), usize)>], centres: &[(f64, f64)]) -> Vec<bool> {
    // A dot's radius and its outline.
    const DOT: f64 = 7.0;
    let mut drawn: Vec<LabelBox> = Vec::new();
    dots.iter()
        .enumerate()
        .map(|(i, dot)| {
            let Some((at, letters)) = *dot else {
                return false;
            };
            let label = LabelBox::of(at, letters);
            let clear = !centres.iter().any(|&c| label.near(c, NODE_RADIUS + 2.0))
                && !dots
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && other.is_some_and(|(o, _)| label.near(o, DOT)))
                && !drawn.iter().any(|d| d.overlaps(&label));
            if clear {
                drawn.push(label);
            }
            clear
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_hidden_where_it_would_cover_a_node_a_dot_or_a_label() {
        let node = [(200.0, 200.0)];
        let shown = |dots: &[Option<((f64, f64), usize)>]| labels_shown(dots, &node);
        // Arriving at the node's left rim: the label would run across the node.
        assert_eq!(
            shown(&[Some(((200.0 - NODE_RADIUS - 6.0, 205.0), 13))]),
            [false]
        );
        // Halfway across an empty stretch: shown. Just below and right of the node: clear.
        assert_eq!(shown(&[Some(((60.0, 300.0), 13))]), [true]);
        assert_eq!(
            shown(&[Some(((205.0, 200.0 + NODE_RADIUS + 20.0), 13))]),
            [true]
        );
        // A dot under the first one's label: the first loses its label, the second keeps its.
        assert_eq!(
            shown(&[Some(((60.0, 300.0), 9)), None, Some(((90.0, 290.0), 9))]),
            [false, false, true]
        );
        // Two labels that would overlap, with no dot under either: the first comes first.
        assert_eq!(
            shown(&[Some(((60.0, 300.0), 9)), Some(((60.0, 312.0), 9))]),
            [true, false]
        );
    }
}
