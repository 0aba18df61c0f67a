//! The engine against mock sites that behave like real 2023–2025 XProtect
//! sites, over real sockets: HTTPS with a self-signed certificate pinned by
//! SHA-256, the identity provider with password and NTLM grants, the OAuth
//! login, the legacy SOAP logins with Basic and NTLM, device GUIDs written
//! upper-case with braces, strict SOAP parsing, and an account lockout
//! policy the engine must never trigger.

use std::time::{Duration, Instant};

use engine::core::{
    CameraId, CameraSpec, DeviceId, MirrorConfig, Placement, Policy, RecorderOp, Reply, SiteSpec,
    TransportError, SECS,
};
use engine::runtime::{SiteAuth, SiteEndpoint, SiteLogin, SoapClient};
use sim::recorder::{LockoutPolicy, SiteConfig};
use sim::server::{MockSite, MockSiteConfig, TlsIdentity};

const USER: &str = "svc-dualrec";
const PASSWORD: &str = "s3cret!";
const DEVICE: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";
const DEVICE_AS_PEOPLE_WRITE_IT: &str = "{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A}";

async fn site(tls: Option<TlsIdentity>, lockout: Option<u32>) -> MockSite {
    let mut cfg = SiteConfig::new("primary", USER, PASSWORD);
    cfg.lockout = lockout.map(LockoutPolicy::domain_default);
    let mut mock = MockSiteConfig::new(cfg, vec![vec![DeviceId::new(DEVICE)]]);
    mock.tls = tls;
    let addr = "127.0.0.1:0".parse().expect("a literal address");
    MockSite::start(mock, addr, None)
        .await
        .expect("mock site starts")
}

fn endpoint(
    site: &MockSite,
    login: SiteLogin,
    auth: SiteAuth,
    pin: Option<[u8; 32]>,
) -> SiteEndpoint {
    SiteEndpoint {
        name: "primary".into(),
        management_url: site.service_url(),
        recorder_urls: vec![site.service_url()],
        username: USER.into(),
        password: PASSWORD.into(),
        auth,
        login,
        tls_ca_pem: None,
        tls_cert_sha256: pin,
        password_file: None,
    }
}

fn pin_of(id: &TlsIdentity) -> [u8; 32] {
    engine::runtime::parse_fingerprint(&id.fingerprint_sha256())
        .expect("the mock's fingerprint parses")
}

async fn token(client: &SoapClient) -> (String, u64) {
    match client.login(None).await {
        Ok(Reply::LoggedIn { token, ttl }) => (token, ttl),
        other => panic!("expected a login, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_login_path_over_pinned_https_with_braced_upper_case_guids() {
    let id = TlsIdentity::self_signed().expect("a certificate");
    let pin = pin_of(&id);
    let site = site(Some(id), None).await;
    assert!(site.service_url().starts_with("https://"));
    for (login, auth) in [
        (SiteLogin::Idp, SiteAuth::Basic),
        (SiteLogin::Idp, SiteAuth::Windows),
        (SiteLogin::Soap, SiteAuth::Basic),
        (SiteLogin::Soap, SiteAuth::Windows),
    ] {
        let client = SoapClient::new(&endpoint(&site, login, auth, Some(pin))).expect("a client");
        let (token, ttl) = token(&client).await;
        assert!(token.starts_with("TOKEN#"), "{login:?}/{auth:?}: {token}");
        let expected_ttl = match login {
            // min(TimeToLive 4 h, expires_in 1 h)
            SiteLogin::Idp => 3600 * SECS,
            SiteLogin::Soap => 4 * 3600 * SECS,
        };
        assert_eq!(ttl, expected_ttl, "{login:?}/{auth:?}");
        let devices = [DeviceId::new(DEVICE_AS_PEOPLE_WRITE_IT)];
        match client.call(0, RecorderOp::Start, &devices, &token).await {
            Ok(Reply::Results(r)) => {
                assert_eq!(r.len(), 1);
                assert!(r[0].ok);
                assert_eq!(&*r[0].device.text(), DEVICE, "ids come back lower-case");
                assert_eq!(
                    r[0].device, devices[0],
                    "and compare equal to the braced form"
                );
            }
            other => panic!("{login:?}/{auth:?}: expected results, got {other:?}"),
        }
        match client.call(0, RecorderOp::Probe, &devices, &token).await {
            Ok(Reply::States(s)) => assert!(s[0].recording && s[0].device == devices[0]),
            other => panic!("expected states, got {other:?}"),
        }
        assert_eq!(client.tls_problem(), None);
    }
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_rejected_on_every_path() {
    let id = TlsIdentity::self_signed().expect("a certificate");
    let pin = pin_of(&id);
    let site = site(Some(id), None).await;
    for (login, auth) in [
        (SiteLogin::Idp, SiteAuth::Basic),
        (SiteLogin::Idp, SiteAuth::Windows),
        (SiteLogin::Soap, SiteAuth::Basic),
        (SiteLogin::Soap, SiteAuth::Windows),
    ] {
        let mut ep = endpoint(&site, login, auth, Some(pin));
        ep.password = "wrong".into();
        let client = SoapClient::new(&ep).expect("a client");
        match client.login(None).await {
            Ok(Reply::CredentialsRejected { message }) => assert!(!message.is_empty()),
            other => panic!("{login:?}/{auth:?}: expected a rejection, got {other:?}"),
        }
        // Another user with the right password is refused too (NTLM proves
        // the password, the site checks the account).
        let mut ep = endpoint(&site, login, auth, Some(pin));
        ep.username = "intruder".into();
        let client = SoapClient::new(&ep).expect("a client");
        assert!(
            matches!(
                client.login(None).await,
                Ok(Reply::CredentialsRejected { .. })
            ),
            "{login:?}/{auth:?}: another user must be refused"
        );
    }
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpinned_self_signed_certificate_is_named_and_the_site_unreachable() {
    let site = site(
        Some(TlsIdentity::self_signed().expect("a certificate")),
        None,
    )
    .await;
    // Trusting the web PKI only.
    let client =
        SoapClient::new(&endpoint(&site, SiteLogin::Idp, SiteAuth::Basic, None)).expect("a client");
    // A failed connection like a site that is down, but saying why.
    let refused = client.login(None).await;
    assert!(
        matches!(&refused, Err(TransportError::Malformed(m)) if m.starts_with("TLS certificate rejected")),
        "{refused:?}"
    );
    let why = client
        .tls_problem()
        .expect("the certificate problem is named");
    assert!(why.contains("not signed by a trusted CA"), "{why}");
    // Pinned to another certificate.
    let other = pin_of(&TlsIdentity::self_signed().expect("a certificate"));
    let client = SoapClient::new(&endpoint(
        &site,
        SiteLogin::Idp,
        SiteAuth::Basic,
        Some(other),
    ))
    .expect("a client");
    let refused = client.login(None).await;
    assert!(
        matches!(&refused, Err(TransportError::Malformed(m)) if m.contains("tls_cert_sha256")),
        "{refused:?}"
    );
    assert!(client
        .tls_problem()
        .is_some_and(|w| w.contains("tls_cert_sha256")));
    site.shutdown().await;
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("a client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_plain_http_refusal_and_lockout_like_a_domain() {
    let site = site(
        Some(TlsIdentity::self_signed().expect("a certificate")),
        Some(3),
    )
    .await;
    let base = site.service_url();
    let c = http();
    let r = c
        .post(format!("{base}/ServerAPI/ServerCommandService.asmx"))
        .body("x")
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 401);
    let challenges: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(challenges, vec!["Negotiate".to_owned(), "NTLM".to_owned()]);
    let r = c
        .post(format!("{base}/managementserver/servercommandservice.svc"))
        .body("x")
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .is_ok_and(|v| v.starts_with("Basic")));
    // Plain HTTP to the HTTPS port: the Basic login refuses it.
    let plain = format!(
        "http://{}/ManagementServer/ServerCommandService.svc",
        site.service_addr()
    );
    let r = c
        .post(plain)
        .basic_auth(USER, Some(PASSWORD))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(xprotect::encode_login_request(
            xprotect::SoapVersion::V11,
            &xprotect::LoginRequest {
                instance_id: xprotect::NIL_GUID.into(),
                current_token: None,
            },
        ))
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 403);
    // Three wrong passwords lock the account; then the right one is refused
    // exactly like a wrong one.
    let idp = format!("{base}/API/IDP/connect/token");
    let grant = |p: &str| {
        format!("grant_type=password&username={USER}&password={p}&client_id=GrantValidatorClient")
    };
    for _ in 0..3 {
        let r = c
            .post(&idp)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(grant("wrong"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(r.status().as_u16(), 400);
        let body: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("a body")).expect("JSON");
        assert_eq!(body["error"], "invalid_grant");
    }
    let r = c
        .post(&idp)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(grant(PASSWORD))
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        r.status().as_u16(),
        400,
        "a locked account answers as a wrong password"
    );
    assert_eq!(site.with_model(|m, _| m.accounts().stats().lockouts), 1);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_soap_refuses_what_dotnet_refuses_and_executes_nothing() {
    let id = TlsIdentity::self_signed().expect("a certificate");
    let pin = pin_of(&id);
    let site = site(Some(id), None).await;
    let client = SoapClient::new(&endpoint(&site, SiteLogin::Idp, SiteAuth::Basic, Some(pin)))
        .expect("a client");
    let (token, _) = token(&client).await;
    let url = format!("{}{}", site.service_url(), xprotect::RECORDER_PATH);
    let op = format!(
        "<StartManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token>{token}</token><deviceIds><guid>{DEVICE}</guid></deviceIds></StartManualRecording>"
    );
    let env = |ns: &str, body: &str| {
        format!("<s:Envelope xmlns:s=\"{ns}\"><s:Body>{body}</s:Body></s:Envelope>")
    };
    let v11 = "http://schemas.xmlsoap.org/soap/envelope/";
    let bad = [
        env("urn:not-soap", &op),
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]>{}",
            env(v11, &op)
        ),
        format!("<?xml version=\"1.0\" encoding=?>{}", env(v11, &op)),
        env(
            v11,
            &op.replace("http://videoos.net/2/XProtectCSRecorderCommand", "urn:evil"),
        ),
        env(
            v11,
            &op.replace(
                "<StartManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\">",
                "<r:StartManualRecording>",
            )
            .replace("</StartManualRecording>", "</r:StartManualRecording>"),
        ),
    ];
    let c = http();
    for body in bad {
        let r = c
            .post(&url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(body.clone())
            .send()
            .await
            .expect("an answer");
        let status = r.status().as_u16();
        let text = r.text().await.expect("a body");
        assert_eq!(status, 400, "{body}");
        assert!(
            xprotect::decode_fault(&text).is_ok(),
            "a SOAP fault for {body}: {text}"
        );
    }
    assert_eq!(
        site.is_recording(&DeviceId::new(DEVICE)),
        Some(false),
        "nothing was executed"
    );
    // A bearer token is not a recorder token.
    site.shutdown().await;
}

fn mirror_config() -> MirrorConfig {
    MirrorConfig {
        sites: vec![SiteSpec {
            name: "primary".into(),
            recorders: 1,
            manual_recording_max: Some(300 * SECS),
            prebuffer: 3 * SECS,
        }],
        cameras: vec![CameraSpec {
            id: CameraId::new("lobby"),
            placements: vec![Placement {
                site: 0,
                recorder: 0,
                device: DeviceId::new(DEVICE_AS_PEOPLE_WRITE_IT),
                settings: Default::default(),
            }],
        }],
        policy: Policy::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_never_locks_the_account_and_a_fixed_file_resumes_recording() {
    let id = TlsIdentity::self_signed().expect("a certificate");
    let pin = pin_of(&id);
    // A strict domain: 3 failures lock the account for 15 minutes.
    let site = site(Some(id), Some(3)).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("password");
    std::fs::write(&file, "wrong\n").expect("write the password file");
    // Only its owner may read a password file (else it is refused).
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod 600");
    let mut ep = endpoint(&site, SiteLogin::Idp, SiteAuth::Windows, Some(pin));
    ep.password = "wrong".into();
    ep.password_file = Some(file.clone());
    let handle = engine::runtime::spawn(mirror_config(), vec![ep], 7).expect("the engine starts");
    handle
        .set_intent(&CameraId::new("lobby"), true)
        .await
        .expect("the click is taken");
    // Long enough for dozens of logins at the old 500 ms pace.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let stats = handle.stats().await.expect("stats");
    assert_eq!(
        stats.mirror.credential_rejections, 1,
        "one login, then a long back-off"
    );
    assert_eq!(stats.site_problems.len(), 1);
    assert_eq!(stats.site_problems[0].kind, "credentials_rejected");
    let accounts =
        site.with_model(|m, now| (m.accounts().stats(), m.accounts().is_locked(now, USER)));
    assert_eq!(accounts.0.failed_logins, 1);
    assert!(!accounts.1, "the account is not locked");
    // The operator fixes the password file: recording starts within seconds.
    std::fs::write(&file, format!("{PASSWORD}\n")).expect("fix the password file");
    let fixed = Instant::now();
    loop {
        if site.is_recording(&DeviceId::new(DEVICE)) == Some(true) {
            break;
        }
        assert!(
            fixed.elapsed() < Duration::from_secs(20),
            "recording did not resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = handle
        .status(&CameraId::new("lobby"))
        .await
        .expect("status")
        .expect("a known camera");
    assert!(status.sites.iter().all(|s| s.site_up));
    let stats = handle.stats().await.expect("stats");
    assert!(stats.site_problems.is_empty(), "{:?}", stats.site_problems);
    handle.shutdown().await;
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_the_site_does_not_know_is_a_camera_configuration_error() {
    let id = TlsIdentity::self_signed().expect("a certificate");
    let pin = pin_of(&id);
    let site = site(Some(id), None).await;
    let mut cfg = mirror_config();
    // A GUID the site does not have, written the way people write them.
    cfg.cameras[0].placements[0].device = DeviceId::new("{5F0C1D2E-0000-4000-8000-0000000000FF}");
    let ep = endpoint(&site, SiteLogin::Idp, SiteAuth::Basic, Some(pin));
    let handle = engine::runtime::spawn(cfg, vec![ep], 3).expect("the engine starts");
    handle
        .set_intent(&CameraId::new("lobby"), true)
        .await
        .expect("the click is taken");
    // Probes run every 2 s; the old request back-off would retry ~15 times.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stats = handle.stats().await.expect("stats");
    assert_eq!(
        stats.mirror.device_rejections, 1,
        "asked once, then a long back-off"
    );
    assert!(
        stats
            .site_problems
            .iter()
            .any(|p| p.kind == "unknown_device" && p.message.contains("lobby")),
        "{:?}",
        stats.site_problems
    );
    let status = handle
        .status(&CameraId::new("lobby"))
        .await
        .expect("status")
        .expect("a known camera");
    assert!(status.sites[0].config_error.is_some());
    handle.shutdown().await;
    site.shutdown().await;
}
