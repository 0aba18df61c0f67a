//! The discrete-event queue: events ordered by (time, insertion sequence).
//!
//! The sequence number makes simultaneous events fire in the order they were
//! scheduled, so a run is a pure function of its inputs and seed. The events
//! wait in the engine's [`TimeQueue`] (bucketed by due time), whose pops do
//! not slow down as a large installation fills the queue.

use engine::core::{Nanos, TimeQueue};

pub(crate) struct EventQueue<E> {
    queue: TimeQueue<E>,
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            queue: TimeQueue::new(),
        }
    }

    pub fn push(&mut self, at: Nanos, event: E) {
        self.queue.push(at, event);
    }

    pub fn peek_time(&self) -> Option<Nanos> {
        self.queue.peek_time()
    }

    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.queue.pop()
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
