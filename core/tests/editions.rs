//! The Chinese edition (`lessons/zh/`) keeps in step with the English one: every lesson and
//! exercise exists in both, with the same cells and expected outputs, the same predictions
//! (number of options, right answer) and the same exercises (set-up, checks, `not:` moves,
//! solution). Only prose differs. A change made to one edition and not the other fails here,
//! naming the file and line.

use std::path::{Path, PathBuf};

use raftbook_core::lesson::{edition_differences, Lesson};

/// Lesson files under `dir` (README and GLOSSARY are not lessons), relative to it;
/// `skip` names a folder to leave out.
fn lessons_under(dir: &Path, skip: Option<&str>) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, skip: Option<&str>, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .to_string();
            if path.is_dir() {
                if Some(name.as_str()) != skip {
                    walk(root, &path, skip, found);
                }
            } else if name.ends_with(".md") && name != "README.md" && name != "GLOSSARY.md" {
                found.push(path.strip_prefix(root).expect("below root").to_path_buf());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, skip, &mut found);
    found.sort();
    found
}

fn parse(path: &Path) -> Lesson {
    let text = std::fs::read_to_string(path).expect("readable");
    let name = path.file_stem().expect("a name").to_string_lossy();
    Lesson::parse(&name, &text)
        .unwrap_or_else(|e| panic!("{}:{}: {}", path.display(), e.line, e.message))
}

#[test]
fn the_chinese_edition_teaches_the_same_runs_as_the_english_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let english = lessons_under(&root, Some("zh"));
    let chinese = lessons_under(&root.join("zh"), None);
    assert!(english.len() >= 14, "the English lessons are there");
    assert_eq!(
        english, chinese,
        "every lesson and exercise needs both editions, under lessons/ and lessons/zh/"
    );
    assert!(
        root.join("zh/GLOSSARY.md").exists(),
        "the glossary fixes each term once"
    );
    let mut problems = Vec::new();
    for file in &english {
        let original = parse(&root.join(file));
        let translated = parse(&root.join("zh").join(file));
        for difference in edition_differences(&original, &translated) {
            problems.push(format!("lessons/zh/{}: {difference}", file.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "the editions differ:\n{}",
        problems.join("\n")
    );
}

/// The figures a lesson's text shows: `![alt](img/name.svg)`, as (alt, name).
fn figures(text: &str) -> Vec<(String, String)> {
    text.split("![")
        .skip(1)
        .filter_map(|rest| {
            let (alt, rest) = rest.split_once("](")?;
            let (target, _) = rest.split_once(')')?;
            Some((alt.to_string(), target.strip_prefix("img/")?.to_string()))
        })
        .collect()
}

#[test]
fn every_lesson_shows_a_figure_that_exists_in_its_edition() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let mut problems = Vec::new();
    for edition in [root.clone(), root.join("zh")] {
        for file in lessons_under(&edition, Some("zh")) {
            let text = std::fs::read_to_string(edition.join(&file)).expect("readable");
            let shown = figures(&text);
            let is_lesson = !file.starts_with("exercises");
            if is_lesson && shown.is_empty() {
                problems.push(format!("{}: no figure", edition.join(&file).display()));
            }
            for (alt, name) in shown {
                if alt.trim().is_empty() {
                    problems.push(format!("{}: figure {name} has no alt text", file.display()));
                }
                if !edition.join("img").join(&name).exists() {
                    problems.push(format!(
                        "{}: img/{name} is missing",
                        edition.join(&file).display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
