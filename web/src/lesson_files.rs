//! Lesson files, fetched from beside the page rather than built into the module.
//!
//! Built in, the lessons and their figures (both editions) were 114 of the module's 794 KiB
//! gzipped, and most visitors open one lesson or none. So the module knows only each
//! edition's file names (listed by build.rs from `lessons/`); `cargo xtask play` copies the
//! files next to the page, and an edition is fetched, all its files at once, after the page
//! has painted, the first time the page shows that language.

use raftbook_core::lesson::Lesson;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::Lang;

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

/// The URL of figure `name` (`img/name.svg` in a lesson's Markdown) in `lang`'s edition.
pub fn figure_url(lang: Lang, name: &str) -> String {
    format!("{}img/{name}", folder(lang))
}

/// Every lesson and exercise of `lang`'s edition, in file-name order. Fails, saying which file
/// and why, if one cannot be fetched or does not parse (CI keeps the second from happening).
pub async fn fetch_edition(lang: Lang) -> Result<Vec<Lesson>, String> {
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
            let response = JsFuture::from(window.fetch_with_str(&url));
            (name, url, response)
        })
        .collect();
    let mut lessons = Vec::with_capacity(names.len());
    for (name, url, response) in requests {
        let text = text_of(response.await)
            .await
            .map_err(|why| format!("{url}: {why}"))?;
        lessons.push(Lesson::parse(name, &text).map_err(|e| e.to_string())?);
    }
    Ok(lessons)
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
