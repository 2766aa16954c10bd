//! The page: time controls, the cluster, network controls, panels; keyboard shortcuts.
//!
//! Every click becomes a scenario command given to [`Playground::act`], so it lands in the
//! run's action list (and in the URL) like anything typed in the console.
//!
//! Animation: while playing, one `requestAnimationFrame` callback per frame moves virtual
//! time on and re-renders; paused, no frame is requested, so nothing runs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::cluster_svg::cluster_svg;
use crate::i18n::Lang;
use crate::lesson_files;
use crate::message_slots::MessageSlots;
use crate::model::{Playground, SPEEDS};
use crate::notebook::{self, NotebookAction};
use crate::panels;
use crate::tr;

type Shared = Rc<RefCell<Playground>>;

/// The playground, shared by the page's components; equal only to itself.
#[derive(Clone)]
pub struct Model(pub Shared);

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Frames between redraws of the text panels (logs, member, console) while playing: the
/// cluster animates every frame, the panels at a quarter of that, which people cannot tell
/// apart and which keeps the browser's layout work small. Any action redraws at once.
const PANEL_FRAMES: usize = 4;

/// The turn of the member panel, console and notebook among the [`Turns`].
const SIDE_PANELS_TURN: usize = 1;

/// While playing, the text panels take turns: in each frame, one group of them draws again.
/// Log row `i` is in group `i % PANEL_FRAMES`, the other panels in group
/// [`SIDE_PANELS_TURN`]. A frame that redrew every panel would take longer than a frame
/// lasts on a slow machine (9 nodes at 200 puts/s), and the animation would stutter in it.
///
/// Each group counts its turns; a panel draws again when its group's count changes.
#[derive(Clone, Copy, Default, PartialEq)]
pub struct Turns([u64; PANEL_FRAMES]);

impl Turns {
    /// Every panel is due (after an action, or on the last frame before a pause).
    fn all_due(&mut self) {
        for count in &mut self.0 {
            *count += 1;
        }
    }

    /// Frame number `frame` of a run of frames: its group is due.
    fn frame(&mut self, frame: u64) {
        self.0[frame as usize % PANEL_FRAMES] += 1;
    }

    fn of_log_row(self, row: usize) -> u64 {
        self.0[row % PANEL_FRAMES]
    }

    fn of_side_panels(self) -> u64 {
        self.0[SIDE_PANELS_TURN]
    }
}

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub model: Model,
    /// Changes when the panels should be drawn again.
    pub version: u64,
    pub act: Callback<String>,
    pub set_target: Callback<u64>,
}

#[function_component(SidePanels)]
fn side_panels(props: &PanelProps) -> Html {
    let playground = props.model.0.borrow();
    html! { <>
        { panels::member(&playground, &props.act) }
        { panels::console(&playground, &props.act, &props.set_target) }
    </> }
}

#[derive(Properties, PartialEq)]
pub struct NotebookProps {
    pub model: Model,
    pub version: u64,
    pub on: Callback<NotebookAction>,
}

#[function_component(NotebookPanel)]
fn notebook_panel(props: &NotebookProps) -> Html {
    let playground = props.model.0.borrow();
    let focus = playground.notebook.as_ref().map(|n| n.focus);
    // Bring the block the learner moved to into view.
    use_effect_with(focus, |focus| {
        if let Some(element) = focus.and_then(|f| {
            window()
                .document()?
                .get_element_by_id(&format!("block-{f}"))
        }) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            element.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    match &playground.notebook {
        Some(notebook) => notebook::view(notebook, &playground.console, &props.on, playground.lang),
        None => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct LogProps {
    pub model: Model,
    pub turns: Turns,
}

/// Every node's log, a row each ([`panels::logs`]); the rows draw again in their turns.
#[function_component(LogPanel)]
fn log_panel(props: &LogProps) -> Html {
    let section = use_node_ref();
    let on_screen = use_on_screen(&section);
    let playground = props.model.0.borrow();
    // While the run plays, rows off the screen are not drawn again: at 200 puts/s every cell
    // of a row changes at each redraw, and laying out text nobody sees took a good part of
    // each frame. They are drawn as soon as they come into view, and whenever the run stops.
    let live = *on_screen || !playground.playing;
    let ids = playground.console.cluster().node_ids();
    let rows = ids.into_iter().enumerate().map(|(row, id)| {
        let version = if live { props.turns.of_log_row(row) } else { 0 };
        html! { <LogRow key={id} model={props.model.clone()} {id} {version} /> }
    });
    panels::logs(playground.lang, &section, rows)
}

/// Whether any of `element` is in the window's view, kept up to date by an
/// `IntersectionObserver` (so nothing runs while it stays where it is).
#[hook]
fn use_on_screen(element: &NodeRef) -> UseStateHandle<bool> {
    let on_screen = use_state(|| true);
    {
        let (element, on_screen) = (element.clone(), on_screen.clone());
        use_effect_with((), move |_| {
            let seen = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                if let Some(entry) = entries
                    .iter()
                    .last()
                    .and_then(|e| e.dyn_into::<web_sys::IntersectionObserverEntry>().ok())
                {
                    on_screen.set(entry.is_intersecting());
                }
            });
            let observer = web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()).ok();
            if let (Some(observer), Some(element)) = (&observer, element.cast::<web_sys::Element>())
            {
                observer.observe(&element);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(seen);
            }
        });
    }
    on_screen
}

#[derive(Properties, PartialEq)]
pub struct LogRowProps {
    pub model: Model,
    pub id: u64,
    /// Changes when the row should be drawn again.
    pub version: u64,
}

#[function_component(LogRow)]
fn log_row(props: &LogRowProps) -> Html {
    panels::log_row(&props.model.0.borrow(), props.id)
}
type FrameCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

fn location_fragment() -> String {
    window().location().hash().unwrap_or_default()
}

/// Puts the run in the address bar (without reloading or adding history entries).
fn sync_url(playground: &Playground) {
    let url = format!("#{}", playground.fragment());
    let _ = window()
        .history()
        .and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(&url)));
}

const REDUCE_MOTION_KEY: &str = "raftbook.reduce-motion";

/// The learner's choice if they made one here, else the system's `prefers-reduced-motion`.
fn prefers_reduced_motion() -> bool {
    let stored = window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(REDUCE_MOTION_KEY).ok().flatten());
    match stored.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => window()
            .match_media("(prefers-reduced-motion: reduce)")
            .ok()
            .flatten()
            .is_some_and(|query| query.matches()),
    }
}

fn remember_reduced_motion(on: bool) {
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(REDUCE_MOTION_KEY, if on { "on" } else { "off" });
    }
}

/// Real milliseconds since the page opened, for timing a link's replay slices.
fn performance_now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn request_frame(callback: &FrameCallback) {
    if let Some(closure) = callback.borrow().as_ref() {
        let _ = window().request_animation_frame(closure.as_ref().unchecked_ref());
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let model: Shared = use_mut_ref(|| {
        let fragment = location_fragment();
        let lang = Lang::of_browser(&fragment);
        lang.apply_to_page();
        let mut playground = Playground::from_fragment(&fragment, lang);
        playground.reduce_motion = prefers_reduced_motion();
        playground
    });
    let update = use_force_update();
    let message_slots = use_mut_ref(MessageSlots::default);

    // The frame loop: one closure for the page's life, re-requested only while playing.
    let looping = use_mut_ref(|| false);
    let panel_turns = use_mut_ref(Turns::default);
    let frame: FrameCallback = use_mut_ref(|| None);
    if frame.borrow().is_none() {
        let (model, update, looping, again, panel_turns) = (
            model.clone(),
            update.clone(),
            looping.clone(),
            frame.clone(),
            panel_turns.clone(),
        );
        let last = Cell::new(None::<f64>);
        let frames = Cell::new(0u64);
        *frame.borrow_mut() = Some(Closure::new(move |timestamp: f64| {
            let elapsed = last.get().map_or(0.0, |previous| timestamp - previous);
            let catching_up = model.borrow().catching_up.is_some();
            model.borrow_mut().catch_up(&performance_now);
            model.borrow_mut().frame(elapsed);
            frames.set(frames.get() + 1);
            // Redraw the panels every few frames, and all of them on the last frame before a
            // pause.
            {
                let mut turns = panel_turns.borrow_mut();
                turns.frame(frames.get());
                if !model.borrow().animating() {
                    turns.all_due();
                }
            }
            // Replaying a link, the page shows only how far it got: drawing every frame would
            // take the time the replay needs.
            let cycle_start = frames.get().is_multiple_of(PANEL_FRAMES as u64);
            if !catching_up || cycle_start || model.borrow().catching_up.is_none() {
                update.force_update();
            }
            if model.borrow().animating() {
                last.set(Some(timestamp));
                request_frame(&again);
            } else {
                last.set(None);
                *looping.borrow_mut() = false;
                sync_url(&model.borrow());
            }
        }));
    }
    {
        let (model, looping, frame) = (model.clone(), looping.clone(), frame.clone());
        use_effect(move || {
            if model.borrow().animating() && !*looping.borrow() {
                *looping.borrow_mut() = true;
                request_frame(&frame);
            }
        });
    }

    // Runs `change` on the playground, redraws everything and updates the URL.
    let change = {
        let (model, update, panel_turns) = (model.clone(), update.clone(), panel_turns.clone());
        Rc::new(move |change: &dyn Fn(&mut Playground)| {
            change(&mut model.borrow_mut());
            sync_url(&model.borrow());
            panel_turns.borrow_mut().all_due();
            update.force_update();
        })
    };
    // Lessons are fetched once the page has painted: the page's edition, the first time the
    // page shows its language.
    {
        let (model, change) = (model.clone(), change.clone());
        use_effect(move || {
            let Some(lang) = model.borrow_mut().edition_to_fetch() else {
                return;
            };
            yew::platform::spawn_local(async move {
                let fetched = lesson_files::fetch_edition(lang).await;
                change(&|p: &mut Playground| p.edition_arrived(lang, fetched.clone()));
            });
        });
    }
    // Made once, so the panels (which compare their properties) see the same callbacks.
    let callbacks = {
        let change = change.clone();
        use_memo((), move |_| {
            let (a, s, t, n) = (change.clone(), change.clone(), change.clone(), change);
            (
                Callback::from(move |line: String| a(&|p: &mut Playground| p.act(&line))),
                Callback::from(move |id: u64| s(&|p: &mut Playground| p.selected = id)),
                Callback::from(move |id: u64| t(&|p: &mut Playground| p.target = id)),
                Callback::from(move |action: NotebookAction| {
                    n(&|p: &mut Playground| p.notebook_action(action.clone()))
                }),
            )
        })
    };
    let (act, select, set_target, on_notebook) = (
        callbacks.0.clone(),
        callbacks.1.clone(),
        callbacks.2.clone(),
        callbacks.3.clone(),
    );
    let turns = *panel_turns.borrow();
    let panel_version = turns.of_side_panels();
    // The pointer on a message (or off it): only that message's dot has a tooltip.
    let hover = {
        let (slots, update) = (message_slots.clone(), update.clone());
        Callback::from(move |id: Option<u64>| {
            if slots.borrow().hovered != id {
                slots.borrow_mut().hovered = id;
                update.force_update();
            }
        })
    };

    // Keyboard: space plays or pauses, → or "." steps, ? shows the keys (not while typing in
    // a field, and not a key a focused node, link or message already used).
    {
        let change = change.clone();
        use_effect_with((), move |_| {
            let listener = gloo_events::EventListener::new(
                &window().document().expect("document"),
                "keydown",
                move |event| {
                    let event: &KeyboardEvent = event.unchecked_ref();
                    let typing = event
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|e| {
                            matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                        });
                    if typing || event.default_prevented() {
                        return;
                    }
                    match event.key().as_str() {
                        " " => {
                            event.prevent_default();
                            change(&Playground::toggle_play);
                        }
                        "ArrowRight" | "." => change(&Playground::run_next_event),
                        "?" => change(&|p: &mut Playground| p.show_help = !p.show_help),
                        "Escape" => change(&|p: &mut Playground| p.show_help = false),
                        _ => {}
                    }
                },
            );
            move || drop(listener)
        });
    }

    let playground = model.borrow();
    let on_play = {
        let change = change.clone();
        Callback::from(move |_: MouseEvent| change(&Playground::toggle_play))
    };
    let on_step = {
        let change = change.clone();
        Callback::from(move |_: MouseEvent| change(&Playground::run_next_event))
    };
    let on_speed = {
        let change = change.clone();
        Callback::from(move |event: Event| {
            let index: usize = event
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
                .unwrap_or(3);
            change(&|p: &mut Playground| p.speed = index.min(SPEEDS.len() - 1));
        })
    };
    let on_scrub = {
        let change = change.clone();
        Callback::from(move |event: InputEvent| {
            let time: u64 = event
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(0);
            change(&|p: &mut Playground| {
                p.playing = false;
                p.scrub(time);
            });
        })
    };
    let on_new_run = {
        let change = change.clone();
        Callback::from(move |_: MouseEvent| {
            let document = window().document().expect("document");
            let value = |id: &str| {
                document
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
                    .map(|e| e.value())
            };
            let seed = value("seed")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(1);
            let nodes = document
                .get_element_by_id("nodes")
                .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
                .and_then(|e| e.value().parse().ok())
                .unwrap_or(5);
            change(&|p: &mut Playground| p.restart(nodes, seed));
        })
    };
    let input_value = |id: &str| {
        window()
            .document()
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            .map(|e| e.value())
            .unwrap_or_default()
    };
    let on_partition = {
        let act = act.clone();
        Callback::from(move |_: MouseEvent| {
            act.emit(format!("partition {}", input_value("partition")))
        })
    };
    let on_heal = {
        let act = act.clone();
        Callback::from(move |_: MouseEvent| act.emit("heal".into()))
    };
    let on_latency = {
        let act = act.clone();
        Callback::from(move |event: Event| {
            let ms: u64 = event
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(20);
            act.emit(format!("net latency={}-{}ms", ms / 2, ms));
        })
    };
    let on_loss = {
        let act = act.clone();
        Callback::from(move |event: Event| {
            let percent: f64 = event
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(0.0);
            act.emit(format!("net loss={:.2}", percent / 100.0));
        })
    };
    let on_load = {
        let act = act.clone();
        Callback::from(move |event: Event| {
            act.emit(format!(
                "load {}",
                event.target_unchecked_into::<HtmlSelectElement>().value()
            ))
        })
    };

    let on_reduce_motion = {
        let change = change.clone();
        Callback::from(move |event: Event| {
            let on = event.target_unchecked_into::<HtmlInputElement>().checked();
            remember_reduced_motion(on);
            change(&|p: &mut Playground| p.reduce_motion = on);
        })
    };
    let on_help = {
        let change = change.clone();
        Callback::from(move |_: MouseEvent| {
            change(&|p: &mut Playground| p.show_help = !p.show_help)
        })
    };
    let on_lang = {
        let change = change.clone();
        Callback::from(move |event: Event| {
            let code = event.target_unchecked_into::<HtmlSelectElement>().value();
            let lang = Lang::from_tag(&code).unwrap_or_default();
            lang.apply_to_page();
            change(&|p: &mut Playground| p.set_lang(lang));
        })
    };
    let on_lesson = {
        let change = change.clone();
        Callback::from(move |event: Event| {
            let name = event.target_unchecked_into::<HtmlSelectElement>().value();
            change(&|p: &mut Playground| {
                if name.is_empty() {
                    p.notebook = None
                } else {
                    p.open_lesson(&name, None)
                }
            });
        })
    };
    let open_lesson = playground
        .notebook
        .as_ref()
        .map(|n| n.lesson.name.clone())
        .unwrap_or_default();
    let now = playground.now();
    let lang = playground.lang;
    let catching_up = playground.catching_up.is_some();
    let link = &playground.console.cluster().network().default_link;
    html! {
        <div class="app">
            <header>
                <h1>{"raftbook"}</h1>
                <div class="time-controls">
                    <button id="play" onclick={on_play} title={tr!(lang, "play-title")} disabled={catching_up}>{ if playground.playing { tr!(lang, "pause") } else { tr!(lang, "play") } }</button>
                    <button id="step" onclick={on_step} title={tr!(lang, "step-title")} disabled={catching_up}>{tr!(lang, "step")}</button>
                    <label>{tr!(lang, "speed")}{" "}
                        <select id="speed" onchange={on_speed}>
                            { for SPEEDS.iter().enumerate().map(|(i, s)| html! {
                                <option value={i.to_string()} selected={i == playground.speed}>{ if *s < 1.0 { format!("1/{}×", (1.0 / s).round()) } else { format!("{s}×") } }</option>
                            }) }
                        </select>
                    </label>
                    <input id="scrubber" type="range" min="0" max={playground.present.to_string()} value={now.to_string()} oninput={on_scrub} title={tr!(lang, "scrubber-title")} disabled={catching_up} />
                    <span id="time" data-ms={now.to_string()}>{tr!(lang, "time", seconds = format!("{:.3}", now as f64 / 1000.0))}</span>
                </div>
                <div class="run-controls">
                    <label>{tr!(lang, "nodes")}{" "}
                        <select id="nodes">{ for (3..=9).map(|n| html! { <option value={n.to_string()} selected={n == playground.console.nodes()}>{n}</option> }) }</select>
                    </label>
                    <label>{tr!(lang, "seed")}{" "}<input id="seed" type="number" value={playground.console.seed().to_string()} /></label>
                    <button id="new-run" onclick={on_new_run}>{tr!(lang, "new-run")}</button>
                    <select id="lesson" onchange={on_lesson} title={tr!(lang, "lesson-title")}>
                        <option value="" selected={open_lesson.is_empty()}>{tr!(lang, "lessons")}</option>
                        { for playground.catalogue().map(|l| html! {
                            <option value={l.name.clone()} selected={l.name == open_lesson}>{l.title.clone()}</option>
                        }) }
                    </select>
                    <label title={tr!(lang, "reduce-motion-title")}>
                        <input id="reduce-motion" type="checkbox" checked={playground.reduce_motion} onchange={on_reduce_motion} />
                        {" "}{tr!(lang, "reduce-motion")}
                    </label>
                    <button id="help" onclick={on_help.clone()} aria-expanded={playground.show_help.to_string()}>{tr!(lang, "help-button")}</button>
                    <select id="lang" onchange={on_lang} title={tr!(lang, "language")} aria-label={tr!(lang, "language")}>
                        { for Lang::ALL.iter().map(|l| html! {
                            <option value={l.code()} lang={l.html_lang()} selected={*l == lang}>{l.name()}</option>
                        }) }
                    </select>
                </div>
            </header>
            if let Some(notice) = &playground.notice { <p class="notice" role="alert">{notice.text(lang)}</p> }
            if let Some(lesson) = playground.lesson_waiting() {
                <p id="lesson-waiting" class="catching-up" role="status">{tr!(lang, "lesson-waiting", lesson = lesson.to_string())}</p>
            }
            if let Some(catch_up) = &playground.catching_up {
                <p id="catching-up" class="catching-up">
                    <label for="catch-up-progress">{tr!(lang, "catching-up", done = format!("{:.1}", now as f64 / 1000.0), of = format!("{:.1}", catch_up.to as f64 / 1000.0))}</label>
                    {" "}<progress id="catch-up-progress" max={catch_up.to.to_string()} value={now.to_string()}></progress>
                </p>
            }
            if playground.show_help {
                <section id="keyboard-help" class="help" aria-labelledby="keyboard-help-title">
                    <h2 id="keyboard-help-title">{tr!(lang, "help-title")}</h2>
                    <ul>
                        <li>{tr!(lang, "help-play")}</li>
                        <li>{tr!(lang, "help-step")}</li>
                        <li>{tr!(lang, "help-nodes")}</li>
                        <li>{tr!(lang, "help-node-actions")}</li>
                        <li>{tr!(lang, "help-links")}</li>
                        <li>{tr!(lang, "help-messages")}</li>
                        <li>{tr!(lang, "help-help")}</li>
                    </ul>
                    <button id="help-close" onclick={on_help}>{tr!(lang, "close")}</button>
                </section>
            }
            // What a screen reader says as the cluster changes (politely: it waits its turn).
            <div id="announcements" class="visually-hidden" role="status" aria-live="polite">
                { for playground.announcements.iter().map(|a| html! { <p>{a}</p> }) }
            </div>
            <main class={classes!(playground.notebook.is_some().then_some("with-notebook"))}>
                if playground.notebook.is_some() {
                    <div class="lesson-column">
                        <NotebookPanel model={Model(model.clone())} version={panel_version} on={on_notebook.clone()} />
                    </div>
                }
                <div class="left">
                    { cluster_svg(&playground, &mut message_slots.borrow_mut(), (&act, &select, &hover)) }
                    <div class="network-controls">
                        <input id="partition" type="text" placeholder="1,2 | 3,4,5" title={tr!(lang, "partition-title")} />
                        <button id="apply-partition" onclick={on_partition}>{tr!(lang, "partition")}</button>
                        <button id="heal" onclick={on_heal}>{tr!(lang, "heal-all")}</button>
                        <label>{tr!(lang, "latency")}{" "}<input id="latency" type="range" min="2" max="400" value={link.latency_max_ms.to_string()} onchange={on_latency} /></label>
                        <label>{tr!(lang, "loss")}{" "}<input id="loss" type="range" min="0" max="50" value={((link.loss * 100.0).round() as u64).to_string()} onchange={on_loss} /></label>
                        <label>{tr!(lang, "client-load")}{" "}
                            <select id="load" onchange={on_load}>
                                { for [0, 5, 20, 50, 200].iter().map(|r| html! { <option value={r.to_string()} selected={*r == playground.console.load_rate()}>{ if *r == 0 { tr!(lang, "load-off") } else { tr!(lang, "load-rate", rate = r) } }</option> }) }
                            </select>
                        </label>
                    </div>
                    { panels::safety(&playground) }
                </div>
                <div class="right">
                    <SidePanels model={Model(model.clone())} version={panel_version} act={act.clone()} set_target={set_target.clone()} />
                </div>
            </main>
            <LogPanel model={Model(model.clone())} {turns} />
            <footer>{tr!(lang, "footer")}</footer>
        </div>
    }
}
