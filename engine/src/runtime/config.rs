//! [`SiteEndpoint`]: where and how the runtime reaches one XProtect site
//! (management server, recording servers, credentials, TLS trust).
//!
//! The engine's view of a site ([`crate::core::SiteSpec`]) says *what* the
//! site is; this says *where* it is. `SiteEndpoint`s are given in the same
//! order as `MirrorConfig::sites`, one recorder URL per recorder id.

use std::fmt;

use xprotect::{LoginEndpoint, RECORDER_PATH};

/// Which Login endpoint of the management server a site's user logs in at.
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

/// How to reach one site. The credentials travel as HTTP Basic auth on
/// Login only; recorder calls carry the Login token instead.
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
    /// Extra trusted CA certificate(s), PEM, for sites with their own CA.
    pub tls_ca_pem: Option<Vec<u8>>,
}

impl SiteEndpoint {
    /// Full URL of the Login endpoint for this site's [`SiteAuth`].
    pub fn login_url(&self) -> String {
        let path = self.auth.login_endpoint().path();
        format!("{}{path}", self.management_url.trim_end_matches('/'))
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
            .field("tls_ca_pem", &self.tls_ca_pem.as_ref().map(|_| "<pem>"))
            .finish()
    }
}
