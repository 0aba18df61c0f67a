//! Inventory files, generated inventories and their REST JSON.

use engine::core::{DeviceId, SECS};

use super::*;

const GOOD: &str = r#"
[[recorder]]
name = "rec-0"
[[recorder]]
name = "rec-1"
id = "{11111111-2222-4333-8444-555555555555}"

[[hardware]]
name = "enc-01"
address = "http://127.10.0.1/"
recorder = "rec-1"

[[camera]]
id = "A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A"
name = "Cam 01"
hardware = "enc-01"
channel = 0
manual_recording_max = "1m"
prebuffer = "1s"

[[camera]]
id = "a8a8b9dc-3995-49ed-9b00-62caac2ce74b"
name = "Cam 02"
hardware = "enc-01"
channel = 1
manual_recording_max = "off"
"#;

#[test]
fn an_inventory_file_is_read() {
    let inv = parse_inventory("inv.toml", GOOD, "primary").expect("valid");
    assert_eq!(inv.site_name, "primary");
    assert_eq!(inv.recorders[1].id, "11111111-2222-4333-8444-555555555555");
    assert_eq!(
        inv.recorders[0].id,
        derived_guid(&["primary", "recorder", "rec-0"])
    );
    assert_eq!(inv.hardware[0].recorder, 1);
    assert_eq!(
        inv.cameras[0].id,
        DeviceId::new("a8a8b9dc-3995-49ed-9b00-62caac2ce74a")
    );
    assert_eq!(
        inv.cameras[0].settings.manual_recording_max,
        Some(Some(60 * SECS))
    );
    assert_eq!(inv.cameras[0].settings.prebuffer, Some(SECS));
    assert_eq!(inv.cameras[1].settings.manual_recording_max, Some(None));
    assert_eq!(inv.devices_by_recorder()[1].len(), 2);
    assert!(inv.devices_by_recorder()[0].is_empty());
    assert_eq!(inv.device_settings().len(), 2);
}

/// Each case replaces one piece of GOOD; the message names the place.
#[test]
fn every_mistake_names_file_line_col() {
    for (from, to, at, want) in [
        (
            "name = \"Cam 02\"",
            "name = \"Cam 01\"",
            "inv.toml:23:8:",
            "camera `Cam 01` is defined twice",
        ),
        (
            "name = \"rec-1\"",
            "name = \"rec-0\"",
            "inv.toml:5:8:",
            "recorder `rec-0` is defined twice",
        ),
        (
            "recorder = \"rec-1\"",
            "recorder = \"rec-9\"",
            "inv.toml:11:12:",
            "unknown recorder `rec-9`",
        ),
        (
            "recorder = \"rec-1\"\n",
            "",
            "inv.toml:8:1:",
            "missing key `recorder`",
        ),
        (
            "hardware = \"enc-01\"\nchannel = 1",
            "hardware = \"enc-02\"\nchannel = 1",
            "inv.toml:24:12:",
            "unknown hardware `enc-02`",
        ),
        (
            "channel = 1",
            "channel = 0",
            "inv.toml:24:12:",
            "channel 0 of hardware `enc-01` has two cameras",
        ),
        ("2ce74b\"", "2ce74\"", "inv.toml:22:6:", "is not a GUID"),
        (
            "62caac2ce74b",
            "62caac2ce74a",
            "inv.toml:22:6:",
            "is used twice",
        ),
        (
            "manual_recording_max = \"1m\"",
            "manual_recording_max = \"0s\"",
            "inv.toml:18:24:",
            "is 0s",
        ),
        (
            "prebuffer = \"1s\"",
            "prebuffer = \"soon\"",
            "inv.toml:19:13:",
            "not a duration",
        ),
        (
            "channel = 0",
            "channel = 0\ncolour = \"red\"",
            "inv.toml:18:1:",
            "unknown field `colour`",
        ),
    ] {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        let e = parse_inventory("inv.toml", &text, "primary")
            .expect_err(to)
            .to_string();
        assert!(e.starts_with(at) && e.contains(want), "{to}: {e}");
    }
    let e = parse_inventory("inv.toml", "[[recorder]]\nname = \"r\"\n", "s").unwrap_err();
    assert!(e.to_string().contains("no `[[camera]]`"), "{e}");
}

#[test]
fn generated_sites_share_names_and_addresses_not_guids() {
    let devs = |site: u32| -> Vec<Vec<DeviceId>> {
        (0..2)
            .map(|r| {
                (0..5)
                    .map(|i| DeviceId::new(format!("{site:08x}-0000-4000-8000-{:012x}", i * 2 + r)))
                    .collect()
            })
            .collect()
    };
    let a = generated_inventory("primary", &devs(1));
    let b = generated_inventory("secondary", &devs(2));
    assert_eq!(a.cameras.len(), 10);
    assert_eq!(a.cameras[0].name, "Camera 01");
    assert_eq!(a.cameras[9].name, "Camera 10");
    for (x, y) in a.cameras.iter().zip(&b.cameras) {
        assert_eq!(x.name, y.name);
        assert_ne!(x.id, y.id);
        assert_eq!(
            a.hardware[x.hardware].address,
            b.hardware[y.hardware].address
        );
        assert_eq!(x.channel, y.channel);
    }
    // Camera k sits on the recorder `--cameras N` put it on (k mod 2).
    assert_eq!(a.hardware[a.cameras[3].hardware].recorder, 1);
    assert!(a.hardware.iter().all(|h| {
        a.cameras
            .iter()
            .filter(|c| a.hardware[c.hardware].id == h.id)
            .count()
            <= 4
    }));
    assert_eq!(a.devices_by_recorder(), devs(1));
}

#[test]
fn rest_json_has_the_real_shape() {
    let inv = parse_inventory("inv.toml", GOOD, "primary").expect("valid");
    let view = RestView {
        inventory: &inv,
        default_limit: Some(5 * 60 * SECS),
        default_prebuffer: 3 * SECS,
        base: "http://127.0.0.1:7563".into(),
    };
    let recs = view.recording_servers();
    assert_eq!(
        recs["array"][1]["webServerUri"],
        "http://127.0.0.1:7563/recorder/1/"
    );
    assert_eq!(recs["array"][0]["webServerUri"], "http://127.0.0.1:7563/");
    assert_eq!(recs["array"][0]["portNumber"], 7563);
    assert_eq!(recs["array"][0]["relations"]["parent"]["type"], "sites");
    let hw = view.hardware();
    assert_eq!(
        hw["array"][0]["relations"]["parent"]["id"],
        inv.recorders[1].id.as_str()
    );
    let cams = view.cameras();
    let c0 = &cams["array"][0];
    assert_eq!(c0["manualRecordingTimeoutMinutes"], 1);
    assert_eq!(c0["manualRecordingTimeoutEnabled"], true);
    assert_eq!(c0["prebufferSeconds"], 1);
    assert_eq!(cams["array"][1]["manualRecordingTimeoutEnabled"], false);
    assert_eq!(cams["array"][1]["prebufferSeconds"], 3, "site default");
    for key in [
        "id",
        "name",
        "displayName",
        "enabled",
        "description",
        "lastModified",
        "relations",
    ] {
        assert!(c0.get(key).is_some(), "{key}");
    }
    let one = view
        .camera("{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74B}")
        .expect("found");
    assert_eq!(one["data"]["name"], "Cam 02");
    assert!(view
        .camera("00000000-0000-0000-0000-000000000000")
        .is_none());
    // A sub-minute limit (test sites only) is a fractional number.
    let short = parse_inventory(
        "inv.toml",
        &GOOD.replace(
            "manual_recording_max = \"1m\"",
            "manual_recording_max = \"3s\"",
        ),
        "p",
    )
    .unwrap();
    let v = RestView {
        inventory: &short,
        ..view
    };
    assert_eq!(
        v.cameras()["array"][0]["manualRecordingTimeoutMinutes"],
        0.05
    );
}
