//! ARCHITECTURE.md names real code: every `core::…`, `server::…` or `web::…` path in it
//! resolves to a module file and, below that, to the type and function it names. Rename a
//! function on the walk of a `put` and this fails until the walk says the new name.

use std::path::{Path, PathBuf};

/// The source folder of each crate the walk names.
fn crate_source(name: &str, root: &Path) -> Option<PathBuf> {
    match name {
        "core" | "server" | "web" => Some(root.join(name).join("src")),
        _ => None,
    }
}

/// `a::b::Item` → the file of the longest module prefix, and the item segments left.
fn module_file(source: &Path, segments: &[&str]) -> (PathBuf, usize) {
    let mut file = source.join("lib.rs");
    if !file.exists() {
        file = source.join("main.rs");
    }
    let mut used = 0;
    let mut dir = source.to_path_buf();
    for (i, segment) in segments.iter().enumerate() {
        let as_file = dir.join(format!("{segment}.rs"));
        let as_dir = dir.join(segment).join("mod.rs");
        if as_file.exists() {
            file = as_file;
        } else if as_dir.exists() {
            file = as_dir;
        } else {
            break;
        }
        dir = dir.join(segment);
        used = i + 1;
    }
    (file, used)
}

fn defines_type(text: &str, name: &str) -> bool {
    ["struct", "enum", "trait", "type"].iter().any(|kind| {
        text.contains(&format!("{kind} {name} "))
            || text.contains(&format!("{kind} {name}<"))
            || text.contains(&format!("{kind} {name};"))
            || text.contains(&format!("{kind} {name}("))
    }) || text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("impl")
            && line
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == name)
    })
}

fn defines_value(text: &str, name: &str) -> bool {
    ["fn", "const", "static"].iter().any(|kind| {
        text.contains(&format!("{kind} {name}("))
            || text.contains(&format!("{kind} {name}<"))
            || text.contains(&format!("{kind} {name}:"))
    })
}

/// Why `path` names nothing, if it does not.
fn missing(path: &str, root: &Path) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    let source = crate_source(segments[0], root)?;
    let (file, used) = module_file(&source, &segments[1..]);
    let items = &segments[1 + used..];
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Some(format!("{path}: cannot read {}", file.display()));
    };
    let shown = file
        .strip_prefix(root)
        .unwrap_or(&file)
        .display()
        .to_string();
    match items {
        [] => None,
        [value]
            if value.starts_with(char::is_lowercase)
                || value.chars().all(|c| c.is_uppercase() || c == '_') =>
        {
            (!defines_value(&text, value)).then(|| format!("{path}: no `{value}` in {shown}"))
        }
        [ty] => (!defines_type(&text, ty)).then(|| format!("{path}: no type `{ty}` in {shown}")),
        [ty, value] => {
            if !defines_type(&text, ty) {
                Some(format!("{path}: no type `{ty}` (or impl of it) in {shown}"))
            } else {
                (!defines_value(&text, value)).then(|| format!("{path}: no `{value}` in {shown}"))
            }
        }
        _ => Some(format!(
            "{path}: more than a type and a function after the module"
        )),
    }
}

/// The backticked `core::…`, `server::…` and `web::…` paths of a Markdown text.
fn named_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| {
            ["core::", "server::", "web::"]
                .iter()
                .any(|p| code.starts_with(p))
                && code
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_name_on_the_walk_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let paths = named_paths(&text);
    assert!(
        paths.len() >= 40,
        "the walk names its steps ({} names)",
        paths.len()
    );
    let missing: Vec<String> = paths.iter().filter_map(|p| missing(p, &root)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what is not there:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_wrong_name_is_caught() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(missing("core::node::Node::step", &root).is_none());
    assert!(missing("core::node::Node::stepp", &root).is_some());
    assert!(missing("core::node::Nod::step", &root).is_some());
    assert!(missing("core::etcd::server::validate", &root).is_none());
    assert!(missing("core::etcd::server::validated", &root).is_some());
    assert!(missing("server::member::MemberHandle::call", &root).is_none());
}
