//! etcdctl's command lines, turned into requests, and answers printed as etcdctl 3.4 prints
//! them. The scenario language, the lessons and the browser console all speak this, so what
//! a learner types in the playground is what they type against a real etcd.
//!
//! `txn` reads its compares and operations from standard input in etcdctl; on one line we
//! write them as `txn <compares> then <ops> [else <ops>]`, compares joined by `&&` and
//! operations by `;`, each written as etcdctl's interactive mode takes them:
//! `txn create("lock") = "0" then put lock me --lease=1234 else get lock`.

mod flags;

use flags::{go_int, Flag, Split};

use super::api::*;

/// How etcdctl prints an answer (`-w`, `--write-out`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Simple,
    Json,
    Fields,
    /// etcdctl has tables only for cluster views (`member list`, `endpoint …`).
    Table,
    /// Binary: etcdctl prints the answer's protobuf bytes; the console cannot show them.
    Protobuf,
}

impl std::str::FromStr for Format {
    type Err = String;

    /// etcdctl's names for its formats, exactly as it takes them, and its error.
    fn from_str(name: &str) -> Result<Format, String> {
        match name {
            "simple" => Ok(Format::Simple),
            "json" => Ok(Format::Json),
            "fields" => Ok(Format::Fields),
            "table" => Ok(Format::Table),
            "protobuf" => Ok(Format::Protobuf),
            _ => Err("unsupported output format".into()),
        }
    }
}

/// What an etcdctl command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Request(Request),
    Watch(WatchCreateRequest),
    /// `watch -i`: etcdctl now reads `watch …` lines from its input. A console always does:
    /// each `watch …` typed next starts one.
    ReadWatchesFromInput,
    /// `txn -i`: etcdctl now reads the transaction from its input, list by list, prompting
    /// for each (see `scenario::console`).
    ReadTxnFromInput,
    /// `lease keep-alive` (without `--once`): renew this lease until stopped.
    KeepAlive(i64),
    /// `lock NAME`: acquire the lock in a session of `ttl` seconds, hold it until stopped.
    Lock {
        name: String,
        ttl: i64,
    },
    /// `elect NAME PROPOSAL`: campaign, then lead until stopped.
    Elect {
        name: String,
        proposal: String,
    },
    /// `elect -l NAME`: print each leader of the election until stopped.
    Observe {
        name: String,
    },
}

/// How the answer is to be printed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Style {
    pub format: Format,
    pub hex: bool,
    pub value_only: bool,
    /// `lease timetolive --keys`.
    pub lease_keys: bool,
    /// `lease keep-alive --once`.
    pub keep_alive_once: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub action: Action,
    pub style: Style,
}

/// The flags every command takes (etcdctl's global flags that mean something here).
const GLOBAL_FLAGS: [Flag; 2] = [Flag::text("write-out").short('w'), Flag::on_off("hex")];

const PUT_FLAGS: &[Flag] = &[
    Flag::text("lease"),
    Flag::on_off("prev-kv"),
    Flag::on_off("ignore-value"),
    Flag::on_off("ignore-lease"),
];

const GET_FLAGS: &[Flag] = &[
    Flag::text("consistency"),
    Flag::text("order"),
    Flag::text("sort-by"),
    Flag::number("limit"),
    Flag::on_off("prefix"),
    Flag::on_off("from-key"),
    Flag::number("rev"),
    Flag::on_off("keys-only"),
    Flag::on_off("print-value-only"),
];

const DEL_FLAGS: &[Flag] = &[
    Flag::on_off("prefix"),
    Flag::on_off("prev-kv"),
    Flag::on_off("from-key"),
];

const WATCH_FLAGS: &[Flag] = &[
    Flag::on_off("interactive").short('i'),
    Flag::on_off("prefix"),
    Flag::number("rev"),
    Flag::on_off("prev-kv"),
    Flag::on_off("progress-notify"),
];

const LOCK_FLAGS: &[Flag] = &[Flag::number("ttl")];

const ELECT_FLAGS: &[Flag] = &[Flag::on_off("listen").short('l')];

/// Parses the words after `etcdctl` (e.g. `["get", "--prefix", "foo"]`), checking them as
/// etcdctl 3.4 does and refusing what it refuses with its words.
pub fn parse(words: &[String]) -> Result<Invocation, String> {
    let Some((command, rest)) = words.split_first() else {
        return Err(
            "which command? put, get, del, txn, watch, lease, compaction, lock or elect".into(),
        );
    };
    match command.as_str() {
        "txn" => parse_txn_command(rest),
        "put" => parse_put(&flags("put", rest, PUT_FLAGS)?),
        "get" => parse_get(&flags("get", rest, GET_FLAGS)?),
        "del" => parse_del(&flags("del", rest, DEL_FLAGS)?),
        "watch" => parse_watch(&flags("watch", rest, WATCH_FLAGS)?),
        "lease" => parse_lease(rest),
        // etcdctl takes a command by any prefix no other command shares; the tutorials
        // write `compact`.
        "compaction" | "compact" => {
            parse_compaction(&flags("compaction", rest, &[Flag::on_off("physical")])?)
        }
        "lock" => parse_lock(&flags("lock", rest, LOCK_FLAGS)?),
        "elect" => parse_elect(&flags("elect", rest, ELECT_FLAGS)?),
        other => Err(format!("unknown command \"{other}\" for \"etcdctl\"")),
    }
}

/// Splits a command's words with its own flags and the global ones. `--help` (which
/// etcdctl answers with a manual page) lists the flags.
fn flags(command: &str, words: &[String], own: &[Flag]) -> Result<Split, String> {
    let accepted: Vec<Flag> = own.iter().chain(&GLOBAL_FLAGS).copied().collect();
    if words.iter().any(|w| w == "--help" || w == "-h") {
        let names: Vec<String> = accepted.iter().map(|f| format!("--{}", f.long)).collect();
        return Err(format!("{command} takes {}", names.join(", ")));
    }
    flags::split(words, &accepted)
}

/// The global flags' part of the style.
fn style(split: &Split) -> Result<Style, String> {
    Ok(Style {
        format: split.text("write-out").unwrap_or("simple").parse()?,
        hex: split.on("hex"),
        ..Default::default()
    })
}

fn request(split: &Split, request: Request) -> Result<Invocation, String> {
    Ok(Invocation {
        action: Action::Request(request),
        style: style(split)?,
    })
}

/// `txn [-i] [-w json] …`: the flags come first; the rest is the transaction.
fn parse_txn_command(words: &[String]) -> Result<Invocation, String> {
    let mut style = Style::default();
    let mut interactive = false;
    let mut rest = words;
    while let Some(first) = rest.first() {
        let (format, taken) = match first.as_str() {
            "-i" | "--interactive" => {
                interactive = true;
                rest = &rest[1..];
                continue;
            }
            "-w" | "--write-out" => (rest.get(1).cloned().unwrap_or_default(), 2),
            flag => match flag
                .strip_prefix("--write-out=")
                .or_else(|| flag.strip_prefix("-w="))
            {
                Some(format) => (format.to_string(), 1),
                None => break,
            },
        };
        style.format = format.parse()?;
        rest = &rest[taken.min(rest.len())..];
    }
    let action = if interactive {
        Action::ReadTxnFromInput
    } else {
        let text = rest.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        Action::Request(Request::Txn(parse_txn(&text)?))
    };
    Ok(Invocation { action, style })
}

/// `put KEY VALUE`. Like etcdctl, words after the value are not read.
fn parse_put(split: &Split) -> Result<Invocation, String> {
    let ignore_value = split.on("ignore-value");
    let (key, value) = match (split.args.as_slice(), ignore_value) {
        ([], _) | ([_], false) => {
            return Err("put command needs 1 argument and input from stdin or 2 arguments".into())
        }
        ([_, _, ..], true) => {
            return Err("put command needs only 1 argument when 'ignore-value' is set".into())
        }
        ([key], true) => (key, ""),
        ([key, value, ..], false) => (key, value.as_str()),
    };
    // put's own wording of the error lease commands word as "bad lease ID arg".
    let lease = split
        .text("lease")
        .map(|id| go_int(id, 16))
        .transpose()
        .map_err(|e| format!("bad lease ID ({e}), expecting ID in Hex"))?;
    request(
        split,
        Request::Put(PutRequest {
            key: key.clone().into_bytes(),
            value: value.as_bytes().to_vec(),
            lease: lease.unwrap_or(0),
            prev_kv: split.on("prev-kv"),
            ignore_value,
            ignore_lease: split.on("ignore-lease"),
        }),
    )
}

/// `get KEY [RANGE_END]`, with etcdctl's checks in etcdctl's order.
fn parse_get(split: &Split) -> Result<Invocation, String> {
    let Some(key) = split.args.first() else {
        return Err(
            "get command needs one argument as key and an optional argument as range_end".into(),
        );
    };
    let (prefix, from_key) = (split.on("prefix"), split.on("from-key"));
    if prefix && from_key {
        return Err(BOTH_PREFIX_AND_FROM_KEY.into());
    }
    let serializable = match split.text("consistency").unwrap_or("l") {
        "l" => false,
        "s" => true,
        other => return Err(format!("unknown consistency flag {other:?}")),
    };
    let (key, range_end) = key_range(key, split.args.get(1), prefix, from_key)?;
    // etcdctl reads the sort flags in any case.
    let order = split.text("order").unwrap_or("");
    let sort_order = match order.to_uppercase().as_str() {
        "" => SortOrder::None,
        "ASCEND" => SortOrder::Ascend,
        "DESCEND" => SortOrder::Descend,
        _ => return Err(format!("bad sort order {order}")),
    };
    let target = split.text("sort-by").unwrap_or("");
    let sort_target = match target.to_uppercase().as_str() {
        "" | "KEY" => SortTarget::Key,
        "CREATE" => SortTarget::Create,
        "MODIFY" => SortTarget::Mod,
        "VALUE" => SortTarget::Value,
        "VERSION" => SortTarget::Version,
        _ => return Err(format!("bad sort target {target}")),
    };
    let mut invocation = request(
        split,
        Request::Range(RangeRequest {
            key,
            range_end,
            limit: split.number("limit", 0),
            revision: split.number("rev", 0),
            sort_order,
            sort_target,
            serializable,
            keys_only: split.on("keys-only"),
            ..Default::default()
        }),
    )?;
    invocation.style.value_only = split.on("print-value-only");
    Ok(invocation)
}

/// `del KEY [RANGE_END]`.
fn parse_del(split: &Split) -> Result<Invocation, String> {
    let [key, range_end @ ..] = split.args.as_slice() else {
        return Err(DEL_USAGE.into());
    };
    if range_end.len() > 1 {
        return Err(DEL_USAGE.into());
    }
    let (prefix, from_key) = (split.on("prefix"), split.on("from-key"));
    if prefix && from_key {
        return Err(BOTH_PREFIX_AND_FROM_KEY.into());
    }
    let (key, range_end) = key_range(key, range_end.first(), prefix, from_key)?;
    request(
        split,
        Request::DeleteRange(DeleteRangeRequest {
            key,
            range_end,
            prev_kv: split.on("prev-kv"),
        }),
    )
}

const DEL_USAGE: &str =
    "del command needs one argument as key and an optional argument as range_end";

const BOTH_PREFIX_AND_FROM_KEY: &str =
    "`--prefix` and `--from-key` cannot be set at the same time, choose one";

/// `watch KEY [RANGE_END]`, or `watch -i`.
fn parse_watch(split: &Split) -> Result<Invocation, String> {
    let style = style(split)?;
    let (key, range_end) = match split.args.as_slice() {
        [] if split.on("interactive") => {
            return Ok(Invocation {
                action: Action::ReadWatchesFromInput,
                style,
            })
        }
        [] => return Err("bad number of arguments".into()),
        [key] => (key, None),
        [key, range_end] => (key, Some(range_end)),
        [..] => {
            return Err("the console cannot run a command on each watch event: \
                        watch KEY [RANGE_END]"
                .into())
        }
    };
    let (key, range_end) = key_range(key, range_end, split.on("prefix"), false)?;
    Ok(Invocation {
        action: Action::Watch(WatchCreateRequest {
            key,
            range_end,
            start_revision: split.number("rev", 0),
            progress_notify: split.on("progress-notify"),
            prev_kv: split.on("prev-kv"),
            filters: Vec::new(),
        }),
        style,
    })
}

/// `lease grant|revoke|timetolive|list|keep-alive …`.
fn parse_lease(words: &[String]) -> Result<Invocation, String> {
    let usage = "lease needs a subcommand: grant, revoke, timetolive, list or keep-alive";
    let Some((command, rest)) = words.split_first() else {
        return Err(usage.into());
    };
    let own: &[Flag] = match command.as_str() {
        "timetolive" => &[Flag::on_off("keys")],
        "keep-alive" => &[Flag::on_off("once")],
        _ => &[],
    };
    let split = flags(&format!("lease {command}"), rest, own)?;
    let mut style = style(&split)?;
    let one_id = |error: &str| match split.args.as_slice() {
        [id] => parse_lease_id(id),
        _ => Err(error.to_string()),
    };
    let request = match command.as_str() {
        "grant" => {
            let [ttl] = split.args.as_slice() else {
                return Err("lease grant command needs TTL argument".into());
            };
            let ttl = go_int(ttl, 10).map_err(|e| format!("bad TTL ({e})"))?;
            Request::LeaseGrant(LeaseGrantRequest { ttl, id: 0 })
        }
        "revoke" => Request::LeaseRevoke(LeaseRevokeRequest {
            id: one_id("lease revoke command needs 1 argument")?,
        }),
        "timetolive" => {
            style.lease_keys = split.on("keys");
            Request::LeaseTimeToLive(LeaseTimeToLiveRequest {
                id: one_id("lease timetolive command needs lease ID as argument")?,
                keys: style.lease_keys,
            })
        }
        "list" => Request::LeaseLeases,
        "keep-alive" => {
            let id = one_id("lease keep-alive command needs lease ID as argument")?;
            // `--once` renews once and prints the answer; without it etcdctl keeps renewing
            // until stopped (a stream of its own).
            if !split.on("once") {
                return Ok(Invocation {
                    action: Action::KeepAlive(id),
                    style,
                });
            }
            style.keep_alive_once = true;
            Request::LeaseKeepAlive(LeaseKeepAliveRequest { id })
        }
        _ => return Err(usage.into()),
    };
    Ok(Invocation {
        action: Action::Request(request),
        style,
    })
}

/// `compaction REVISION [--physical]`.
fn parse_compaction(split: &Split) -> Result<Invocation, String> {
    let [revision] = split.args.as_slice() else {
        return Err("compaction command needs 1 argument".into());
    };
    let revision = go_int(revision, 10)?;
    request(
        split,
        Request::Compact(CompactionRequest {
            revision,
            physical: split.on("physical"),
        }),
    )
}

/// `lock NAME`, held for a session of `--ttl` seconds (10 by default, as in etcdctl).
fn parse_lock(split: &Split) -> Result<Invocation, String> {
    let action = match split.args.as_slice() {
        [] => {
            return Err("lock takes a lock name argument and an optional command to execute".into())
        }
        [name] => Action::Lock {
            name: name.clone(),
            ttl: split.number("ttl", 10),
        },
        [_, ..] => {
            return Err(
                "the console cannot run a command under a lock: run `lock NAME`, \
                        then type the commands, then `stop-lock NAME`"
                    .into(),
            )
        }
    };
    Ok(Invocation {
        action,
        style: style(split)?,
    })
}

/// `elect NAME PROPOSAL` campaigns; `elect -l NAME` observes.
fn parse_elect(split: &Split) -> Result<Invocation, String> {
    let action = match (split.args.as_slice(), split.on("listen")) {
        ([name, proposal], false) => Action::Elect {
            name: name.clone(),
            proposal: proposal.clone(),
        },
        ([_], false) => return Err("no proposal argument but -l not set".into()),
        ([_, _], true) => return Err("proposal given but -l is set".into()),
        ([name], true) => Action::Observe { name: name.clone() },
        _ => {
            return Err(
                "elect takes one election name argument and an optional proposal argument".into(),
            )
        }
    };
    Ok(Invocation {
        action,
        style: style(split)?,
    })
}

/// The key range etcdctl's `--prefix` and `--from-key` flags mean.
fn key_range(
    key: &str,
    range_end: Option<&String>,
    prefix: bool,
    from_key: bool,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    if prefix && from_key {
        return Err(BOTH_PREFIX_AND_FROM_KEY.into());
    }
    if (prefix || from_key) && range_end.is_some() {
        return Err(
            "too many arguments, only accept one argument when `--prefix` or `--from-key` is set"
                .into(),
        );
    }
    let mut key = key.as_bytes().to_vec();
    let range_end = if prefix {
        if key.is_empty() {
            key = vec![0];
            vec![0]
        } else {
            prefix_end(&key)
        }
    } else if from_key {
        if key.is_empty() {
            key = vec![0];
        }
        vec![0]
    } else {
        range_end
            .map(|end| end.as_bytes().to_vec())
            .unwrap_or_default()
    };
    Ok((key, range_end))
}

/// A lease ID, in hexadecimal as etcdctl takes it.
fn parse_lease_id(text: &str) -> Result<i64, String> {
    go_int(text, 16).map_err(|e| format!("bad lease ID arg ({e}), expecting ID in Hex"))
}

/// Puts back the quotes the scenario's word splitter took off, for the txn parser.
fn quote(word: &str) -> String {
    if word.contains(char::is_whitespace) || word.is_empty() {
        format!("{word:?}")
    } else {
        word.to_string()
    }
}

/// Parses `<compares> then <ops> [else <ops>]` (see the module docs).
pub fn parse_txn(text: &str) -> Result<TxnRequest, String> {
    let usage = "usage: txn <compare> [&& <compare>…] then <op> [; <op>…] [else <op> [; <op>…]]";
    let (compares, rest) = split_keyword(text, "then").ok_or(usage)?;
    let (success, failure) = split_keyword(&rest, "else").unwrap_or((rest.clone(), String::new()));
    let compare = split_top(&compares, "&&")
        .iter()
        .map(|c| parse_compare(c))
        .collect::<Result<_, _>>()?;
    let ops = |text: &str| -> Result<Vec<RequestOp>, String> {
        split_top(text, ";").iter().map(|op| parse_op(op)).collect()
    };
    Ok(TxnRequest {
        compare,
        success: ops(&success)?,
        failure: ops(&failure)?,
    })
}

/// `txn -i`'s input, as etcdctl reads it: one compare a line, then one request a line for
/// success, then for failure.
pub fn txn_from_lines(
    compares: &[String],
    success: &[String],
    failure: &[String],
) -> Result<TxnRequest, String> {
    let ops = |lines: &[String]| -> Result<Vec<RequestOp>, String> {
        lines.iter().map(|line| parse_op(line)).collect()
    };
    Ok(TxnRequest {
        compare: compares
            .iter()
            .map(|c| parse_compare(c))
            .collect::<Result<_, _>>()?,
        success: ops(success)?,
        failure: ops(failure)?,
    })
}

/// Splits at the first `keyword` that stands as a word outside quotes.
fn split_keyword(text: &str, keyword: &str) -> Option<(String, String)> {
    let mut quoted = false;
    let chars: Vec<char> = text.chars().collect();
    let word: Vec<char> = keyword.chars().collect();
    for i in 0..chars.len() {
        if chars[i] == '"' {
            quoted = !quoted;
        }
        let at_word_start = i == 0 || chars[i - 1].is_whitespace();
        let matches = chars[i..].starts_with(&word);
        let at_word_end = chars.get(i + word.len()).is_none_or(|c| c.is_whitespace());
        if !quoted && at_word_start && matches && at_word_end {
            let before: String = chars[..i].iter().collect();
            let after: String = chars[i + word.len()..].iter().collect();
            return Some((before.trim().to_string(), after.trim().to_string()));
        }
    }
    None
}

/// Splits at every `separator` outside quotes; drops empty parts.
fn split_top(text: &str, separator: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && rest.starts_with(separator) {
            parts.push(std::mem::take(&mut current));
            rest = &rest[separator.len()..];
            continue;
        }
        current.push(c);
        rest = &rest[c.len_utf8()..];
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// One compare as etcdctl's `txn -i` reads it: `mod("key") > "3"`, `value("k") = "v"`.
fn parse_compare(text: &str) -> Result<Compare, String> {
    let bad = || format!("malformed comparison: {text} (e.g. value(\"key\") = \"v\")");
    let (target, rest) = text.split_once('(').ok_or_else(bad)?;
    let (key_text, rest) = rest.split_once(')').ok_or_else(bad)?;
    let key = unquote(key_text.trim()).into_bytes();
    let rest = rest.trim();
    let (result, value) = [
        ("!=", CompareResult::NotEqual),
        ("=", CompareResult::Equal),
        ("<", CompareResult::Less),
        (">", CompareResult::Greater),
    ]
    .into_iter()
    .find_map(|(op, result)| rest.strip_prefix(op).map(|v| (result, unquote(v.trim()))))
    .ok_or_else(bad)?;
    let number = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("invalid number {v:?} in {text}"))
    };
    let target = match target.trim() {
        "ver" | "version" => CompareTarget::Version(number(&value)?),
        "c" | "create" => CompareTarget::Create(number(&value)?),
        "m" | "mod" => CompareTarget::Mod(number(&value)?),
        "val" | "value" => CompareTarget::Value(value.into_bytes()),
        // The API has it (gRPC clients can send it), but etcdctl 3.4's txn passes the value
        // on as text and panics ("bad compare value"): refuse it, and say why.
        "lease" => {
            return Err(format!(
                "{text}: etcdctl 3.4 cannot compare a lease (it panics on this); compare value, version, create or mod"
            ))
        }
        other => return Err(format!("malformed comparison: unknown target {other:?}")),
    };
    Ok(Compare {
        result,
        target,
        key,
        range_end: Vec::new(),
    })
}

fn unquote(text: &str) -> String {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .to_string()
}

/// One operation of a transaction: a `put`, `get` or `del` command line.
fn parse_op(text: &str) -> Result<RequestOp, String> {
    let words: Vec<String> = crate::words::split(text)?
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    match parse(&words)?.action {
        Action::Request(Request::Put(put)) => Ok(RequestOp::Put(put)),
        Action::Request(Request::Range(range)) => Ok(RequestOp::Range(range)),
        Action::Request(Request::DeleteRange(delete)) => Ok(RequestOp::DeleteRange(delete)),
        _ => Err(format!("a transaction can only put, get or del: {text}")),
    }
}

// ---- Printing -----------------------------------------------------------------------------

fn show(style: &Style, bytes: &[u8]) -> String {
    if style.hex {
        bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

fn print_kv(style: &Style, kv: &KeyValue, out: &mut String) {
    if !style.value_only {
        out.push_str(&show(style, &kv.key));
        out.push('\n');
    }
    out.push_str(&show(style, &kv.value));
    out.push('\n');
}

/// An answer, as etcdctl prints it.
pub fn print_response(style: &Style, response: &Response) -> String {
    // etcd's client turns a keep-alive answered with TTL 0 into "lease not found", whatever
    // the format.
    if let Response::LeaseKeepAlive(k) = response {
        if k.ttl <= 0 && style.keep_alive_once {
            return format!("Error: {}\n", EtcdError::LeaseNotFound);
        }
    }
    let formatted = match style.format {
        Format::Json => super::write_out::json(response),
        Format::Fields => super::write_out::fields(response),
        Format::Table => Some("Error: table not supported as output format\n".into()),
        Format::Protobuf => {
            Some("Error: the console cannot show protobuf (binary) output\n".into())
        }
        Format::Simple => None,
    };
    if let Some(text) = formatted {
        return text;
    }
    let mut out = String::new();
    match response {
        Response::Range(range) => range
            .kvs
            .iter()
            .for_each(|kv| print_kv(style, kv, &mut out)),
        Response::Put(put) => {
            out.push_str("OK\n");
            if let Some(prev) = &put.prev_kv {
                print_kv(style, prev, &mut out);
            }
        }
        Response::DeleteRange(delete) => {
            out.push_str(&format!("{}\n", delete.deleted));
            delete
                .prev_kvs
                .iter()
                .for_each(|kv| print_kv(style, kv, &mut out));
        }
        Response::Txn(txn) => {
            out.push_str(if txn.succeeded {
                "SUCCESS\n"
            } else {
                "FAILURE\n"
            });
            for op in &txn.responses {
                out.push('\n');
                out.push_str(&match op {
                    ResponseOp::Range(r) => print_response(style, &Response::Range(r.clone())),
                    ResponseOp::Put(r) => print_response(style, &Response::Put(r.clone())),
                    ResponseOp::DeleteRange(r) => {
                        print_response(style, &Response::DeleteRange(r.clone()))
                    }
                    ResponseOp::Txn(_) => "unexpected nested transaction response\n".into(),
                });
            }
        }
        Response::Compact(_) => unreachable!("printed by print_result, which knows the revision"),
        Response::LeaseGrant(grant) => {
            out = format!("lease {:016x} granted with TTL({}s)\n", grant.id, grant.ttl)
        }
        Response::LeaseRevoke(_) => unreachable!("printed by print_result, which knows the id"),
        Response::LeaseKeepAlive(k) if k.ttl <= 0 => {
            out = format!("lease {:016x} expired or revoked.\n", k.id)
        }
        Response::LeaseKeepAlive(k) => {
            out = format!("lease {:016x} keepalived with TTL({})\n", k.id, k.ttl)
        }
        Response::LeaseTimeToLive(t) if t.granted_ttl == 0 && t.ttl == -1 => {
            out = format!("lease {:016x} already expired\n", t.id)
        }
        Response::LeaseTimeToLive(t) => {
            out = format!(
                "lease {:016x} granted with TTL({}s), remaining({}s)",
                t.id, t.granted_ttl, t.ttl
            );
            if style.lease_keys {
                let keys: Vec<String> = t
                    .keys
                    .iter()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect();
                out.push_str(&format!(", attached keys([{}])", keys.join(" ")));
            }
            out.push('\n');
        }
        Response::LeaseLeases(list) => {
            out = format!("found {} leases\n", list.leases.len());
            list.leases
                .iter()
                .for_each(|id| out.push_str(&format!("{id:016x}\n")));
        }
        Response::Alarm(alarms) => alarms.alarms.iter().for_each(|a| {
            let alarm = match a.alarm {
                AlarmType::NoSpace => "NOSPACE",
                AlarmType::Corrupt => "CORRUPT",
            };
            // Go's text form of the message, which leaves out a zero member id.
            if a.member_id != 0 {
                out.push_str(&format!("memberID:{} ", a.member_id));
            }
            out.push_str(&format!("alarm:{alarm} \n"));
        }),
        Response::MemberChange(_) => out = "OK\n".into(),
    }
    out
}

/// The answer to a request, or its error, as etcdctl prints it.
pub fn print_result(invocation: &Invocation, result: &Result<Response, EtcdError>) -> String {
    match (result, &invocation.action) {
        (Err(error), _) => print_failure(invocation, &error.to_string()),
        (Ok(Response::LeaseRevoke(_)), Action::Request(Request::LeaseRevoke(revoke)))
            if invocation.style.format == Format::Simple =>
        {
            format!("lease {:016x} revoked\n", revoke.id)
        }
        (Ok(Response::Compact(_)), Action::Request(Request::Compact(compact))) => {
            format!("compacted revision {}\n", compact.revision)
        }
        (Ok(response), _) => print_response(&invocation.style, response),
    }
}

/// A request that failed (with an etcd error, or a client-side one such as a timeout).
pub fn print_failure(invocation: &Invocation, error: &str) -> String {
    match &invocation.action {
        Action::Request(Request::LeaseRevoke(_)) => {
            format!("Error: failed to revoke lease ({error})\n")
        }
        _ => format!("Error: {error}\n"),
    }
}

/// One watch response, as `etcdctl watch` prints it.
pub fn print_watch(style: &Style, response: &WatchResponse) -> String {
    let mut out = String::new();
    if response.canceled && !response.cancel_reason.is_empty() {
        // etcdctl 3.4 says why, then gives up on the whole command: `watch` exits with
        // "watch is canceled by the server" (both on stderr).
        out.push_str(&format!(
            "watch was canceled ({})\nError: watch is canceled by the server\n",
            response.cancel_reason
        ));
    } else if style.format == Format::Json {
        return super::write_out::watch_json(response);
    } else if style.format == Format::Fields {
        return super::write_out::watch_fields(response);
    } else if !response.created && !response.canceled && response.events.is_empty() {
        out.push_str(&format!("progress notify: {}\n", response.header.revision));
    }
    for event in &response.events {
        out.push_str(match event.kind {
            EventType::Put => "PUT\n",
            EventType::Delete => "DELETE\n",
        });
        if let Some(prev) = &event.prev_kv {
            print_kv(style, prev, &mut out);
        }
        print_kv(style, &event.kv, &mut out);
    }
    out
}

/// A table as etcdctl's `-w table` draws it (Go's tablewriter): headers centred, cells
/// right-aligned, one space of padding, `+---+` rules above and below the header and at the end.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let header: String = headers
        .iter()
        .zip(&widths)
        .map(|(h, w)| {
            let pad = w - h.chars().count();
            let left = pad / 2;
            format!("| {}{h}{} ", " ".repeat(left), " ".repeat(pad - left))
        })
        .collect::<String>()
        + "|\n";
    let body: String = rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("| {cell:>w$} ", w = *w))
                .collect::<String>()
                + "|\n"
        })
        .collect();
    format!("{rule}{header}{rule}{body}{rule}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Invocation, String> {
        parse(
            &line
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn help_lists_the_flags_the_console_takes() {
        let help = parse_line("get --help").unwrap_err();
        assert!(help.starts_with("get takes --consistency, "), "{help}");
        assert!(help.ends_with("--write-out, --hex"), "{help}");
        assert_eq!(
            parse_line("lease keep-alive -h"),
            Err("lease keep-alive takes --once, --write-out, --hex".into())
        );
    }
}
