//! [`Hub`]: the change feed behind `GET /v1/events`: a bounded ring of
//! numbered events plus the current state of every camera and site, so a
//! subscriber either resumes exactly after the last event it saw or starts
//! from a snapshot.
//!
//! Memory is bounded: the ring holds at most `capacity` events whatever the
//! subscribers do, and a subscriber is only a cursor into it (plus at most
//! one batch being written out). A subscriber that falls behind the ring —
//! a slow reader, or a resume token that is too old — is not buffered for:
//! it gets a fresh `snapshot` and continues from there.
//!
//! Event ids are `<epoch>-<n>`: `epoch` is drawn when the process starts, so
//! a token from an earlier engine process is recognised as unknown rather
//! than mistaken for a position in this one. This module does no I/O.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One camera's intent and per-site state (`CameraState` JSON).
    Camera,
    /// One site's health (`SiteView` JSON).
    Site,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Camera => "camera",
            Kind::Site => "site",
        }
    }
}

/// One change, already serialised: `index` is the camera's (or site's)
/// position in configuration order.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: Kind,
    pub index: usize,
    pub json: Arc<str>,
}

/// An event as written to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The resume token (`Last-Event-ID`).
    pub id: String,
    /// `camera`, `site` or `snapshot`.
    pub event: &'static str,
    pub data: Arc<str>,
}

#[derive(Debug)]
struct Stored {
    n: u64,
    kind: Kind,
    json: Arc<str>,
}

#[derive(Debug, Default)]
struct State {
    ring: VecDeque<Stored>,
    /// Number of the next event (events are numbered from 1; 0 means "the
    /// state before any event").
    next: u64,
    cameras: Vec<Option<Arc<str>>>,
    sites: Vec<Option<Arc<str>>>,
}

/// The change feed. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Hub {
    epoch: String,
    capacity: usize,
    max_subscribers: usize,
    subscribers: AtomicUsize,
    state: Mutex<State>,
    /// The number of the latest event; wakes waiting subscribers.
    latest: watch::Sender<u64>,
    closed: AtomicBool,
}

/// Why a subscriber starts from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotReason {
    /// No `Last-Event-ID` was given.
    Fresh,
    /// The token is not one of this process's (another engine process, or
    /// malformed, or ahead of the feed).
    UnknownId,
    /// The events after the token have left the ring (the subscriber was
    /// away, or read too slowly, for too long).
    Expired,
}

impl SnapshotReason {
    fn name(self) -> &'static str {
        match self {
            SnapshotReason::Fresh => "fresh",
            SnapshotReason::UnknownId => "unknown_id",
            SnapshotReason::Expired => "expired",
        }
    }
}

/// A subscriber's position. Dropping it frees its subscriber slot.
#[derive(Debug)]
pub struct Cursor {
    hub: Arc<Hub>,
    /// The next event number to deliver.
    next: u64,
    snapshot: Option<SnapshotReason>,
    wake: watch::Receiver<u64>,
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.hub.subscribers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every subscriber slot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} event subscribers are connected already (the limit)")]
pub struct TooManySubscribers(pub usize);

impl Hub {
    /// A hub keeping at most `capacity` events for at most
    /// `max_subscribers` subscribers, for `cameras` cameras and `sites`
    /// sites. `epoch` names this process in event ids.
    pub fn new(
        epoch: String,
        capacity: usize,
        max_subscribers: usize,
        cameras: usize,
        sites: usize,
    ) -> Arc<Hub> {
        Arc::new(Hub {
            epoch,
            capacity: capacity.max(1),
            max_subscribers,
            subscribers: AtomicUsize::new(0),
            state: Mutex::new(State {
                next: 1,
                cameras: vec![None; cameras],
                sites: vec![None; sites],
                ..State::default()
            }),
            latest: watch::channel(0).0,
            closed: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked mid-way
        // (every update is a push or an assignment), so go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn id(&self, n: u64) -> String {
        format!("{}-{n}", self.epoch)
    }

    /// Records `changes` (in order) as events and as the current state.
    pub fn publish(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        let last = {
            let mut st = self.lock();
            for change in changes {
                let slot = match change.kind {
                    Kind::Camera => st.cameras.get_mut(change.index),
                    Kind::Site => st.sites.get_mut(change.index),
                };
                let Some(slot) = slot else {
                    tracing::warn!(
                        index = change.index,
                        kind = change.kind.name(),
                        "change for an unknown index dropped"
                    );
                    continue;
                };
                *slot = Some(change.json.clone());
                let n = st.next;
                st.next += 1;
                st.ring.push_back(Stored {
                    n,
                    kind: change.kind,
                    json: change.json,
                });
                if st.ring.len() > self.capacity {
                    st.ring.pop_front();
                }
            }
            st.next - 1
        };
        self.latest.send_replace(last);
    }

    /// Ends every subscription (at shutdown: an open event stream would
    /// otherwise keep the HTTP server from finishing).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.latest.send_modify(|_| {});
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Events currently held (for tests and metrics).
    pub fn held(&self) -> usize {
        self.lock().ring.len()
    }

    /// Subscribes, resuming after `last_event_id` when the hub still holds
    /// every event after it, from a snapshot otherwise.
    pub fn subscribe(
        self: &Arc<Self>,
        last_event_id: Option<&str>,
    ) -> Result<Cursor, TooManySubscribers> {
        let taken = self.subscribers.fetch_add(1, Ordering::AcqRel);
        if taken >= self.max_subscribers {
            self.subscribers.fetch_sub(1, Ordering::AcqRel);
            return Err(TooManySubscribers(self.max_subscribers));
        }
        let wake = self.latest.subscribe();
        let st = self.lock();
        let (next, snapshot) = match last_event_id.map(|id| self.parse_id(id)) {
            None => (st.next, Some(SnapshotReason::Fresh)),
            Some(Some(n)) if n < st.next => {
                let oldest = st.ring.front().map_or(st.next, |e| e.n);
                if n + 1 >= oldest {
                    (n + 1, None)
                } else {
                    (st.next, Some(SnapshotReason::Expired))
                }
            }
            Some(_) => (st.next, Some(SnapshotReason::UnknownId)),
        };
        drop(st);
        Ok(Cursor {
            hub: self.clone(),
            next,
            snapshot,
            wake,
        })
    }

    fn parse_id(&self, id: &str) -> Option<u64> {
        let (epoch, n) = id.trim().rsplit_once('-')?;
        (epoch == self.epoch).then_some(())?;
        n.parse().ok()
    }

    fn snapshot(&self, st: &State, reason: SnapshotReason, server_time_ms: i64) -> Outgoing {
        fn list(items: &[Option<Arc<str>>]) -> String {
            let parts: Vec<&str> = items.iter().flatten().map(|s| &**s).collect();
            format!("[{}]", parts.join(","))
        }
        let data = format!(
            "{{\"reason\":\"{}\",\"server_time_ms\":{server_time_ms},\"cameras\":{},\"sites\":{}}}",
            reason.name(),
            list(&st.cameras),
            list(&st.sites)
        );
        Outgoing {
            id: self.id(st.next - 1),
            event: "snapshot",
            data: data.into(),
        }
    }
}

impl Cursor {
    /// Up to `max` events for this subscriber, oldest first: a snapshot
    /// first when it needs one (then nothing else in the same batch).
    /// Empty when it is up to date.
    pub fn next_batch(&mut self, max: usize, server_time_ms: i64) -> Vec<Outgoing> {
        let st = self.hub.lock();
        let oldest = st.ring.front().map_or(st.next, |e| e.n);
        if self.snapshot.is_none() && self.next < oldest {
            self.snapshot = Some(SnapshotReason::Expired);
        }
        if let Some(reason) = self.snapshot.take() {
            self.next = st.next;
            return vec![self.hub.snapshot(&st, reason, server_time_ms)];
        }
        let skip = usize::try_from(self.next - oldest).unwrap_or(usize::MAX);
        let out: Vec<Outgoing> = st
            .ring
            .iter()
            .skip(skip)
            .take(max)
            .map(|e| Outgoing {
                id: self.hub.id(e.n),
                event: e.kind.name(),
                data: e.json.clone(),
            })
            .collect();
        self.next += out.len() as u64;
        out
    }

    /// Waits until there may be something new (or the hub closed).
    pub async fn changed(&mut self) {
        if self.hub.is_closed() {
            return;
        }
        // An error means the hub is gone: nothing more will come.
        if self.wake.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    pub fn is_closed(&self) -> bool {
        self.hub.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(i: usize, v: &str) -> Change {
        Change {
            kind: Kind::Camera,
            index: i,
            json: format!("{{\"camera\":{i},\"v\":\"{v}\"}}").into(),
        }
    }

    fn hub(capacity: usize) -> Arc<Hub> {
        Hub::new("e1".into(), capacity, 8, 3, 1)
    }

    fn ids(batch: &[Outgoing]) -> Vec<&str> {
        batch.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn a_fresh_subscriber_gets_the_state_then_only_later_changes() {
        let h = hub(16);
        h.publish(vec![cam(0, "a"), cam(1, "b"), cam(0, "c")]);
        let mut c = h.subscribe(None).unwrap();
        let first = c.next_batch(100, 5);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].event, "snapshot");
        assert_eq!(first[0].id, "e1-3");
        assert_eq!(
            &*first[0].data,
            r#"{"reason":"fresh","server_time_ms":5,"cameras":[{"camera":0,"v":"c"},{"camera":1,"v":"b"}],"sites":[]}"#
        );
        assert!(c.next_batch(100, 5).is_empty());
        h.publish(vec![cam(2, "d")]);
        let next = c.next_batch(100, 5);
        assert_eq!(ids(&next), ["e1-4"]);
        assert_eq!(next[0].event, "camera");
    }

    #[test]
    fn resume_replays_exactly_the_missed_events() {
        let h = hub(16);
        h.publish(vec![cam(0, "a"), cam(1, "b"), cam(2, "c"), cam(0, "d")]);
        let mut c = h.subscribe(Some("e1-2")).unwrap();
        let batch = c.next_batch(100, 0);
        assert_eq!(ids(&batch), ["e1-3", "e1-4"]);
        assert_eq!(&*batch[1].data, r#"{"camera":0,"v":"d"}"#);
        // Batches are bounded; the rest comes next time.
        let mut c = h.subscribe(Some("e1-0")).unwrap();
        assert_eq!(ids(&c.next_batch(3, 0)), ["e1-1", "e1-2", "e1-3"]);
        assert_eq!(ids(&c.next_batch(3, 0)), ["e1-4"]);
        // Up to date: nothing, not a snapshot.
        let mut c = h.subscribe(Some("e1-4")).unwrap();
        assert!(c.next_batch(100, 0).is_empty());
    }

    #[test]
    fn unknown_or_expired_tokens_start_from_a_snapshot() {
        let h = Hub::new("e1".into(), 2, 8, 3, 1);
        h.publish(vec![cam(0, "a"), cam(1, "b"), cam(2, "c")]);
        assert_eq!(h.held(), 2, "the ring never holds more than its capacity");
        for (token, reason) in [
            ("e0-2", "unknown_id"), // another process
            ("e1-9", "unknown_id"), // ahead of the feed
            ("garbage", "unknown_id"),
            ("e1-x", "unknown_id"),
            ("e1-0", "expired"), // event 1 has left the ring
        ] {
            let mut c = h.subscribe(Some(token)).unwrap();
            let b = c.next_batch(100, 0);
            assert_eq!(b.len(), 1, "{token}");
            assert_eq!(b[0].event, "snapshot", "{token}");
            assert!(
                b[0].data.contains(&format!("\"reason\":\"{reason}\"")),
                "{token}: {}",
                b[0].data
            );
            assert_eq!(b[0].id, "e1-3");
        }
        // Still in the ring: replay.
        let mut c = h.subscribe(Some("e1-1")).unwrap();
        assert_eq!(ids(&c.next_batch(100, 0)), ["e1-2", "e1-3"]);
    }

    #[test]
    fn a_slow_subscriber_is_not_buffered_for_but_resynchronised() {
        let h = Hub::new("e1".into(), 4, 8, 3, 1);
        let mut slow = h.subscribe(None).unwrap();
        assert_eq!(slow.next_batch(100, 0)[0].event, "snapshot");
        for i in 0..10 {
            h.publish(vec![cam(i % 3, &i.to_string())]);
        }
        assert_eq!(h.held(), 4);
        let b = slow.next_batch(100, 0);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].event, "snapshot");
        assert!(b[0].data.contains("\"reason\":\"expired\""));
        assert!(b[0].data.contains(r#"{"camera":0,"v":"9"}"#));
        assert_eq!(b[0].id, "e1-10");
        h.publish(vec![cam(1, "x")]);
        assert_eq!(ids(&slow.next_batch(100, 0)), ["e1-11"]);
    }

    #[test]
    fn subscriber_slots_are_limited_and_freed() {
        let h = Hub::new("e1".into(), 4, 2, 3, 1);
        let a = h.subscribe(None).unwrap();
        let _b = h.subscribe(None).unwrap();
        assert_eq!(h.subscribe(None).unwrap_err(), TooManySubscribers(2));
        drop(a);
        assert!(h.subscribe(None).is_ok());
    }

    #[tokio::test]
    async fn subscribers_wake_on_publish_and_on_close() {
        let h = hub(4);
        let mut c = h.subscribe(None).unwrap();
        c.next_batch(10, 0);
        let h2 = h.clone();
        let waiter = tokio::spawn(async move {
            c.changed().await;
            c.next_batch(10, 0).len()
        });
        tokio::task::yield_now().await;
        h2.publish(vec![cam(0, "a")]);
        assert_eq!(waiter.await.unwrap(), 1);

        let mut c = h.subscribe(None).unwrap();
        c.next_batch(10, 0);
        let waiter = tokio::spawn(async move {
            c.changed().await;
            c.is_closed()
        });
        tokio::task::yield_now().await;
        h.close();
        assert!(waiter.await.unwrap());
    }
}
