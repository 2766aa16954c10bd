//! Golden scenario tests: each file in `tests/scenarios/` is a script of commands with their
//! expected output. Run with `UPDATE_GOLDEN=1` to rewrite the expected outputs after an
//! intended change (and review the diff).

use std::path::Path;

use raftbook_core::scenario::{script, Scenario};

fn check(path: &Path) -> Result<(), String> {
    let expected = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let actual = Scenario::new().run_script(&expected);
    if actual == expected {
        return Ok(());
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let difference = script::first_difference(&expected, &actual).unwrap_or_default();
    Err(format!(
        "{}: output differs (UPDATE_GOLDEN=1 rewrites it)\n{difference}",
        path.display()
    ))
}

#[test]
fn golden_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let failures: Vec<String> = files.iter().filter_map(|f| check(f).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
