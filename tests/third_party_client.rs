//! Third-party clients against the mock site, unchanged, over real NTLM:
//!
//! - Python `requests` with `requests-ntlm` (NTLM by `pyspnego`), logging in
//!   the way Milestone's public samples do, over HTTPS: the identity
//!   provider with NTLM and password grants, the OAuth login, manual
//!   recording with an upper-case braced GUID, the windows SOAP login with
//!   NTLM, a wrong password;
//! - pyspnego's `negotiate` protocol (SPNEGO-wrapped NTLM, what .NET on
//!   Linux sends), its final token and mechListMIC checked by pyspnego;
//! - `curl --ntlm` (OEM NEGOTIATE, empty body on the NEGOTIATE leg of a
//!   POST) on the identity provider over HTTPS and the windows SOAP login.
//!
//! `.ci/run` installs the Python packages and curl. Without them the tests
//! that need them are reported ignored, with the reason, unless `CI` is set
//! — then they run and fail (see build.rs).

use std::process::Command;

use engine::core::DeviceId;
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig, TlsIdentity};

const DEVICE: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";
const USER: &str = "CORP\\svc-dualrec";
const PASSWORD: &str = "Pa55word!";

fn python_ready() -> bool {
    Command::new("python3")
        .args(["-c", "import requests, requests_ntlm, spnego"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Python packages are there: the test is ignored where build.rs found
/// them missing, unless `CI` is set — then their absence fails it here.
fn require_python() {
    assert!(
        python_ready(),
        "python3 with requests, requests-ntlm and pyspnego is not available \
         (.ci/run installs them with pip)"
    );
}

/// A mock site with one camera for [`USER`], over HTTPS when `tls`.
async fn site(tls: Option<TlsIdentity>) -> MockSite {
    let mut mock = MockSiteConfig::new(
        SiteConfig::new("primary", USER, PASSWORD),
        vec![vec![DeviceId::new(DEVICE)]],
    );
    mock.tls = tls;
    let addr = "127.0.0.1:0".parse().expect("a literal address");
    MockSite::start(mock, addr, None)
        .await
        .expect("mock site starts")
}

/// Runs a Python client script with `args`; its one JSON line.
async fn python(script: &'static str, args: Vec<String>) -> serde_json::Value {
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3").arg(script).args(&args).output()
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
    serde_json::from_str(stdout.trim()).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(ci, have_python_ntlm)),
    ignore = "needs python3 with requests, requests-ntlm and pyspnego (.ci/run installs them with pip)"
)]
async fn python_requests_ntlm_logs_in_and_records_over_https() {
    require_python();
    let site = site(Some(TlsIdentity::self_signed().expect("a certificate"))).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/xprotect_client.py"
    );
    let args = [&site.service_url(), USER, PASSWORD, DEVICE].map(|a| a.to_string());
    let seen = python(script, args.to_vec()).await;
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

/// pyspnego's Negotiate context (what .NET on Linux and Windows' Negotiate
/// package send): a GSS-API NegTokenInit (0x60), NegTokenResp (0xa1) with
/// NTLM inside, the mechListMIC both ways; the 200 carries the final
/// NegTokenResp, whose mechListMIC pyspnego verifies before it calls the
/// context complete. Also a wrong password, and bare NTLMSSP under
/// `Negotiate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(ci, have_python_ntlm)),
    ignore = "needs python3 with requests, requests-ntlm and pyspnego (.ci/run installs them with pip)"
)]
async fn pyspnego_negotiate_spnego_logs_in_over_https() {
    require_python();
    let site = site(Some(TlsIdentity::self_signed().expect("a certificate"))).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/spnego_client.py");
    let args = [&site.service_url(), USER, PASSWORD].map(|a| a.to_string());
    let seen = python(script, args.to_vec()).await;
    for leg in ["idp", "soap"] {
        let s = &seen[leg];
        assert_eq!(s["status"], 200, "{leg}: {seen}");
        assert_eq!(
            s["client_tags"],
            serde_json::json!([0x60, 0xa1]),
            "{leg}: NegTokenInit, then NegTokenResp: {seen}"
        );
        assert_eq!(
            s["server_tags"],
            serde_json::json!([0xa1, 0xa1]),
            "{leg}: the challenge and the final token are NegTokenResps: {seen}"
        );
        assert_eq!(s["final_token"], true, "{leg}: {seen}");
        assert_eq!(
            s["complete"], true,
            "{leg}: server mechListMIC verified: {seen}"
        );
    }
    assert_eq!(seen["idp"]["token_type"], "Bearer");
    assert_eq!(seen["soap"]["has_token"], true);
    let wrong = &seen["wrong_password"];
    assert_eq!(wrong["status"], 401, "{seen}");
    assert_eq!(wrong["final_token"], false);
    assert_eq!(wrong["complete"], false);
    let bare = &seen["bare_ntlm"];
    assert_eq!(bare["status"], 200, "{seen}");
    assert_eq!(
        bare["client_tags"],
        serde_json::json!([b'N', b'N']),
        "NTLMSSP, not SPNEGO: {seen}"
    );
    site.shutdown().await;
}

/// Runs curl (`CURL` or `curl` on the PATH) with `args`; the HTTP status
/// of the last answer and its body.
fn curl(args: &[&str]) -> (u16, String) {
    let bin = std::env::var("CURL").unwrap_or_else(|_| "curl".to_owned());
    let out = Command::new(&bin)
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin} runs: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "curl failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (
        code.trim().parse().expect("an HTTP status"),
        body.to_owned(),
    )
}

const WINDOWS_GRANT: &str = "grant_type=windows_credentials&client_id=GrantValidatorClient";

/// `curl --ntlm` on the identity provider over HTTPS, as an integrator
/// scripts it: curl offers OEM strings only and sends the form on the
/// AUTHENTICATE leg only (an empty body on the NEGOTIATE leg). The token
/// then logs in on the OAuth endpoint; a wrong password is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(have_curl, ci)),
    ignore = "needs curl (apt-get install curl; CI installs it)"
)]
async fn curl_ntlm_gets_a_token_from_the_identity_provider_over_https() {
    let tls = TlsIdentity::self_signed().expect("a certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("site.pem");
    std::fs::write(&ca, tls.leaf_pem()).expect("the certificate is written");
    let site = site(Some(tls)).await;
    let base = site.service_url();
    let ca = ca.to_str().expect("a UTF-8 path").to_owned();
    let right = format!("{USER}:{PASSWORD}");
    let wrong = format!("{USER}:{PASSWORD}x");
    let token_url = format!("{base}/IDP/connect/token");
    let oauth_url = format!("{base}/ManagementServer/ServerCommandServiceOAuth.svc");
    let (right_answer, wrong_answer, oauth) = tokio::task::spawn_blocking(move || {
        let ntlm = |user: &str| {
            curl(&[
                "--ntlm",
                "-u",
                user,
                "--cacert",
                &ca,
                "-d",
                WINDOWS_GRANT,
                &token_url,
            ])
        };
        let right_answer = ntlm(&right);
        let wrong_answer = ntlm(&wrong);
        let token: serde_json::Value =
            serde_json::from_str(&right_answer.1).unwrap_or(serde_json::Value::Null);
        let bearer = format!(
            "Authorization: Bearer {}",
            token["access_token"].as_str().unwrap_or("")
        );
        let envelope = xprotect::encode_login_request(
            xprotect::SoapVersion::V11,
            &xprotect::LoginRequest {
                instance_id: "00000000-0000-0000-0000-000000000000".into(),
                current_token: None,
            },
        );
        let oauth = curl(&[
            "--cacert",
            &ca,
            "-H",
            &bearer,
            "-H",
            "Content-Type: text/xml; charset=utf-8",
            "--data-binary",
            &envelope,
            &oauth_url,
        ]);
        (right_answer, wrong_answer, oauth)
    })
    .await
    .expect("the task runs");
    assert_eq!(right_answer.0, 200, "{}", right_answer.1);
    let token: serde_json::Value = serde_json::from_str(&right_answer.1).expect("JSON");
    assert_eq!(token["token_type"], "Bearer", "{token}");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(oauth.0, 200, "{}", oauth.1);
    assert!(oauth.1.contains("<Token>TOKEN#"), "{}", oauth.1);
    assert_eq!(wrong_answer.0, 401, "{}", wrong_answer.1);
    site.shutdown().await;
}

/// `curl --ntlm` on the windows SOAP Login (ASMX, SOAP 1.2) over plain
/// HTTP: a token with the right password, 401 with a wrong one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(have_curl, ci)),
    ignore = "needs curl (apt-get install curl; CI installs it)"
)]
async fn curl_ntlm_logs_in_on_the_windows_soap_endpoint() {
    let site = site(None).await;
    let url = format!(
        "{}{}",
        site.service_url(),
        xprotect::LoginEndpoint::Windows.path()
    );
    let envelope = xprotect::encode_login_request(
        xprotect::SoapVersion::V12,
        &xprotect::LoginRequest {
            instance_id: "00000000-0000-0000-0000-000000000000".into(),
            current_token: None,
        },
    );
    let (right, wrong) = tokio::task::spawn_blocking(move || {
        let login = |password: &str| {
            curl(&[
                "--ntlm",
                "-u",
                &format!("{USER}:{password}"),
                "-H",
                "Content-Type: application/soap+xml; charset=utf-8",
                "--data-binary",
                &envelope,
                &url,
            ])
        };
        (login(PASSWORD), login("not-the-password"))
    })
    .await
    .expect("the task runs");
    assert_eq!(right.0, 200, "{}", right.1);
    assert!(right.1.contains("<Token>TOKEN#"), "{}", right.1);
    assert_eq!(wrong.0, 401, "{}", wrong.1);
    site.shutdown().await;
}
