//! The discrete-event queue: events ordered by (time, insertion sequence).
//!
//! The sequence number makes simultaneous events fire in the order they were
//! scheduled, so a run is a pure function of its inputs and seed. The events
//! wait in the engine's [`TimeQueue`] (bucketed by due time), whose pops do
//! not slow down as a large installation fills the queue.
//!
//! An event carries a whole request or reply, so the queue holds only its
//! slot here: the time queue's heaps sift small entries, and the events
//! stay put until they fire.

use engine::core::{Nanos, TimeQueue};

pub(crate) struct EventQueue<E> {
    /// Slots of `events`, by due time.
    queue: TimeQueue<usize>,
    /// The events, by slot; `None` where a slot is free.
    events: Vec<Option<E>>,
    /// Free slots of `events`, reused last-freed first (warm in cache).
    free: Vec<usize>,
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            queue: TimeQueue::new(),
            events: Vec::new(),
            free: Vec::new(),
        }
    }

    pub fn push(&mut self, at: Nanos, event: E) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.events[slot] = Some(event);
                slot
            }
            None => {
                self.events.push(Some(event));
                self.events.len() - 1
            }
        };
        self.queue.push(at, slot);
    }

    pub fn peek_time(&self) -> Option<Nanos> {
        self.queue.peek_time()
    }

    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let (at, slot) = self.queue.pop()?;
        let event = self.events[slot].take()?;
        self.free.push(slot);
        Some((at, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_ties_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(5, "c");
        q.push(1, "a");
        q.push(5, "d");
        q.push(1, "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(1, "a"), (1, "b"), (5, "c"), (5, "d")]);
    }
}
