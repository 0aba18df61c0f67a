//! [`NtlmClient`]: the client side of HTTP NTLM authentication for Windows
//! users, on top of the `sspi` crate (NTLMv2; no hand-written crypto).
//!
//! HTTP NTLM is a three-leg handshake bound to one TCP connection: the
//! client sends NEGOTIATE, the server answers 401 with a CHALLENGE, the
//! client repeats the request with AUTHENTICATE on the same connection.
//! This type only makes the tokens; `login.rs` sends them over a client
//! whose pool keeps that one connection.

use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation, Ntlm,
    SecurityBuffer, SecurityStatus, Sspi, SspiImpl, Username,
};

/// NTLM could not produce a token (a bad user name, a malformed challenge).
#[derive(Debug, thiserror::Error)]
#[error("NTLM: {0}")]
pub struct NtlmError(String);

fn err(e: impl std::fmt::Display) -> NtlmError {
    NtlmError(e.to_string())
}

/// One NTLM handshake as a client.
pub struct NtlmClient {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
    target: String,
}

impl std::fmt::Debug for NtlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmClient")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `DOMAIN\user`, `user@domain` or `user`, as NTLM wants it.
fn username(name: &str) -> Result<Username, NtlmError> {
    if let Some((domain, user)) = name.split_once('\\') {
        Username::new(user, Some(domain)).map_err(err)
    } else if let Some((user, suffix)) = name.split_once('@') {
        Username::new_upn(user, suffix).map_err(err)
    } else {
        Username::new(name, None).map_err(err)
    }
}

impl NtlmClient {
    /// A handshake for `user`/`password` towards `host` (for the SPN
    /// `HTTP/host`).
    pub fn new(user: &str, password: &str, host: &str) -> Result<Self, NtlmError> {
        let mut ntlm = Ntlm::new();
        let identity = AuthIdentity {
            username: username(user)?,
            password: password.to_owned().into(),
        };
        let acquired = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .map_err(err)?;
        Ok(NtlmClient {
            ntlm,
            creds: acquired.credentials_handle,
            target: format!("HTTP/{host}"),
        })
    }

    fn step(&mut self, input: Option<Vec<u8>>) -> Result<Vec<u8>, NtlmError> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input = input.map(|i| vec![SecurityBuffer::new(i, BufferType::Token)]);
        let flags = ClientRequestFlags::ALLOCATE_MEMORY;
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(flags)
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&self.target)
            .with_output(&mut output);
        if let Some(input) = input.as_mut() {
            builder = builder.with_input(input);
        }
        let result = self
            .ntlm
            .initialize_security_context_impl(&mut builder)
            .map_err(err)?
            .resolve_to_result()
            .map_err(err)?;
        if matches!(
            result.status,
            SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
        ) {
            self.ntlm.complete_auth_token(&mut output).map_err(err)?;
        }
        Ok(std::mem::take(&mut output[0].buffer))
    }

    /// The NEGOTIATE message (first leg).
    pub fn negotiate(&mut self) -> Result<Vec<u8>, NtlmError> {
        self.step(None)
    }

    /// The AUTHENTICATE message answering the server's CHALLENGE.
    pub fn authenticate(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, NtlmError> {
        self.step(Some(challenge))
    }
}

/// The NTLM token in a 401's `WWW-Authenticate: NTLM …` or `Negotiate …`
/// headers, if there is one.
pub fn challenge_token(headers: &reqwest::header::HeaderMap) -> Option<Vec<u8>> {
    use base64::Engine as _;
    headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            if scheme.eq_ignore_ascii_case("ntlm") || scheme.eq_ignore_ascii_case("negotiate") {
                base64::engine::general_purpose::STANDARD
                    .decode(token.trim())
                    .ok()
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_message_is_ntlmssp_type_1() {
        let mut c = NtlmClient::new("CORP\\svc", "pw", "127.0.0.1").expect("a client");
        let t = c.negotiate().expect("a NEGOTIATE message");
        assert!(t.starts_with(b"NTLMSSP\0"));
        assert_eq!(t[8], 1);
        assert!(c.authenticate(b"garbage".to_vec()).is_err());
        assert!(NtlmClient::new("a@b", "pw", "h").is_ok());
    }
}
