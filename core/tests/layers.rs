//! The layers of core import only downwards, so a reader can learn them bottom up:
//! `storage`, `state_machine` and `fingerprint`, then `node` and `view`, then `etcd`, `sim`, `scenario`,
//! `lesson`. A `use crate::scenario…` inside `etcd/` (say) fails here with its file and line.

use std::path::Path;

/// Each top-level module of `core/src` and its layer; a module may use its own layer or
/// lower ones.
const LAYERS: &[(&str, u8)] = &[
    ("storage", 0),
    ("state_machine", 0),
    ("words", 0),
    ("persistent", 0),
    ("fingerprint", 0),
    ("node", 1),
    ("view", 1),
    ("etcd", 2),
    ("sim", 3),
    ("scenario", 4),
    ("lesson", 5),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `crate::<module>` paths in `text`'s code. Comments may point anywhere (a doc saying
/// which state machine implements a trait helps the reader); code may not.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        };
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let module: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, module));
            rest = after;
        }
    }
    found
}

#[test]
fn core_modules_import_only_from_their_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .expect("a path")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(own) = layer(&top) else {
            assert_eq!(
                top,
                "lib",
                "{} is in no layer: add it to LAYERS",
                relative.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for (line, module) in crate_paths(&text) {
            let target = layer(&module).unwrap_or_else(|| {
                panic!(
                    "{}:{line}: crate::{module} is in no layer",
                    relative.display()
                )
            });
            if target > own {
                upward.push(format!(
                    "{}:{line}: `{top}` (layer {own}) uses crate::{module} (layer {target})",
                    relative.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports upwards:\n{}", upward.join("\n"));
}
