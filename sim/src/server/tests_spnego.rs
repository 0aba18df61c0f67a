//! SPNEGO-wrapped NTLM on the windows SOAP Login over one real keep-alive
//! loopback connection, with `sspi`'s NTLM client inside hand-built SPNEGO
//! tokens: the paths pyspnego does not take (NTLM as the client's second
//! choice, so the server answers `request-mic`), and mechListMICs that are
//! missing or wrong.

use std::net::SocketAddr;

use base64::Engine as _;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation, Ntlm,
    SecurityBuffer, SecurityBufferRef, SecurityStatus, Sspi, SspiImpl, Username,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use engine::core::DeviceId;
use xprotect::{encode_login_request, LoginEndpoint, LoginRequest, SoapVersion};

use super::spnego::tests::{init_token, read_server_resp, resp_token};
use super::spnego::{self};
use super::{MockSite, MockSiteConfig};
use crate::recorder::SiteConfig;

const NTLM_OID: &str = "1.3.6.1.4.1.311.2.2.10";
const KRB5_OID: &str = "1.2.840.113554.1.2.2";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One HTTP/1.1 connection kept open across requests (NTLM is bound to it).
struct Conn(TcpStream, SocketAddr);

/// Status, the `WWW-Authenticate: Negotiate` token if any, the body.
type Answer = (u16, Option<Vec<u8>>, String);

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        Conn(TcpStream::connect(addr).await.expect("connects"), addr)
    }

    async fn login(&mut self, negotiate: &[u8]) -> Answer {
        let body = encode_login_request(
            SoapVersion::V12,
            &LoginRequest {
                instance_id: xprotect::NIL_GUID.into(),
                current_token: None,
            },
        );
        let req = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/soap+xml; charset=utf-8\r\n\
             Authorization: Negotiate {}\r\nContent-Length: {}\r\n\r\n{body}",
            LoginEndpoint::Windows.path(),
            self.1,
            B64.encode(negotiate),
            body.len()
        );
        self.0.write_all(req.as_bytes()).await.expect("sends");
        let mut buf = Vec::new();
        let head_end = loop {
            let mut chunk = [0u8; 4096];
            let n = self.0.read(&mut chunk).await.expect("reads");
            assert!(n > 0, "the server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let status: u16 = head[9..12].parse().expect("a status");
        let mut len = 0;
        let mut token = None;
        for line in head.lines().skip(1) {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().expect("a length");
            }
            if k.eq_ignore_ascii_case("www-authenticate") {
                if let Some(t) = v.trim().strip_prefix("Negotiate ") {
                    token = Some(B64.decode(t.trim()).expect("base64"));
                }
            }
        }
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            let n = self.0.read(&mut chunk).await.expect("reads");
            assert!(n > 0, "body cut short");
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
        (status, token, body)
    }
}

/// `sspi`'s NTLM client (the MIC in its AUTHENTICATE is always on).
struct Client {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
}

impl Client {
    fn new(password: &str) -> Client {
        let mut ntlm = Ntlm::new();
        let identity = AuthIdentity {
            username: Username::new("svc-dualrec", Some("CORP")).expect("a user name"),
            password: password.to_owned().into(),
        };
        let acquired = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .expect("credentials");
        Client {
            ntlm,
            creds: acquired.credentials_handle,
        }
    }

    fn step(&mut self, input: Option<Vec<u8>>) -> Vec<u8> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input = input.map(|i| vec![SecurityBuffer::new(i, BufferType::Token)]);
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(ClientRequestFlags::ALLOCATE_MEMORY)
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name("HTTP/127.0.0.1")
            .with_output(&mut output);
        if let Some(input) = input.as_mut() {
            builder = builder.with_input(input);
        }
        let result = self
            .ntlm
            .initialize_security_context_impl(&mut builder)
            .expect("a step")
            .resolve_to_result()
            .expect("a step");
        if matches!(
            result.status,
            SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
        ) {
            self.ntlm
                .complete_auth_token(&mut output)
                .expect("completes");
        }
        std::mem::take(&mut output[0].buffer)
    }

    /// The mechListMIC over `mech_types` (the client's first signature).
    fn mic(&mut self, mech_types: &[u8]) -> Vec<u8> {
        let mut data = mech_types.to_vec();
        let mut sig = vec![0u8; 16];
        self.ntlm
            .make_signature(
                0,
                &mut [
                    SecurityBufferRef::data_buf(&mut data),
                    SecurityBufferRef::token_buf(&mut sig),
                ],
                0,
            )
            .expect("signs");
        sig
    }

    fn verify(&mut self, mech_types: &[u8], mic: &[u8]) -> bool {
        let mut data = mech_types.to_vec();
        let mut sig = mic.to_vec();
        self.ntlm
            .verify_signature(
                &mut [
                    SecurityBufferRef::data_buf(&mut data),
                    SecurityBufferRef::token_buf(&mut sig),
                ],
                0,
            )
            .is_ok()
    }
}

async fn site() -> MockSite {
    let cfg = MockSiteConfig::new(
        SiteConfig::new("primary", "CORP\\svc-dualrec", "Pa55word!"),
        vec![vec![DeviceId::new("a8a8b9dc-3995-49ed-9b00-62caac2ce74a")]],
    );
    MockSite::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0)), None)
        .await
        .expect("the mock site starts")
}

/// What the client sends with its AUTHENTICATE.
enum Mic {
    Right,
    Missing,
    Wrong,
}

/// Kerberos first (with an optimistic token the server must drop), NTLM
/// second: `request-mic`, then the NTLM handshake inside NegTokenResps.
async fn ntlm_second(password: &str, mic: Mic) -> (Answer, Client, Vec<u8>) {
    let site = site().await;
    let mut conn = Conn::open(site.service_addr()).await;
    let mut client = Client::new(password);
    let init = init_token(&[KRB5_OID, NTLM_OID], Some(b"\x6e\x82 not NTLM".to_vec()));
    let mech_types = spnego::decode_init(&init).expect("our token").mech_types;

    let (status, token, _) = conn.login(&init).await;
    assert_eq!(status, 401);
    let (state, ntlm, inner, server_mic) = read_server_resp(&token.expect("a NegTokenResp"));
    assert_eq!(
        state,
        Some(3),
        "request-mic: NTLM is not the client's first choice"
    );
    assert!(ntlm, "supportedMech is NTLM");
    assert_eq!((inner, server_mic), (None, None));

    let negotiate = client.step(None);
    let (status, token, _) = conn.login(&resp_token(Some(negotiate), None)).await;
    assert_eq!(status, 401);
    let (state, _, challenge, _) = read_server_resp(&token.expect("a NegTokenResp"));
    assert_eq!(state, Some(1), "accept-incomplete");
    let challenge = challenge.expect("the CHALLENGE");
    assert!(challenge.starts_with(b"NTLMSSP\0\x02"));

    let authenticate = client.step(Some(challenge));
    let mic = match mic {
        Mic::Right => Some(client.mic(&mech_types)),
        Mic::Missing => None,
        Mic::Wrong => {
            let mut m = client.mic(&mech_types);
            m[8] ^= 1;
            Some(m)
        }
    };
    let answer = conn.login(&resp_token(Some(authenticate), mic)).await;
    site.shutdown().await;
    (answer, client, mech_types)
}

#[tokio::test]
async fn ntlm_as_second_choice_logs_in_with_mechlistmics_both_ways() {
    let ((status, token, body), mut client, mech_types) =
        ntlm_second("Pa55word!", Mic::Right).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Token>TOKEN#"), "{body}");
    let (state, _, inner, server_mic) = read_server_resp(&token.expect("the final NegTokenResp"));
    assert_eq!(state, Some(0), "accept-completed");
    assert_eq!(inner, None);
    let server_mic = server_mic.expect("the server's mechListMIC");
    assert!(
        client.verify(&mech_types, &server_mic),
        "signed with the server's key"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_mechlistmic_or_password_is_refused() {
    for (password, mic, what) in [
        ("Pa55word!", Mic::Missing, "no mechListMIC"),
        ("Pa55word!", Mic::Wrong, "a wrong mechListMIC"),
        ("wrong", Mic::Right, "a wrong password"),
    ] {
        let ((status, token, _), _, _) = ntlm_second(password, mic).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(token, None, "{what}: no final token");
    }
}

/// NTLM as first choice with its NEGOTIATE inside the NegTokenInit (what
/// pyspnego and .NET send); a NegTokenResp with no handshake under way, and
/// garbage after the tag bytes, are refused.
#[tokio::test]
async fn optimistic_ntlm_and_out_of_sequence_tokens() {
    let site = site().await;
    let mut conn = Conn::open(site.service_addr()).await;
    let mut client = Client::new("Pa55word!");
    let init = init_token(&[NTLM_OID, KRB5_OID], Some(client.step(None)));
    let mech_types = spnego::decode_init(&init).expect("our token").mech_types;
    let (status, token, _) = conn.login(&init).await;
    assert_eq!(status, 401);
    let (state, ntlm, challenge, _) = read_server_resp(&token.expect("a NegTokenResp"));
    assert_eq!(state, Some(1));
    assert!(ntlm);
    let authenticate = client.step(Some(challenge.expect("the CHALLENGE")));
    let mic = client.mic(&mech_types);
    let (status, token, _) = conn.login(&resp_token(Some(authenticate), Some(mic))).await;
    assert_eq!(status, 200);
    let (_, _, _, server_mic) = read_server_resp(&token.expect("the final token"));
    assert!(client.verify(&mech_types, &server_mic.expect("a mechListMIC")));

    let mut other = Conn::open(site.service_addr()).await;
    let (status, token, _) = other.login(&resp_token(Some(vec![1, 2, 3]), None)).await;
    assert_eq!(
        (status, token),
        (401, None),
        "NegTokenResp without a handshake"
    );
    let (status, _, _) = other.login(&[0x60, 0x03, 0x01, 0x02, 0x03]).await;
    assert_eq!(status, 401, "a broken NegTokenInit");
    let (status, _, body) = other.login(&[0xa1, 0x80, 0xff]).await;
    assert_eq!(status, 401, "a broken NegTokenResp: {body}");
    site.shutdown().await;
}
