//! Checks over what clients saw: the history of etcd requests made through a [`Cluster`] is
//! linearizable, and watch streams are ordered, gap-free and the same on every member.
//!
//! The history comes straight from [`Cluster::requests`]: each request's call time, its
//! answer and the time of the answer. A write that failed or was never answered may or may
//! not have happened, so it counts as returning at the end of time (see
//! [`super::linearizability`]). A read that failed tells nothing and is left out.
//!
//! Each operation touches one key, so the check runs key by key (linearizability is
//! compositional), with a model of one key: absent, or a value.

use std::collections::BTreeMap;

use super::clients::Outcome;
use super::cluster::Cluster;
use super::linearizability::{self, Model, Operation};
use crate::etcd::api::*;

/// What a client did to one key.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyInput {
    Put(Vec<u8>),
    Get,
    Delete,
    /// A transaction: if the key's value is `expected` (or, for `None`, the key does not
    /// exist), put `new`.
    CompareAndPut {
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeyOutput {
    /// The answer never came: any outcome is possible.
    Unknown,
    Written,
    Read(Option<Vec<u8>>),
    Deleted(i64),
    Compared {
        succeeded: bool,
    },
}

/// One etcd key: absent (`None`) or holding a value.
pub struct KeyModel;

impl Model for KeyModel {
    type State = Option<Vec<u8>>;
    type Input = KeyInput;
    type Output = KeyOutput;

    fn initial(&self) -> Self::State {
        None
    }

    fn transition(
        &self,
        state: &Self::State,
        input: &KeyInput,
        output: &KeyOutput,
    ) -> Option<Self::State> {
        let unknown = *output == KeyOutput::Unknown;
        match input {
            KeyInput::Put(value) => Some(Some(value.clone())),
            KeyInput::Get => {
                (unknown || *output == KeyOutput::Read(state.clone())).then(|| state.clone())
            }
            KeyInput::Delete => {
                (unknown || *output == KeyOutput::Deleted(state.is_some() as i64)).then_some(None)
            }
            KeyInput::CompareAndPut { expected, new } => {
                let holds = state == expected;
                let agrees = unknown || *output == KeyOutput::Compared { succeeded: holds };
                agrees.then(|| {
                    if holds {
                        Some(new.clone())
                    } else {
                        state.clone()
                    }
                })
            }
        }
    }
}

/// Reads a request as an operation on one key, if it is one this model covers.
fn key_operation(request: &Request) -> Option<(Vec<u8>, KeyInput)> {
    match request {
        Request::Put(put) if put.lease == 0 && !put.ignore_value => {
            Some((put.key.clone(), KeyInput::Put(put.value.clone())))
        }
        Request::Range(range)
            if range.range_end.is_empty() && range.revision == 0 && !range.serializable =>
        {
            Some((range.key.clone(), KeyInput::Get))
        }
        Request::DeleteRange(delete) if delete.range_end.is_empty() => {
            Some((delete.key.clone(), KeyInput::Delete))
        }
        Request::Txn(txn) => {
            let [compare] = txn.compare.as_slice() else {
                return None;
            };
            let [RequestOp::Put(put)] = txn.success.as_slice() else {
                return None;
            };
            let expected = match (&compare.target, compare.result) {
                (CompareTarget::Value(value), CompareResult::Equal) => Some(value.clone()),
                (CompareTarget::Create(0), CompareResult::Equal) => None,
                _ => return None,
            };
            let reads_only_key = txn.failure.iter().all(|op| matches!(op, RequestOp::Range(r) if r.key == put.key && r.range_end.is_empty()));
            (put.key == compare.key
                && compare.range_end.is_empty()
                && reads_only_key
                && put.lease == 0)
                .then(|| {
                    (
                        put.key.clone(),
                        KeyInput::CompareAndPut {
                            expected,
                            new: put.value.clone(),
                        },
                    )
                })
        }
        _ => None,
    }
}

fn key_output(response: &Response) -> KeyOutput {
    match response {
        Response::Put(_) => KeyOutput::Written,
        Response::Range(range) => KeyOutput::Read(range.kvs.first().map(|kv| kv.value.clone())),
        Response::DeleteRange(delete) => KeyOutput::Deleted(delete.deleted),
        Response::Txn(txn) => KeyOutput::Compared {
            succeeded: txn.succeeded,
        },
        _ => KeyOutput::Unknown,
    }
}

/// The cluster's client history, per key.
pub fn key_histories(cluster: &Cluster) -> BTreeMap<Vec<u8>, Vec<Operation<KeyInput, KeyOutput>>> {
    let mut histories: BTreeMap<Vec<u8>, Vec<Operation<KeyInput, KeyOutput>>> = BTreeMap::new();
    for request in cluster.requests().values() {
        let Some((key, input)) = request.request.as_ref().and_then(key_operation) else {
            continue;
        };
        let (returned, output) = match &request.outcome {
            Outcome::Done { at, response, .. } => (*at, key_output(response)),
            _ if input == KeyInput::Get => continue,
            _ => (u64::MAX, KeyOutput::Unknown),
        };
        histories.entry(key).or_default().push(Operation {
            call: request.invoked_at,
            returned,
            input,
            output,
        });
    }
    histories
}

/// Checks that what clients saw could have happened in one order.
pub fn check_linearizable(cluster: &Cluster) -> Result<usize, String> {
    let mut operations = 0;
    for (key, history) in key_histories(cluster) {
        operations += history.len();
        if let Err(ordered) = linearizability::check(&KeyModel, &history) {
            let lines: Vec<String> = history
                .iter()
                .map(|op| {
                    let returned = if op.returned == u64::MAX {
                        "never".into()
                    } else {
                        format!("{}ms", op.returned)
                    };
                    format!(
                        "  {}ms..{returned}: {:?} -> {:?}",
                        op.call, op.input, op.output
                    )
                })
                .collect();
            return Err(format!(
                "history of key {:?} is not linearizable (stuck after ordering {ordered} of {} operations):\n{}",
                String::from_utf8_lossy(&key),
                history.len(),
                lines.join("\n")
            ));
        }
    }
    Ok(operations)
}

/// Checks every watch stream on `[key, range_end)` that started at the current revision
/// (`start_revision` 0): it must be exactly the store's history from its creation on, in
/// order, with nothing skipped or doubled, on whichever member it ran. `reference` is a
/// member whose store has applied everything (and was never compacted below the streams).
pub fn check_watch_streams(
    cluster: &Cluster,
    reference: u64,
    key: &[u8],
    range_end: &[u8],
) -> Result<usize, String> {
    let store = &cluster
        .server(reference)
        .ok_or("reference member is down")?
        .store()
        .mvcc;
    let mut streams: BTreeMap<(u64, i64), (i64, Vec<Event>)> = BTreeMap::new();
    for delivery in cluster.watch_deliveries() {
        let response = &delivery.response;
        let stream = streams
            .entry((delivery.node, response.watch_id))
            .or_default();
        if response.created {
            // A member restarted after a crash numbers its watches afresh.
            *stream = (response.header.revision, Vec::new());
        }
        stream.1.extend(response.events.iter().cloned());
    }
    let mut checked = 0;
    for ((node, watch_id), (created_at, events)) in streams {
        let expected = store
            .events_since(key, range_end, created_at + 1, false)
            .map_err(|e| e.to_string())?;
        if events.len() > expected.len() || events[..] != expected[..events.len()] {
            let position = events
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(expected.len());
            return Err(format!(
                "watch {watch_id} on n{node} (created at revision {created_at}) differs from the history at event {position}: got {:?}, expected {:?}",
                events.get(position),
                expected.get(position)
            ));
        }
        checked += events.len();
    }
    Ok(checked)
}
