//! A run as a playground link: `setup=…&t=…&actions=…` after the `#` of the page's URL.
//!
//! The playground writes one into the address bar as a learner plays, and replays one when a
//! page opens with it (see [`crate::scenario::console`]). A script can be turned into one too:
//! [`Link::from_script`] runs it and notes when each action happened, which is how the chaos
//! test prints a failing run as something to open in the browser.

use super::commands::TIME_PASSING;
use super::console::TimedAction;
use super::{CommandLine, Scenario};

/// The longest run a link replays: four hours of simulated time. Opening a link replays the
/// run from its start, so a mistyped `t` (a few more digits) would keep the page busy for
/// hours or for good; past this the link is refused with the reason instead.
pub const MAX_LINK_TIME_MS: u64 = 4 * 60 * 60 * 1000;

/// A run: the `cluster …` set-up line, the timed actions, and the moment to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub setup: String,
    pub time: u64,
    pub actions: Vec<TimedAction>,
}

impl Link {
    /// Reads a URL fragment. `nodes=5&seed=7` is short for a plain set-up; an empty fragment
    /// is no link at all.
    pub fn parse(fragment: &str) -> Result<Option<Link>, String> {
        let fragment = fragment.trim_start_matches('#');
        if fragment.is_empty() {
            return Ok(None);
        }
        let (mut nodes, mut seed, mut setup, mut time, mut actions) = (5, 1, None, 0, Vec::new());
        for part in fragment.split('&') {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let number = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("{key}={v} is not a number"))
            };
            match key {
                "nodes" => nodes = number(value)?,
                "seed" => seed = number(value)?,
                "t" => time = number(value)?,
                "setup" => setup = Some(decode_component(value)?),
                "actions" => actions = decode_actions(&decode_component(value)?)?,
                _ => {}
            }
        }
        if !(3..=9).contains(&nodes) {
            return Err(format!("nodes={nodes}: the playground runs 3 to 9 nodes"));
        }
        let latest = actions
            .last()
            .map_or(time, |a: &TimedAction| a.at.max(time));
        if latest > MAX_LINK_TIME_MS {
            return Err(format!(
                "t={latest} ms is past the {} hours of simulated time a link replays",
                MAX_LINK_TIME_MS / 3_600_000
            ));
        }
        let setup = setup.unwrap_or_else(|| format!("cluster nodes={nodes} seed={seed}"));
        Ok(Some(Link {
            setup,
            time,
            actions,
        }))
    }

    /// The URL fragment (without the `#`).
    pub fn fragment(&self) -> String {
        format!(
            "setup={}&t={}&actions={}",
            encode_component(&self.setup),
            self.time,
            encode_component(&encode_actions(&self.actions))
        )
    }

    /// Runs a script (its first line the `cluster …` set-up) and returns it as a link: every
    /// command that does not let time pass becomes an action at the moment it ran, and the
    /// link shows the moment the script ended.
    pub fn from_script(lines: &[String]) -> Result<Link, String> {
        let (setup, rest) = lines.split_first().ok_or("an empty script")?;
        let mut scenario = Scenario::new();
        let created = scenario.run_line(setup, 1);
        if !created.is_empty() {
            return Err(format!("line 1: {}", created.trim()));
        }
        let mut actions = Vec::new();
        for (number, line) in rest.iter().enumerate() {
            let command = CommandLine::parse(line, number + 2).map_err(|e| e.message)?;
            // In a link, time is the moment each action has, not a command.
            if !TIME_PASSING.contains(&command.name.as_str()) {
                actions.push(TimedAction {
                    at: scenario.cluster()?.now(),
                    line: line.clone(),
                });
            }
            scenario.run_line(line, number + 2);
        }
        let time = scenario.cluster()?.now();
        Ok(Link {
            setup: setup.clone(),
            time,
            actions,
        })
    }
}

/// The actions as text, one `at:line` per line.
pub fn encode_actions(actions: &[TimedAction]) -> String {
    actions
        .iter()
        .map(|a| format!("{}:{}", a.at, a.line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads actions back; times must not go back.
pub fn decode_actions(text: &str) -> Result<Vec<TimedAction>, String> {
    let mut actions: Vec<TimedAction> = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (at, line) = line
            .split_once(':')
            .ok_or_else(|| format!("action {}: expected `time:command`", number + 1))?;
        let at: u64 = at
            .trim()
            .parse()
            .map_err(|_| format!("action {}: bad time {at:?}", number + 1))?;
        if actions.last().is_some_and(|previous| previous.at > at) {
            return Err(format!("action {}: times must not go back", number + 1));
        }
        actions.push(TimedAction {
            at,
            line: line.to_string(),
        });
    }
    Ok(actions)
}

/// As JavaScript's `encodeURIComponent`: every byte but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` of
/// the UTF-8 text as `%XX`.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// As JavaScript's `decodeURIComponent`: `%XX` escapes back to UTF-8 text.
pub fn decode_component(text: &str) -> Result<String, String> {
    let bad = || format!("not valid URL text: {text:?}");
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = after.get(..2).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            rest = &after[2..];
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_round_trip_like_javascript() {
        let text = "cluster nodes=5 seed=7\n100:put foo \"bar baz\" | héllo%";
        let encoded = encode_component(text);
        assert_eq!(encode_component("a b=c&d/é"), "a%20b%3Dc%26d%2F%C3%A9");
        assert_eq!(decode_component(&encoded).unwrap(), text);
        assert!(decode_component("%E9")
            .unwrap_err()
            .contains("not valid URL text"));
        assert!(decode_component("%4").is_err());
    }

    #[test]
    fn a_link_round_trips_and_bad_links_say_why() {
        let link = Link {
            setup: "cluster nodes=3 seed=2".into(),
            time: 4000,
            actions: vec![TimedAction {
                at: 1200,
                line: "crash 1".into(),
            }],
        };
        assert_eq!(Link::parse(&link.fragment()).unwrap(), Some(link));
        assert_eq!(Link::parse("").unwrap(), None);
        assert_eq!(
            Link::parse("#nodes=3&seed=9").unwrap().unwrap().setup,
            "cluster nodes=3 seed=9"
        );
        assert!(Link::parse("nodes=12")
            .unwrap_err()
            .contains("3 to 9 nodes"));
        assert!(Link::parse("t=soon").unwrap_err().contains("not a number"));
        // A mistyped time is refused at once, not replayed for hours.
        let absurd = Link::parse("nodes=3&t=99999999999").unwrap_err();
        assert!(absurd.contains("past the 4 hours"), "{absurd}");
        let late_action = Link::parse("actions=99999999999%3Acrash%201").unwrap_err();
        assert!(late_action.contains("past the 4 hours"), "{late_action}");
        assert!(Link::parse(&format!("t={MAX_LINK_TIME_MS}")).is_ok());
    }

    #[test]
    fn a_script_becomes_actions_at_the_moments_they_ran() {
        let script: Vec<String> = [
            "cluster nodes=3 seed=1",
            "run 2s",
            "crash 1",
            "run 500ms",
            "heal",
        ]
        .map(String::from)
        .into();
        let link = Link::from_script(&script).unwrap();
        let at: Vec<(u64, &str)> = link
            .actions
            .iter()
            .map(|a| (a.at, a.line.as_str()))
            .collect();
        assert_eq!(at, [(2000, "crash 1"), (2500, "heal")]);
        assert_eq!(link.time, 2500);
    }
}
