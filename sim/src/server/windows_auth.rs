//! Windows authentication as IIS does it on the management server's
//! Windows-authenticated endpoints: NTLM under the `NTLM` and `Negotiate`
//! schemes, verified for real.
//!
//! NTLM is connection-bound: the NEGOTIATE message gets a CHALLENGE in a
//! 401, and the AUTHENTICATE message must follow on the same connection;
//! the handshake state lives in the connection's [`ConnCtx`]. The NTLMv2
//! response is verified by the `sspi` crate against the site user's
//! password — its MIC by `sspi`, its NTProofStr by `ntlm_proof.rs`, as a
//! domain controller does; the wire user name is then checked against the
//! account (and the attempt counted toward lockout) by the model's
//! [`Accounts`](crate::recorder::Accounts).
//!
//! Under `Negotiate` the NTLM messages come bare (NTLMSSP) or inside SPNEGO
//! (`spnego.rs`): then the CHALLENGE goes back in a NegTokenResp, the
//! client's mechListMIC is verified with the NTLM session's signing key,
//! and the success answer carries the final NegTokenResp (accept-completed,
//! with the server's mechListMIC) in its `WWW-Authenticate`. Kerberos is
//! not spoken (the mock has no KDC): SPNEGO selects NTLM, and a token that
//! is neither gets a plain `NTLM` challenge, which every Windows client
//! falls back to.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use sspi::{
    AuthIdentity, BufferType, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer,
    SecurityBufferRef, SecurityStatus, ServerRequestFlags, Sspi, SspiImpl, Username,
};

use super::auth::{authorization, log_refusal, unauthorized, Authorization, WINDOWS_CHALLENGES};
use super::listener::ConnCtx;
use super::spnego;
use super::state::Shared;

const NTLM_SIGNATURE: &[u8] = b"NTLMSSP\0";

/// Outcome of Windows authentication on one request.
pub(crate) enum WindowsAuth {
    /// The handshake completed: the account that logged in, and the
    /// `WWW-Authenticate` value the answer must carry (SPNEGO's final
    /// NegTokenResp with the server's mechListMIC), if any.
    Authenticated {
        user: String,
        final_challenge: Option<HeaderValue>,
    },
    /// Not (yet) authenticated: answer this (a 401 with a challenge).
    Respond(Response),
}

/// Adds the final `WWW-Authenticate` of a completed handshake to an answer.
pub(crate) fn with_final_challenge(mut r: Response, value: Option<HeaderValue>) -> Response {
    if let Some(v) = value {
        r.headers_mut().append(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// What a connection's handshake waits for next.
enum Pending {
    /// SPNEGO selected NTLM, but the client's NTLM NEGOTIATE is still to
    /// come (NTLM was not its first choice, or it sent no optimistic token).
    SpnegoNegotiate(Spnego),
    /// The CHALLENGE was sent: the AUTHENTICATE must follow.
    Authenticate(Box<Handshake>),
}

/// The SPNEGO side of a handshake.
struct Spnego {
    /// The client's MechTypeList (DER), which both mechListMICs sign.
    mech_types: Vec<u8>,
    /// NTLM was not the client's first choice: the mechListMIC exchange
    /// is required (RFC 4178 5).
    mic_required: bool,
}

/// The per-connection NTLM server state between NEGOTIATE and AUTHENTICATE.
struct Handshake {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
    /// The site user's password and the challenge sent, for the NTProofStr check.
    password: String,
    server_challenge: [u8; 8],
    /// `Some` when the NTLM messages travel inside SPNEGO.
    spnego: Option<Spnego>,
}

/// MS-NLMP NegotiateFlags: the character sets.
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_OEM: u32 = 0x0000_0002;

/// Runs one step of Windows authentication (NTLM, bare or inside SPNEGO)
/// for a request on a Windows-authenticated endpoint.
pub(crate) fn windows(shared: &Shared, conn: Option<&ConnCtx>, headers: &HeaderMap) -> WindowsAuth {
    let (scheme, token) = match authorization(headers) {
        Authorization::Ntlm { scheme, token } => (scheme, token),
        Authorization::None => return refuse("no credentials"),
        _ => return refuse("this endpoint takes NTLM or Negotiate only"),
    };
    let Some(conn) = conn else {
        return refuse("no connection state");
    };
    let mut slot = conn.handshake.lock().unwrap_or_else(|e| e.into_inner());
    let pending = slot.take().and_then(|b| b.downcast::<Pending>().ok());
    let (next, outcome) = if token.starts_with(NTLM_SIGNATURE) {
        bare_ntlm(shared, &scheme, token, pending)
    } else if scheme.eq_ignore_ascii_case("negotiate") && token.first() == Some(&spnego::INIT_TAG) {
        spnego_init(shared, &token)
    } else if scheme.eq_ignore_ascii_case("negotiate") && token.first() == Some(&spnego::RESP_TAG) {
        spnego_resp(shared, &token, pending)
    } else {
        // Not NTLMSSP, not SPNEGO (a bare Kerberos AP-REQ, say): ask for
        // plain NTLM, which every Windows client falls back to.
        (
            None,
            WindowsAuth::Respond(unauthorized(
                &["NTLM"],
                "only NTLM is supported (bare or inside SPNEGO); send an NTLMSSP token",
            )),
        )
    };
    *slot = next.map(|p| Box::new(p) as Box<dyn std::any::Any + Send>);
    outcome
}

/// A 401 with the Windows challenges.
fn refuse(why: &str) -> WindowsAuth {
    WindowsAuth::Respond(unauthorized(
        &WINDOWS_CHALLENGES,
        &format!("Windows authentication (NTLM) required: {why}"),
    ))
}

/// A 401 carrying one handshake token under `scheme`.
fn challenge(scheme: &str, token: &[u8], what: &str) -> WindowsAuth {
    let value = format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    );
    WindowsAuth::Respond(unauthorized(&[&value], what))
}

fn ntlm_kind(token: &[u8]) -> Option<u32> {
    if !token.starts_with(NTLM_SIGNATURE) {
        return None;
    }
    let b = token.get(8..12)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// NTLMSSP messages straight under `NTLM` or `Negotiate`.
fn bare_ntlm(
    shared: &Shared,
    scheme: &str,
    token: Vec<u8>,
    pending: Option<Box<Pending>>,
) -> (Option<Pending>, WindowsAuth) {
    match ntlm_kind(&token) {
        Some(1) => match start(shared, token, None) {
            Ok((hs, ch)) => (
                Some(Pending::Authenticate(Box::new(hs))),
                challenge(scheme, &ch, "NTLM challenge"),
            ),
            Err(e) => {
                tracing::debug!(site = %shared.site_name, error = %e, "bad NTLM NEGOTIATE");
                (None, refuse("malformed NTLM NEGOTIATE message"))
            }
        },
        Some(3) => match pending.map(|p| *p) {
            Some(Pending::Authenticate(hs)) if hs.spnego.is_none() => {
                (None, finish(shared, *hs, token, None))
            }
            _ => (
                None,
                refuse("NTLM AUTHENTICATE without a NEGOTIATE on this connection"),
            ),
        },
        _ => (None, refuse("unexpected NTLM message")),
    }
}

/// The client's first SPNEGO token (a NegTokenInit).
fn spnego_init(shared: &Shared, token: &[u8]) -> (Option<Pending>, WindowsAuth) {
    let init = match spnego::decode_init(token) {
        Ok(i) => i,
        Err(e) => {
            tracing::debug!(site = %shared.site_name, error = %e, "bad SPNEGO NegTokenInit");
            return (None, refuse("malformed SPNEGO NegTokenInit"));
        }
    };
    let Some(index) = init.ntlm_index else {
        return (
            None,
            WindowsAuth::Respond(unauthorized(
                &["NTLM"],
                "the SPNEGO token offers no NTLM; Kerberos is not supported here",
            )),
        );
    };
    let sp = Spnego {
        mech_types: init.mech_types,
        mic_required: index != 0,
    };
    match init.mech_token {
        // NTLM is the client's first choice and its NEGOTIATE came along.
        Some(t) if index == 0 => {
            if ntlm_kind(&t) != Some(1) {
                return (
                    None,
                    refuse("the SPNEGO mechToken is not an NTLM NEGOTIATE"),
                );
            }
            match start(shared, t, Some(sp)) {
                Ok((hs, ch)) => {
                    let resp = spnego::encode_resp(
                        spnego::NegState::AcceptIncomplete,
                        true,
                        Some(ch),
                        None,
                    );
                    (
                        Some(Pending::Authenticate(Box::new(hs))),
                        challenge("Negotiate", &resp, "NTLM challenge (SPNEGO)"),
                    )
                }
                Err(e) => {
                    tracing::debug!(site = %shared.site_name, error = %e, "bad NTLM NEGOTIATE in SPNEGO");
                    (None, refuse("malformed NTLM NEGOTIATE message"))
                }
            }
        }
        // Another mechanism first (its optimistic token is dropped), or no
        // token: select NTLM and wait for its NEGOTIATE.
        _ => {
            let state = if sp.mic_required {
                spnego::NegState::RequestMic
            } else {
                spnego::NegState::AcceptIncomplete
            };
            let resp = spnego::encode_resp(state, true, None, None);
            (
                Some(Pending::SpnegoNegotiate(sp)),
                challenge("Negotiate", &resp, "SPNEGO: NTLM selected"),
            )
        }
    }
}

/// A client's later SPNEGO token (a NegTokenResp).
fn spnego_resp(
    shared: &Shared,
    token: &[u8],
    pending: Option<Box<Pending>>,
) -> (Option<Pending>, WindowsAuth) {
    let resp = match spnego::decode_resp(token) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(site = %shared.site_name, error = %e, "bad SPNEGO NegTokenResp");
            return (None, refuse("malformed SPNEGO NegTokenResp"));
        }
    };
    let inner = resp.response_token.unwrap_or_default();
    match (pending.map(|p| *p), ntlm_kind(&inner)) {
        (Some(Pending::SpnegoNegotiate(sp)), Some(1)) => match start(shared, inner, Some(sp)) {
            Ok((hs, ch)) => {
                let resp =
                    spnego::encode_resp(spnego::NegState::AcceptIncomplete, false, Some(ch), None);
                (
                    Some(Pending::Authenticate(Box::new(hs))),
                    challenge("Negotiate", &resp, "NTLM challenge (SPNEGO)"),
                )
            }
            Err(e) => {
                tracing::debug!(site = %shared.site_name, error = %e, "bad NTLM NEGOTIATE in SPNEGO");
                (None, refuse("malformed NTLM NEGOTIATE message"))
            }
        },
        (Some(Pending::Authenticate(hs)), Some(3)) if hs.spnego.is_some() => {
            (None, finish(shared, *hs, inner, Some(resp.mech_list_mic)))
        }
        _ => (
            None,
            refuse("SPNEGO NegTokenResp out of sequence on this connection"),
        ),
    }
}

/// Answers a NEGOTIATE (`token`) with a CHALLENGE from an NTLM server
/// holding the site user's password.
fn start(
    shared: &Shared,
    mut token: Vec<u8>,
    spnego: Option<Spnego>,
) -> Result<(Handshake, Vec<u8>), String> {
    let (user, password) = shared.with_model(|m, _| {
        let (u, p) = m.accounts().credentials();
        (u.to_owned(), p.to_owned())
    });
    // `sspi`'s server reads and writes Unicode strings only and refuses
    // a NEGOTIATE without NEGOTIATE_UNICODE. A client that offers OEM only
    // (curl) is answered with a Unicode CHALLENGE — the CHALLENGE echoes
    // these flags — and such clients take the character set of their
    // AUTHENTICATE from the CHALLENGE (curl encodes its strings in UTF-16
    // when the CHALLENGE's flags have NEGOTIATE_UNICODE). Clients that sign
    // the NEGOTIATE into a MIC set UNICODE themselves, so their bytes are
    // never touched.
    if let Some(f) = token.get_mut(12..16) {
        let flags = u32::from_le_bytes([f[0], f[1], f[2], f[3]]);
        if flags & NEGOTIATE_UNICODE == 0 && flags & NEGOTIATE_OEM != 0 {
            f.copy_from_slice(&(flags | NEGOTIATE_UNICODE).to_le_bytes());
        }
    }
    let mut ntlm = Ntlm::new();
    let account = crate::recorder::account_key(&user);
    let identity = AuthIdentity {
        username: Username::new(&account, None).map_err(|e| e.to_string())?,
        password: password.clone().into(),
    };
    let acquired = ntlm
        .acquire_credentials_handle()
        .with_credential_use(CredentialUse::Inbound)
        .with_auth_data(&identity)
        .execute(&mut ntlm)
        .map_err(|e| e.to_string())?;
    let mut creds = acquired.credentials_handle;
    let mut input = vec![SecurityBuffer::new(token, BufferType::Token)];
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let builder = ntlm
        .accept_security_context()
        .with_credentials_handle(&mut creds)
        .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let result = ntlm
        .accept_security_context_impl(builder)
        .and_then(|mut g| g.resolve_to_result())
        .map_err(|e| e.to_string())?;
    if result.status != SecurityStatus::ContinueNeeded {
        return Err(format!(
            "unexpected status {:?} after NEGOTIATE",
            result.status
        ));
    }
    let challenge = std::mem::take(&mut output[0].buffer);
    let server_challenge = super::ntlm_proof::server_challenge(&challenge)
        .ok_or_else(|| "the CHALLENGE message has no server challenge".to_owned())?;
    Ok((
        Handshake {
            ntlm,
            creds,
            password,
            server_challenge,
            spnego,
        },
        challenge,
    ))
}

/// Verifies the AUTHENTICATE (and, inside SPNEGO, the client's
/// mechListMIC, `mic`), then checks the account with the model.
fn finish(
    shared: &Shared,
    mut hs: Handshake,
    token: Vec<u8>,
    mic: Option<Option<Vec<u8>>>,
) -> WindowsAuth {
    let ntlm_mic = super::ntlm_proof::has_mic(&token);
    let (name, mut verified) = authenticate(&mut hs, token);
    let mut final_challenge = None;
    if let Some(sp) = &hs.spnego {
        let client_mic = mic.flatten();
        let mut data = sp.mech_types.clone();
        if verified {
            verified = match client_mic.clone() {
                // Signed by the client with its first sequence number.
                Some(mut m) => match hs.ntlm.verify_signature(
                    &mut [
                        SecurityBufferRef::data_buf(&mut data),
                        SecurityBufferRef::token_buf(&mut m),
                    ],
                    0,
                ) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::debug!(user = %name, error = %e, "SPNEGO mechListMIC does not verify");
                        false
                    }
                },
                // MS-SPNG 3.3.5.1: mandatory when the AUTHENTICATE carries
                // a MIC, and when NTLM was not the client's first choice.
                None if sp.mic_required || ntlm_mic => {
                    tracing::debug!(user = %name, "SPNEGO mechListMIC missing");
                    false
                }
                None => true,
            };
        }
        if verified {
            // The server's own mechListMIC answers the client's.
            let server_mic = if client_mic.is_some() || sp.mic_required {
                let mut data = sp.mech_types.clone();
                let mut sig = vec![0u8; 16];
                match hs.ntlm.make_signature(
                    0,
                    &mut [
                        SecurityBufferRef::data_buf(&mut data),
                        SecurityBufferRef::token_buf(&mut sig),
                    ],
                    0,
                ) {
                    Ok(()) => Some(sig),
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot sign the SPNEGO mechListMIC");
                        verified = false;
                        None
                    }
                }
            } else {
                None
            };
            let resp =
                spnego::encode_resp(spnego::NegState::AcceptCompleted, false, None, server_mic);
            final_challenge = HeaderValue::from_str(&format!(
                "Negotiate {}",
                base64::engine::general_purpose::STANDARD.encode(resp)
            ))
            .ok();
        }
    }
    let outcome = shared.with_model(|m, now| m.accounts_mut().verified_login(now, &name, verified));
    match outcome {
        Ok(()) => WindowsAuth::Authenticated {
            user: name,
            final_challenge,
        },
        Err(e) => {
            log_refusal(shared, &name, e);
            refuse("logon failed")
        }
    }
}

/// Verifies the AUTHENTICATE message: the wire user name and whether its
/// NTLMv2 response proves the site user's password.
fn authenticate(hs: &mut Handshake, token: Vec<u8>) -> (String, bool) {
    let proof = super::ntlm_proof::proves_password(&token, &hs.server_challenge, &hs.password);
    let mut input = vec![SecurityBuffer::new(token, BufferType::Token)];
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let builder = hs
        .ntlm
        .accept_security_context()
        .with_credentials_handle(&mut hs.creds)
        .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let status = hs
        .ntlm
        .accept_security_context_impl(builder)
        .and_then(|mut g| g.resolve_to_result())
        .map(|r| r.status);
    let verified = match status {
        Ok(SecurityStatus::CompleteNeeded | SecurityStatus::CompleteAndContinue) => {
            hs.ntlm.complete_auth_token(&mut output).is_ok()
        }
        Ok(SecurityStatus::Ok) => true,
        Ok(other) => {
            tracing::debug!(?other, "unexpected NTLM status after AUTHENTICATE");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "NTLM AUTHENTICATE refused");
            false
        }
    };
    let name = hs
        .ntlm
        .query_context_names()
        .map(|n| n.username.inner().to_owned())
        .unwrap_or_default();
    if verified && !proof {
        tracing::debug!(user = %name, "NTLMv2 response does not prove the password");
    }
    (name, verified && proof)
}
