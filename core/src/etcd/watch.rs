//! The watch hub: a member's watchers and the events it owes each of them.
//!
//! A watcher is a range of keys and a *cursor*: the next revision it has to hear about.
//! After anything changes the store (an applied entry, a snapshot installed), the hub reads
//! every change from each watcher's cursor up to the current revision out of the MVCC history
//! and moves the cursor past it. A new watcher with a past start revision is caught up the
//! same way, so replayed history and live events come from one code path: in revision
//! order, none skipped, none twice, on any member. A cursor behind the compaction point
//! cannot be served; the watcher is cancelled with the compact revision, as etcd does.

use std::collections::BTreeMap;

use super::api::*;
use super::mvcc::MvccStore;

#[derive(Clone)]
struct Watcher {
    request: WatchCreateRequest,
    /// The next revision this watcher has not yet been sent.
    next_revision: i64,
}

#[derive(Clone, Default)]
pub struct WatchHub {
    watchers: BTreeMap<i64, Watcher>,
    next_id: i64,
}

/// What one watch looks like from outside, for views.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WatchView {
    pub watch_id: i64,
    pub key: String,
    pub range_end: String,
    pub next_revision: i64,
}

impl WatchHub {
    /// Adds a watcher; the caller then calls [`WatchHub::sync`] to send it any history.
    pub fn create(
        &mut self,
        request: WatchCreateRequest,
        store: &MvccStore,
        header: &ResponseHeader,
    ) -> WatchResponse {
        let watch_id = self.next_id;
        self.next_id += 1;
        let next_revision = if request.start_revision > 0 {
            request.start_revision
        } else {
            store.current_revision() + 1
        };
        self.watchers.insert(
            watch_id,
            Watcher {
                request,
                next_revision,
            },
        );
        WatchResponse {
            header: header.clone(),
            watch_id,
            created: true,
            ..Default::default()
        }
    }

    pub fn cancel(&mut self, watch_id: i64, header: &ResponseHeader) -> Option<WatchResponse> {
        self.watchers.remove(&watch_id)?;
        Some(WatchResponse {
            header: header.clone(),
            watch_id,
            canceled: true,
            ..Default::default()
        })
    }

    /// Sends every watcher what it has not yet seen.
    pub fn sync(&mut self, store: &MvccStore, header: &ResponseHeader) -> Vec<WatchResponse> {
        let current = store.current_revision();
        let mut responses = Vec::new();
        let mut compacted = Vec::new();
        for (&watch_id, watcher) in &mut self.watchers {
            if watcher.next_revision > current {
                continue;
            }
            let request = &watcher.request;
            match store.events_since(
                &request.key,
                &request.range_end,
                watcher.next_revision,
                request.prev_kv,
            ) {
                Ok(events) => {
                    watcher.next_revision = current + 1;
                    let events: Vec<Event> =
                        events.into_iter().filter(|e| wanted(request, e)).collect();
                    if !events.is_empty() {
                        responses.push(WatchResponse {
                            header: header.clone(),
                            watch_id,
                            events,
                            ..Default::default()
                        });
                    }
                }
                Err(_) => compacted.push(watch_id),
            }
        }
        for watch_id in compacted {
            self.watchers.remove(&watch_id);
            responses.push(WatchResponse {
                header: header.clone(),
                watch_id,
                canceled: true,
                compact_revision: store.compact_revision(),
                cancel_reason: EtcdError::Compacted.to_string(),
                ..Default::default()
            });
        }
        responses
    }

    /// An empty response to each watcher that is up to date (and, if `only_asked`, asked for
    /// progress notifications): "you have seen everything up to the header's revision".
    pub fn progress(
        &self,
        store: &MvccStore,
        header: &ResponseHeader,
        only_asked: bool,
    ) -> Vec<WatchResponse> {
        self.watchers
            .iter()
            .filter(|(_, w)| {
                w.next_revision > store.current_revision()
                    && (!only_asked || w.request.progress_notify)
            })
            .map(|(&watch_id, _)| WatchResponse {
                header: header.clone(),
                watch_id,
                ..Default::default()
            })
            .collect()
    }

    pub fn views(&self) -> Vec<WatchView> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        self.watchers
            .iter()
            .map(|(&watch_id, w)| WatchView {
                watch_id,
                key: text(&w.request.key),
                range_end: text(&w.request.range_end),
                next_revision: w.next_revision,
            })
            .collect()
    }
}

fn wanted(request: &WatchCreateRequest, event: &Event) -> bool {
    let filter = match event.kind {
        EventType::Put => WatchFilter::NoPut,
        EventType::Delete => WatchFilter::NoDelete,
    };
    !request.filters.contains(&filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_changes() -> MvccStore {
        let mut store = MvccStore::default();
        for (key, value) in [("a", "1"), ("b", "2"), ("a", "3")] {
            let mut write = store.write();
            write.put(key.as_bytes(), value.as_bytes().to_vec(), 0);
            write.finish();
        }
        let mut write = store.write();
        write.delete_range(b"a", &[]);
        write.finish();
        store
    }

    fn kinds(responses: &[WatchResponse]) -> Vec<(EventType, i64)> {
        responses
            .iter()
            .flat_map(|r| &r.events)
            .map(|e| (e.kind, e.kv.mod_revision))
            .collect()
    }

    #[test]
    fn filters_drop_the_events_a_watcher_does_not_want() {
        let store = store_with_changes();
        let header = ResponseHeader::default();
        let mut hub = WatchHub::default();
        let all = |filters| WatchCreateRequest {
            key: vec![0],
            range_end: vec![0],
            start_revision: 2,
            filters,
            ..Default::default()
        };
        hub.create(all(vec![WatchFilter::NoPut]), &store, &header);
        assert_eq!(
            kinds(&hub.sync(&store, &header)),
            vec![(EventType::Delete, 5)]
        );
        let mut hub = WatchHub::default();
        hub.create(all(vec![WatchFilter::NoDelete]), &store, &header);
        assert_eq!(
            kinds(&hub.sync(&store, &header)),
            vec![
                (EventType::Put, 2),
                (EventType::Put, 3),
                (EventType::Put, 4)
            ]
        );
    }

    #[test]
    fn a_watcher_hears_each_change_once_and_progress_only_when_caught_up() {
        let mut store = store_with_changes();
        let header = ResponseHeader::default();
        let mut hub = WatchHub::default();
        let request = WatchCreateRequest {
            key: b"b".to_vec(),
            start_revision: 1,
            progress_notify: true,
            ..Default::default()
        };
        hub.create(request, &store, &header);
        assert!(
            hub.progress(&store, &header, true).is_empty(),
            "not caught up yet"
        );
        assert_eq!(kinds(&hub.sync(&store, &header)), vec![(EventType::Put, 3)]);
        assert!(hub.sync(&store, &header).is_empty(), "nothing twice");
        assert_eq!(hub.progress(&store, &header, true).len(), 1);
        let mut write = store.write();
        write.put(b"b", b"again".to_vec(), 0);
        write.finish();
        assert_eq!(kinds(&hub.sync(&store, &header)), vec![(EventType::Put, 6)]);
    }
}
