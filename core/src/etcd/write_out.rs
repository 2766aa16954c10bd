//! etcdctl's `-w json` and `-w fields` for key-value and lease answers, byte for byte as
//! etcdctl 3.4 prints them (checked against it).
//!
//! - **json** is Go's `json.Marshal` of the Go client's response: protobuf field names,
//!   zero values left out, bytes in base64. The lease answers are the client's own structs,
//!   which embed the header (so its fields come first, at the top level) and name their
//!   fields their own way (`ID`, `TTL`, `granted-ttl`).
//! - **fields** is one `"Name" : value` line per field, the header's four first.
//!
//! etcdctl has no table for these answers ("table not supported as output format").

use base64::Engine;

use super::api::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `"name":value` pairs for the non-zero numbers, as Go's `omitempty` leaves them.
fn numbers(fields: &[(&str, i64)]) -> Vec<String> {
    fields
        .iter()
        .filter(|(_, value)| *value != 0)
        .map(|(name, value)| format!(r#""{name}":{value}"#))
        .collect()
}

/// The header's fields, without braces (the lease answers embed them at the top level).
fn header_fields(h: &ResponseHeader) -> Vec<String> {
    let mut fields = Vec::new();
    if h.cluster_id != 0 {
        fields.push(format!(r#""cluster_id":{}"#, h.cluster_id));
    }
    if h.member_id != 0 {
        fields.push(format!(r#""member_id":{}"#, h.member_id));
    }
    fields.extend(numbers(&[("revision", h.revision)]));
    if h.raft_term != 0 {
        fields.push(format!(r#""raft_term":{}"#, h.raft_term));
    }
    fields
}

/// `"header":{…}`, as Go's JSON of a response header (also for etcdctl's cluster views).
pub(crate) fn header_json(h: &ResponseHeader) -> String {
    format!(r#""header":{{{}}}"#, header_fields(h).join(","))
}

fn kv_json(kv: &KeyValue) -> String {
    let mut fields = Vec::new();
    if !kv.key.is_empty() {
        fields.push(format!(r#""key":"{}""#, b64(&kv.key)));
    }
    fields.extend(numbers(&[
        ("create_revision", kv.create_revision),
        ("mod_revision", kv.mod_revision),
        ("version", kv.version),
    ]));
    if !kv.value.is_empty() {
        fields.push(format!(r#""value":"{}""#, b64(&kv.value)));
    }
    fields.extend(numbers(&[("lease", kv.lease)]));
    format!("{{{}}}", fields.join(","))
}

fn object(fields: Vec<String>) -> String {
    format!("{{{}}}", fields.join(","))
}

fn range_fields(range: &RangeResponse) -> Vec<String> {
    let mut fields = vec![header_json(&range.header)];
    if !range.kvs.is_empty() {
        let kvs: Vec<String> = range.kvs.iter().map(kv_json).collect();
        fields.push(format!(r#""kvs":[{}]"#, kvs.join(",")));
    }
    if range.more {
        fields.push(r#""more":true"#.into());
    }
    fields.extend(numbers(&[("count", range.count)]));
    fields
}

fn put_fields(put: &PutResponse) -> Vec<String> {
    let mut fields = vec![header_json(&put.header)];
    if let Some(prev) = &put.prev_kv {
        fields.push(format!(r#""prev_kv":{}"#, kv_json(prev)));
    }
    fields
}

fn delete_fields(delete: &DeleteRangeResponse) -> Vec<String> {
    let mut fields = vec![header_json(&delete.header)];
    fields.extend(numbers(&[("deleted", delete.deleted)]));
    if !delete.prev_kvs.is_empty() {
        let kvs: Vec<String> = delete.prev_kvs.iter().map(kv_json).collect();
        fields.push(format!(r#""prev_kvs":[{}]"#, kvs.join(",")));
    }
    fields
}

/// A transaction's answers carry a header holding only the revision.
fn sub_header(revision: i64) -> ResponseHeader {
    ResponseHeader {
        revision,
        ..Default::default()
    }
}

fn txn_fields(txn: &TxnResponse) -> Vec<String> {
    let mut fields = vec![header_json(&txn.header)];
    if txn.succeeded {
        fields.push(r#""succeeded":true"#.into());
    }
    if !txn.responses.is_empty() {
        let revision = txn.header.revision;
        let ops: Vec<String> = txn
            .responses
            .iter()
            .map(|op| {
                let (name, inner) = match op {
                    ResponseOp::Range(r) => (
                        "ResponseRange",
                        object(range_fields(&RangeResponse {
                            header: sub_header(revision),
                            ..r.clone()
                        })),
                    ),
                    ResponseOp::Put(r) => (
                        "ResponsePut",
                        object(put_fields(&PutResponse {
                            header: sub_header(revision),
                            ..r.clone()
                        })),
                    ),
                    ResponseOp::DeleteRange(r) => (
                        "ResponseDeleteRange",
                        object(delete_fields(&DeleteRangeResponse {
                            header: sub_header(revision),
                            ..r.clone()
                        })),
                    ),
                    ResponseOp::Txn(r) => ("ResponseTxn", object(txn_fields(r))),
                };
                format!(r#"{{"Response":{{"{name}":{inner}}}}}"#)
            })
            .collect();
        fields.push(format!(r#""responses":[{}]"#, ops.join(",")));
    }
    fields
}

/// An answer as `-w json` prints it (`None`: etcdctl prints this one as usual).
pub fn json(response: &Response) -> Option<String> {
    let text = match response {
        Response::Range(r) => object(range_fields(r)),
        Response::Put(r) => object(put_fields(r)),
        Response::DeleteRange(r) => object(delete_fields(r)),
        Response::Txn(r) => object(txn_fields(r)),
        Response::LeaseRevoke(r) => object(vec![header_json(&r.header)]),
        Response::LeaseGrant(r) => {
            let mut fields = header_fields(&r.header);
            fields.push(format!(r#""ID":{},"TTL":{},"Error":"""#, r.id, r.ttl));
            object(fields)
        }
        Response::LeaseKeepAlive(r) => {
            let mut fields = header_fields(&r.header);
            fields.push(format!(r#""ID":{},"TTL":{}"#, r.id, r.ttl));
            object(fields)
        }
        Response::LeaseTimeToLive(r) => {
            let mut fields = header_fields(&r.header);
            let keys = if r.keys.is_empty() {
                "null".to_string()
            } else {
                let keys: Vec<String> = r.keys.iter().map(|k| format!(r#""{}""#, b64(k))).collect();
                format!("[{}]", keys.join(","))
            };
            fields.push(format!(
                r#""id":{},"ttl":{},"granted-ttl":{},"keys":{keys}"#,
                r.id, r.ttl, r.granted_ttl
            ));
            object(fields)
        }
        Response::LeaseLeases(r) => {
            let mut fields = header_fields(&r.header);
            let leases: Vec<String> = r
                .leases
                .iter()
                .map(|id| format!(r#"{{"id":{id}}}"#))
                .collect();
            fields.push(format!(r#""leases":[{}]"#, leases.join(",")));
            object(fields)
        }
        Response::Compact(_) | Response::Alarm(_) | Response::MemberChange(_) => return None,
    };
    Some(text + "\n")
}

/// The header's four `-w fields` lines (also for etcdctl's cluster views).
pub(crate) fn header_lines(h: &ResponseHeader, out: &mut String) {
    out.push_str(&format!(
        "\"ClusterID\" : {}\n\"MemberID\" : {}\n\"Revision\" : {}\n\"RaftTerm\" : {}\n",
        h.cluster_id, h.member_id, h.revision, h.raft_term
    ));
}

/// Go's `%q` of a string: quoted, with `"` and `\` escaped and control bytes as escapes.
fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn kv_lines(prefix: &str, kv: &KeyValue, out: &mut String) {
    out.push_str(&format!("\"{prefix}Key\" : {}\n", quoted(&kv.key)));
    out.push_str(&format!(
        "\"{prefix}CreateRevision\" : {}\n",
        kv.create_revision
    ));
    out.push_str(&format!("\"{prefix}ModRevision\" : {}\n", kv.mod_revision));
    out.push_str(&format!("\"{prefix}Version\" : {}\n", kv.version));
    out.push_str(&format!("\"{prefix}Value\" : {}\n", quoted(&kv.value)));
    out.push_str(&format!("\"{prefix}Lease\" : {}\n", kv.lease));
}

fn fields_into(response: &Response, out: &mut String) -> bool {
    match response {
        Response::Range(r) => {
            header_lines(&r.header, out);
            r.kvs.iter().for_each(|kv| kv_lines("", kv, out));
            out.push_str(&format!("\"More\" : {}\n\"Count\" : {}\n", r.more, r.count));
        }
        Response::Put(r) => {
            header_lines(&r.header, out);
            if let Some(prev) = &r.prev_kv {
                kv_lines("Prev", prev, out);
            }
        }
        Response::DeleteRange(r) => {
            header_lines(&r.header, out);
            out.push_str(&format!("\"Deleted\" : {}\n", r.deleted));
            r.prev_kvs.iter().for_each(|kv| kv_lines("Prev", kv, out));
        }
        Response::Txn(r) => {
            header_lines(&r.header, out);
            out.push_str(&format!("\"Succeeded\" : {}\n", r.succeeded));
            let sub = sub_header(r.header.revision);
            for op in &r.responses {
                let inner = match op {
                    ResponseOp::Range(x) => Response::Range(RangeResponse {
                        header: sub.clone(),
                        ..x.clone()
                    }),
                    ResponseOp::Put(x) => Response::Put(PutResponse {
                        header: sub.clone(),
                        ..x.clone()
                    }),
                    ResponseOp::DeleteRange(x) => Response::DeleteRange(DeleteRangeResponse {
                        header: sub.clone(),
                        ..x.clone()
                    }),
                    ResponseOp::Txn(x) => {
                        out.push_str(&format!(
                            "\"Unknown\" : {}\n",
                            quoted(format!("{x:?}").as_bytes())
                        ));
                        continue;
                    }
                };
                fields_into(&inner, out);
            }
        }
        Response::LeaseGrant(r) => {
            header_lines(&r.header, out);
            out.push_str(&format!("\"ID\" : {}\n\"TTL\" : {}\n", r.id, r.ttl));
        }
        Response::LeaseRevoke(r) => header_lines(&r.header, out),
        Response::LeaseKeepAlive(r) => {
            header_lines(&r.header, out);
            out.push_str(&format!("\"ID\" : {}\n\"TTL\" : {}\n", r.id, r.ttl));
        }
        Response::LeaseTimeToLive(r) => {
            header_lines(&r.header, out);
            out.push_str(&format!(
                "\"ID\" : {}\n\"TTL\" : {}\n\"GrantedTTL\" : {}\n",
                r.id, r.ttl, r.granted_ttl
            ));
            for key in &r.keys {
                out.push_str(&format!("\"Key\" : {}\n", quoted(key)));
            }
        }
        Response::LeaseLeases(r) => {
            header_lines(&r.header, out);
            r.leases
                .iter()
                .for_each(|id| out.push_str(&format!("\"ID\" : {id}\n")));
        }
        Response::Compact(_) | Response::Alarm(_) | Response::MemberChange(_) => return false,
    }
    true
}

/// A watch response as `watch -w json` prints it: the Go client's `WatchResponse`, whose
/// fields keep their Go names (`Header`, `Events`, …); an event's type is left out for a put
/// (0) and is 1 for a delete.
pub fn watch_json(response: &WatchResponse) -> String {
    let events: Vec<String> = response
        .events
        .iter()
        .map(|e| {
            let mut fields = Vec::new();
            if e.kind == EventType::Delete {
                fields.push(r#""type":1"#.to_string());
            }
            fields.push(format!(r#""kv":{}"#, kv_json(&e.kv)));
            if let Some(prev) = &e.prev_kv {
                fields.push(format!(r#""prev_kv":{}"#, kv_json(prev)));
            }
            object(fields)
        })
        .collect();
    let events = if events.is_empty() {
        "null".to_string()
    } else {
        format!("[{}]", events.join(","))
    };
    format!(
        r#"{{"Header":{{{}}},"Events":{events},"CompactRevision":{},"Canceled":{},"Created":{}}}"#,
        header_fields(&response.header).join(","),
        response.compact_revision,
        response.canceled,
        response.created
    ) + "\n"
}

/// A watch response as `watch -w fields` prints it.
pub fn watch_fields(response: &WatchResponse) -> String {
    let mut out = String::new();
    header_lines(&response.header, &mut out);
    for event in &response.events {
        out.push_str(match event.kind {
            EventType::Put => "\"Type\" : PUT\n",
            EventType::Delete => "\"Type\" : DELETE\n",
        });
        if let Some(prev) = &event.prev_kv {
            kv_lines("Prev", prev, &mut out);
        }
        kv_lines("", &event.kv, &mut out);
    }
    out
}

/// An answer as `-w fields` prints it (`None`: etcdctl prints this one as usual).
pub fn fields(response: &Response) -> Option<String> {
    let mut out = String::new();
    fields_into(response, &mut out).then_some(out)
}
