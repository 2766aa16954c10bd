//! Between etcd's protobuf messages ([`crate::pb`]) and the core's API types
//! ([`raftbook_core::etcd::api`]), which mirror them field for field; and etcd's errors as
//! gRPC statuses with etcd's codes and messages (clients recognise errors by message).

use raftbook_core::etcd::api;
use tonic::{Code, Status};

use crate::pb;

pub fn status(error: &api::EtcdError) -> Status {
    use api::EtcdError::*;
    let code = match error {
        Compacted | FutureRevision | LeaseTtlTooLarge => Code::OutOfRange,
        EmptyKey | KeyNotFound | ValueProvided | LeaseProvided | TooManyOps | DuplicateKey
        | RequestTooLarge | DuplicateWatchId => Code::InvalidArgument,
        NoSpace => Code::ResourceExhausted,
        LeaseNotFound => Code::NotFound,
        LeaseExists | LearnerNotReady => Code::FailedPrecondition,
        NoLeader | NotLeader | Timeout => Code::Unavailable,
        Malformed => Code::Internal,
    };
    Status::new(code, error.to_string())
}

pub fn alarm_request(r: pb::AlarmRequest) -> api::AlarmRequest {
    use pb::alarm_request::AlarmAction;
    api::AlarmRequest {
        action: match r.action() {
            AlarmAction::Get => api::AlarmAction::Get,
            AlarmAction::Activate => api::AlarmAction::Activate,
            AlarmAction::Deactivate => api::AlarmAction::Deactivate,
        },
        member_id: r.member_id,
        alarm: match r.alarm() {
            pb::AlarmType::None => None,
            pb::AlarmType::Nospace => Some(api::AlarmType::NoSpace),
            pb::AlarmType::Corrupt => Some(api::AlarmType::Corrupt),
        },
    }
}

pub fn alarm_response(r: api::AlarmResponse) -> pb::AlarmResponse {
    let alarms = r
        .alarms
        .into_iter()
        .map(|a| pb::AlarmMember {
            member_id: a.member_id,
            alarm: match a.alarm {
                api::AlarmType::NoSpace => pb::AlarmType::Nospace,
                api::AlarmType::Corrupt => pb::AlarmType::Corrupt,
            } as i32,
        })
        .collect();
    pb::AlarmResponse {
        header: header(r.header),
        alarms,
    }
}

pub fn header(h: api::ResponseHeader) -> Option<pb::ResponseHeader> {
    Some(pb::ResponseHeader {
        cluster_id: h.cluster_id,
        member_id: h.member_id,
        revision: h.revision,
        raft_term: h.raft_term,
    })
}

pub fn kv(kv: api::KeyValue) -> pb::KeyValue {
    pb::KeyValue {
        key: kv.key,
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        value: kv.value,
        lease: kv.lease,
    }
}

pub fn range_request(r: pb::RangeRequest) -> api::RangeRequest {
    use pb::range_request::{SortOrder, SortTarget};
    let sort_order = match r.sort_order() {
        SortOrder::None => api::SortOrder::None,
        SortOrder::Ascend => api::SortOrder::Ascend,
        SortOrder::Descend => api::SortOrder::Descend,
    };
    let sort_target = match r.sort_target() {
        SortTarget::Key => api::SortTarget::Key,
        SortTarget::Version => api::SortTarget::Version,
        SortTarget::Create => api::SortTarget::Create,
        SortTarget::Mod => api::SortTarget::Mod,
        SortTarget::Value => api::SortTarget::Value,
    };
    api::RangeRequest {
        key: r.key,
        range_end: r.range_end,
        limit: r.limit,
        revision: r.revision,
        sort_order,
        sort_target,
        serializable: r.serializable,
        keys_only: r.keys_only,
        count_only: r.count_only,
        min_mod_revision: r.min_mod_revision,
        max_mod_revision: r.max_mod_revision,
        min_create_revision: r.min_create_revision,
        max_create_revision: r.max_create_revision,
    }
}

pub fn put_request(r: pb::PutRequest) -> api::PutRequest {
    api::PutRequest {
        key: r.key,
        value: r.value,
        lease: r.lease,
        prev_kv: r.prev_kv,
        ignore_value: r.ignore_value,
        ignore_lease: r.ignore_lease,
    }
}

pub fn delete_request(r: pb::DeleteRangeRequest) -> api::DeleteRangeRequest {
    api::DeleteRangeRequest {
        key: r.key,
        range_end: r.range_end,
        prev_kv: r.prev_kv,
    }
}

pub fn txn_request(r: pb::TxnRequest) -> Result<api::TxnRequest, Status> {
    use pb::compare::{CompareResult, TargetUnion};
    let compare = r
        .compare
        .into_iter()
        .map(|c| {
            let result = match c.result() {
                CompareResult::Equal => api::CompareResult::Equal,
                CompareResult::Greater => api::CompareResult::Greater,
                CompareResult::Less => api::CompareResult::Less,
                CompareResult::NotEqual => api::CompareResult::NotEqual,
            };
            // The target enum says which field of the union is compared; a missing union
            // field compares with its zero value, as in etcd.
            use pb::compare::CompareTarget as T;
            let union = c.target_union.clone();
            let number =
                |pick: fn(&TargetUnion) -> Option<i64>| union.as_ref().and_then(pick).unwrap_or(0);
            let target = match c.target() {
                T::Version => api::CompareTarget::Version(number(|u| {
                    if let TargetUnion::Version(v) = u {
                        Some(*v)
                    } else {
                        None
                    }
                })),
                T::Create => api::CompareTarget::Create(number(|u| {
                    if let TargetUnion::CreateRevision(v) = u {
                        Some(*v)
                    } else {
                        None
                    }
                })),
                T::Mod => api::CompareTarget::Mod(number(|u| {
                    if let TargetUnion::ModRevision(v) = u {
                        Some(*v)
                    } else {
                        None
                    }
                })),
                T::Lease => api::CompareTarget::Lease(number(|u| {
                    if let TargetUnion::Lease(v) = u {
                        Some(*v)
                    } else {
                        None
                    }
                })),
                T::Value => api::CompareTarget::Value(match union {
                    Some(TargetUnion::Value(v)) => v,
                    _ => Vec::new(),
                }),
            };
            api::Compare {
                result,
                target,
                key: c.key,
                range_end: c.range_end,
            }
        })
        .collect();
    let ops = |ops: Vec<pb::RequestOp>| -> Result<Vec<api::RequestOp>, Status> {
        ops.into_iter()
            .map(|op| match op.request {
                Some(pb::request_op::Request::RequestRange(r)) => {
                    Ok(api::RequestOp::Range(range_request(r)))
                }
                Some(pb::request_op::Request::RequestPut(r)) => {
                    Ok(api::RequestOp::Put(put_request(r)))
                }
                Some(pb::request_op::Request::RequestDeleteRange(r)) => {
                    Ok(api::RequestOp::DeleteRange(delete_request(r)))
                }
                Some(pb::request_op::Request::RequestTxn(r)) => {
                    Ok(api::RequestOp::Txn(txn_request(r)?))
                }
                None => Err(Status::invalid_argument("etcdserver: empty request in txn")),
            })
            .collect()
    };
    Ok(api::TxnRequest {
        compare,
        success: ops(r.success)?,
        failure: ops(r.failure)?,
    })
}

pub fn range_response(r: api::RangeResponse) -> pb::RangeResponse {
    pb::RangeResponse {
        header: header(r.header),
        kvs: r.kvs.into_iter().map(kv).collect(),
        more: r.more,
        count: r.count,
    }
}

pub fn put_response(r: api::PutResponse) -> pb::PutResponse {
    pb::PutResponse {
        header: header(r.header),
        prev_kv: r.prev_kv.map(kv),
    }
}

pub fn delete_response(r: api::DeleteRangeResponse) -> pb::DeleteRangeResponse {
    pb::DeleteRangeResponse {
        header: header(r.header),
        deleted: r.deleted,
        prev_kvs: r.prev_kvs.into_iter().map(kv).collect(),
    }
}

pub fn txn_response(r: api::TxnResponse) -> pb::TxnResponse {
    use pb::response_op::Response as R;
    let responses = r
        .responses
        .into_iter()
        .map(|op| pb::ResponseOp {
            response: Some(match op {
                api::ResponseOp::Range(r) => R::ResponseRange(range_response(r)),
                api::ResponseOp::Put(r) => R::ResponsePut(put_response(r)),
                api::ResponseOp::DeleteRange(r) => R::ResponseDeleteRange(delete_response(r)),
                api::ResponseOp::Txn(r) => R::ResponseTxn(txn_response(r)),
            }),
        })
        .collect();
    pb::TxnResponse {
        header: header(r.header),
        succeeded: r.succeeded,
        responses,
    }
}

pub fn watch_create(r: pb::WatchCreateRequest) -> api::WatchCreateRequest {
    use pb::watch_create_request::FilterType;
    let filters = r
        .filters()
        .map(|f| match f {
            FilterType::Noput => api::WatchFilter::NoPut,
            FilterType::Nodelete => api::WatchFilter::NoDelete,
        })
        .collect();
    api::WatchCreateRequest {
        key: r.key,
        range_end: r.range_end,
        start_revision: r.start_revision,
        progress_notify: r.progress_notify,
        filters,
        prev_kv: r.prev_kv,
    }
}

pub fn watch_response(r: api::WatchResponse) -> pb::WatchResponse {
    let events = r
        .events
        .into_iter()
        .map(|e| pb::Event {
            r#type: match e.kind {
                api::EventType::Put => pb::event::EventType::Put as i32,
                api::EventType::Delete => pb::event::EventType::Delete as i32,
            },
            kv: Some(kv(e.kv)),
            prev_kv: e.prev_kv.map(kv),
        })
        .collect();
    pb::WatchResponse {
        header: header(r.header),
        watch_id: r.watch_id,
        created: r.created,
        canceled: r.canceled,
        compact_revision: r.compact_revision,
        cancel_reason: r.cancel_reason,
        fragment: false,
        events,
    }
}
