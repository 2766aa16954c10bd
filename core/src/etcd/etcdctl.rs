//! etcdctl's command lines, turned into requests, and answers printed as etcdctl 3.4 prints
//! them. The scenario language, the lessons and the browser console all speak this, so what
//! a learner types in the playground is what they type against a real etcd.
//!
//! `txn` reads its compares and operations from standard input in etcdctl; on one line we
//! write them as `txn <compares> then <ops> [else <ops>]`, compares joined by `&&` and
//! operations by `;`, each written as etcdctl's interactive mode takes them:
//! `txn create("lock") = "0" then put lock me --lease=1234 else get lock`.

use clap::{Parser, Subcommand, ValueEnum};

use super::api::*;

#[derive(Parser, Debug)]
#[command(
    name = "etcdctl",
    no_binary_name = true,
    disable_help_subcommand = true,
    disable_version_flag = true
)]
struct Cli {
    /// Output format: simple, json, fields, table or protobuf.
    #[arg(
        short = 'w',
        long = "write-out",
        default_value = "simple",
        global = true
    )]
    write_out: Format,
    /// Print keys and values as hex-escaped bytes.
    #[arg(long, global = true)]
    hex: bool,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
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

#[derive(Subcommand, Debug)]
enum Sub {
    /// Puts the given key into the store.
    Put {
        key: String,
        value: Option<String>,
        /// Lease ID (in hexadecimal) to attach to the key.
        #[arg(long)]
        lease: Option<String>,
        #[arg(long)]
        prev_kv: bool,
        #[arg(long)]
        ignore_value: bool,
        #[arg(long)]
        ignore_lease: bool,
    },
    /// Gets the key or a range of keys.
    Get {
        key: String,
        range_end: Option<String>,
        /// l (linearizable) or s (serializable).
        #[arg(long, default_value = "l")]
        consistency: String,
        #[arg(long)]
        order: Option<String>,
        #[arg(long)]
        sort_by: Option<String>,
        #[arg(long, default_value_t = 0)]
        limit: i64,
        #[arg(long)]
        prefix: bool,
        #[arg(long)]
        from_key: bool,
        #[arg(long, default_value_t = 0)]
        rev: i64,
        #[arg(long)]
        keys_only: bool,
        #[arg(long)]
        print_value_only: bool,
    },
    /// Removes the specified key or range of keys [key, range_end).
    Del {
        key: String,
        range_end: Option<String>,
        #[arg(long)]
        prefix: bool,
        #[arg(long)]
        prev_kv: bool,
        #[arg(long)]
        from_key: bool,
    },
    /// Watches events stream on keys or prefixes.
    Watch {
        key: Option<String>,
        range_end: Option<String>,
        /// Read watch commands from the input, one a line.
        #[arg(short = 'i', long)]
        interactive: bool,
        #[arg(long)]
        prefix: bool,
        #[arg(long, default_value_t = 0)]
        rev: i64,
        #[arg(long)]
        prev_kv: bool,
        #[arg(long)]
        progress_notify: bool,
    },
    /// Lease related commands.
    Lease {
        #[command(subcommand)]
        command: LeaseSub,
    },
    /// Compacts the event history in etcd.
    #[command(alias = "compact")]
    Compaction {
        revision: i64,
        #[arg(long)]
        physical: bool,
    },
    /// Acquires a named lock.
    Lock {
        /// The lock's name, then the command etcdctl would run while holding it.
        args: Vec<String>,
        /// Timeout for session, in seconds.
        #[arg(long, default_value_t = 10)]
        ttl: i64,
    },
    /// Observes and participates in leader election.
    Elect {
        /// The election's name, then the proposal.
        args: Vec<String>,
        /// Observation mode.
        #[arg(short = 'l', long)]
        listen: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LeaseSub {
    Grant {
        ttl: i64,
    },
    Revoke {
        id: String,
    },
    Timetolive {
        id: String,
        #[arg(long)]
        keys: bool,
    },
    List,
    KeepAlive {
        id: String,
        #[arg(long)]
        once: bool,
    },
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

/// Parses the words after `etcdctl` (e.g. `["get", "--prefix", "foo"]`).
pub fn parse(words: &[String]) -> Result<Invocation, String> {
    if words.first().is_some_and(|w| w == "txn") {
        // `txn [-i] [-w json] …`: the flags come first; the rest is the transaction.
        let mut style = Style::default();
        let mut interactive = false;
        let mut rest = &words[1..];
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
            style.format = Format::from_str(&format, true)
                .map_err(|_| format!("invalid value '{format}' for '--write-out'"))?;
            rest = &rest[taken.min(rest.len())..];
        }
        let action = if interactive {
            Action::ReadTxnFromInput
        } else {
            let text = rest.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
            Action::Request(Request::Txn(parse_txn(&text)?))
        };
        return Ok(Invocation { action, style });
    }
    let cli = Cli::try_parse_from(words).map_err(|e| {
        // clap's first line is the error; the rest is usage help meant for a terminal.
        e.to_string()
            .lines()
            .next()
            .unwrap_or("bad command")
            .trim_start_matches("error: ")
            .to_string()
    })?;
    let mut style = Style {
        format: cli.write_out,
        hex: cli.hex,
        ..Default::default()
    };
    let bytes = |s: String| s.into_bytes();
    let action = match cli.command {
        Sub::Put {
            key,
            value,
            lease,
            prev_kv,
            ignore_value,
            ignore_lease,
        } => {
            match (&value, ignore_value) {
                (None, false) => {
                    return Err(
                        "put command needs 1 argument and input from stdin or 2 arguments".into(),
                    )
                }
                (Some(_), true) => {
                    return Err(
                        "put command needs only 1 argument when 'ignore-value' is set".into(),
                    )
                }
                _ => {}
            }
            let lease = lease.map(|l| parse_lease_id(&l)).transpose()?.unwrap_or(0);
            let value = bytes(value.unwrap_or_default());
            Action::Request(Request::Put(PutRequest {
                key: bytes(key),
                value,
                lease,
                prev_kv,
                ignore_value,
                ignore_lease,
            }))
        }
        Sub::Get {
            key,
            range_end,
            consistency,
            order,
            sort_by,
            limit,
            prefix,
            from_key,
            rev,
            keys_only,
            print_value_only,
        } => {
            style.value_only = print_value_only;
            let serializable = match consistency.as_str() {
                "l" => false,
                "s" => true,
                other => return Err(format!("unknown consistency flag {other:?}")),
            };
            let sort_order = match order.as_deref() {
                None => SortOrder::None,
                Some("ASCEND") => SortOrder::Ascend,
                Some("DESCEND") => SortOrder::Descend,
                Some(other) => return Err(format!("bad sort order {other:?}")),
            };
            let sort_target = match sort_by.as_deref() {
                None | Some("KEY") => SortTarget::Key,
                Some("CREATE") => SortTarget::Create,
                Some("MODIFY") => SortTarget::Mod,
                Some("VALUE") => SortTarget::Value,
                Some("VERSION") => SortTarget::Version,
                Some(other) => return Err(format!("bad sort target {other:?}")),
            };
            let (key, range_end) = key_range(key, range_end, prefix, from_key)?;
            Action::Request(Request::Range(RangeRequest {
                key,
                range_end,
                limit,
                revision: rev,
                sort_order,
                sort_target,
                serializable,
                keys_only,
                ..Default::default()
            }))
        }
        Sub::Del {
            key,
            range_end,
            prefix,
            prev_kv,
            from_key,
        } => {
            let (key, range_end) = key_range(key, range_end, prefix, from_key)?;
            Action::Request(Request::DeleteRange(DeleteRangeRequest {
                key,
                range_end,
                prev_kv,
            }))
        }
        Sub::Watch {
            key: None,
            interactive: true,
            ..
        } => Action::ReadWatchesFromInput,
        Sub::Watch {
            key,
            range_end,
            prefix,
            rev,
            prev_kv,
            progress_notify,
            ..
        } => {
            let key = key.ok_or("watch needs a key")?;
            let (key, range_end) = key_range(key, range_end, prefix, false)?;
            Action::Watch(WatchCreateRequest {
                key,
                range_end,
                start_revision: rev,
                progress_notify,
                prev_kv,
                filters: Vec::new(),
            })
        }
        Sub::Lease { command } => Action::Request(match command {
            LeaseSub::Grant { ttl } => Request::LeaseGrant(LeaseGrantRequest { ttl, id: 0 }),
            LeaseSub::Revoke { id } => Request::LeaseRevoke(LeaseRevokeRequest {
                id: parse_lease_id(&id)?,
            }),
            LeaseSub::Timetolive { id, keys } => {
                style.lease_keys = keys;
                Request::LeaseTimeToLive(LeaseTimeToLiveRequest {
                    id: parse_lease_id(&id)?,
                    keys,
                })
            }
            LeaseSub::List => Request::LeaseLeases,
            // `--once` renews once and prints the answer; without it etcdctl keeps renewing
            // until stopped (a stream of its own, below).
            LeaseSub::KeepAlive { id, once: true } => {
                style.keep_alive_once = true;
                Request::LeaseKeepAlive(LeaseKeepAliveRequest {
                    id: parse_lease_id(&id)?,
                })
            }
            LeaseSub::KeepAlive { id, once: false } => {
                return Ok(Invocation {
                    action: Action::KeepAlive(parse_lease_id(&id)?),
                    style,
                })
            }
        }),
        Sub::Compaction { revision, physical } => {
            Action::Request(Request::Compact(CompactionRequest { revision, physical }))
        }
        // etcdctl's own argument errors, word for word.
        Sub::Lock { args, ttl } => match args.as_slice() {
            [] => {
                return Err(
                    "lock takes a lock name argument and an optional command to execute".into(),
                )
            }
            [name] => Action::Lock {
                name: name.clone(),
                ttl,
            },
            [_, ..] => {
                return Err(
                    "the console cannot run a command under a lock: run `lock NAME`, \
                            then type the commands, then `stop-lock NAME`"
                        .into(),
                )
            }
        },
        Sub::Elect { args, listen } => match (args.as_slice(), listen) {
            ([name, proposal], false) => Action::Elect {
                name: name.clone(),
                proposal: proposal.clone(),
            },
            ([_], false) => return Err("no proposal argument but -l not set".into()),
            ([_, _], true) => return Err("proposal given but -l is set".into()),
            ([name], true) => Action::Observe { name: name.clone() },
            _ => {
                return Err(
                    "elect takes one election name argument and an optional proposal argument"
                        .into(),
                )
            }
        },
    };
    Ok(Invocation { action, style })
}

/// The key range etcdctl's `--prefix` and `--from-key` flags mean.
fn key_range(
    key: String,
    range_end: Option<String>,
    prefix: bool,
    from_key: bool,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    if prefix && from_key {
        return Err(
            "`--prefix` and `--from-key` cannot be set at the same time, choose one".into(),
        );
    }
    if (prefix || from_key) && range_end.is_some() {
        return Err(
            "too many arguments, only accept one argument when `--prefix` or `--from-key` is set"
                .into(),
        );
    }
    let mut key = key.into_bytes();
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
        range_end.map(String::into_bytes).unwrap_or_default()
    };
    Ok((key, range_end))
}

fn parse_lease_id(text: &str) -> Result<i64, String> {
    i64::from_str_radix(text, 16)
        .map_err(|_| format!("bad lease ID arg ({text}), expecting ID in Hex"))
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
