//! The served OpenAPI document against the served routes: every documented
//! operation exists, answers one of its documented statuses, needs a key
//! exactly when the document says so, and its JSON answers validate against
//! the documented schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses).

mod engine_support;

use engine::service::{Service, ServiceOptions};
use engine_support::*;
use reqwest::{redirect, Client, Method, StatusCode};
use serde_json::{json, Value};

async fn send(
    client: &Client,
    base: &str,
    method: &Method,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = client.request(method.clone(), format!("{base}{path}"));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    req.send().await.expect("the service answers")
}

/// A valid body for a documented request schema.
fn example_body(op: &Value) -> Option<Value> {
    let schema = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    Some(match schema.rsplit('/').next() {
        Some("IntentBody") => json!({"recording": true}),
        Some("BatchBody") => json!({"intents": [{"camera": camera(2), "recording": true}]}),
        other => panic!("no example for request schema {other:?}; add one"),
    })
}

/// Validates `answer` against a documented `schema` (inline or a `$ref`),
/// resolving `#/components/...` in the served document.
fn validate(doc: &Value, schema: &Value, answer: &Value) -> Result<(), String> {
    let mut schema = schema.clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).map_err(|e| format!("schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(answer)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_as_documented() {
    let (a, b) = start_sites(3).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = parse_config(&config_text(
        &a.service_url(),
        &b.service_url(),
        3,
        dir.path(),
        "",
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let service = Service::start(&cfg, listener, ServiceOptions::default())
        .await
        .expect("service starts");
    let base = format!("http://{}", service.local_addr());
    let client = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client");

    let doc = send(&client, &base, &Method::GET, "/openapi.json", None, None)
        .await
        .text()
        .await
        .expect("the document");
    let doc: Value = serde_json::from_str(&doc).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    let mut keyless_from = 1u8;
    for (template, item) in paths {
        let path = template.replace("{camera}", &camera(1));
        for (method, op) in item.as_object().expect("path item") {
            let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue; // `parameters`, `summary`, … of the path item
            };
            let what = format!("{method} {template}");
            let documented: Vec<&str> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(String::as_str)
                .collect();
            let open = op["security"] == json!([{}]);
            let body = example_body(op);

            // Without a key: refused exactly when the document wants one.
            // Each from its own loopback address: failed authentications
            // are throttled per address.
            keyless_from += 1;
            let keyless = Client::builder()
                .redirect(redirect::Policy::none())
                .local_address(std::net::IpAddr::from([127, 0, 0, keyless_from]))
                .build()
                .expect("client");
            let res = send(&keyless, &base, &m, &path, None, body.as_ref()).await;
            if open {
                assert_ne!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what} is documented open"
                );
            } else {
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what} documents a key"
                );
                assert!(documented.contains(&"401"), "{what}: 401 not documented");
            }

            let key = (!open).then_some(WRITE_KEY);
            let res = send(&client, &base, &m, &path, key, body.as_ref()).await;
            let status = res.status();
            assert!(
                documented.contains(&status.as_str()),
                "{what} answered {status}, documented {documented:?}"
            );
            let documented_answer = &op["responses"][status.as_str()];
            let content_type = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if content_type.starts_with("text/event-stream") {
                assert!(
                    documented_answer["content"]["text/event-stream"].is_object(),
                    "{what}"
                );
                checked += 1;
                continue; // a stream: its body never ends
            }
            let text = res.text().await.expect("body");
            let answer_doc = match documented_answer["$ref"].as_str() {
                // A shared answer (the error body): resolve it.
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    &doc["components"]["responses"][name]
                }
                None => documented_answer,
            };
            let json_schema = &answer_doc["content"]["application/json"]["schema"];
            if json_schema.is_object() {
                assert!(
                    content_type.starts_with("application/json"),
                    "{what}: {content_type}"
                );
                let answer: Value = serde_json::from_str(&text).expect("JSON answer");
                validate(&doc, json_schema, &answer)
                    .unwrap_or_else(|e| panic!("{what} {status}: {e}\n{text}"));
            } else if let Some(content) = answer_doc["content"].as_object() {
                let media = content_type.split(';').next().unwrap_or("").trim();
                assert!(
                    content
                        .keys()
                        .any(|k| k.split(';').next().unwrap_or("").trim() == media),
                    "{what}: served {content_type}, documented {:?}",
                    content.keys().collect::<Vec<_>>()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} operations checked");

    // The validator is not vacuous: a wrong shape fails.
    let camera_state = json!({"$ref": "#/components/schemas/CameraState"});
    assert!(validate(&doc, &camera_state, &json!({"camera": 1})).is_err());
    service.shutdown().await.expect("clean shutdown");
}
