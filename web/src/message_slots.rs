//! The place each message in flight keeps in the drawing's list of message dots, and the
//! words its dot carries.
//!
//! yew matches the children of a list by their position. Drawn in the order they were sent,
//! the dots would all move one place along each time the oldest message arrives, and yew
//! would rewrite every later dot's class, name and title: with 9 nodes at 200 puts/s, some
//! 150 dots, sixty times a second. Here a message keeps one place from its send to its
//! arrival; the place of a message that arrived stays empty until a new message takes it. So
//! a frame changes only where the dots are.
//!
//! The words of a dot (its name and tooltip, in the page's language) are made once, when its
//! message first shows, not in every frame.

use std::collections::HashMap;

use raftbook_core::sim::cluster::InFlight;
use raftbook_core::view::MessageView;
use yew::{classes, AttrValue, Classes};

use crate::i18n::Lang;
use crate::tr;

/// A message in flight as its dot shows it; made from the message, the language and nothing
/// else, so it is made again only if one of them changes.
pub struct Dot {
    pub id: u64,
    pub view: MessageView,
    pub sent_at: u64,
    pub arrives_at: u64,
    pub class: Classes,
    /// The dot's id as its `data-message` attribute.
    pub key: AttrValue,
    /// Its contents, for its `<title>` (its tooltip).
    pub detail: AttrValue,
    /// The same on one line, for screen readers.
    pub label: AttrValue,
    lang: Lang,
}

impl Dot {
    fn new(flight: &InFlight, view: MessageView, lang: Lang) -> Dot {
        let class = kind_classes("message", view.kind(), view.reject);
        let detail = tr!(
            lang,
            "message-title",
            id = flight.id,
            summary = view.summary(),
            from = view.from,
            to = view.to,
            reject = if view.reject {
                tr!(lang, "message-reject")
            } else {
                String::new()
            },
            sent = flight.sent_at,
            arrives = flight.arrives_at
        );
        Dot {
            id: flight.id,
            sent_at: flight.sent_at,
            arrives_at: flight.arrives_at,
            class,
            key: flight.id.to_string().into(),
            label: detail.replace('\n', "; ").into(),
            detail: detail.into(),
            view,
            lang,
        }
    }

    /// Whether this dot still says what `flight` would in `lang`. A message id names one
    /// message within a run, but after scrubbing back and acting differently, the run's
    /// future (and what an id names) differs.
    fn shows(&self, flight: &InFlight, view: &MessageView, lang: Lang) -> bool {
        self.sent_at == flight.sent_at
            && self.arrives_at == flight.arrives_at
            && self.lang == lang
            && self.view == *view
    }
}

/// The classes that colour a message of `kind` by it (see the legend): `base`, the kind in
/// lower case, and `reject` for a rejection. Both ways of drawing a message use them.
pub fn kind_classes(base: &'static str, kind: &str, reject: bool) -> Classes {
    classes!(base, kind.to_lowercase(), reject.then_some("reject"))
}

/// The dots' places: `None` is a place whose message has arrived.
#[derive(Default)]
pub struct MessageSlots {
    places: Vec<Option<Dot>>,
    /// Where each message in `places` is.
    place_of: HashMap<u64, usize>,
    /// The message whose dot the pointer is on: only its dot has a tooltip.
    pub hovered: Option<u64>,
    /// Whether so many messages are in flight that their labels would cover one another.
    crowded: bool,
}

/// More messages in flight than this, and the run is crowded: the dots have no labels, and
/// while the run plays they are drawn in one path per kind (see `cluster_svg`).
const CROWDED_ABOVE: usize = 40;
/// A crowded run is calm again below this many messages in flight: not just under
/// [`CROWDED_ABOVE`], so that a number hovering at the edge does not switch the drawing back
/// and forth from frame to frame.
const CALM_BELOW: usize = 30;

impl MessageSlots {
    /// Whether the run is crowded with `in_flight` messages in flight now.
    pub fn crowded(&mut self, in_flight: usize) -> bool {
        self.crowded = if self.crowded {
            in_flight >= CALM_BELOW
        } else {
            in_flight > CROWDED_ABOVE
        };
        self.crowded
    }

    /// Brings the places up to date with the messages in flight now, and returns them.
    pub fn update<'a>(
        &mut self,
        in_flight: impl Iterator<Item = &'a InFlight>,
        lang: Lang,
    ) -> &[Option<Dot>] {
        let mut seen = HashMap::with_capacity(self.place_of.len());
        let mut newly_sent = Vec::new();
        for flight in in_flight {
            let view = MessageView::new(&flight.message);
            match self.place_of.get(&flight.id) {
                Some(&place) => {
                    let dot = self.places[place].as_mut().expect("a placed dot");
                    if !dot.shows(flight, &view, lang) {
                        *dot = Dot::new(flight, view, lang);
                    }
                    seen.insert(flight.id, place);
                }
                None => newly_sent.push((flight, view)),
            }
        }
        // Messages that are no longer in flight leave their places empty.
        for (id, &place) in &self.place_of {
            if !seen.contains_key(id) {
                self.places[place] = None;
            }
        }
        // New messages take the first empty places.
        let mut free = 0;
        for (flight, view) in newly_sent {
            while free < self.places.len() && self.places[free].is_some() {
                free += 1;
            }
            if free == self.places.len() {
                self.places.push(None);
            }
            self.places[free] = Some(Dot::new(flight, view, lang));
            seen.insert(flight.id, free);
        }
        while matches!(self.places.last(), Some(None)) {
            self.places.pop();
        }
        self.place_of = seen;
        &self.places
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::{Message, MessageType};

    fn flight(id: u64, sent_at: u64) -> InFlight {
        let mut message = Message::default();
        message.set_msg_type(MessageType::MsgHeartbeat);
        message.from = 1;
        message.to = 2;
        InFlight {
            id,
            sent_at,
            arrives_at: sent_at + 10,
            message: Box::new(message),
        }
    }

    fn ids(places: &[Option<Dot>]) -> Vec<Option<u64>> {
        places.iter().map(|p| p.as_ref().map(|d| d.id)).collect()
    }

    #[test]
    fn a_message_keeps_its_place_until_it_arrives() {
        let mut slots = MessageSlots::default();
        let (a, b, c, d) = (flight(1, 0), flight(2, 0), flight(3, 1), flight(4, 2));
        let places = slots.update([&a, &b, &c].into_iter(), Lang::En);
        assert_eq!(ids(places), [Some(1), Some(2), Some(3)]);
        // The oldest arrives: the others stay where they were.
        let places = slots.update([&b, &c].into_iter(), Lang::En);
        assert_eq!(ids(places), [None, Some(2), Some(3)]);
        // A new message takes the empty place; the last place, once empty, goes.
        let places = slots.update([&b, &d].into_iter(), Lang::En);
        assert_eq!(ids(places), [Some(4), Some(2)]);
    }

    #[test]
    fn a_run_is_crowded_above_40_messages_and_calm_again_below_30() {
        let mut slots = MessageSlots::default();
        let seen: Vec<bool> = [10, 40, 41, 35, 30, 29, 40, 41]
            .into_iter()
            .map(|n| slots.crowded(n))
            .collect();
        assert_eq!(seen, [false, false, true, true, true, false, false, true]);
    }

    #[test]
    fn a_dot_is_made_again_when_its_id_names_another_message_or_the_language_changes() {
        let mut slots = MessageSlots::default();
        let first = slots.update([&flight(7, 0)].into_iter(), Lang::En)[0]
            .as_ref()
            .map(|d| d.detail.clone());
        // After scrubbing back and acting differently, id 7 is another message.
        let other = slots.update([&flight(7, 5)].into_iter(), Lang::En)[0]
            .as_ref()
            .map(|d| d.detail.clone());
        assert_ne!(first, other);
        let chinese = slots.update([&flight(7, 5)].into_iter(), Lang::Zh)[0]
            .as_ref()
            .map(|d| d.lang);
        assert_eq!(chinese, Some(Lang::Zh));
    }
}
