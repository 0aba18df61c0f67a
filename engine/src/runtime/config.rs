//! [`SiteEndpoint`]: where and how the runtime reaches one XProtect site
//! (management server, recording servers, credentials, TLS trust).
//!
//! The engine's view of a site ([`crate::core::SiteSpec`]) says *what* the
//! site is; this says *where* it is. `SiteEndpoint`s are given in the same
//! order as `MirrorConfig::sites`, one recorder URL per recorder id.

use std::fmt;

use xprotect::{LoginEndpoint, RECORDER_PATH};

/// Which kind of user the site's user is (and, with [`SiteLogin::Soap`],
/// which Login endpoint it logs in at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SiteAuth {
    /// Basic user: WCF `/ManagementServer/ServerCommandService.svc`, SOAP 1.1.
    #[default]
    Basic,
    /// Windows user: ASMX `/ServerAPI/ServerCommandService.asmx`, SOAP 1.2.
    Windows,
}

impl SiteAuth {
    /// The XProtect Login endpoint this kind of user logs in at.
    pub const fn login_endpoint(self) -> LoginEndpoint {
        match self {
            SiteAuth::Basic => LoginEndpoint::Basic,
            SiteAuth::Windows => LoginEndpoint::Windows,
        }
    }
}

/// How the engine logs in to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SiteLogin {
    /// The identity provider (`/IDP/connect/token`: password grant for basic
    /// users, NTLM `windows_credentials` for Windows users), then the OAuth
    /// SOAP Login with the bearer token. What current sites expect.
    #[default]
    Idp,
    /// The legacy SOAP Logins: HTTP Basic on the WCF `.svc` endpoint, or
    /// NTLM on the ASMX endpoint for Windows users.
    Soap,
}

/// How to reach one site. The credentials travel on the login requests
/// only (identity provider, or HTTP authentication on the SOAP Login);
/// recorder calls carry the Login token instead.
#[derive(Clone, PartialEq, Eq)]
pub struct SiteEndpoint {
    /// The site's name (as in `SiteSpec::name`), for logs.
    pub name: String,
    /// Base URL of the management server, e.g. `https://ms-a.example.local`.
    pub management_url: String,
    /// Base URL of each recording server, indexed by recorder id, e.g.
    /// `http://rs-a.example.local:7563`. A URL already ending in `.asmx` is
    /// used as is; otherwise the RecorderCommandService path is appended.
    pub recorder_urls: Vec<String>,
    pub username: String,
    pub password: String,
    pub auth: SiteAuth,
    pub login: SiteLogin,
    /// Extra trusted CA certificate(s), PEM, for sites with their own CA.
    pub tls_ca_pem: Option<Vec<u8>>,
    /// Trust exactly the certificate with this SHA-256 (self-signed sites).
    pub tls_cert_sha256: Option<[u8; 32]>,
    /// Where the password came from, if a file: it is read again before
    /// each fresh login, so a fixed password takes effect without restart.
    pub password_file: Option<std::path::PathBuf>,
}

impl SiteEndpoint {
    /// The SOAP Login endpoint this site's login ends at.
    pub fn login_endpoint(&self) -> LoginEndpoint {
        match self.login {
            SiteLogin::Idp => LoginEndpoint::OAuth,
            SiteLogin::Soap => self.auth.login_endpoint(),
        }
    }

    /// Full URL of the SOAP Login endpoint.
    pub fn login_url(&self) -> String {
        let path = self.login_endpoint().path();
        format!("{}{path}", self.management_url.trim_end_matches('/'))
    }

    /// Full URL of the identity provider's token endpoint.
    pub fn idp_url(&self) -> String {
        format!(
            "{}{}",
            self.management_url.trim_end_matches('/'),
            xprotect::IDP_TOKEN_PATH
        )
    }

    /// Full URL of recorder `recorder`'s RecorderCommandService, if the site
    /// has that recorder.
    pub fn recorder_url(&self, recorder: usize) -> Option<String> {
        let base = self.recorder_urls.get(recorder)?;
        if base.ends_with(".asmx") {
            Some(base.clone())
        } else {
            Some(format!("{}{RECORDER_PATH}", base.trim_end_matches('/')))
        }
    }
}

/// Never prints the password or the CA bytes.
impl fmt::Debug for SiteEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteEndpoint")
            .field("name", &self.name)
            .field("management_url", &self.management_url)
            .field("recorder_urls", &self.recorder_urls)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("auth", &self.auth)
            .field("login", &self.login)
            .field("tls_ca_pem", &self.tls_ca_pem.as_ref().map(|_| "<pem>"))
            .field(
                "tls_cert_sha256",
                &self
                    .tls_cert_sha256
                    .map(|f| super::tls::fingerprint_hex(&f)),
            )
            .field("password_file", &self.password_file)
            .finish()
    }
}
