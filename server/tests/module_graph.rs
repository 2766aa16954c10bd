//! The server's modules import each other without loops, so each can be read after the ones
//! it uses (the member loop and the peer transport used to import each other). A loop fails
//! here, named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the crate modules its code (not its comments) names as `crate::<module>`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("server/src") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let module = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut uses = BTreeSet::new();
        for line in text.lines() {
            let mut rest = line.split("//").next().unwrap_or_default();
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let used: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if used != module {
                    uses.insert(used);
                }
            }
        }
        graph.insert(module, uses);
    }
    graph
}

/// A loop through `from`, as `a -> b -> a`, if there is one.
fn find_loop(
    graph: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<String> {
    let here = path.last().expect("a start").clone();
    for next in graph.get(&here).into_iter().flatten() {
        if let Some(start) = path.iter().position(|m| m == next) {
            return Some(
                [&path[start..], std::slice::from_ref(next)]
                    .concat()
                    .join(" -> "),
            );
        }
        if done.contains(next) {
            continue;
        }
        path.push(next.clone());
        if let Some(found) = find_loop(graph, path, done) {
            return Some(found);
        }
        path.pop();
    }
    done.insert(here);
    None
}

#[test]
fn server_modules_import_each_other_without_loops() {
    let graph = imports();
    assert!(graph.contains_key("member") && graph.contains_key("peer"));
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let found = find_loop(&graph, &mut vec![module.clone()], &mut done);
        assert!(found.is_none(), "an import loop: {}", found.unwrap());
    }
}
