//! The JSON control API of a mock site, on its own listener so that a `down`
//! site (service port closed) can still be brought back.
//!
//! | request | answer |
//! |---|---|
//! | `POST /faults` `{"kind": "...", "for": "30s", "rate": 0.3, "latency": …, "device": "…"}` | 201 with the fault (see `faults.rs` for the body) |
//! | `GET /faults` | 200 `{"faults": [...]}`, the active faults |
//! | `DELETE /faults` | 200 `{"cleared": [...]}`: ends every active fault |
//! | `DELETE /faults/{id}` | 200 with the ended fault, 404 if not active |
//! | `GET /footage/{device}` | 200 `{"device", "footage": [{"start", "end"}], "manual": [...], "recording", "stream_lost"}` (UTC), 404 for an unknown device |
//! | `GET /healthz` | 200 `{"status": "ok", "site", "service", "service_open", "alive", "active_faults", "reopen_failed"}` |
//!
//! A fault is rendered `{"id", "kind", "since", "until", "instantaneous"}`
//! plus `rate`, `latency` (described) or `device` for the kinds that have
//! them; times are UTC. Errors answer `{"code", "message"}` with 400
//! (`bad_request`, `unknown_device`), 404 (`not_found`, `unknown_fault`) or
//! 503 (`shut_down`).
//!
//! This module translates HTTP/JSON to calls on [`Shared`]; fault semantics
//! live in `state.rs`, parsing in `faults.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::faults::{FaultError, FaultInfo, FaultRequest, SiteFaultKind};
use super::state::{canonical_device, Shared};
use crate::intervals::IntervalSet;

/// The control API's router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/faults",
            get(get_faults).post(post_fault).delete(delete_faults),
        )
        .route("/faults/{id}", delete(delete_fault))
        .route("/footage/{device}", get(get_footage))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(shared)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::debug!(code, %message, "control request refused");
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn fault_error(e: FaultError) -> Response {
    let status = match e.code {
        "shut_down" => StatusCode::SERVICE_UNAVAILABLE,
        "unknown_fault" => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, e.code, e.message)
}

/// A fault as JSON (times in UTC).
pub(crate) fn fault_json(shared: &Shared, info: &FaultInfo) -> Value {
    let mut v = json!({
        "id": info.id,
        "kind": info.request.kind.name(),
        "since": shared.clock.utc(info.since).to_string(),
        "until": info.until.map(|t| shared.clock.utc(t).to_string()),
        "instantaneous": info.request.is_instantaneous(),
    });
    match &info.request.kind {
        SiteFaultKind::Errors { rate } | SiteFaultKind::LostReplies { rate } => {
            v["rate"] = json!(rate)
        }
        SiteFaultKind::Slow(d) => v["latency"] = json!(d.describe()),
        SiteFaultKind::StreamLoss { device } => v["device"] = json!(device.to_string()),
        _ => {}
    }
    v
}

fn spans_json(shared: &Shared, set: &IntervalSet) -> Value {
    Value::Array(
        set.spans()
            .iter()
            .map(|s| {
                json!({
                    "start": shared.clock.utc(s.start).to_string(),
                    "end": shared.clock.utc(s.end).to_string(),
                })
            })
            .collect(),
    )
}

async fn post_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req = match FaultRequest::from_json(&body) {
        Ok(r) => r,
        Err(e) => return fault_error(e),
    };
    match shared.apply_fault(req).await {
        Ok(info) => (StatusCode::CREATED, Json(fault_json(&shared, &info))).into_response(),
        Err(e) => fault_error(e),
    }
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    let faults: Vec<Value> = shared
        .active_faults()
        .await
        .iter()
        .map(|f| fault_json(&shared, f))
        .collect();
    Json(json!({ "faults": faults })).into_response()
}

async fn delete_faults(State(shared): State<Arc<Shared>>) -> Response {
    let cleared: Vec<Value> = shared
        .clear_faults()
        .await
        .iter()
        .map(|f| fault_json(&shared, f))
        .collect();
    Json(json!({ "cleared": cleared })).into_response()
}

async fn delete_fault(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim().parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("`{id}` is not a fault id; expected the number `POST /faults` answered"),
        );
    };
    match shared.end_fault(id).await {
        Some(info) => Json(fault_json(&shared, &info)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_fault",
            format!("no active fault {id}"),
        ),
    }
}

async fn get_footage(State(shared): State<Arc<Shared>>, Path(device): Path<String>) -> Response {
    let id = canonical_device(&device);
    let found = shared.with_model(|m, now| {
        let (r, i) = m.locate(&id)?;
        let rec = m.recorder(r)?;
        Some((
            rec.footage(i, now),
            rec.manual_intervals(i, now),
            rec.is_recording(i),
            rec.is_stream_lost(i),
        ))
    });
    match found {
        Some((footage, manual, recording, stream_lost)) => Json(json!({
            "device": device,
            "footage": spans_json(&shared, &footage),
            "manual": spans_json(&shared, &manual),
            "recording": recording,
            "stream_lost": stream_lost,
        }))
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_device",
            format!(
                "device `{device}` is not on site `{}`; expected one of its device GUIDs",
                shared.site_name
            ),
        ),
    }
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let alive = shared.with_model(|m, _| m.is_alive());
    Json(json!({
        "status": "ok",
        "site": shared.site_name,
        "service": shared.service.addr().map(|a| a.to_string()),
        "service_open": shared.service.is_open(),
        "alive": alive,
        "active_faults": shared.active_faults().await.len(),
        "reopen_failed": shared.reopen_failed().await,
    }))
    .into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such control endpoint; expected /faults, /faults/{id}, /footage/{device} or /healthz",
    )
}
