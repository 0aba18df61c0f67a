//! The management server's configuration REST API on a mock site:
//! `GET /api/rest/v1/{sites,recordingServers,hardware,cameras}` and
//! `/cameras/{id}`, with a bearer token from the site's identity provider
//! (paths ASCII case-insensitive, as IIS serves them). The JSON itself is
//! `inventory::RestView`'s.

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::idp;
use super::state::Shared;
use crate::inventory::RestView;

/// Path prefix of the REST API (compared ASCII case-insensitively).
pub(crate) const PREFIX: &str = "/api/rest/v1/";

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, text: String) -> Response {
    let body = json!({ "error": { "httpCode": status.as_u16(), "errorText": text } });
    json_response(status, body.to_string())
}

/// The site's inventory as seen by a request to `Host` (for the
/// `webServerUri` of its recording servers).
pub(crate) fn view<'a>(shared: &'a Shared, headers: &HeaderMap, secure: bool) -> RestView<'a> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    RestView {
        inventory: &shared.inventory,
        default_limit: shared.default_limit,
        default_prebuffer: shared.default_prebuffer,
        base: format!("{}://{host}", if secure { "https" } else { "http" }),
    }
}

/// Answers a request whose path starts with [`PREFIX`]; the second value
/// is the outcome for the request log.
pub(crate) fn serve(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    secure: bool,
) -> (Response, &'static str) {
    if method != Method::GET {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method {method} is not allowed: this mock serves the API read-only (GET)"),
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
        return (r, "method not allowed");
    }
    if let Err(r) = idp::bearer(shared, headers) {
        return (*r, "unauthorized");
    }
    let view = view(shared, headers, secure);
    let resource = &path[PREFIX.len()..];
    let resource = resource.trim_end_matches('/');
    let lower = resource.to_ascii_lowercase();
    let body = match lower.as_str() {
        "sites" => view.sites(),
        "recordingservers" => view.recording_servers(),
        "hardware" => view.hardware(),
        "cameras" => view.cameras(),
        _ => match lower.strip_prefix("cameras/") {
            Some(_) => {
                let raw = &resource["cameras/".len()..];
                // Clients percent-encode the braces of `{GUID}`.
                let id = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
                let id = id.as_ref();
                match view.camera(id) {
                    Some(v) => v,
                    None => {
                        return (
                            error(
                                StatusCode::NOT_FOUND,
                                format!("No camera with id {id} on this site"),
                            ),
                            "no such camera",
                        )
                    }
                }
            }
            None => {
                let shown: String = resource.chars().take(100).collect();
                return (
                    error(
                        StatusCode::NOT_FOUND,
                        format!(
                            "No resource `{shown}`: this site serves sites, recordingServers, \
                             hardware, cameras and cameras/{{id}}"
                        ),
                    ),
                    "no such resource",
                );
            }
        },
    };
    (json_response(StatusCode::OK, body.to_string()), "ok")
}
