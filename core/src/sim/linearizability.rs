//! A linearizability checker in the style of Wing & Gong, with Lowe's memoization (the
//! algorithm behind the porcupine and Knossos checkers).
//!
//! A history is a list of operations, each with the time its client called it, the time it
//! returned (or `u64::MAX` if the client never heard back: it may have happened at any point
//! after the call, or never), its input and its output. The history is *linearizable* if
//! every operation can be given one instant between its call and its return such that,
//! taken in that order, a sequential [`Model`] produces every output the clients saw.
//!
//! The search tries operations in call order. It may linearize any operation whose call comes
//! before the earliest pending return; when it gets stuck it backtracks. States already seen
//! with the same set of linearized operations are skipped, which keeps real histories fast.

use std::collections::HashSet;
use std::hash::Hash;

/// A sequential specification.
pub trait Model {
    type State: Clone + Eq + Hash;
    type Input;
    type Output;
    fn initial(&self) -> Self::State;
    /// The state after `input` if it could have produced `output` from `state`.
    fn transition(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operation<I, O> {
    pub call: u64,
    /// `u64::MAX`: the client never learned the outcome.
    pub returned: u64,
    pub input: I,
    pub output: O,
}

/// One entry of the doubly linked list of call and return events.
#[derive(Clone, Copy)]
struct Event {
    operation: usize,
    is_call: bool,
    prev: usize,
    next: usize,
}

/// Whether `history` is linearizable under `model`. On failure, returns the largest number
/// of operations that could be put in order before the search got stuck.
pub fn check<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> Result<(), usize> {
    let n = history.len();
    if n == 0 {
        return Ok(());
    }
    // Events sorted by time; at equal times calls first, so touching operations count as
    // concurrent (the more permissive reading).
    let mut order: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in history.iter().enumerate() {
        order.push((op.call, false, i));
        order.push((op.returned, true, i));
    }
    order.sort();
    // Node 0 is the list head; events are 1..=2n.
    let head = 0;
    let mut events = vec![
        Event {
            operation: usize::MAX,
            is_call: false,
            prev: usize::MAX,
            next: usize::MAX
        };
        2 * n + 1
    ];
    let mut call_of = vec![0; n];
    let mut return_of = vec![0; n];
    for (position, &(_, is_return, operation)) in order.iter().enumerate() {
        let index = position + 1;
        events[index] = Event {
            operation,
            is_call: !is_return,
            prev: index - 1,
            next: if index == 2 * n {
                usize::MAX
            } else {
                index + 1
            },
        };
        if is_return {
            return_of[operation] = index
        } else {
            call_of[operation] = index
        }
    }
    events[head].next = 1;

    let unlink = |events: &mut Vec<Event>, index: usize| {
        let Event { prev, next, .. } = events[index];
        events[prev].next = next;
        if next != usize::MAX {
            events[next].prev = prev;
        }
    };
    let relink = |events: &mut Vec<Event>, index: usize| {
        let Event { prev, next, .. } = events[index];
        events[prev].next = index;
        if next != usize::MAX {
            events[next].prev = index;
        }
    };

    let words = n.div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut seen: HashSet<(Vec<u64>, M::State)> = HashSet::new();
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut state = model.initial();
    let mut best = 0;
    let mut entry = events[head].next;
    while events[head].next != usize::MAX {
        let event = events[entry];
        if event.is_call {
            let op = &history[event.operation];
            let next_state = model.transition(&state, &op.input, &op.output);
            let mut advanced = false;
            if let Some(next_state) = next_state {
                linearized[event.operation / 64] |= 1 << (event.operation % 64);
                if seen.insert((linearized.clone(), next_state.clone())) {
                    stack.push((event.operation, state));
                    state = next_state;
                    best = best.max(stack.len());
                    unlink(&mut events, call_of[event.operation]);
                    unlink(&mut events, return_of[event.operation]);
                    entry = events[head].next;
                    advanced = true;
                } else {
                    linearized[event.operation / 64] &= !(1 << (event.operation % 64));
                }
            }
            if !advanced {
                entry = event.next;
            }
        } else {
            // A return: the operation it ends must already be linearized. Backtrack.
            let Some((operation, previous)) = stack.pop() else {
                return Err(best);
            };
            state = previous;
            linearized[operation / 64] &= !(1 << (operation % 64));
            relink(&mut events, return_of[operation]);
            relink(&mut events, call_of[operation]);
            entry = events[call_of[operation]].next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register: write(v) or read() -> v.
    struct Register;
    impl Model for Register {
        type State = u32;
        type Input = Option<u32>;
        type Output = u32;
        fn initial(&self) -> u32 {
            0
        }
        fn transition(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
            match input {
                Some(value) => Some(*value),
                None => (output == state).then_some(*state),
            }
        }
    }

    fn op(
        call: u64,
        returned: u64,
        input: Option<u32>,
        output: u32,
    ) -> Operation<Option<u32>, u32> {
        Operation {
            call,
            returned,
            input,
            output,
        }
    }

    #[test]
    fn concurrent_read_may_see_either_value() {
        let history = [op(0, 10, Some(1), 0), op(5, 6, None, 1), op(7, 8, None, 1)];
        assert_eq!(check(&Register, &history), Ok(()));
        let history = [op(0, 10, Some(1), 0), op(5, 6, None, 0), op(7, 8, None, 1)];
        assert_eq!(check(&Register, &history), Ok(()));
    }

    #[test]
    fn stale_read_after_a_completed_write_is_caught() {
        let history = [op(0, 1, Some(1), 0), op(2, 3, None, 0)];
        assert!(check(&Register, &history).is_err());
        // Reading the new value and then the old one is not linearizable either.
        let history = [op(0, 10, Some(1), 0), op(1, 2, None, 1), op(3, 4, None, 0)];
        assert!(check(&Register, &history).is_err());
    }

    #[test]
    fn an_unanswered_write_may_take_effect_late_or_never() {
        let history = [
            op(0, u64::MAX, Some(1), 0),
            op(5, 6, None, 0),
            op(7, 8, None, 1),
        ];
        assert_eq!(check(&Register, &history), Ok(()));
        let history = [op(0, u64::MAX, Some(1), 0), op(5, 6, None, 0)];
        assert_eq!(check(&Register, &history), Ok(()));
    }
}
