//! [`ApiError`]: every error the REST API answers, as JSON
//! `{"code": "...", "message": "..."}` with a stable `code`.
//!
//! The answer also carries the error as a response extension
//! ([`Refused`], never sent to the client) so that the audit layer can log
//! and journal the refusal without parsing the body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::config::Role;

/// An error answer: HTTP status, stable machine-readable code, human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// A finer reason for metrics labels (`missing_key`, `unknown_key`, …);
    /// the code when there is none.
    pub reason: &'static str,
    /// The API key's name, when the key was valid.
    pub who: Option<String>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

/// An error answer as the audit layer sees it (a response extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub reason: &'static str,
    pub message: String,
    pub who: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            reason: code,
            who: None,
            retry_after: None,
        }
    }

    /// 401: no key, or not a key we know; `reason` labels the metric.
    pub fn unauthorized(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            reason,
            ..ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        }
    }

    /// 403: a read-only key tried to write.
    pub fn forbidden(key: &str, has: Role, needed: Role) -> Self {
        ApiError {
            reason: match has {
                Role::Metrics => "metrics_only_key",
                Role::Read | Role::Write => "read_only_key",
            },
            who: Some(key.to_string()),
            ..ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "API key `{key}` has role \"{}\"; this request needs a key with role \"{}\"",
                    has.as_str(),
                    needed.as_str()
                ),
            )
        }
    }

    /// 429: too many failed authentications from this client address.
    pub fn throttled(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        ApiError {
            retry_after: Some(secs.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!(
                    "too many failed authentications from this address; retry after {} s",
                    secs.max(1)
                ),
            )
        }
    }

    /// 404 for a camera that is not configured.
    pub fn unknown_camera(camera: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_camera",
            format!("camera `{camera}` is not configured; GET /v1/cameras lists the cameras"),
        )
    }

    /// 503 before the journal is open and state restored.
    pub fn not_ready() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the engine is starting (journal not yet restored); retry shortly",
        )
    }

    /// 503 when the engine task has stopped (shutting down).
    pub fn stopped() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the engine is shutting down; retry against the restarted service",
        )
    }

    /// 500 when an intent could not be made durable (it was not acknowledged).
    pub fn journal(e: &crate::journal::JournalError) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "journal_error",
            format!(
                "the intent could not be written to the journal, so it is not acknowledged: {e}"
            ),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            code: self.code,
            message: &self.message,
        })
        .unwrap_or_else(|_| b"{\"code\":\"internal\",\"message\":\"\"}".to_vec());
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.extensions_mut().insert(Refused {
            code: self.code,
            reason: self.reason,
            message: self.message,
            who: self.who,
        });
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dualrec\""),
            );
        }
        res
    }
}
