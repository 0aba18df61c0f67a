//! `dualrec discover` and the engine's device check against two mock sites
//! over real HTTP: the sites' inventories (different GUIDs, cameras on two
//! recording servers, per-camera auto-stop) are discovered and paired, the
//! engine runs on the output and keeps every camera recording past its own
//! limit; bad input (an unreachable site, an unpaired camera, an invalid
//! config) gets its exit code and writes nothing half.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use engine::core::{DeviceId, SECS};
use sim::inventory::parse_inventory;
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig, SiteClock};

const USER: &str = "dualrec";
const PASSWORD: &str = "site-secret";
const KEY: &str = "write-key-0123456789abcdef";

/// Camera `i` (1..=6) of `site`: limits 4 s (1, 2), 8 s (3, 4), off (5, 6);
/// cameras alternate between the two recording servers. The secondary
/// lists them in reverse and calls camera 6 by another name (it pairs by
/// hardware address + channel).
fn inventory_text(site: usize, extra_camera: bool) -> String {
    let mut t = String::from(
        "[[recorder]]\nname = \"rec-a\"\n[[recorder]]\nname = \"rec-b\"\n\
         [[hardware]]\nname = \"enc-1\"\naddress = \"http://10.1.0.1/\"\nrecorder = \"rec-a\"\n\
         [[hardware]]\nname = \"enc-2\"\naddress = \"http://10.1.0.2/\"\nrecorder = \"rec-b\"\n",
    );
    let mut cams: Vec<usize> = (1..=6).collect();
    if site == 1 {
        cams.reverse();
    }
    for i in cams {
        let limit = match i {
            1 | 2 => "\"4s\"",
            3 | 4 => "\"8s\"",
            _ => "\"off\"",
        };
        let name = if site == 1 && i == 6 {
            "Yard (secondary)".to_owned()
        } else {
            format!("Camera {i}")
        };
        t.push_str(&format!(
            "[[camera]]\nid = \"{}\"\nname = \"{name}\"\nhardware = \"enc-{}\"\nchannel = {}\n\
             manual_recording_max = {limit}\nprebuffer = \"1s\"\n",
            device(site, i),
            1 + (i % 2),
            i / 2,
        ));
    }
    if extra_camera {
        t.push_str(&format!(
            "[[camera]]\nid = \"{}\"\nname = \"Spare\"\nhardware = \"enc-1\"\nchannel = 9\n",
            device(site, 99)
        ));
    }
    t
}

fn device(site: usize, i: usize) -> DeviceId {
    DeviceId::new(format!("{:08x}-0000-4000-8000-{i:012x}", 0xd0 + site))
}

async fn start_sites(extra_camera: bool) -> Vec<MockSite> {
    let clock = SiteClock::start(Duration::from_secs(1));
    let mut sites = Vec::new();
    for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
        let inv = parse_inventory(
            "inventory.toml",
            &inventory_text(s, extra_camera && s == 1),
            name,
        )
        .expect("test inventory is valid");
        let mut site = SiteConfig::new(name, USER, PASSWORD);
        site.recorder.prebuffer = SECS;
        let mut cfg = MockSiteConfig::new(site, inv.devices_by_recorder());
        cfg.inventory = Some(inv);
        cfg.clock = Some(clock);
        sites.push(
            MockSite::start(cfg, "127.0.0.1:0".parse().unwrap(), None)
                .await
                .expect("mock site starts"),
        );
    }
    sites
}

/// The `[[site]]` tables (recorders listed in the order the sites have them).
fn site_tables(sites: &[MockSite]) -> String {
    let mut t = String::new();
    for site in sites {
        let url = site.service_url();
        let url = url.trim_end_matches('/');
        t.push_str(&format!(
            "[[site]]\nname = \"{}\"\nmanagement_url = \"{url}\"\n\
             recorder_urls = [\"{url}/\", \"{url}/recorder/1/\"]\nusername = \"{USER}\"\n\
             password_env = \"DUALREC_TEST_SITE_PASSWORD\"\nprebuffer = \"1s\"\n\n",
            site.site_name()
        ));
    }
    t
}

async fn dualrec(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .current_dir(dir)
        .env("DUALREC_TEST_SITE_PASSWORD", PASSWORD)
        .env("DUALREC_TEST_WRITE_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("dualrec runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_cameras_record_past_their_own_limits() {
    let sites = start_sites(false).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.toml"), site_tables(&sites)).unwrap();
    let (code, _, err) = dualrec(
        &["discover", "--config", "site.toml", "--out", "cameras.toml"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 cameras written"), "{err}");
    let cameras = std::fs::read_to_string(dir.path().join("cameras.toml")).unwrap();
    assert_eq!(cameras.matches("[[camera]]").count(), 6, "{cameras}");
    assert!(cameras.contains("paired by hardware address"), "{cameras}");
    assert!(
        cameras.contains("manual_recording_max = \"4s\""),
        "{cameras}"
    );

    // The engine runs on the output, checking its devices first.
    let engine_toml = format!(
        "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"data\"\n\n[[api_key]]\nname = \"w\"\n\
         key_env = \"DUALREC_TEST_WRITE_KEY\"\nrole = \"write\"\n\n{}{cameras}\n[policy]\n\
         request_timeout = \"1s\"\nprobe_interval = \"500ms\"\nrenew_before = \"1s\"\n",
        site_tables(&sites)
    );
    std::fs::write(dir.path().join("engine.toml"), engine_toml).unwrap();
    let (code, _, err) = dualrec(
        &["discover", "--config", "engine.toml", "--check"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "no drift right after discovery: {err}");

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(["engine", "--config", "engine.toml", "--require-devices"])
        .current_dir(dir.path())
        .env("DUALREC_TEST_SITE_PASSWORD", PASSWORD)
        .env("DUALREC_TEST_WRITE_KEY", KEY)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("engine starts");
    let addr = {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut addr = None;
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await
        {
            if let Some(a) = line.strip_prefix("listening on ") {
                addr = Some(a.trim().to_owned());
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        addr.expect("the engine printed its address")
    };
    let http = reqwest::Client::new();
    let names: Vec<String> = cameras
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|l| l.trim_end_matches('"').to_owned())
        .collect();
    let clicked = sites[0].now();
    for name in &names {
        let res = http
            .put(format!("http://{addr}/v1/cameras/{name}/recording"))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(r#"{"recording": true}"#)
            .send()
            .await
            .expect("the API answers");
        assert!(res.status().is_success(), "{name}: {}", res.status());
    }
    // Past two of the shortest limits and one of the longer ones.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let until = sites[0].now();
    let _ = child.kill().await;
    for (s, site) in sites.iter().enumerate() {
        for i in 1..=6 {
            let d = device(s, i);
            let footage = site.footage(&d).expect("device known");
            let gaps = footage.gaps_within(clicked + 2 * SECS, until - SECS);
            assert!(
                gaps.is_empty(),
                "{} camera {i}: gaps {gaps:?}",
                site.site_name()
            );
            let runs = site
                .manual_intervals(&d)
                .expect("device known")
                .spans()
                .len();
            if i <= 2 {
                assert!(
                    runs >= 3,
                    "{} camera {i}: renewed by its own 4 s limit ({runs} runs)",
                    site.site_name()
                );
            } else if i >= 5 {
                assert_eq!(runs, 1, "{} camera {i}: off never renews", site.site_name());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_its_exit_code_and_writes_nothing_half() {
    let sites = start_sites(true).await;
    let dir = tempfile::tempdir().unwrap();
    // An unpaired camera: exit 1, named on stderr and in the output.
    std::fs::write(dir.path().join("site.toml"), site_tables(&sites)).unwrap();
    let (code, out, err) = dualrec(&["discover", "--config", "site.toml"], dir.path()).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("camera \"Spare\"") && err.contains("not paired"),
        "{err}"
    );
    assert!(
        out.contains("# NOT WRITTEN: secondary: camera \"Spare\""),
        "{out}"
    );
    assert_eq!(out.matches("[[camera]]").count(), 6);

    // An unreachable site: exit 3, no output file.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let unreachable = site_tables(&sites).replacen(
        &sites[1].service_url().trim_end_matches('/').to_owned(),
        &format!("http://{closed}"),
        1,
    );
    std::fs::write(dir.path().join("down.toml"), unreachable).unwrap();
    let (code, _, err) = dualrec(
        &[
            "discover",
            "--config",
            "down.toml",
            "--out",
            "cams.toml",
            "--timeout",
            "10s",
        ],
        dir.path(),
    )
    .await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("site `secondary` is unreachable"), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert!(!dir.path().join("cams.toml").exists());

    // Wrong credentials: a configuration error, exit 2.
    let (code, _, err) = {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dualrec"))
            .args(["discover", "--config", "site.toml"])
            .current_dir(dir.path())
            .env("DUALREC_TEST_SITE_PASSWORD", "wrong")
            .output()
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            (),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refused the credentials"), "{err}");

    // An invalid config: exit 2 with file:line:col.
    std::fs::write(dir.path().join("bad.toml"), "[[site]]\nname = 3\n").unwrap();
    let (code, _, err) = dualrec(&["discover", "--config", "bad.toml"], dir.path()).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:2:8:"), "{err}");

    // The engine refuses to start on a device its site does not have.
    let bad_device = format!(
        "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"data\"\n\n[[api_key]]\nname = \"w\"\n\
         key_env = \"DUALREC_TEST_WRITE_KEY\"\nrole = \"write\"\n\n{}\n[[camera]]\nname = \"gone\"\n\
         devices = {{ primary = \"{}\", secondary = \"{}\" }}\n",
        site_tables(&sites),
        device(0, 77),
        device(1, 1)
    );
    std::fs::write(dir.path().join("engine.toml"), bad_device).unwrap();
    let (code, _, err) = dualrec(
        &["engine", "--config", "engine.toml", "--require-devices"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("camera `gone`") && err.contains("not on the site any more"),
        "{err}"
    );
    assert!(err.contains("refusing to start"), "{err}");
}
