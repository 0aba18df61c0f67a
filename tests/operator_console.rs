//! The operator console (`/ui` of `dualrec engine`) in headless Chromium,
//! driven through chromedriver (WebDriver) the way an operator uses it:
//! a wrong key is refused; a read key sees but cannot click; a write key
//! signs in from the keyboard; Start Record on a tile turns both site
//! badges to recording and both mock sites' own footage shows it; Stop
//! stops both; multi-select, search, filter, paging over 1,200 cameras,
//! and Record all / Stop all behind a confirmation; a site killed
//! mid-test shows as down and comes back.
//!
//! The engine is the shipping binary as a child process; the two sites are
//! mock XProtect sites on loopback whose control listener (faults, ground
//! truth footage) is used over HTTP. Screenshots of every step are kept in
//! `target/tmp/operator-console/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `CHROMIUM`,
//! `CHROMEDRIVER`): with `CI` set their absence fails the test; otherwise
//! the test is marked ignored, with the reason (see build.rs).

mod engine_support;

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine_support::*;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig};

const CAMERAS: usize = 1200;
const WAIT: Duration = Duration::from_secs(30);
const POLICY: &str = "\n[policy]\nprobe_interval = \"500ms\"\ndown_probe_interval = \"300ms\"\nrequest_timeout = \"1s\"\n";

/// Chromium and chromedriver, or why not.
fn browser_tools() -> Result<(PathBuf, PathBuf), String> {
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    let driver =
        PathBuf::from(std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into()));
    for p in [&chromium, &driver] {
        if !p.is_file() {
            return Err(format!("{} not found", p.display()));
        }
    }
    Ok((chromium, driver))
}

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `dualrec engine` on `config`; returns it and its base URL.
fn spawn_engine(config: &Path) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(["engine", "--config"])
        .arg(config)
        .envs(env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dualrec engine");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the engine prints `listening on ADDR` once ready");
    (Proc(child), format!("http://{addr}"))
}

/// chromedriver on a free port, and a WebDriver session on headless
/// Chromium with a fresh profile.
async fn start_browser(chromium: &Path, driver: &Path, profile: &Path) -> (Proc, Client) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chromedriver");
    let proc = Proc(child);
    let http = reqwest::Client::new();
    let status = format!("http://127.0.0.1:{port}/status");
    let t0 = Instant::now();
    while http.get(&status).send().await.is_err() {
        assert!(t0.elapsed() < WAIT, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session on headless Chromium");
    (proc, client)
}

/// Two mock sites with control listeners, `n` cameras each.
async fn start_sites_with_control(n: usize) -> (MockSite, MockSite) {
    let mut sites = Vec::new();
    for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
        let cfg = MockSiteConfig::new(
            SiteConfig::new(name, SITE_USER, SITE_PASSWORD),
            vec![(1..=n).map(|i| device(s, i)).collect()],
        );
        let any = "127.0.0.1:0".parse().unwrap();
        sites.push(
            MockSite::start(cfg, any, Some(any))
                .await
                .expect("mock site starts"),
        );
    }
    let b = sites.pop().unwrap();
    let a = sites.pop().unwrap();
    (a, b)
}

struct Page {
    c: Client,
    base: String,
    shots: PathBuf,
    n: usize,
    http: reqwest::Client,
}

impl Page {
    async fn shot(&mut self, name: &str) {
        self.n += 1;
        let png = self.c.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&path, png).expect("write screenshot");
    }

    async fn by_xpath(&self, xpath: &str) -> Result<Element, fantoccini::error::CmdError> {
        self.c.find(Locator::XPath(xpath)).await
    }

    /// The element `f` finds, waiting for it to exist.
    async fn wait_for(&self, xpath: &str) -> Element {
        let t0 = Instant::now();
        loop {
            if let Ok(e) = self.by_xpath(xpath).await {
                return e;
            }
            assert!(t0.elapsed() < WAIT, "nothing matches {xpath}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The camera's tile: the region named after it.
    async fn tile(&self, cam: &str) -> Element {
        self.wait_for(&format!("//*[@role='region' and @aria-label='{cam}']"))
            .await
    }

    /// A button by its accessible name inside the camera's tile.
    async fn tile_button(&self, cam: &str, name: &str) -> Element {
        self.tile(cam)
            .await
            .find(Locator::XPath(&format!(
                ".//button[normalize-space()='{name}']"
            )))
            .await
            .unwrap_or_else(|e| panic!("{cam} has no button named {name:?}: {e}"))
    }

    async fn button(&self, name: &str) -> Element {
        self.wait_for(&format!("//button[normalize-space()='{name}']"))
            .await
    }

    /// `(site, state)` of each badge of the camera's tile.
    async fn badges(&self, cam: &str) -> Vec<(String, String)> {
        let Ok(tile) = self
            .by_xpath(&format!("//*[@role='region' and @aria-label='{cam}']"))
            .await
        else {
            return Vec::new();
        };
        let Ok(items) = tile.find_all(Locator::Css("li.badge")).await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for li in items {
            let site = li
                .attr("data-site")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let state = li
                .attr("data-state")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            out.push((site, state));
        }
        out
    }

    async fn wait_badges(&self, cam: &str, want: [&str; 2]) {
        let expected = vec![
            ("primary".to_string(), want[0].to_string()),
            ("secondary".to_string(), want[1].to_string()),
        ];
        let t0 = Instant::now();
        loop {
            let now = self.badges(cam).await;
            if now == expected {
                return;
            }
            assert!(
                t0.elapsed() < WAIT,
                "{cam}: badges {now:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a JS expression) until it returns `true`.
    async fn wait_js(&self, what: &str, script: &str) {
        let t0 = Instant::now();
        loop {
            let v = self
                .c
                .execute(&format!("return ({script});"), vec![])
                .await
                .unwrap_or(Value::Null);
            if v == Value::Bool(true) {
                return;
            }
            assert!(t0.elapsed() < WAIT, "{what}: `{script}` is {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.c
            .execute(&format!("return ({script});"), vec![])
            .await
            .expect("script runs")
    }

    async fn sign_in(&self, key: &str) {
        let label = self.wait_for("//label[normalize-space()='API key']").await;
        let id = label
            .attr("for")
            .await
            .unwrap()
            .expect("the label names its field");
        let field = self
            .c
            .find(Locator::Id(&id))
            .await
            .expect("the API key field");
        field.clear().await.unwrap();
        // The keyboard alone: type the key and press Enter.
        field
            .send_keys(&format!("{key}{}", &*Key::Enter))
            .await
            .unwrap();
    }

    async fn sign_out(&self) {
        self.button("Sign out").await.click().await.unwrap();
        self.wait_js("signed out", "!document.getElementById('signin').hidden")
            .await;
    }

    /// The mock site's own record of `device`: (recording now, footage intervals).
    async fn footage(&self, site: &MockSite, dev: &engine::core::DeviceId) -> (bool, usize) {
        let url = format!(
            "http://{}/footage/{}",
            site.control_addr().expect("control listener"),
            dev
        );
        let v: Value = self
            .http
            .get(url)
            .send()
            .await
            .expect("control API answers")
            .text()
            .await
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .expect("footage JSON");
        (
            v["recording"].as_bool().expect("recording"),
            v["footage"].as_array().expect("footage").len(),
        )
    }

    async fn wait_footage(&self, site: &MockSite, dev: &engine::core::DeviceId, recording: bool) {
        let t0 = Instant::now();
        loop {
            let (now, intervals) = self.footage(site, dev).await;
            if now == recording && intervals > 0 {
                return;
            }
            assert!(
                t0.elapsed() < WAIT,
                "{}: recording {now}, expected {recording}",
                dev
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(ci, all(have_chromium, have_chromedriver))),
    ignore = "needs Chromium and chromedriver (apt-get install chromium chromium-driver; CI installs them)"
)]
async fn operator_console_in_headless_chromium() {
    let (chromium, driver) = browser_tools().unwrap_or_else(|why| {
        panic!("the operator console test needs Chromium and chromedriver: {why} (.ci/run installs the Debian packages chromium and chromium-driver)")
    });
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator-console");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let (a, b) = start_sites_with_control(CAMERAS).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(
        &config,
        config_text(
            &a.service_url(),
            &b.service_url(),
            CAMERAS,
            &dir.path().join("data"),
            POLICY,
        ),
    )
    .unwrap();
    let (_engine, base) = spawn_engine(&config);
    let (_driver, client) =
        start_browser(&chromium, &driver, &dir.path().join("chromium-profile")).await;
    let mut p = Page {
        c: client,
        base,
        shots: shots.clone(),
        n: 0,
        http: reqwest::Client::new(),
    };

    p.c.goto(&format!("{}/ui", p.base)).await.unwrap();
    p.wait_for("//h2[normalize-space()='Sign in']").await;
    p.shot("sign-in").await;

    // A wrong key is refused and nothing is shown or kept.
    p.sign_in("not-a-valid-key-0123").await;
    p.wait_js(
        "the wrong key is refused",
        "document.getElementById('signin-error').textContent.includes('refused')",
    )
    .await;
    assert_eq!(
        p.js("document.getElementById('console').hidden").await,
        true
    );
    assert_eq!(p.js("sessionStorage.length").await, 0);
    p.shot("wrong-key-refused").await;

    // A read key sees every camera but cannot click.
    p.sign_in(READ_KEY).await;
    p.tile("cam-001").await;
    assert!(!p
        .tile_button("cam-001", "Start Record")
        .await
        .is_enabled()
        .await
        .unwrap());
    assert!(!p
        .tile_button("cam-001", "Stop Record")
        .await
        .is_enabled()
        .await
        .unwrap());
    assert!(!p.button("Record all").await.is_enabled().await.unwrap());
    p.wait_js(
        "the read-only note",
        "!document.getElementById('readonly').hidden",
    )
    .await;
    p.shot("read-key-read-only").await;
    p.sign_out().await;

    // The write key: kept in session storage, never in the address.
    p.sign_in(WRITE_KEY).await;
    p.tile("cam-001").await;
    assert_eq!(
        p.js("sessionStorage.getItem('dualrec.apiKey')").await,
        WRITE_KEY
    );
    let url = p.c.current_url().await.unwrap().to_string();
    assert!(!url.contains(WRITE_KEY) && !url.contains("key"), "{url}");
    p.wait_js(
        "the event stream is live",
        "document.getElementById('conn').dataset.state === 'live'",
    )
    .await;
    p.wait_js(
        "both sites in the panel",
        "document.querySelectorAll('#site-rows tr[data-up=\"true\"]').length === 2",
    )
    .await;
    // Paging: 1,200 cameras, 48 a page.
    p.wait_js(
        "25 pages",
        "document.getElementById('page-text').textContent === 'Page 1 of 25'",
    )
    .await;
    assert_eq!(
        p.js("document.querySelectorAll('#grid [role=region]').length")
            .await,
        48
    );
    p.shot("signed-in").await;

    // The gesture: Start Record on one tile.
    // Never clicked: the engine has not asked the sites about it yet.
    p.wait_badges("cam-001", ["unknown", "unknown"]).await;
    p.tile_button("cam-001", "Start Record")
        .await
        .click()
        .await
        .unwrap();
    p.wait_badges("cam-001", ["recording", "recording"]).await;
    p.shot("cam-001-recording").await;
    // Confirmed by both sites' own footage.
    p.wait_footage(&a, &device(0, 1), true).await;
    p.wait_footage(&b, &device(1, 1), true).await;
    assert!(!p.footage(&a, &device(0, 2)).await.0, "only cam-001");

    p.tile_button("cam-001", "Stop Record")
        .await
        .click()
        .await
        .unwrap();
    p.wait_badges("cam-001", ["stopped", "stopped"]).await;
    p.wait_footage(&a, &device(0, 1), false).await;
    p.wait_footage(&b, &device(1, 1), false).await;
    p.shot("cam-001-stopped").await;

    // Multi-select, then the filter and the search.
    for cam in ["cam-002", "cam-003"] {
        p.wait_for(&format!("//input[@aria-label='Select {cam}']"))
            .await
            .click()
            .await
            .unwrap();
    }
    p.button("Start Record on selected")
        .await
        .click()
        .await
        .unwrap();
    p.wait_badges("cam-002", ["recording", "recording"]).await;
    p.wait_badges("cam-003", ["recording", "recording"]).await;
    p.button("Clear selection").await.click().await.unwrap();
    let filter = p.c.find(Locator::Id("filter")).await.unwrap();
    filter.select_by_value("wanted").await.unwrap();
    p.wait_js(
        "the filter shows the two wanted cameras",
        "[...document.querySelectorAll('#grid [role=region]')].map(t => t.getAttribute('aria-label')).join() === 'cam-002,cam-003'",
    )
    .await;
    p.shot("filter-wanted-recording").await;
    filter.select_by_value("all").await.unwrap();
    let search = p.c.find(Locator::Id("search")).await.unwrap();
    search.send_keys("cam-00").await.unwrap();
    p.wait_js(
        "the search shows cam-001 to cam-009",
        "document.querySelectorAll('#grid [role=region]').length === 9",
    )
    .await;

    // Record all (of what is shown) asks first.
    p.button("Record all").await.click().await.unwrap();
    p.wait_js(
        "the confirmation",
        "document.getElementById('confirm').open",
    )
    .await;
    let text = p
        .js("document.getElementById('confirm-text').textContent")
        .await;
    assert!(text.as_str().unwrap().contains("9 cameras"), "{text}");
    p.shot("record-all-confirmation").await;
    p.by_xpath("//dialog//button[normalize-space()='Confirm']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for i in 1..=9 {
        p.wait_badges(&camera(i), ["recording", "recording"]).await;
    }
    for i in 1..=9 {
        p.wait_footage(&a, &device(0, i), true).await;
        p.wait_footage(&b, &device(1, i), true).await;
    }
    assert!(
        !p.footage(&a, &device(0, 10)).await.0,
        "only what was shown"
    );
    p.shot("record-all-recording").await;

    // A site killed mid-test shows as down, and comes back.
    let control = b.control_addr().unwrap();
    let res = p
        .http
        .post(format!("http://{control}/faults"))
        .body(r#"{"kind": "down"}"#)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "down fault: {}", res.status());
    p.wait_js(
        "the secondary is shown down",
        "document.querySelector('#site-rows tr[data-site=\"secondary\"]').dataset.up === 'false'",
    )
    .await;
    p.wait_badges("cam-001", ["recording", "down"]).await;
    p.shot("secondary-down").await;
    let res = p
        .http
        .delete(format!("http://{control}/faults"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    p.wait_js(
        "the secondary is shown up again",
        "document.querySelector('#site-rows tr[data-site=\"secondary\"]').dataset.up === 'true'",
    )
    .await;
    p.wait_badges("cam-001", ["recording", "recording"]).await;
    p.wait_footage(&b, &device(1, 1), true).await;
    p.shot("secondary-back").await;

    // Stop all (of what is shown), also behind a confirmation.
    p.button("Stop all").await.click().await.unwrap();
    p.wait_js(
        "the confirmation",
        "document.getElementById('confirm').open",
    )
    .await;
    p.by_xpath("//dialog//button[normalize-space()='Confirm']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for i in 1..=9 {
        p.wait_badges(&camera(i), ["stopped", "stopped"]).await;
        p.wait_footage(&a, &device(0, i), false).await;
        p.wait_footage(&b, &device(1, i), false).await;
    }
    p.shot("stop-all-stopped").await;

    // Paging moves through the list. Clearing the search re-renders after
    // a short debounce; until then the filtered list fits one page and
    // "Next page" is disabled (a click on it would do nothing), so wait
    // for the whole list, as a user would see it.
    search.clear().await.unwrap();
    p.wait_js(
        "the whole list is shown again",
        "!document.getElementById('next-page').disabled",
    )
    .await;
    p.button("Next page").await.click().await.unwrap();
    p.wait_js(
        "page 2 starts at cam-049",
        "document.querySelector('#grid [role=region]').getAttribute('aria-label') === 'cam-049'",
    )
    .await;
    p.shot("page-2").await;

    p.c.close().await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
    let _ = writeln!(
        std::io::stderr(),
        "operator console screenshots: {}",
        shots.display()
    );
}
