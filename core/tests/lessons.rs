//! Every lesson in `lessons/` runs natively: each cell prints its expected output, each
//! exercise's stored solution solves it and doing nothing does not. A broken lesson fails
//! with its file and line. `UPDATE_LESSONS=1` rewrites the cells' outputs (read the diff).
//!
//! The Chinese edition (`lessons/zh/`) runs the very same cells and exercises: the editions
//! test (`editions.rs`) holds it to that, so it is not run twice here.

use std::path::{Path, PathBuf};

use raftbook_core::lesson::{verify, with_outputs, Lesson, MIN_PREDICTIONS};

/// The English lessons and exercises (everything under `lessons/` but the translations).
fn lesson_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "zh") {
            lesson_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "md")
            && path.file_name().is_some_and(|n| n != "README.md")
        {
            found.push(path);
        }
    }
}

#[test]
fn every_lesson_runs_and_every_exercise_is_solvable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let mut files = Vec::new();
    lesson_files(&root, &mut files);
    files.sort();
    assert!(files.len() >= 13, "the 13 lessons are there");
    let update = std::env::var_os("UPDATE_LESSONS").is_some();
    let mut failures = Vec::new();
    let mut exercises = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let name = path.file_stem().expect("a file name").to_string_lossy();
        let lesson = match Lesson::parse(&name, &text) {
            Ok(lesson) => lesson,
            Err(error) => {
                failures.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    error.line,
                    error.message
                ));
                continue;
            }
        };
        exercises += lesson.exercises().count();
        let predictions = lesson
            .blocks
            .iter()
            .filter(|b| matches!(b, raftbook_core::lesson::Block::Predict(_)))
            .count();
        if predictions < MIN_PREDICTIONS && !path.starts_with(root.join("exercises")) {
            failures.push(format!(
                "{}: {predictions} predictions; a lesson asks at least {MIN_PREDICTIONS}, each before the cell that answers it",
                path.display()
            ));
        }
        if lesson.exercises().count() == 0 && !path.starts_with(root.join("exercises")) {
            failures.push(format!(
                "{}: a lesson needs at least one exercise",
                path.display()
            ));
        }
        let (errors, outputs) = verify(&lesson);
        if update {
            std::fs::write(path, with_outputs(&text, &lesson, &outputs)).expect("writable");
        }
        let shown = path
            .strip_prefix(root.parent().expect("the repository"))
            .unwrap_or(path);
        for error in errors {
            if !(update && error.message.starts_with("the cell's output differs")) {
                failures.push(format!(
                    "{}:{}: {}",
                    shown.display(),
                    error.line,
                    error.message
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} lesson problems:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "lessons: {} files, {exercises} exercises solved by their stored solutions",
        files.len()
    );
}
