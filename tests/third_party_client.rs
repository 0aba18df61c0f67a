//! A third-party XProtect client — Python `requests` with `requests-ntlm`
//! (NTLM by `pyspnego`), logging in the way Milestone's public samples do —
//! against the mock site over HTTPS: the identity provider with NTLM and
//! password grants, the OAuth login, manual recording with an upper-case
//! braced GUID, the windows SOAP login with NTLM, a wrong password.
//!
//! `.ci/run` installs the Python packages. Without them the test fails when
//! `CI` is set and is skipped visibly otherwise.

use std::process::Command;

use engine::core::DeviceId;
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig, TlsIdentity};

const DEVICE: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";

fn python_ready() -> bool {
    Command::new("python3")
        .args(["-c", "import requests, requests_ntlm, spnego"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_ntlm_logs_in_and_records_over_https() {
    if !python_ready() {
        let msg = "python3 with requests, requests-ntlm and pyspnego is not available \
                   (.ci/run installs them with pip)";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let mut mock = MockSiteConfig::new(
        SiteConfig::new("primary", "CORP\\svc-dualrec", "Pa55word!"),
        vec![vec![DeviceId::new(DEVICE)]],
    );
    mock.tls = Some(TlsIdentity::self_signed().expect("a certificate"));
    let addr = "127.0.0.1:0".parse().expect("a literal address");
    let site = MockSite::start(mock, addr, None)
        .await
        .expect("mock site starts");
    let base = site.service_url();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/xprotect_client.py"
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, &base, "CORP\\svc-dualrec", "Pa55word!", DEVICE])
            .output()
    })
    .await
    .expect("the task runs")
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(seen["idp_windows_status"], 200, "{seen}");
    assert_eq!(seen["idp_windows_token_type"], "Bearer");
    assert_eq!(seen["idp_windows_expires_in"], 3600);
    assert_eq!(seen["idp_basic_status"], 200);
    assert_eq!(seen["oauth_login_status"], 200);
    assert_eq!(seen["oauth_token_prefix"], "TOKEN#");
    assert_eq!(seen["oauth_ttl_micros"], 14_400_000_000u64);
    assert_eq!(seen["start_status"], 200);
    assert_eq!(
        seen["start_device"], DEVICE,
        "echoed lower-case without braces"
    );
    assert_eq!(seen["start_result_code"], 0);
    assert_eq!(seen["windows_soap_login_status"], 200);
    assert_eq!(seen["windows_soap_token_prefix"], "TOKEN#");
    assert_eq!(seen["wrong_password_status"], 401);
    assert_eq!(site.is_recording(&DeviceId::new(DEVICE)), Some(true));
    site.shutdown().await;
}
