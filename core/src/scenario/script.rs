//! Scenario scripts: commands with their expected output, in the style of toydb's and
//! goldenscript's test files.
//!
//! ```text
//! # Comments and blank lines are kept as they are.
//! cluster nodes=3 seed=1
//! wait-leader
//! ---
//! 1044ms n3 became leader (term 2)
//! ```
//!
//! A block is one or more command lines, then `---`, then their output up to the next blank
//! line. Running a script regenerates it with fresh outputs; a golden test passes when the
//! regenerated text equals the file.

/// One part of a script: verbatim text, or a block of commands.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Comments and blank lines between blocks.
    Text(String),
    Block(Block),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Each command with its 1-based line number.
    pub commands: Vec<(usize, String)>,
    /// The output under `---`, if the script has one.
    pub expected: Option<Vec<String>>,
}

pub fn parse(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
    while let Some((number, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            parts.push(Part::Text(line.to_string()));
            continue;
        }
        let mut block = Block {
            commands: vec![(number, line.to_string())],
            expected: None,
        };
        while let Some(&(number, line)) = lines.peek() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                break;
            }
            lines.next();
            if trimmed == "---" {
                let mut output = Vec::new();
                while let Some((_, line)) = lines.next_if(|(_, l)| !l.trim().is_empty()) {
                    output.push(line.to_string());
                }
                block.expected = Some(output);
                break;
            }
            if !trimmed.starts_with('#') {
                block.commands.push((number, line.to_string()));
            }
        }
        parts.push(Part::Block(block));
    }
    parts
}

/// Formats a block's output so that it parses back as the same output: never empty, no
/// blank lines (which would end the block early).
pub fn format_output(output: &str) -> Vec<String> {
    let lines: Vec<String> = output
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                "·".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if lines.is_empty() {
        vec!["ok".to_string()]
    } else {
        lines
    }
}

/// Writes a script back out, with each block's output given by `outputs` (in block order).
pub fn render(parts: &[Part], outputs: &[Vec<String>]) -> String {
    let mut text = String::new();
    let mut outputs = outputs.iter();
    for part in parts {
        match part {
            Part::Text(line) => {
                text.push_str(line);
                text.push('\n');
            }
            Part::Block(block) => {
                for (_, command) in &block.commands {
                    text.push_str(command);
                    text.push('\n');
                }
                text.push_str("---\n");
                for line in outputs.next().expect("one output per block") {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// The first line where `expected` and `actual` differ, as a message naming it.
pub fn first_difference(expected: &str, actual: &str) -> Option<String> {
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    for number in 1.. {
        match (expected_lines.next(), actual_lines.next()) {
            (None, None) => return None,
            (e, a) if e == a => continue,
            (e, a) => {
                return Some(format!(
                    "line {number}:\n  expected: {}\n  actual:   {}",
                    e.unwrap_or("(end of file)"),
                    a.unwrap_or("(end of output)")
                ))
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_round_trips_through_parse_and_render() {
        let text = "# title\ncluster nodes=3\nrun 1s\n---\nold output\nsecond line\n\nstatus\n";
        let parts = parse(text);
        assert_eq!(parts.len(), 4);
        let Part::Block(block) = &parts[1] else {
            panic!("block expected")
        };
        assert_eq!(
            block.commands,
            vec![(2, "cluster nodes=3".into()), (3, "run 1s".into())]
        );
        assert_eq!(
            block.expected,
            Some(vec!["old output".into(), "second line".into()])
        );
        let rendered = render(&parts, &[vec!["new".into()], vec!["ok".into()]]);
        assert_eq!(
            rendered,
            "# title\ncluster nodes=3\nrun 1s\n---\nnew\n\nstatus\n---\nok\n"
        );
    }
}
