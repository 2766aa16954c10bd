//! The page's words, in English and Simplified Chinese.
//!
//! Every label, button, tooltip, notice and heading lives in a Fluent message catalogue,
//! `web/locales/en.ftl` and `web/locales/zh.ftl`; components ask for them by id with
//! [`tr!`](crate::tr) and never write words themselves. What the cluster prints (etcdctl's
//! answers, the scenario language's output) stays as it prints, as etcdctl's output is
//! English in etcd too.
//!
//! The language is the URL's `lang=` if it has one, else the one the learner picked last
//! (local storage), else the browser's.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

const CATALOGUES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en.ftl")),
    (Lang::Zh, include_str!("../locales/zh.ftl")),
];

const STORAGE_KEY: &str = "raftbook.lang";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The code in URLs and storage: `en` or `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The page's `<html lang>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// How the language names itself in the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    /// A language tag (`zh`, `zh-CN`, `zh-Hans-SG`, `en-GB`…) as one of ours, if it is.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language to show: `lang=` in the URL fragment, else `stored`, else the first of
    /// the browser's languages we have, else English.
    pub fn choose(fragment: &str, stored: Option<&str>, browser: &[String]) -> Lang {
        let from_url = fragment
            .trim_start_matches('#')
            .split('&')
            .find_map(|p| p.strip_prefix("lang="))
            .and_then(Lang::from_tag);
        from_url
            .or_else(|| stored.and_then(Lang::from_tag))
            .or_else(|| browser.iter().find_map(|tag| Lang::from_tag(tag)))
            .unwrap_or_default()
    }

    /// The language this browser shows the page in (see [`Lang::choose`]).
    pub fn of_browser(fragment: &str) -> Lang {
        let window = web_sys::window();
        let stored = window
            .as_ref()
            .and_then(|w| w.local_storage().ok()?)
            .and_then(|s| s.get_item(STORAGE_KEY).ok()?);
        let browser: Vec<String> = window
            .map(|w| {
                let navigator = w.navigator();
                let languages: Vec<String> = navigator
                    .languages()
                    .iter()
                    .filter_map(|l| l.as_string())
                    .collect();
                if languages.is_empty() {
                    navigator.language().into_iter().collect()
                } else {
                    languages
                }
            })
            .unwrap_or_default();
        Lang::choose(fragment, stored.as_deref(), &browser)
    }

    /// Remembers the learner's pick and shows it on the page's `<html>` and title.
    pub fn apply_to_page(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(storage) = window.local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, self.code());
        }
        if let Some(document) = window.document() {
            if let Some(root) = document.document_element() {
                let _ = root.set_attribute("lang", self.html_lang());
            }
            document.set_title(&text(self, "page-title", &[]));
        }
    }
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let (_, source) = CATALOGUES
        .iter()
        .find(|(l, _)| *l == lang)
        .expect("a catalogue per language");
    let resource = FluentResource::try_new(source.to_string())
        .unwrap_or_else(|(_, errors)| panic!("{} catalogue: {errors:?}", lang.code()));
    let tag = lang.html_lang().parse().expect("a language tag");
    let mut bundle = FluentBundle::new(vec![tag]);
    // Fluent wraps arguments in Unicode isolation marks for mixed-direction text; both our
    // languages run left to right, and the marks would show up in copied text.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .expect("each message defined once");
    bundle
}

thread_local! {
    static BUNDLES: [FluentBundle<FluentResource>; 2] = [bundle(Lang::En), bundle(Lang::Zh)];
}

/// Message `id` in `lang`, its `{ $name }`s filled from `args`. A missing message shows its
/// id (the catalogue test keeps that from happening).
pub fn text(lang: Lang, id: &str, args: &[(&str, String)]) -> String {
    BUNDLES.with(|bundles| {
        let bundle = &bundles[lang as usize];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    })
}

/// `tr!(lang, "id")` or `tr!(lang, "id", name = value, …)`: a message of the catalogue, with
/// its arguments (anything that prints).
#[macro_export]
macro_rules! tr {
    ($lang:expr, $id:literal) => {
        $crate::i18n::text($lang, $id, &[])
    };
    ($lang:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::text($lang, $id, &[$((stringify!($name), ($value).to_string())),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(source: &str) -> std::collections::BTreeSet<String> {
        source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
            .collect()
    }

    #[test]
    fn both_catalogues_have_every_message_and_the_page_asks_only_for_those() {
        let (english, chinese) = (ids(CATALOGUES[0].1), ids(CATALOGUES[1].1));
        assert!(english.len() > 80, "{} messages", english.len());
        assert_eq!(
            english.symmetric_difference(&chinese).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "messages in one catalogue only"
        );
        // Every `tr!(…, "id"…)` in the page's source names a message.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in std::fs::read_dir(src).expect("src") {
            let text = std::fs::read_to_string(entry.expect("a file").path()).expect("readable");
            let uses = text.match_indices("tr!(").filter(|(at, _)| {
                // `tr!(`, not the end of another macro's name (`include_str!(`).
                !text[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            for (at, _) in uses {
                // The shape `tr!(lang, "<id>"`; anything else is not a use.
                let Some((_, rest)) = text[at..].split_once(',') else {
                    continue;
                };
                let Some(rest) = rest.strip_prefix(" \"") else {
                    continue;
                };
                let id = rest.split('"').next().unwrap_or_default();
                let is_id = id.chars().all(|c| c.is_ascii_lowercase() || c == '-');
                if !is_id || id == "id" {
                    continue; // `"id"`: the macro's own documentation
                }
                assert!(
                    english.contains(id),
                    "tr! asks for {id:?}, which no catalogue has"
                );
            }
        }
        for lang in Lang::ALL {
            BUNDLES.with(|bundles| {
                for id in &english {
                    let message = bundles[lang as usize].get_message(id);
                    assert!(
                        message.is_some_and(|m| m.value().is_some()),
                        "{} has no {id}",
                        lang.code()
                    );
                }
            });
        }
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        assert_eq!(tr!(Lang::En, "member", id = 3), "Member n3");
        assert_eq!(tr!(Lang::Zh, "member", id = 3), "成员 n3");
        assert_eq!(tr!(Lang::Zh, "lease-left", seconds = "2.5"), "剩余 2.5 秒");
    }

    #[test]
    fn the_language_comes_from_the_url_then_storage_then_the_browser() {
        let browser = |tags: &[&str]| tags.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(Lang::choose("", None, &browser(&["zh-CN", "en"])), Lang::Zh);
        assert_eq!(
            Lang::choose("", None, &browser(&["fr", "zh-Hans-SG"])),
            Lang::Zh
        );
        assert_eq!(Lang::choose("", None, &browser(&["fr"])), Lang::En);
        assert_eq!(Lang::choose("", Some("en"), &browser(&["zh-CN"])), Lang::En);
        assert_eq!(
            Lang::choose("#lang=zh&t=5", Some("en"), &browser(&["en"])),
            Lang::Zh
        );
        assert_eq!(Lang::choose("#lang=xx", Some("zh"), &[]), Lang::Zh);
    }
}
