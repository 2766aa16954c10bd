//! A command's words split into flags and arguments, as etcdctl 3.4 splits them (it uses
//! cobra, which uses pflag), with pflag's own error messages, word for word.
//!
//! - `--name=value` or `--name value`; a flag that takes a value takes the next word,
//!   whatever it looks like;
//! - `-n value`, `-nvalue` or `-n=value` for a flag's one-letter name, and one-letter on/off
//!   flags run together (`-il`);
//! - an on/off flag is on when named (`--prefix`) and takes a value only after `=`
//!   (`--prefix=false`);
//! - flags may come before, between or after the arguments; `--` ends the flags.
//!
//! Numbers are read as Go's `strconv.ParseInt` reads them, since etcdctl's errors quote it.

/// What a flag takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// Nothing: an on/off flag (`--prefix`).
    Nothing,
    /// A word (`--lease 1234abcd`).
    Text,
    /// A whole number, in Go's notation (`--limit 10`, `--rev 0x10`).
    Number,
}

/// One flag a command accepts.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub takes: Takes,
}

impl Flag {
    pub const fn on_off(long: &'static str) -> Flag {
        Flag {
            long,
            short: None,
            takes: Takes::Nothing,
        }
    }

    pub const fn text(long: &'static str) -> Flag {
        Flag {
            long,
            short: None,
            takes: Takes::Text,
        }
    }

    pub const fn number(long: &'static str) -> Flag {
        Flag {
            long,
            short: None,
            takes: Takes::Number,
        }
    }

    pub const fn short(self, letter: char) -> Flag {
        Flag {
            short: Some(letter),
            ..self
        }
    }
}

/// A flag's value, once read.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    OnOff(bool),
    Text(String),
    Number(i64),
}

/// The words of one command, split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// The words that are not flags, in order.
    pub args: Vec<String>,
    /// The flags given, by long name; a flag given twice keeps its last value, as in pflag.
    values: Vec<(&'static str, Value)>,
}

impl Split {
    fn value(&self, long: &str) -> Option<&Value> {
        self.values
            .iter()
            .rev()
            .find(|(name, _)| *name == long)
            .map(|(_, value)| value)
    }

    /// Whether on/off flag `--long` is on.
    pub fn on(&self, long: &str) -> bool {
        matches!(self.value(long), Some(Value::OnOff(true)))
    }

    /// Text flag `--long`'s value, if given.
    pub fn text(&self, long: &str) -> Option<&str> {
        match self.value(long) {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// Number flag `--long`'s value, or `default` if not given.
    pub fn number(&self, long: &str, default: i64) -> i64 {
        match self.value(long) {
            Some(Value::Number(number)) => *number,
            _ => default,
        }
    }
}

/// Splits `words` into the flags of `accepted` and the arguments.
pub fn split(words: &[String], accepted: &[Flag]) -> Result<Split, String> {
    let mut split = Split::default();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            split.args.extend(words.by_ref().cloned());
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            if name.is_empty() || name.starts_with('-') {
                return Err(format!("bad flag syntax: {word}"));
            }
            let flag = accepted
                .iter()
                .find(|f| f.long == name)
                .ok_or_else(|| format!("unknown flag: --{name}"))?;
            let value = match (inline, flag.takes) {
                (Some(value), _) => value,
                (None, Takes::Nothing) => "true".to_string(),
                (None, _) => words
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: --{name}"))?,
            };
            split.set(flag, &format!("--{name}"), &value)?;
        } else if let Some(letters) = word.strip_prefix('-').filter(|l| !l.is_empty()) {
            split_short(&mut split, letters, &mut words, accepted)?;
        } else {
            split.args.push(word.clone());
        }
    }
    Ok(split)
}

/// `-abc`: one-letter flags run together; the first that takes a value takes the rest of the
/// word (after an `=`, if any), or else the next word.
fn split_short<'a>(
    split: &mut Split,
    letters: &str,
    words: &mut impl Iterator<Item = &'a String>,
    accepted: &[Flag],
) -> Result<(), String> {
    let mut rest = letters;
    while let Some(letter) = rest.chars().next() {
        let after = &rest[letter.len_utf8()..];
        let flag = accepted
            .iter()
            .find(|f| f.short == Some(letter))
            .ok_or_else(|| format!("unknown shorthand flag: '{letter}' in -{letters}"))?;
        let named = format!("-{letter}, --{}", flag.long);
        if let Some(value) = after.strip_prefix('=') {
            return split.set(flag, &named, value);
        }
        if flag.takes == Takes::Nothing {
            split.set(flag, &named, "true")?;
            rest = after;
            continue;
        }
        let value = if after.is_empty() {
            words
                .next()
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: '{letter}' in -{letters}"))?
        } else {
            after.to_string()
        };
        return split.set(flag, &named, &value);
    }
    Ok(())
}

impl Split {
    fn set(&mut self, flag: &Flag, named: &str, text: &str) -> Result<(), String> {
        let invalid =
            |why: String| format!("invalid argument \"{text}\" for \"{named}\" flag: {why}");
        let value = match flag.takes {
            Takes::Nothing => Value::OnOff(go_bool(text).map_err(invalid)?),
            Takes::Text => Value::Text(text.to_string()),
            Takes::Number => Value::Number(go_int(text, 0).map_err(invalid)?),
        };
        self.values.push((flag.long, value));
        Ok(())
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing \"{text}\": invalid syntax"
        )),
    }
}

/// Go's `strconv.ParseInt(text, base, 64)`, with its error. Base 0 reads the base from a
/// prefix, as pflag's number flags do: `0x` hexadecimal, `0b` binary, `0o` or a leading `0`
/// octal, else decimal.
pub fn go_int(text: &str, base: u32) -> Result<i64, String> {
    let error = |why: &str| format!("strconv.ParseInt: parsing \"{text}\": {why}");
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (base, digits) = match base {
        0 => {
            let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
            match lower.as_deref() {
                Some("0x") => (16, &unsigned[2..]),
                Some("0b") => (2, &unsigned[2..]),
                Some("0o") => (8, &unsigned[2..]),
                _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
                _ => (10, unsigned),
            }
        }
        base => (base, unsigned),
    };
    // Rust would take a second sign here; Go does not.
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(error("invalid syntax"));
    }
    let magnitude = u64::from_str_radix(digits, base).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => error("value out of range"),
        _ => error("invalid syntax"),
    })?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or_else(|| error("value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: [Flag; 5] = [
        Flag::on_off("prefix"),
        Flag::on_off("interactive").short('i'),
        Flag::on_off("listen").short('l'),
        Flag::number("limit"),
        Flag::text("write-out").short('w'),
    ];

    fn split_line(line: &str) -> Result<Split, String> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        split(&words, &ACCEPTED)
    }

    #[test]
    fn flags_come_anywhere_in_every_spelling() {
        let split = split_line("a --limit 3 -w=json b --prefix -il").unwrap();
        assert_eq!(split.args, ["a", "b"]);
        assert_eq!(split.number("limit", 0), 3);
        assert_eq!(split.text("write-out"), Some("json"));
        assert!(split.on("prefix") && split.on("interactive") && split.on("listen"));
        assert_eq!(
            split_line("-wtable").unwrap().text("write-out"),
            Some("table")
        );
        assert_eq!(split_line("--limit=0x10").unwrap().number("limit", 0), 16);
        // A value-taking flag takes the next word, whatever it is.
        assert_eq!(
            split_line("--write-out --prefix")
                .unwrap()
                .text("write-out"),
            Some("--prefix")
        );
        // An on/off flag takes a value only after `=`.
        let split = split_line("--prefix=false a false").unwrap();
        assert!(!split.on("prefix"));
        assert_eq!(split.args, ["a", "false"]);
        assert_eq!(
            split_line("a -- --prefix -").unwrap().args,
            ["a", "--prefix", "-"]
        );
    }

    #[test]
    fn bad_flags_get_pflags_own_words() {
        let cases = [
            ("--foo", "unknown flag: --foo"),
            ("-x", "unknown shorthand flag: 'x' in -x"),
            ("-ix", "unknown shorthand flag: 'x' in -ix"),
            ("--limit", "flag needs an argument: --limit"),
            ("-w", "flag needs an argument: 'w' in -w"),
            (
                "--limit=abc",
                "invalid argument \"abc\" for \"--limit\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax",
            ),
            (
                "--prefix=maybe",
                "invalid argument \"maybe\" for \"--prefix\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax",
            ),
            (
                "-i=2",
                "invalid argument \"2\" for \"-i, --interactive\" flag: strconv.ParseBool: parsing \"2\": invalid syntax",
            ),
            ("---x", "bad flag syntax: ---x"),
        ];
        for (line, error) in cases {
            assert_eq!(split_line(line), Err(error.to_string()), "{line}");
        }
    }

    #[test]
    fn numbers_read_as_go_reads_them() {
        assert_eq!(go_int("-17", 10), Ok(-17));
        assert_eq!(go_int("+5", 10), Ok(5));
        assert_eq!(go_int("017", 0), Ok(15));
        assert_eq!(go_int("0b101", 0), Ok(5));
        assert_eq!(go_int("0", 0), Ok(0));
        assert_eq!(go_int("-9223372036854775808", 10), Ok(i64::MIN));
        assert_eq!(go_int("ff", 16), Ok(255));
        for (text, base) in [
            ("", 10),
            ("-", 10),
            ("+-1", 10),
            ("0x", 0),
            ("1.5", 10),
            ("0x1", 16),
        ] {
            assert_eq!(
                go_int(text, base),
                Err(format!(
                    "strconv.ParseInt: parsing \"{text}\": invalid syntax"
                )),
                "{text}"
            );
        }
        assert_eq!(
            go_int("9223372036854775808", 10),
            Err("strconv.ParseInt: parsing \"9223372036854775808\": value out of range".into())
        );
    }
}
