//! Lesson files, fetched from beside the page rather than built into the module.
//!
//! Built in, the lessons and their figures (both editions) were 114 of the module's 794 KiB
//! gzipped, and most visitors open one lesson or none. So the module knows only each
//! edition's file names (listed by build.rs from `lessons/`); `cargo xtask play` copies the
//! files next to the page, and an edition is fetched, all its files at once, after the page
//! has painted, the first time the page shows that language.
//!
//! A lesson comes as two files: its Markdown (`NAME.md`), which the lesson parser reads for
//! its cells, predictions and exercises, and its prose already rendered to HTML
//! (`NAME.prose.json`, written by the build: `xtask/src/lesson_prose.rs`), so that the module
//! carries no Markdown renderer.

use std::rc::Rc;

use raftbook_core::lesson::{Block, Lesson};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::AttrValue;

use crate::i18n::Lang;

/// A lesson as fetched: parsed, with its prose blocks' HTML (one per [`Block::Prose`], in
/// order).
#[derive(Clone)]
pub struct LessonFile {
    pub lesson: Lesson,
    pub prose: Rc<[AttrValue]>,
}

mod generated {
    include!(concat!(env!("OUT_DIR"), "/lessons.rs"));
}

/// Where `lang`'s edition lives, relative to the page.
fn folder(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "lessons/",
        Lang::Zh => "lessons/zh/",
    }
}

/// Every lesson and exercise of `lang`'s edition, in file-name order. Fails, saying which file
/// and why, if one cannot be fetched or does not parse (CI keeps the second from happening).
pub async fn fetch_edition(lang: Lang) -> Result<Vec<LessonFile>, String> {
    let names = match lang {
        Lang::En => generated::LESSONS,
        Lang::Zh => generated::LESSONS_ZH,
    };
    let window = web_sys::window().ok_or("no window")?;
    // Every request is made before the first answer is awaited, so they travel together.
    let requests: Vec<_> = names
        .iter()
        .map(|(name, path)| {
            let url = format!("{}{path}", folder(lang));
            let prose_url = format!("{}.prose.json", url.trim_end_matches(".md"));
            let response = JsFuture::from(window.fetch_with_str(&url));
            let prose = JsFuture::from(window.fetch_with_str(&prose_url));
            (name, (url, response), (prose_url, prose))
        })
        .collect();
    let mut lessons = Vec::with_capacity(names.len());
    for (name, (url, response), (prose_url, prose)) in requests {
        let text = text_of(response.await)
            .await
            .map_err(|why| format!("{url}: {why}"))?;
        let lesson = Lesson::parse(name, &text).map_err(|e| e.to_string())?;
        let prose = text_of(prose.await)
            .await
            .and_then(|json| prose_of(&json, &lesson))
            .map_err(|why| format!("{prose_url}: {why}"))?;
        lessons.push(LessonFile { lesson, prose });
    }
    Ok(lessons)
}

/// The HTML of `lesson`'s prose blocks, from its `.prose.json`: a JSON array of strings, as
/// many as the lesson has prose blocks.
fn prose_of(json: &str, lesson: &Lesson) -> Result<Rc<[AttrValue]>, String> {
    let parsed = js_sys::JSON::parse(json).map_err(|e| describe(&e))?;
    let array: js_sys::Array = parsed
        .dyn_into()
        .map_err(|_| "not a JSON array".to_string())?;
    let prose: Vec<AttrValue> = array
        .iter()
        .map(|html| html.as_string().map(AttrValue::from))
        .collect::<Option<_>>()
        .ok_or("not an array of strings")?;
    let blocks = lesson
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Prose(_)))
        .count();
    if prose.len() != blocks {
        return Err(format!(
            "HTML for {} prose blocks, but the lesson has {blocks}: rebuild the playground",
            prose.len()
        ));
    }
    Ok(prose.into())
}

/// The body of a fetched response, or why there is none (offline, a 404, …).
async fn text_of(
    response: Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>,
) -> Result<String, String> {
    let response: web_sys::Response = response
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| "not a response".to_string())?;
    if !response.ok() {
        return Err(format!("{} {}", response.status(), response.status_text()));
    }
    let text = JsFuture::from(response.text().map_err(|e| describe(&e))?)
        .await
        .map_err(|e| describe(&e))?;
    text.as_string().ok_or_else(|| "not text".into())
}

/// A JavaScript error's message (`TypeError: Failed to fetch`).
fn describe(error: &wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.to_string()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
