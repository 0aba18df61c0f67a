//! The site config (TOML) shared by `dualrec engine` and `dualrec accept`:
//! listen address, data directory, API keys, sites, the camera pairing map
//! and engine policy. Every key is documented in `docs/site-config.md`.
//!
//! [`EngineConfig::load`] reads and validates a file; anything wrong is a
//! [`ConfigError::Invalid`] naming `file:line:col` and what was expected,
//! never a panic or a silent default. Secrets (API keys, site passwords)
//! come from environment variables or files named in the config, never from
//! the config itself; API keys are kept only as SHA-256 digests, and no
//! `Debug` output shows a secret.

mod cluster;
mod raw;
mod server;
mod validate;

pub use cluster::ClusterSettings;

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use crate::duration::parse_duration;
pub use server::{
    ServerSettings, TlsFiles, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT,
};

use crate::core::{CameraId, CameraSpec, DeviceId, MirrorConfig, Placement, Policy, SiteSpec};
use crate::input::line_col;
use crate::runtime::{SiteAuth, SiteEndpoint};

/// Default limit of a REST request body: 2 MiB, which admits the largest
/// batch (`service::MAX_BATCH_INTENTS` intents) even with 128-character
/// camera names (tested at that boundary).
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 << 20;
/// Default pre-buffer of a site's recorders.
pub const DEFAULT_PREBUFFER: crate::core::Nanos = 3 * crate::core::SECS;
/// Default "stop manual recording after" of a site (XProtect's default).
pub const DEFAULT_MANUAL_RECORDING_MAX: crate::core::Nanos = 5 * 60 * crate::core::SECS;
/// `[engine] device_check_interval` when not set.
pub const DEFAULT_DEVICE_CHECK_INTERVAL: crate::core::Nanos = 60 * 60 * crate::core::SECS;

/// Who reads a config: the service needs `[engine]` and API keys; an
/// engine inside another tool needs neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Service,
    InProcess,
    /// `dualrec discover`: like `InProcess`, and `[[camera]]` may be left
    /// out (discovery is how a new config gets its cameras).
    Discovery,
}

/// The `[engine]` table assumed by [`EngineConfig::load_in_process`] when the
/// file has none (nothing listens; the journal is not used).
const IN_PROCESS_ENGINE: &str = "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \".\"\n";

/// A config that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the config file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid config. `message` says what was wrong and,
    /// after `; expected`, what was expected.
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn at(
        file: &str,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, col) = line_col(text, span.start);
        ConfigError::Invalid {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `GET /metrics` only: for a Prometheus scraper, which then can read
    /// neither cameras nor the audit trail.
    Metrics,
    /// `GET` endpoints only.
    Read,
    /// Reads and clicks.
    Write,
}

impl Role {
    /// The spelling in the config file and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Metrics => "metrics",
            Role::Read => "read",
            Role::Write => "write",
        }
    }
}

/// One API key: a name for the audit log, its role, and the SHA-256 digest
/// of the bearer token (the token itself is not kept).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub role: Role,
    pub sha256: [u8; 32],
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("sha256", &"<redacted>")
            .finish()
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// One site: what the engine needs ([`SiteSpec`]) and where it is
/// ([`SiteEndpoint`], with the password read from its env var or file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSettings {
    pub spec: SiteSpec,
    pub endpoint: SiteEndpoint,
}

/// One logical camera and its device on each site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraSettings {
    pub spec: CameraSpec,
    /// Acceptance runs may use it; nothing else may.
    pub test: bool,
}

/// A validated site config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The file it came from (for messages).
    pub file: String,
    pub listen: SocketAddr,
    /// Where the journal lives (relative paths are relative to the config file).
    pub data_dir: PathBuf,
    pub max_body_bytes: usize,
    /// How often the engine checks its devices against the sites'
    /// configuration REST API; `None`: only at start-up.
    pub device_check_interval: Option<crate::core::Nanos>,
    /// HTTPS, timeouts and the connection limit of the API server.
    pub server: ServerSettings,
    /// Jitter seed; `None`: drawn from the clock at start.
    pub seed: Option<u64>,
    pub api_keys: Vec<ApiKey>,
    pub sites: Vec<SiteSettings>,
    pub cameras: Vec<CameraSettings>,
    pub policy: Policy,
    /// `Some` when `[engine] journal_url` names a PostgreSQL journal: this
    /// engine is one replica of a group.
    pub cluster: Option<ClusterSettings>,
}

/// Where secrets come from: the process environment and the file system in
/// production, anything in tests.
pub trait SecretSource {
    /// The value of environment variable `name`, if set.
    fn env(&self, name: &str) -> Option<String>;
    /// The bytes of file `path`.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The permission bits of file `path` (Unix mode), when known; a secret
    /// file others may read or write is refused.
    fn mode(&self, _path: &Path) -> Option<u32> {
        None
    }
}

/// The real environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessSecrets;

impl SecretSource for ProcessSecrets {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    #[cfg(unix)]
    fn mode(&self, path: &Path) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).ok().map(|m| m.permissions().mode())
    }
}

/// Reads a config file: its name for messages, its text (invalid UTF-8
/// is an input error at `file:line:col`, not an I/O error) and the folder
/// its relative paths are resolved against.
fn read_config(path: &Path) -> Result<(String, String, PathBuf), ConfigError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        file: file.clone(),
        source,
    })?;
    let text = crate::input::utf8_text(bytes).map_err(|e| ConfigError::Invalid {
        file: file.clone(),
        line: e.line,
        col: e.col,
        message: e.to_string(),
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((file, text, base))
}

impl EngineConfig {
    /// Reads and validates `path`, secrets from the process environment.
    pub fn load(path: &Path) -> Result<EngineConfig, ConfigError> {
        let (file, text, base) = read_config(path)?;
        EngineConfig::parse(&file, &text, &base, &ProcessSecrets)
    }

    /// Validates config text `text` (named `file` in messages); relative
    /// paths are resolved against `base`.
    pub fn parse(
        file: &str,
        text: &str,
        base: &Path,
        secrets: &dyn SecretSource,
    ) -> Result<EngineConfig, ConfigError> {
        validate::validate(file, text, base, secrets, Purpose::Service)
    }

    /// Reads `path` for an engine that runs inside another tool (`dualrec
    /// accept`): `[engine]` and `[[api_key]]` may be left out — nothing
    /// listens — and API keys are neither read nor checked. Sites, cameras
    /// and policy are validated exactly as for the service.
    pub fn load_in_process(path: &Path) -> Result<EngineConfig, ConfigError> {
        let (file, text, base) = read_config(path)?;
        EngineConfig::parse_in_process(&file, &text, &base, &ProcessSecrets)
    }

    /// Reads `path` for `dualrec discover`: as
    /// [`EngineConfig::load_in_process`], and the config may have no
    /// `[[camera]]` yet.
    pub fn load_for_discovery(path: &Path) -> Result<EngineConfig, ConfigError> {
        let (file, text, base) = read_config(path)?;
        EngineConfig::parse_without_engine(&file, &text, &base, &ProcessSecrets, Purpose::Discovery)
    }

    /// [`EngineConfig::load_for_discovery`] of config text.
    pub fn parse_for_discovery(
        file: &str,
        text: &str,
        base: &Path,
        secrets: &dyn SecretSource,
    ) -> Result<EngineConfig, ConfigError> {
        EngineConfig::parse_without_engine(file, text, base, secrets, Purpose::Discovery)
    }

    /// [`EngineConfig::load_in_process`] of config text.
    pub fn parse_in_process(
        file: &str,
        text: &str,
        base: &Path,
        secrets: &dyn SecretSource,
    ) -> Result<EngineConfig, ConfigError> {
        EngineConfig::parse_without_engine(file, text, base, secrets, Purpose::InProcess)
    }

    fn parse_without_engine(
        file: &str,
        text: &str,
        base: &Path,
        secrets: &dyn SecretSource,
        purpose: Purpose,
    ) -> Result<EngineConfig, ConfigError> {
        // Without `[engine]`, one that listens nowhere useful is appended
        // after the file's own text, so every position in a message still
        // points into the file as written.
        let has_engine = text
            .parse::<toml::Table>()
            .map_or(true, |t| t.contains_key("engine"));
        if has_engine {
            validate::validate(file, text, base, secrets, purpose)
        } else {
            let text = format!("{text}\n{IN_PROCESS_ENGINE}");
            validate::validate(file, &text, base, secrets, purpose)
        }
    }

    /// What [`crate::core::Mirror`] is built from.
    pub fn mirror_config(&self) -> MirrorConfig {
        MirrorConfig {
            sites: self.sites.iter().map(|s| s.spec.clone()).collect(),
            cameras: self.cameras.iter().map(|c| c.spec.clone()).collect(),
            policy: self.policy.clone(),
        }
    }

    /// One endpoint per site, in configuration order (what
    /// [`crate::runtime::Driver::new`] takes).
    pub fn endpoints(&self) -> Vec<SiteEndpoint> {
        self.sites.iter().map(|s| s.endpoint.clone()).collect()
    }

    /// The configured camera names, in configuration order.
    pub fn camera_ids(&self) -> Vec<CameraId> {
        self.cameras.iter().map(|c| c.spec.id.clone()).collect()
    }
}

/// Builds a camera spec (for tests and tools that make configs in code).
pub fn camera(name: &str, devices: &[(usize, usize, &str)]) -> CameraSpec {
    CameraSpec {
        id: CameraId::new(name),
        placements: devices
            .iter()
            .map(|&(site, recorder, device)| Placement {
                site,
                recorder,
                device: DeviceId::new(device),
                settings: Default::default(),
            })
            .collect(),
    }
}

pub(crate) fn site_auth(raw: raw::RawAuth) -> SiteAuth {
    match raw {
        raw::RawAuth::Basic => SiteAuth::Basic,
        raw::RawAuth::Windows => SiteAuth::Windows,
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
