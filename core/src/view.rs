//! Read-only snapshots of a node and its messages, in plain serialisable structs.
//!
//! A visualiser (the browser playground, the native server's status endpoint, the scenario
//! `status` command) reads these instead of reaching into raft-rs, so raft-rs's internals can
//! change without breaking them.

use raft::eraftpb::{Entry, EntryType, Message, MessageType};
use serde::Serialize;

use crate::node::{as_joint_form, describe_conf_change, EntryKind, Node};
pub use crate::node::{ProgressView, RaftView};
use crate::state_machine::StateMachine;
use crate::storage::RaftStorage;

/// How to describe a command's bytes in a few words (the state machine knows).
pub type Describe<'a> = &'a dyn Fn(&[u8]) -> String;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    pub id: u64,
    /// `None` while the node is down: then only its disk (below) is known.
    pub raft: Option<RaftView>,
    pub first_index: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    pub snapshot_term: u64,
    pub entries: Vec<EntryView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntryView {
    pub index: u64,
    pub term: u64,
    pub kind: EntryKind,
    pub summary: String,
}

impl EntryView {
    pub fn new(entry: &Entry, describe: Option<Describe>) -> Self {
        let (kind, summary) = match entry.get_entry_type() {
            EntryType::EntryNormal if entry.data.is_empty() => {
                (EntryKind::Noop, "(leader no-op)".to_string())
            }
            EntryType::EntryNormal => {
                let summary = match describe {
                    Some(describe) => describe(&entry.data),
                    None => format!("{} bytes", entry.data.len()),
                };
                (EntryKind::Command, summary)
            }
            EntryType::EntryConfChange => {
                let summary =
                    <raft::eraftpb::ConfChange as protobuf::Message>::parse_from_bytes(&entry.data)
                        .map(|change| describe_conf_change(&as_joint_form(&change)))
                        .unwrap_or_else(|_| "conf change".to_string());
                (EntryKind::ConfChange, summary)
            }
            EntryType::EntryConfChangeV2 => {
                let summary = <raft::eraftpb::ConfChangeV2 as protobuf::Message>::parse_from_bytes(
                    &entry.data,
                )
                .map(|change| describe_conf_change(&change))
                .unwrap_or_else(|_| "conf change".to_string());
                (EntryKind::ConfChange, summary)
            }
        };
        EntryView {
            index: entry.index,
            term: entry.term,
            kind,
            summary,
        }
    }
}

impl NodeView {
    /// The view of a running node, with at most the last `log_tail` entries of its log.
    pub fn of_node<S: StateMachine>(node: &Node<S>, log_tail: usize) -> Self {
        NodeView {
            raft: Some(node.raft_view()),
            ..Self::of_storage(node.id(), node.storage(), Some(&S::describe), log_tail)
        }
    }

    /// The view of a node that is down: what its disk holds (the last `log_tail` entries).
    pub fn of_storage(
        id: u64,
        storage: &RaftStorage,
        describe: Option<Describe>,
        log_tail: usize,
    ) -> Self {
        let snapshot = storage.snapshot_metadata();
        NodeView {
            id,
            raft: None,
            first_index: storage.first_index(),
            last_index: storage.last_index(),
            snapshot_index: snapshot.index,
            snapshot_term: snapshot.term,
            entries: storage
                .log_tail(log_tail)
                .map(|e| EntryView::new(e, describe))
                .collect(),
        }
    }
}

/// A Raft message, described for people.
///
/// Its one-line [`MessageView::summary`] is made when asked for (a view or the trace's JSON),
/// not for every message sent: a busy run sends thousands a second, and the trace keeps each.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    pub from: u64,
    pub to: u64,
    pub term: u64,
    /// For appends: the index and term of the entry before the carried ones.
    pub log_index: u64,
    pub log_term: u64,
    /// Number of entries carried, and their index range.
    pub entries: usize,
    pub commit: u64,
    pub reject: bool,
    /// Its kind ([`MessageView::kind`]).
    message_type: MessageType,
    /// What the summary says beyond the fields above: the carried entries' indexes, a
    /// rejection's hint, a snapshot's index and term.
    detail: Detail,
}

/// The parts of a message only its summary shows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Detail {
    None,
    Entries { first: u64, last: u64 },
    RejectHint(u64),
    Snapshot { index: u64, term: u64 },
}

impl MessageView {
    pub fn new(m: &Message) -> Self {
        let detail = match m.get_msg_type() {
            MessageType::MsgAppend => match (m.entries.first(), m.entries.last()) {
                (Some(first), Some(last)) => Detail::Entries {
                    first: first.index,
                    last: last.index,
                },
                _ => Detail::None,
            },
            MessageType::MsgAppendResponse if m.reject => Detail::RejectHint(m.reject_hint),
            MessageType::MsgSnapshot => {
                let meta = m.get_snapshot().get_metadata();
                Detail::Snapshot {
                    index: meta.index,
                    term: meta.term,
                }
            }
            _ => Detail::None,
        };
        MessageView {
            from: m.from,
            to: m.to,
            term: m.term,
            log_index: m.index,
            log_term: m.log_term,
            entries: m.entries.len(),
            commit: m.commit,
            reject: m.reject,
            message_type: m.get_msg_type(),
            detail,
        }
    }

    /// The kind of message, as the views name it (`Append`, `VoteResp`, …).
    pub fn kind(&self) -> &'static str {
        message_kind(self.message_type)
    }

    /// A one-line description such as `Append idx 5..7 term 2`.
    pub fn summary(&self) -> String {
        use MessageType::*;
        let detail = match (self.message_type, self.detail) {
            (MsgAppend, Detail::Entries { first, last }) => format!(" idx {first}..{last}"),
            (MsgAppend, _) => format!(" idx {} (empty)", self.log_index),
            (MsgAppendResponse, Detail::RejectHint(hint)) => {
                format!(" reject idx {} hint {hint}", self.log_index)
            }
            (MsgAppendResponse, _) => format!(" ok idx {}", self.log_index),
            (MsgRequestVote | MsgRequestPreVote, _) => {
                format!(" last {}@{}", self.log_index, self.log_term)
            }
            (MsgRequestVoteResponse | MsgRequestPreVoteResponse, _) => {
                (if self.reject { " rejected" } else { " granted" }).to_string()
            }
            (MsgSnapshot, Detail::Snapshot { index, term }) => format!(" idx {index} term {term}"),
            (MsgHeartbeat, _) => format!(" commit {}", self.commit),
            _ => String::new(),
        };
        format!("{}{detail} term {}", self.kind(), self.term)
    }
}

/// The fields, then the summary, as the derived form had them (the trace's hash depends on it).
impl Serialize for MessageView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut view = serializer.serialize_struct("MessageView", 10)?;
        view.serialize_field("kind", self.kind())?;
        view.serialize_field("from", &self.from)?;
        view.serialize_field("to", &self.to)?;
        view.serialize_field("term", &self.term)?;
        view.serialize_field("log_index", &self.log_index)?;
        view.serialize_field("log_term", &self.log_term)?;
        view.serialize_field("entries", &self.entries)?;
        view.serialize_field("commit", &self.commit)?;
        view.serialize_field("reject", &self.reject)?;
        view.serialize_field("summary", &self.summary())?;
        view.end()
    }
}

pub fn message_kind(t: MessageType) -> &'static str {
    match t {
        MessageType::MsgAppend => "Append",
        MessageType::MsgAppendResponse => "AppendResp",
        MessageType::MsgRequestVote => "Vote",
        MessageType::MsgRequestVoteResponse => "VoteResp",
        MessageType::MsgRequestPreVote => "PreVote",
        MessageType::MsgRequestPreVoteResponse => "PreVoteResp",
        MessageType::MsgSnapshot => "Snapshot",
        MessageType::MsgHeartbeat => "Heartbeat",
        MessageType::MsgHeartbeatResponse => "HeartbeatResp",
        MessageType::MsgTimeoutNow => "TimeoutNow",
        MessageType::MsgReadIndex => "ReadIndex",
        MessageType::MsgReadIndexResp => "ReadIndexResp",
        MessageType::MsgPropose => "Propose",
        MessageType::MsgTransferLeader => "TransferLeader",
        MessageType::MsgHup => "Hup",
        MessageType::MsgBeat => "Beat",
        MessageType::MsgUnreachable => "Unreachable",
        MessageType::MsgSnapStatus => "SnapStatus",
        MessageType::MsgCheckQuorum => "CheckQuorum",
    }
}
