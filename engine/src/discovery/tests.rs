//! Discovery without a network: REST JSON in, pairing, rendered config and
//! drift out.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::config::EngineConfig;
use crate::core::{DeviceId, SECS};

/// One camera of a test site: (id suffix, name, hardware index, channel,
/// timeout minutes or None for off, prebuffer seconds).
type Cam<'a> = (u32, &'a str, usize, u32, Option<f64>, f64);

fn guid(site: u32, kind: u32, n: u32) -> String {
    format!("{site:08x}-{kind:04x}-4000-8000-{n:012x}")
}

/// REST bodies of a site with `recorders` recording servers at
/// `http://site{site}.test:7563/recorder/{i}/`, hardware `hw` (name,
/// address, recorder), and `cams`.
fn site_json(site: u32, recorders: usize, hw: &[(&str, &str, usize)], cams: &[Cam]) -> [String; 3] {
    let rel = |kind: &str, id: String| json!({"type": kind, "id": id});
    let recs: Vec<_> = (0..recorders)
        .map(|i| {
            json!({
                "id": guid(site, 1, i as u32).to_uppercase(),
                "name": format!("rec-{i}"),
                "webServerUri": format!("http://site{site}.test:7563/recorder/{i}/"),
                "relations": {"self": rel("recordingServers", guid(site, 1, i as u32))},
            })
        })
        .collect();
    let hws: Vec<_> = hw
        .iter()
        .enumerate()
        .map(|(i, (name, address, rec))| {
            json!({
                "id": guid(site, 2, i as u32),
                "name": name,
                "address": address,
                "relations": {"parent": rel("recordingServers", format!("{{{}}}", guid(site, 1, *rec as u32)))},
            })
        })
        .collect();
    let cs: Vec<_> = cams
        .iter()
        .map(|(n, name, h, ch, minutes, pre)| {
            json!({
                "id": guid(site, 3, *n),
                "name": name,
                "channel": ch,
                "enabled": true,
                "manualRecordingTimeoutEnabled": minutes.is_some(),
                "manualRecordingTimeoutMinutes": minutes.unwrap_or(5.0),
                "prebufferEnabled": true,
                "prebufferSeconds": pre,
                "relations": {"parent": rel("hardware", guid(site, 2, *h as u32))},
            })
        })
        .collect();
    [
        json!({ "array": recs }).to_string(),
        json!({ "array": hws }).to_string(),
        json!({ "array": cs }).to_string(),
    ]
}

fn inventory(bodies: &[String; 3]) -> SiteInventory {
    from_rest_json(&bodies[0], &bodies[1], &bodies[2]).expect("valid JSON")
}

const HW: &[(&str, &str, usize)] = &[
    ("Encoder 1", "http://10.0.0.1/", 0),
    ("Encoder 2", "HTTP://10.0.0.2:80", 1),
];

fn two_sites() -> (SiteInventory, SiteInventory) {
    let a = inventory(&site_json(
        1,
        2,
        HW,
        &[
            (1, "Lobby", 0, 0, Some(5.0), 3.0),
            (2, "Dock", 0, 1, Some(15.0), 3.0),
            (3, "Gate cam", 1, 0, None, 1.0),
            (4, "Roof", 1, 1, Some(1.0), 3.0),
        ],
    ));
    // The secondary names the gate camera differently (paired by address),
    // lists the cameras in another order and has one the primary lacks.
    let b = inventory(&site_json(
        2,
        2,
        &[
            ("Enc-2", "http://10.0.0.2/", 0),
            ("Enc-1", "http://10.0.0.1", 1),
        ],
        &[
            (10, "roof ", 0, 1, Some(1.0), 3.0),
            (11, "Gate", 0, 0, None, 1.0),
            (12, "LOBBY", 1, 0, Some(5.0), 2.0),
            (13, "Dock", 1, 1, Some(15.0), 3.0),
            (14, "Spare", 1, 3, Some(5.0), 3.0),
        ],
    ));
    (a, b)
}

const CONFIG: &str = r#"
[[site]]
name = "primary"
management_url = "http://site1.test:7563"
recorder_urls = ["http://site1.test:7563/recorder/0/", "http://SITE1.test:7563/recorder/1"]
username = "u"
password_env = "PW"

[[site]]
name = "secondary"
management_url = "http://site2.test:7563"
recorder_urls = ["http://site2.test:7563/recorder/1/RecorderCommandService/RecorderCommandService.asmx", "http://site2.test:7563/recorder/0/"]
username = "u"
password_env = "PW"
"#;

struct Env;
impl crate::config::SecretSource for Env {
    fn env(&self, _: &str) -> Option<String> {
        Some("pw".into())
    }
    fn read(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::NotFound.into())
    }
}

fn config(text: &str) -> EngineConfig {
    EngineConfig::parse_for_discovery("site.toml", text, Path::new("."), &Env)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rest_json_becomes_a_consistent_inventory() {
    let (a, _) = two_sites();
    assert!(a.problems.is_empty(), "{:?}", a.problems);
    assert_eq!(a.recorders.len(), 2);
    assert_eq!(a.recorders[0].id, guid(1, 1, 0), "GUIDs canonical");
    assert_eq!(
        a.cameras[2].manual_recording_max, None,
        "timeout disabled is off"
    );
    assert_eq!(a.cameras[3].manual_recording_max, Some(60 * SECS));
    assert_eq!(a.cameras[2].prebuffer, SECS);
    assert_eq!(a.recorder_of(3).name, "rec-1");
    // Fractional minutes (test sites only) keep their value.
    let t = inventory(&site_json(
        9,
        1,
        &[("h", "a", 0)],
        &[(1, "c", 0, 0, Some(0.05), 0.5)],
    ));
    assert_eq!(t.cameras[0].manual_recording_max, Some(3 * SECS));
    assert_eq!(t.cameras[0].prebuffer, SECS / 2);
}

#[test]
fn items_that_do_not_fit_are_named_and_left_out() {
    let mut bodies = site_json(
        1,
        1,
        &[
            ("Enc", "http://10.0.0.1/", 0),
            ("Orphan hw", "http://10.0.0.9/", 7),
        ],
        &[
            (1, "Ok", 0, 0, Some(5.0), 3.0),
            (2, "On orphan hw", 1, 0, Some(5.0), 3.0),
        ],
    );
    // A camera without any parent relation, and one listed twice.
    let mut cams: serde_json::Value = serde_json::from_str(&bodies[2]).unwrap();
    let list = cams["array"].as_array_mut().unwrap();
    let mut no_parent = list[0].clone();
    no_parent["id"] = json!(guid(1, 3, 99));
    no_parent["name"] = json!("No hardware");
    no_parent.as_object_mut().unwrap().remove("relations");
    let twice = list[0].clone();
    list.push(no_parent);
    list.push(twice);
    bodies[2] = cams.to_string();
    let inv = inventory(&bodies);
    assert_eq!(inv.cameras.len(), 1);
    let all = inv.problems.join("\n");
    assert!(all.contains("hardware \"Orphan hw\""), "{all}");
    assert!(all.contains("which the site does not list"), "{all}");
    assert!(all.contains("camera \"On orphan hw\""), "{all}");
    assert!(
        all.contains("camera \"No hardware\"") && all.contains("no parent relation"),
        "{all}"
    );
    assert!(all.contains("listed twice"), "{all}");
    // Not the API's JSON at all.
    let e = from_rest_json("{}", &bodies[1], &bodies[2]).unwrap_err();
    assert!(
        e.contains("`recordingServers` is not the expected JSON"),
        "{e}"
    );
}

#[test]
fn cameras_pair_by_name_then_by_address_and_channel() {
    let (a, b) = two_sites();
    let p = pair(&[&a, &b]);
    let got: Vec<(usize, usize, PairedBy)> = p
        .paired
        .iter()
        .map(|x| (x.cameras[0], x.cameras[1], x.by))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 2, PairedBy::Name),
            (1, 3, PairedBy::Name),
            (2, 1, PairedBy::Address),
            (3, 0, PairedBy::Name),
        ]
    );
    assert_eq!(p.unpaired.len(), 1);
    assert_eq!((p.unpaired[0].site, p.unpaired[0].camera), (1, 4));
    assert_eq!(
        p.unpaired[0].reason,
        UnpairedReason::NoCounterpart {
            missing_on: vec![0]
        }
    );
}

#[test]
fn duplicate_names_are_not_guessed() {
    let a = inventory(&site_json(
        1,
        1,
        &[("h", "http://10.0.0.1/", 0)],
        &[
            (1, "Cam", 0, 0, Some(5.0), 3.0),
            (2, "Cam", 0, 0, Some(5.0), 3.0),
        ],
    ));
    let b = inventory(&site_json(
        2,
        1,
        &[("h", "http://10.0.0.1/", 0)],
        &[
            (1, "Cam", 0, 0, Some(5.0), 3.0),
            (2, "Cam 2", 0, 1, Some(5.0), 3.0),
        ],
    ));
    let p = pair(&[&a, &b]);
    assert!(p.paired.is_empty(), "{p:?}");
    assert!(p
        .unpaired
        .iter()
        .any(|u| u.site == 0 && u.reason == UnpairedReason::AmbiguousName { site: 0, count: 2 }));
    assert!(!p.complete());
}

#[test]
fn rendered_cameras_load_as_a_config_and_check_clean() {
    let (a, b) = two_sites();
    let cfg = config(CONFIG);
    let p = pair(&[&a, &b]);
    let r = render_cameras(&cfg, &[a.clone(), b.clone()], &p);
    assert_eq!(r.written, 4);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(r.problems[0].contains("\"Spare\"") && r.problems[0].contains("not paired"));
    assert!(!r.complete());
    assert!(
        r.text
            .contains("# NOT WRITTEN: secondary: camera \"Spare\""),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("paired by hardware address HTTP://10.0.0.2:80 channel 0"),
        "{}",
        r.text
    );
    // Appended to the config it loads, with each device on its recorder
    // (positions in the configured recorder_urls, not the site's order).
    let full = config(&format!("{CONFIG}\n{}", r.text));
    let names: Vec<&str> = full.cameras.iter().map(|c| c.spec.id.as_str()).collect();
    assert_eq!(names, ["Lobby", "Dock", "Gate-cam", "Roof"]);
    let gate = &full.cameras[2].spec.placements;
    assert_eq!(gate[0].device, DeviceId::new(guid(1, 3, 3)));
    assert_eq!(
        (gate[0].recorder, gate[1].recorder),
        (1, 1),
        "site 2 rec-0 is configured second"
    );
    assert_eq!(gate[0].settings.manual_recording_max, Some(None));
    assert_eq!(gate[1].settings.prebuffer, Some(SECS));
    // What was written agrees with the sites; a second run writes nothing new.
    assert_eq!(check_config(&full, &[Some(&a), Some(&b)]), vec![]);
    let again = render_cameras(&full, &[a, b], &p);
    assert_eq!((again.written, again.already_configured), (0, 4));
}

#[test]
fn drift_names_moved_gone_and_changed_devices() {
    let (a, b) = two_sites();
    let cfg = config(CONFIG);
    let r = render_cameras(&cfg, &[a.clone(), b.clone()], &pair(&[&a, &b]));
    let full = config(&format!("{CONFIG}\n{}", r.text));
    // The site changes: Lobby moves to rec-1, Dock's limit becomes 10
    // minutes, Roof is deleted.
    let changed = inventory(&site_json(
        1,
        2,
        HW,
        &[
            (1, "Lobby", 1, 0, Some(5.0), 3.0),
            (2, "Dock", 0, 1, Some(10.0), 3.0),
            (3, "Gate cam", 1, 0, None, 1.0),
        ],
    ));
    let drift = check_config(&full, &[Some(&changed), None]);
    let text: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].contains("camera `Lobby`")
            && text[0].contains("moved from recorder 0 to recorder 1"),
        "{text:#?}"
    );
    assert!(
        text[1].contains("manual_recording_max is 10m on the site, 15m in the config"),
        "{text:#?}"
    );
    assert!(
        text[2].contains("camera `Roof`") && text[2].contains("not on the site any more"),
        "{text:#?}"
    );
    assert!(drift[0].breaks_recording() && !drift[1].breaks_recording());
    // A configured recorder the site does not have.
    let one = inventory(&site_json(
        1,
        1,
        &HW[..1],
        &[(1, "Lobby", 0, 0, Some(5.0), 3.0)],
    ));
    let d = check_config(&cfg, &[Some(&one), None]);
    assert_eq!(d.len(), 1);
    assert!(d[0].to_string().contains("recorder_urls[1]"), "{}", d[0]);
}

/// A `login = "soap"` site (before XProtect 2021 R1) has no REST API: it
/// is named as such, without a request, instead of failing on the
/// identity provider's 404; the engine's device check skips it.
#[tokio::test]
async fn a_soap_login_site_is_not_read_and_says_why() {
    let text = CONFIG.replacen(
        "password_env = \"PW\"\n",
        "password_env = \"PW\"\nlogin = \"soap\"\n",
        1,
    );
    let cfg = config(&text);
    let client = crate::runtime::SoapClient::new(&cfg.sites[0].endpoint).unwrap();
    let err = fetch_site(&client, &|_| {}).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::NoRestApi { .. }), "{err}");
    assert!(err.to_string().contains("2021 R1"), "{err}");
    assert!(!err.is_io(), "a config matter, not the network's");

    let report =
        crate::service::device_check::check_devices(&cfg, std::time::Duration::from_secs(1)).await;
    let (name, check) = &report.sites[0];
    assert_eq!(name, "primary");
    assert!(
        matches!(check, crate::service::device_check::SiteCheck::Skipped(_)),
        "{check:?}"
    );
    assert!(
        !report.devices_ok(),
        "--require-devices cannot vouch for it"
    );
    assert!(report.lines()[0]
        .starts_with("primary: not checked: site `primary` has `login = \"soap\"`"));
    let latest = std::sync::Arc::new(std::sync::Mutex::new(Some(report)));
    let mut reg = prometheus_client::registry::Registry::default();
    crate::service::device_check::register_metrics(&latest, &mut reg);
    let metrics = crate::service::metrics::scrape::encode(
        &reg,
        crate::service::metrics::scrape::Format::PrometheusText,
    );
    assert!(!metrics.contains("site=\"primary\""), "{metrics}");
    assert!(
        metrics.contains("dualrec_device_check_ok{site=\"secondary\"} 0"),
        "{metrics}"
    );
}
