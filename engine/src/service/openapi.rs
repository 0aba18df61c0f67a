//! `GET /openapi.json`: the REST API described in OpenAPI 3.1.

use serde_json::{json, Value};

/// The OpenAPI document of the service.
pub fn document() -> Value {
    let max_batch = super::MAX_BATCH_INTENTS;
    let error = json!({"$ref": "#/components/responses/Error"});
    let camera_param = json!({
        "name": "camera", "in": "path", "required": true,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
        "description": "Logical camera name from the site config."
    });
    json!({
        "openapi": "3.1.0",
        "servers": [{"url": "/", "description": "HTTPS when the engine has `tls_cert_file`/`tls_key_file`, plain HTTP otherwise."}],
        "info": {
            "title": "dualrec engine",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One click, two recorders: mirrors manual recording across XProtect sites. \
                Every write is journaled (durable) before it is answered."
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/cameras/{camera}/recording": {
                "parameters": [camera_param],
                "put": {
                    "summary": "Set a camera's recording intent (idempotent: repeating the current intent returns the same seq).",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntentBody"}}}},
                    "responses": {
                        "200": {"description": "Durable and dispatched to every site.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CameraState"}}}},
                        "400": error, "401": error, "403": error, "404": error, "408": error, "413": error, "415": error, "422": error, "429": error, "503": error
                    }
                },
                "get": {
                    "summary": "A camera's intent and each site's observed state.",
                    "responses": {
                        "200": {"description": "The camera.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CameraState"}}}},
                        "400": error, "401": error, "404": error, "429": error, "503": error
                    }
                }
            },
            "/v1/cameras": {
                "get": {
                    "summary": "Every configured camera with its intent and site states.",
                    "responses": {
                        "200": {"description": "All cameras.", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["cameras"],
                            "properties": {"cameras": {"type": "array", "items": {"$ref": "#/components/schemas/CameraState"}}}
                        }}}},
                        "401": error, "429": error, "503": error
                    }
                }
            },
            "/v1/recording/batch": {
                "post": {
                    "summary": "Set many cameras' intents at once. All cameras are checked first; an unknown one rejects the whole batch.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchBody"}}}},
                    "responses": {
                        "200": {"description": "Every intent is durable and dispatched.", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["results"],
                            "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/BatchResult"}}}
                        }}}},
                        "400": error, "401": error, "403": error, "404": error, "408": error, "413": error, "415": error, "422": error, "429": error, "503": error
                    }
                }
            },
            "/healthz": {"get": {"summary": "Liveness (no auth).", "security": [], "responses": {"200": {"description": "The process serves requests."}}}},
            "/readyz": {"get": {"summary": "Readiness (no auth): journal open and intents restored.", "security": [],
                "responses": {"200": {"description": "Ready."}, "503": error}}},
            "/metrics": {"get": {"summary": "Prometheus text format (any valid key).",
                "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {}}}, "401": error, "429": error}}},
            "/openapi.json": {"get": {"summary": "This document (no auth).", "security": [], "responses": {"200": {"description": "OpenAPI 3.1."}}}},
            "/v1/cluster": {"get": {"summary": "This replica of a group sharing a PostgreSQL journal (any valid key); 404 `not_clustered` on a single engine.",
                "responses": {
                    "200": {"description": "This replica.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cluster"}}}},
                    "401": error, "404": error, "429": error
                }}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "An API key from the site config; role `read` may GET, role `write` may also PUT/POST."}},
            "responses": {"Error": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "enum": ["unauthorized", "forbidden", "unknown_camera", "not_found",
                        "method_not_allowed", "invalid_json", "invalid_body", "invalid_path", "payload_too_large",
                        "unsupported_media_type", "request_timeout", "throttled", "too_many_connections",
                        "not_ready", "shutting_down", "journal_error", "journal_unavailable", "not_clustered", "internal"]},
                    "message": {"type": "string"}}},
                "Cluster": {"type": "object",
                    "required": ["replica", "role", "epoch", "leader", "leader_url", "lease_age_ms", "journal_ok", "applied_seq"],
                    "properties": {
                        "replica": {"type": "string", "description": "This replica's name in the group."},
                        "role": {"type": "string", "enum": ["leader", "standby"]},
                        "epoch": {"type": "integer", "description": "The fencing epoch this replica leads at, or the latest it has seen."},
                        "leader": {"type": ["string", "null"], "description": "The lease holder's replica name (null while nobody holds an unexpired lease)."},
                        "leader_url": {"type": ["string", "null"], "description": "The leader's `advertise_url`, when it set one."},
                        "lease_age_ms": {"type": ["integer", "null"], "description": "Time since the lease was last renewed, as this replica knows it."},
                        "journal_ok": {"type": "boolean", "description": "Whether this replica reached the journal database within the last lease."},
                        "applied_seq": {"type": "integer", "description": "The last journal sequence this replica has read."}}},
                "IntentBody": {"type": "object", "required": ["recording"], "additionalProperties": false,
                    "properties": {"recording": {"type": "boolean"}}},
                "BatchBody": {"type": "object", "required": ["intents"], "additionalProperties": false,
                    "properties": {"intents": {"type": "array", "minItems": 1, "maxItems": max_batch,
                        "description": "At most maxItems intents; the default body limit (2 MiB) admits that many even with 128-character camera names.",
                        "items": {
                        "type": "object", "required": ["camera", "recording"], "additionalProperties": false,
                        "properties": {"camera": {"type": "string"}, "recording": {"type": "boolean"}}}}}},
                "BatchResult": {"type": "object", "required": ["camera", "recording", "seq"], "properties": {
                    "camera": {"type": "string"}, "recording": {"type": "boolean"}, "seq": {"type": "integer"}}},
                "CameraState": {"type": "object", "required": ["camera", "recording", "seq", "sites"], "properties": {
                    "camera": {"type": "string"},
                    "recording": {"type": ["boolean", "null"], "description": "Latest intent; null if never clicked."},
                    "seq": {"type": ["integer", "null"], "description": "The camera's intent sequence (higher is later)."},
                    "sites": {"type": "array", "items": {"type": "object",
                        "required": ["site", "observed", "pending", "site_up"], "properties": {
                            "site": {"type": "string"},
                            "observed": {"type": "string", "enum": ["unknown", "recording", "stopped"]},
                            "pending": {"type": "boolean", "description": "A request for this camera is in flight."},
                            "site_up": {"type": "boolean"}}}}
                }}
            }
        }
    })
}
