//! Lesson prose, rendered from Markdown to HTML when the playground is built.
//!
//! A lesson's prose blocks are Markdown ([`Block::Prose`]). Rendering them in the browser
//! took a Markdown parser into the page's module: 66 KB of it gzipped, more than the
//! difference between optimising the simulator for size and for speed. So the build renders
//! them, here, and writes them beside each lesson: `NAME.md` gets `NAME.prose.json`, a JSON
//! array with one HTML string per prose block, in the order of the lesson's blocks. The page
//! fetches both (`web/src/lesson_files.rs`).

use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag};
use raftbook_core::lesson::{Block, Lesson};

/// The file beside `lesson` (a `.md`) that holds its prose as HTML.
pub fn prose_file(lesson: &Path) -> std::path::PathBuf {
    lesson.with_extension("prose.json")
}

/// Lesson `name`'s prose blocks (its Markdown `text`) as a JSON array of HTML strings. A
/// figure (`img/name.svg`) points to `figures`, the edition's figure folder as the page sees
/// it (`lessons/img/` or `lessons/zh/img/`). Fails as the lesson's parser does.
pub fn render(name: &str, text: &str, figures: &str) -> Result<String, String> {
    let lesson = Lesson::parse(name, text).map_err(|e| e.to_string())?;
    let prose: Vec<String> = lesson
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Prose(markdown) => Some(html(markdown, figures)),
            _ => None,
        })
        .collect();
    Ok(serde_json::to_string(&prose).expect("strings serialise"))
}

/// One prose block as HTML. Lessons are our own files, served with the page, so the HTML
/// they hold (a `<details>`, say) passes through.
fn html(markdown: &str, figures: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = match dest_url.strip_prefix("img/") {
                Some(name) => format!("{figures}{name}").into(),
                None => dest_url,
            };
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            })
        }
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_blocks_become_html_in_order_and_figures_point_to_the_edition() {
        let text =
            "# T\n\nFirst, *emphasised*.\n\n```scenario\ncluster nodes=3 seed=1\n---\n```\n\n\
                    ![a figure](img/quorum.svg)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let json = render("t", text, "lessons/zh/img/").unwrap();
        let prose: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(prose.len(), 2, "{prose:?}");
        assert!(prose[0].contains("<em>emphasised</em>"), "{}", prose[0]);
        assert!(
            prose[1].contains(r#"src="lessons/zh/img/quorum.svg""#),
            "{}",
            prose[1]
        );
        assert!(prose[1].contains("<table>"), "{}", prose[1]);
    }

    #[test]
    fn a_lesson_that_does_not_parse_says_why() {
        let error =
            render("t", "# T\n\n```exercise e1\ngoal: x\n```\n", "lessons/img/").unwrap_err();
        assert!(!error.is_empty());
    }
}
