//! Fuzz target of the REST API's request parsing (proptest, a bounded
//! number of cases per test run): bodies (mutated valid intents and
//! batches, arbitrary bytes), `Content-Type` values and `Authorization`
//! headers never panic, and every refusal is a 4xx in the `{code,
//! message}` shape with a stable code.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;

use super::api::fuzz_hooks::{parse_batch, parse_intent, require_json};
use super::auth::authenticate;
use crate::config::{sha256, ApiKey, Role};
use crate::input_fuzz::{edit, mutate};

const INTENT: &str = r#"{"recording": true}"#;
const BATCH: &str = r#"{"intents": [{"camera": "cam-001", "recording": true}, {"camera": "lobby.2", "recording": false}]}"#;

fn assert_refusal(status: StatusCode, code: &str, message: &str) {
    assert!(
        matches!(status.as_u16(), 400 | 413 | 415 | 422),
        "unexpected status {status}"
    );
    assert!(
        [
            "invalid_json",
            "invalid_body",
            "payload_too_large",
            "unsupported_media_type"
        ]
        .contains(&code),
        "unexpected code {code}"
    );
    assert!(!message.is_empty());
}

fn check_body(bytes: Vec<u8>) {
    let bytes = Bytes::from(bytes);
    if let Err(e) = parse_intent(bytes.clone()) {
        assert_refusal(e.status, e.code, &e.message);
    }
    match parse_batch(bytes) {
        Ok(n) => assert!(n <= super::MAX_BATCH_INTENTS),
        Err(e) => assert_refusal(e.status, e.code, &e.message),
    }
}

fn keys() -> Vec<ApiKey> {
    vec![ApiKey {
        name: "writer".into(),
        role: Role::Write,
        sha256: sha256(b"write-key-0123456789"),
    }]
}

#[test]
fn the_bases_parse() {
    assert!(parse_intent(Bytes::from_static(INTENT.as_bytes())).is_ok());
    assert_eq!(
        parse_batch(Bytes::from_static(BATCH.as_bytes())).ok(),
        Some(2)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn mutated_bodies_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        check_body(mutate(INTENT.as_bytes(), &edits));
        check_body(mutate(BATCH.as_bytes(), &edits));
    }

    #[test]
    fn arbitrary_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_body(bytes);
    }

    #[test]
    fn headers_never_panic(
        content_type in prop::collection::vec(any::<u8>(), 0..60),
        authorization in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(&content_type) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&authorization) {
            headers.insert(header::AUTHORIZATION, v);
        }
        if let Err(e) = require_json(&headers) {
            prop_assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        match authenticate(&keys(), &headers) {
            Ok(c) => prop_assert_eq!(c.name, "writer"),
            Err(e) => {
                prop_assert_eq!(e.status, StatusCode::UNAUTHORIZED);
                // The presented token never appears in the message.
                let token = String::from_utf8_lossy(&authorization).into_owned();
                let token = token.trim().split_once(' ').map_or("", |(_, t)| t.trim());
                prop_assert!(token.len() < 8 || !e.message.contains(token));
            }
        }
    }
}
