//! Parsing one scenario line into a [`CommandLine`].
//!
//! A line is a command name and arguments, split on white space, with `"…"` or `'…'` quoting.
//! Arguments come in three shapes, so that both cluster commands and etcdctl commands read
//! naturally: `key=value` options (`nodes=5`), `--flags` with or without a value (`--prefix`,
//! `--rev=3`), and plain positional words (`put foo bar`).

use std::collections::BTreeMap;

/// etcdctl's global flags that take their value as the next word (`-w table`).
const GLOBAL_FLAGS_WITH_VALUE: [&str; 6] = [
    "-w",
    "--write-out",
    "--endpoints",
    "--command-timeout",
    "--dial-timeout",
    "--user",
];

/// A command line split into its name and words; see [`CommandLine::bind`] for arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandLine {
    pub name: String,
    /// The words after the name, and whether each was quoted.
    pub words: Vec<(String, bool)>,
    pub line: usize,
}

/// A command's arguments, once we know which options the command takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    /// Plain words, in order (quotes removed).
    pub words: Vec<String>,
    /// `key=value` options and `--flag[=value]`s; a bare flag has the value "".
    pub options: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl CommandLine {
    pub fn parse(text: &str, line: usize) -> Result<CommandLine, ParseError> {
        let error = |message: String| ParseError { line, message };
        let mut words = crate::words::split(text).map_err(error)?;
        // etcdctl takes its global flags before the command too (`-w table member list`):
        // the command is the first word that is not a flag or a flag's value.
        let mut flags = Vec::new();
        while let Some((word, false)) = words.first().cloned() {
            if !word.starts_with('-') {
                break;
            }
            flags.push(words.remove(0));
            let takes_value = GLOBAL_FLAGS_WITH_VALUE.contains(&word.as_str());
            if takes_value && !words.is_empty() {
                flags.push(words.remove(0));
            }
        }
        let mut words = words.into_iter();
        let (name, _) = words.next().ok_or_else(|| error("empty command".into()))?;
        Ok(CommandLine {
            name,
            words: words.chain(flags).collect(),
            line,
        })
    }

    /// The `wait=2s` option, for commands whose other words are not bound as options
    /// (etcdctl's commands pass their words on to etcdctl's parser).
    pub fn wait_ms(&self) -> Result<Option<u64>, String> {
        self.words
            .iter()
            .find_map(|(w, quoted)| w.strip_prefix("wait=").filter(|_| !quoted))
            .map(duration_ms)
            .transpose()
    }

    /// Sorts the words into options and plain words. `known` lists the options this command
    /// takes (`nodes`, `--prefix`): an unquoted `key=value` is an option only if `key` is
    /// known (so `propose x=1` proposes `x=1`), and an unknown `--flag` is an error.
    pub fn bind(&self, known: &[&str]) -> Result<Args, String> {
        let mut args = Args::default();
        for (word, quoted) in &self.words {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            if *quoted {
                args.words.push(word.clone());
            } else if known.contains(&key) {
                args.options.insert(key.to_string(), value.to_string());
            } else if key.starts_with("--") {
                return Err(format!(
                    "{}: unknown flag {key} (known: {})",
                    self.name,
                    known.join(" ")
                ));
            } else {
                args.words.push(word.clone());
            }
        }
        Ok(args)
    }
}

impl Args {
    pub fn flag(&self, name: &str) -> bool {
        self.options.contains_key(name)
    }

    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// An option parsed with `parse`, or `default` when absent.
    pub fn option_or<T>(
        &self,
        name: &str,
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, String> {
        match self.option(name) {
            Some(text) => parse(text).map_err(|e| format!("{name}={text}: {e}")),
            None => Ok(default),
        }
    }

    /// The only plain word, parsed; an error names what was expected.
    pub fn one<T>(
        &self,
        what: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, String> {
        match self.words.as_slice() {
            [word] => parse(word),
            _ => Err(format!("expected {what}")),
        }
    }
}

/// Parses `2s`, `300ms`, `1.5s`, `1m` into milliseconds.
pub fn duration_ms(text: &str) -> Result<u64, String> {
    if text == "0" {
        return Ok(0);
    }
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return Err(format!("duration {text:?} needs a unit: ms, s or m"));
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}"))?;
    // NaN too: "nan" parses as a float.
    if value.is_nan() || value < 0.0 {
        return Err(format!("bad duration {text:?}"));
    }
    Ok((value * unit_ms).round() as u64)
}

/// A whole number, such as a message id or a count.
pub fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("expected a number, got {text:?}"))
}

/// Parses a node id such as `3` or `n3`.
pub fn node_id(text: &str) -> Result<u64, String> {
    text.trim_start_matches('n')
        .parse()
        .map_err(|_| format!("bad node id {text:?}"))
}

/// Parses `1,2,3` into node ids.
pub fn node_list(text: &str) -> Result<Vec<u64>, String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(node_id)
        .collect()
}

pub fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err("expected on or off".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_options_flags_and_words() {
        let c = CommandLine::parse(r#"get foo --prefix --rev=3 limit=2 "a b" k=v=w"#, 1).unwrap();
        assert_eq!(c.name, "get");
        let args = c.bind(&["--prefix", "--rev", "limit"]).unwrap();
        assert_eq!(args.words, vec!["foo", "a b", "k=v=w"]);
        assert_eq!(args.option("--rev"), Some("3"));
        assert!(args.flag("--prefix"));
        assert_eq!(args.option("limit"), Some("2"));
        assert!(c
            .bind(&["--rev"])
            .unwrap_err()
            .contains("unknown flag --prefix"));
    }

    #[test]
    fn reports_unclosed_quotes_and_bad_durations() {
        assert!(CommandLine::parse("put 'foo", 4)
            .unwrap_err()
            .to_string()
            .contains("line 4"));
        assert_eq!(duration_ms("1.5s"), Ok(1500));
        assert!(duration_ms("5").is_err());
    }
}
