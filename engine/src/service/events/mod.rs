//! `GET /v1/events`: a Server-Sent Events stream of camera and site changes,
//! for the operator console and any other client (a plug-in, a wall
//! display).
//!
//! Events (each `data:` is one JSON object):
//!
//! | `event:` | data |
//! |---|---|
//! | `snapshot` | `{"reason", "server_time_ms", "cameras": [CameraState…], "sites": [SiteView…]}`: the whole state, first on every connection that cannot resume (`reason` `fresh`, `unknown_id` or `expired`) |
//! | `camera` | a `CameraState`, as `GET /v1/cameras/{camera}/recording` answers, when any of its fields changed |
//! | `site` | a `SiteView` (`sites.rs`): up, problem, last error, round-trip time, login time |
//!
//! Every event has an `id:`; a client that reconnects with that id in the
//! `Last-Event-ID` header gets exactly the events after it, or a `snapshot`
//! if they are no longer held (see `hub.rs` for the bounds). A comment line
//! is sent every 15 s of silence so that proxies keep the stream open.
//!
//! Auth is the API's: `Authorization: Bearer <key>`, any role. A key in the
//! URL is never accepted (it would end up in logs and browser history); the
//! browser's `EventSource` cannot set headers, so the console reads the
//! stream with `fetch` instead.
//!
//! Changes are found by the feed task ([`run_feed`]): runtime events mark
//! the state dirty, and at most every [`POLL_INTERVAL`] (and at least every
//! [`HEARTBEAT`]) it reads every camera's status in one engine step and
//! publishes what differs. The feed only reads; it makes no engine decision.

mod hub;
mod sites;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

pub use hub::{Change, Cursor, Hub, Kind, Outgoing, SnapshotReason, TooManySubscribers};
pub use sites::{Problem, SiteTracker, SiteView};

use super::api::{AppState, CameraState};
use super::auth::authorize;
use super::error::ApiError;
use super::openapi::ErrorBody;
use crate::config::Role;
use crate::core::CameraStatus;
use crate::runtime::{EngineHandle, RuntimeEvent};

/// Events the hub keeps for resuming subscribers.
pub const HUB_CAPACITY: usize = 16_384;
/// Most concurrent `/v1/events` subscribers.
pub const MAX_SUBSCRIBERS: usize = 256;
/// Most events taken from the hub at once per subscriber.
const BATCH: usize = 256;
/// Shortest time between two status reads.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Longest time between two status reads, even when nothing happened.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Silence after which a keep-alive comment is sent.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A hub for this process: the epoch in its ids is drawn from the clock.
pub fn new_hub(cameras: usize, sites: usize) -> Arc<Hub> {
    let epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(40);
    Hub::new(
        format!("{epoch:x}"),
        HUB_CAPACITY,
        MAX_SUBSCRIBERS,
        cameras,
        sites,
    )
}

/// Forwards each runtime event to both receivers (the metrics and the
/// feed each want all of them).
pub async fn tee(
    mut rx: mpsc::UnboundedReceiver<RuntimeEvent>,
    a: mpsc::UnboundedSender<RuntimeEvent>,
    b: mpsc::UnboundedSender<RuntimeEvent>,
) {
    while let Some(event) = rx.recv().await {
        let _ = a.send(event.clone());
        let _ = b.send(event);
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Arc<str> {
    serde_json::to_string(value)
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        .into()
}

/// Publishes camera and site changes to `hub` until the engine stops;
/// `first` is told once the hub holds every camera and site.
pub async fn run_feed(
    hub: Arc<Hub>,
    engine: EngineHandle,
    site_names: Vec<String>,
    mut runtime: mpsc::UnboundedReceiver<RuntimeEvent>,
    first: tokio::sync::oneshot::Sender<()>,
) {
    let mut first = Some(first);
    let mut tracker = SiteTracker::new(&site_names);
    let mut cameras: Vec<CameraStatus> = Vec::new();
    let mut sites: Vec<SiteView> = Vec::new();
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    let mut last_poll: Option<Instant> = None;
    let mut runtime_open = true;
    loop {
        tokio::select! {
            event = runtime.recv(), if runtime_open => match event {
                Some(event) => {
                    tracker.on_event(&event, SystemTime::now());
                    dirty = true;
                }
                None => runtime_open = false,
            },
            _ = tick.tick() => {
                if !dirty && last_poll.is_some_and(|t| t.elapsed() < HEARTBEAT) {
                    continue;
                }
                let (Ok(now), Ok(stats)) = (engine.statuses().await, engine.stats().await) else {
                    return; // the engine stopped
                };
                dirty = false;
                last_poll = Some(Instant::now());
                tracker.set_up(&stats.sites_up);
                let mut changes = Vec::new();
                for (index, status) in now.iter().enumerate() {
                    if cameras.get(index) != Some(status) {
                        changes.push(Change {
                            kind: Kind::Camera,
                            index,
                            json: to_json(&CameraState::from(status.clone())),
                        });
                    }
                }
                for (index, view) in tracker.views().enumerate() {
                    if sites.get(index) != Some(view) {
                        changes.push(Change {
                            kind: Kind::Site,
                            index,
                            json: to_json(view),
                        });
                    }
                }
                cameras = now;
                sites = tracker.views().cloned().collect();
                hub.publish(changes);
                if let Some(first) = first.take() {
                    let _ = first.send(());
                }
            }
        }
    }
}

/// One subscriber's stream: whatever its cursor yields, a batch at a time.
struct Subscription {
    cursor: Cursor,
    pending: VecDeque<Outgoing>,
}

fn sse_event(o: Outgoing) -> Event {
    Event::default().id(o.id).event(o.event).data(&*o.data)
}

/// Server-Sent Events: every camera's state as it changes.
///
/// A `snapshot` of every camera first, then `camera` and `site` events;
/// `Last-Event-ID` resumes where a dropped connection left off.
#[utoipa::path(
    get,
    path = "/v1/events",
    params(("Last-Event-ID" = Option<String>, Header, description = "The last event id seen, to resume.")),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 401, response = ErrorBody), (status = 403, response = ErrorBody),
        (status = 429, response = ErrorBody), (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn events(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st.keys, &headers, Role::Read)?;
    st.check_ready()?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty());
    let cursor = st.hub.subscribe(last).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_subscribers",
            format!("{e}; retry later"),
        )
    })?;
    let sub = Subscription {
        cursor,
        pending: VecDeque::new(),
    };
    let stream = futures_util::stream::unfold(sub, |mut s| async move {
        loop {
            if let Some(o) = s.pending.pop_front() {
                return Some((Ok::<_, Infallible>(sse_event(o)), s));
            }
            if s.cursor.is_closed() {
                return None;
            }
            let batch = s.cursor.next_batch(BATCH, now_ms());
            if batch.is_empty() {
                s.cursor.changed().await;
            }
            s.pending.extend(batch);
        }
    });
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    res.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}
