//! The configuration REST API and SOAP `GetConfiguration` of a mock site
//! over real HTTP (reqwest), and per-camera settings from its inventory.

use std::time::Duration;

use serde_json::Value;

use engine::core::{DeviceId, MILLIS};
use xprotect::{
    decode_get_configuration_response, decode_login_response, encode_get_configuration_request,
    encode_login_request, encode_recorder_request, LoginEndpoint, LoginRequest, RecorderRequest,
    SoapVersion, NIL_GUID, RECORDER_PATH,
};

use super::*;
use crate::inventory::parse_inventory;
use crate::recorder::SiteConfig;

const INVENTORY: &str = r#"
[[recorder]]
name = "rec-0"
[[recorder]]
name = "rec-1"
[[hardware]]
name = "enc-01"
address = "http://127.10.0.1/"
recorder = "rec-0"
[[hardware]]
name = "enc-02"
address = "http://127.10.0.2/"
recorder = "rec-1"
[[camera]]
id = "A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A"
name = "Cam 01"
hardware = "enc-01"
channel = 0
manual_recording_max = "300ms"
prebuffer = "1.5s"
[[camera]]
id = "5f0c1d2e-0000-4000-8000-000000000002"
name = "Cam 02"
hardware = "enc-02"
channel = 1
manual_recording_max = "off"
prebuffer = "0s"
[[camera]]
id = "5f0c1d2e-0000-4000-8000-000000000003"
name = "Cam 03"
hardware = "enc-01"
channel = 1
"#;
const CAM1: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";
const CAM3: &str = "5f0c1d2e-0000-4000-8000-000000000003";

fn site_config() -> SiteConfig {
    let mut site = SiteConfig::new("primary", "dualrec", "secret");
    site.recorder.manual_recording_max = Some(120_000 * MILLIS);
    site
}

async fn start(tls: bool) -> MockSite {
    let inv = match parse_inventory("inv.toml", INVENTORY, "primary") {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let mut cfg = MockSiteConfig::new(site_config(), inv.devices_by_recorder());
    cfg.inventory = Some(inv);
    if tls {
        cfg.tls = TlsIdentity::self_signed().ok();
    }
    let addr = "127.0.0.1:0".parse().expect("a literal address");
    match MockSite::start(cfg, addr, None).await {
        Ok(s) => s,
        Err(e) => panic!("mock site did not start: {e}"),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

async fn bearer(site: &MockSite) -> String {
    let r = client()
        .post(format!("{}/IDP/connect/token", site.service_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=password&client_id=GrantValidatorClient&username=dualrec&password=secret")
        .send()
        .await
        .expect("token request");
    let v: Value = serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or(Value::Null);
    v["access_token"].as_str().unwrap_or_default().to_owned()
}

async fn soap_token(site: &MockSite) -> String {
    let body = encode_login_request(
        SoapVersion::V11,
        &LoginRequest {
            instance_id: NIL_GUID.into(),
            current_token: None,
        },
    );
    let r = client()
        .post(format!(
            "{}{}",
            site.service_url(),
            LoginEndpoint::Basic.path()
        ))
        .basic_auth("dualrec", Some("secret"))
        .header("Content-Type", SoapVersion::V11.content_type())
        .body(body)
        .send()
        .await
        .expect("login");
    match decode_login_response(&r.text().await.unwrap_or_default()) {
        Ok(Ok(l)) => l.token,
        other => panic!("login failed: {other:?}"),
    }
}

/// GET a configuration path: status, `WWW-Authenticate`, JSON body.
async fn get(site: &MockSite, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut req = client().get(format!("{}/api/rest/v1{path}", site.service_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("GET");
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.text().await.unwrap_or_default();
    (
        status,
        challenge,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn array(v: &Value) -> Vec<Value> {
    v["array"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_items_and_relations_are_shaped_as_real_sites_answer() {
    for tls in [false, true] {
        let site = start(tls).await;
        let token = bearer(&site).await;
        let t = Some(token.as_str());
        let scheme = if tls { "https" } else { "http" };
        let addr = site.service_addr();

        let (status, _, sites) = get(&site, "/sites", t).await;
        assert_eq!(status, 200);
        let sites = array(&sites);
        assert_eq!(sites.len(), 1);
        let site_id = sites[0]["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(sites[0]["name"], "primary");
        assert_eq!(sites[0]["relations"]["self"]["type"], "sites");

        let (_, _, recs) = get(&site, "/recordingServers", t).await;
        let recs = array(&recs);
        assert_eq!(recs.len(), 2);
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r["relations"]["parent"]["type"], "sites");
            assert_eq!(r["relations"]["parent"]["id"], site_id.as_str());
            assert_eq!(r["relations"]["self"]["type"], "recordingServers");
            assert_eq!(r["relations"]["self"]["id"], r["id"]);
            assert_eq!(r["portNumber"], addr.port());
            assert_eq!(r["hostName"], "127.0.0.1");
            assert_eq!(r["webServerUri"], r["activeWebServerUri"]);
            let uri = r["webServerUri"].as_str().unwrap_or_default();
            let expected = if i == 0 {
                format!("{scheme}://{addr}/")
            } else {
                format!("{scheme}://{addr}/recorder/{i}/")
            };
            assert_eq!(uri, expected);
            for key in [
                "name",
                "displayName",
                "enabled",
                "description",
                "lastModified",
            ] {
                assert!(!r[key].is_null(), "{key} missing in {r}");
            }
        }
        assert_eq!(recs[0]["name"], "rec-0");

        let (_, _, hw) = get(&site, "/hardware", t).await;
        let hw = array(&hw);
        assert_eq!(hw.len(), 2);
        assert_eq!(hw[1]["address"], "http://127.10.0.2/");
        assert_eq!(hw[1]["relations"]["parent"]["type"], "recordingServers");
        assert_eq!(hw[1]["relations"]["parent"]["id"], recs[1]["id"]);
        assert!(hw[0]["model"].is_string() && hw[0]["userName"].is_string());

        let (_, _, cams) = get(&site, "/cameras", t).await;
        let cams = array(&cams);
        assert_eq!(cams.len(), 3);
        let c1 = &cams[0];
        assert_eq!(c1["id"], CAM1);
        assert_eq!(c1["name"], "Cam 01");
        assert_eq!(c1["displayName"], "Cam 01");
        assert_eq!(c1["channel"], 0);
        assert_eq!(c1["relations"]["parent"]["type"], "hardware");
        assert_eq!(c1["relations"]["parent"]["id"], hw[0]["id"]);
        assert_eq!(c1["relations"]["self"]["type"], "cameras");
        assert_eq!(c1["manualRecordingTimeoutEnabled"], true);
        assert_eq!(c1["manualRecordingTimeoutMinutes"], 0.005); // 300 ms: the extension
        assert_eq!(c1["prebufferEnabled"], true);
        assert_eq!(c1["prebufferSeconds"], 1.5);
        assert_eq!(c1["recordingEnabled"], true);
        assert_eq!(c1["prebufferInMemory"], true);
        assert!(c1["lastModified"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z') && s.len() == 28));
        let c2 = &cams[1];
        assert_eq!(c2["manualRecordingTimeoutEnabled"], false);
        assert_eq!(c2["prebufferEnabled"], false);
        // Site defaults: 2 minutes (an integer), 3 s.
        let c3 = &cams[2];
        assert_eq!(c3["manualRecordingTimeoutMinutes"], 2);
        assert!(c3["manualRecordingTimeoutMinutes"].is_u64());
        assert_eq!(c3["prebufferSeconds"], 3);

        // One camera, case-insensitive and braced.
        let (status, _, one) =
            get(&site, "/cameras/{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A}", t).await;
        assert_eq!(status, 200);
        assert_eq!(one["data"], *c1);
        let (status, _, missing) =
            get(&site, "/cameras/00000000-dead-beef-0000-000000000000", t).await;
        assert_eq!(status, 404);
        assert_eq!(missing["error"]["httpCode"], 404);
        let (status, _, _) = get(&site, "/outputs", t).await;
        assert_eq!(status, 404);
        site.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_from_the_identity_provider_is_required() {
    let site = start(false).await;
    let soap = soap_token(&site).await;
    for token in [None, Some("nonsense"), Some(soap.as_str())] {
        let (status, challenge, _) = get(&site, "/cameras", token).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
    let r = client()
        .post(format!("{}/api/rest/v1/cameras", site.service_url()))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 405);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_configuration_lists_recorders_and_cameras_over_soap() {
    let site = start(false).await;
    let token = soap_token(&site).await;
    let post = |body: String| {
        client()
            .post(format!(
                "{}{}",
                site.service_url(),
                LoginEndpoint::Basic.path()
            ))
            .header("Content-Type", SoapVersion::V11.content_type())
            .body(body)
            .send()
    };
    let r = post(encode_get_configuration_request(SoapVersion::V11, &token))
        .await
        .expect("GetConfiguration");
    assert_eq!(r.status().as_u16(), 200);
    let info = match decode_get_configuration_response(&r.text().await.unwrap_or_default()) {
        Ok(Ok(i)) => i,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.server_name, "primary");
    assert_eq!(info.recorders.len(), 2);
    assert_eq!(
        info.recorders[1].web_server_uri,
        format!("http://{}/recorder/1/", site.service_addr())
    );
    let names: Vec<&str> = info.recorders[0]
        .cameras
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Cam 01", "Cam 03"]);
    assert_eq!(info.recorders[0].cameras[0].device_id, CAM1);
    assert_eq!(info.recorders[0].cameras[1].device_index, 1);
    assert_eq!(
        info.recorders[1].cameras[0].recorder_id,
        info.recorders[1].recorder_id
    );
    let bad = post(encode_get_configuration_request(
        SoapVersion::V11,
        "TOKEN#nope#",
    ))
    .await
    .expect("GetConfiguration");
    assert_eq!(bad.status().as_u16(), 500);
    let fault = xprotect::decode_fault(&bad.text().await.unwrap_or_default());
    assert!(fault.is_ok_and(|f| f.is_token_fault()));
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_camera_stops_after_its_own_limit() {
    let site = start(false).await;
    let token = soap_token(&site).await;
    // Cam 01 (300 ms) on recorder 0, the site default (2 min) for Cam 03.
    let start_req = RecorderRequest::StartManualRecording {
        token: token.clone(),
        device_ids: vec![CAM1.to_uppercase(), CAM3.into()],
    };
    let r = client()
        .post(format!("{}{RECORDER_PATH}", site.service_url()))
        .header("Content-Type", SoapVersion::V11.content_type())
        .body(encode_recorder_request(&start_req))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(site.is_recording(&DeviceId::new(CAM1)), Some(false));
    assert_eq!(site.is_recording(&DeviceId::new(CAM3)), Some(true));
    let manual = site
        .manual_intervals(&DeviceId::new(CAM1))
        .unwrap_or_default();
    assert_eq!(manual.measure(), 300 * MILLIS);
    // Footage starts its own pre-buffer (1.5 s) before the Start.
    let footage = site.footage(&DeviceId::new(CAM1)).unwrap_or_default();
    assert_eq!(footage.measure(), 1_500 * MILLIS + 300 * MILLIS);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_inventory_serves_a_generated_one() {
    let devices = vec![
        vec![DeviceId::new(CAM1), DeviceId::new(CAM3)],
        vec![DeviceId::new("5f0c1d2e-0000-4000-8000-000000000002")],
    ];
    let cfg = MockSiteConfig::new(site_config(), devices);
    let addr = "127.0.0.1:0".parse().expect("a literal address");
    let site = match MockSite::start(cfg, addr, None).await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let token = bearer(&site).await;
    let (_, _, cams) = get(&site, "/cameras", Some(&token)).await;
    let names: Vec<String> = array(&cams)
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Numbered round-robin over the recording servers, as `--cameras N`
    // places them.
    assert_eq!(names, ["Camera 1", "Camera 2", "Camera 3"]);
    site.shutdown().await;
}
