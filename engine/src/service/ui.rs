//! `/ui`: the operator console, a static page and its script and style
//! (`engine/ui/`), compiled into the binary (no network, no files at run
//! time), plus `GET /v1/whoami`, which tells the console which key signed
//! in and whether it may click.
//!
//! The assets hold no data and no secret, so they need no key; everything
//! the page shows comes from the API with the key the operator types in.
//! Headers lock the page down: a Content-Security-Policy that allows only
//! this origin's script, style and API (no inline script, no framing), no
//! referrer, no MIME sniffing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::json;

use super::api::AppState;
use super::auth::authenticate;
use super::error::ApiError;

const INDEX_HTML: &str = include_str!("../../ui/index.html");
const APP_JS: &str = include_str!("../../ui/app.js");
const APP_CSS: &str = include_str!("../../ui/app.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Always revalidate: a new engine build must not run an old script.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// The operator console page (no key needed; it asks for one).
#[utoipa::path(get, path = "/ui", security(()), responses((status = 200, description = "The page.", content_type = "text/html", body = String)))]
pub(crate) async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

/// To the console page.
#[utoipa::path(get, path = "/ui/", security(()), responses((status = 303, description = "To `/ui`.")))]
pub(crate) async fn to_index() -> Redirect {
    Redirect::to("/ui")
}

/// To the console page.
#[utoipa::path(get, path = "/", security(()), responses((status = 303, description = "To `/ui`.")))]
pub(crate) async fn root() -> Redirect {
    Redirect::to("/ui")
}

/// The console's script.
#[utoipa::path(get, path = "/ui/app.js", security(()), responses((status = 200, description = "JavaScript.", content_type = "text/javascript", body = String)))]
pub(crate) async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// The console's style sheet.
#[utoipa::path(get, path = "/ui/app.css", security(()), responses((status = 200, description = "CSS.", content_type = "text/css", body = String)))]
pub(crate) async fn style() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

/// Which key signed the request: `{"key": NAME, "role": "metrics"|"read"|"write"}`.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    responses(
        (status = 200, description = "The key's name and role.", body = serde_json::Value),
        (status = 401, response = super::openapi::ErrorBody), (status = 429, response = super::openapi::ErrorBody),
    )
)]
pub(crate) async fn whoami(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = authenticate(&st.keys, &headers)?;
    Ok(Json(json!({"key": caller.name, "role": caller.role})))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page must work offline and under its own CSP: no external URL,
    /// no inline script or style, and it loads exactly the embedded assets.
    #[test]
    fn the_assets_are_self_contained() {
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("app.js", APP_JS),
            ("app.css", APP_CSS),
        ] {
            for bad in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(bad), "{name} refers to {bad}");
            }
        }
        assert!(INDEX_HTML.contains(r#"<script src="/ui/app.js" defer></script>"#));
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="/ui/app.css">"#));
        assert_eq!(INDEX_HTML.matches("<script").count(), 1, "no inline script");
        assert!(!INDEX_HTML.contains("style="), "no inline style");
        assert!(!INDEX_HTML.contains("<style"), "no inline style");
        // The key travels in a header, never in a URL.
        assert!(APP_JS.contains("Authorization"));
        assert!(!APP_JS.contains("?key="));
        assert!(APP_JS.contains("sessionStorage"));
        assert!(!APP_JS.contains("localStorage"));
        assert!(
            !APP_JS.contains("innerHTML"),
            "DOM built from text nodes only"
        );
    }
}
