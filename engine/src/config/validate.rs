//! From [`RawFile`] to [`EngineConfig`]: every check that needs more than
//! one value, each error at the offending key or value.

use crate::input::tidy_toml_message;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::raw::{RawApiKey, RawCamera, RawFile, RawRole, RawSite};
use super::{
    sha256, site_auth, ApiKey, CameraSettings, ConfigError, EngineConfig, Purpose, Role,
    SecretSource, SiteSettings, DEFAULT_DEVICE_CHECK_INTERVAL, DEFAULT_MANUAL_RECORDING_MAX,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_PREBUFFER,
};
use crate::core::{CameraId, CameraSpec, DeviceId, DeviceSettings, Placement, Policy, SiteSpec};
use crate::runtime::{SiteEndpoint, SiteLogin};

type Result<T> = std::result::Result<T, ConfigError>;

/// Shortest API key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 16;

pub(super) struct Cx<'a> {
    file: &'a str,
    text: &'a str,
    base: &'a Path,
    secrets: &'a dyn SecretSource,
}

impl Cx<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.file, self.text, span, message)
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// The value of the environment variable named at `name`.
    pub(super) fn env(&self, name: &Spanned<String>, what: &str) -> Result<String> {
        match self.secrets.env(name.get_ref()) {
            Some(v) if !v.is_empty() => Ok(v),
            Some(_) => Err(self.err(
                name.span(),
                format!(
                    "environment variable `{}` is empty; expected it to hold the {what}",
                    name.get_ref()
                ),
            )),
            None => Err(self.err(
                name.span(),
                format!(
                    "environment variable `{}` is not set; expected it to hold the {what}",
                    name.get_ref()
                ),
            )),
        }
    }

    /// Refuses a secret file that others may read or write (group or
    /// world write, world read): a leaked key is not revocable by a restart.
    pub(super) fn private_file(&self, name: &Spanned<String>) -> Result<()> {
        let path = self.path(name.get_ref());
        if let Some(mode) = self.secrets.mode(&path) {
            if mode & 0o027 != 0 {
                return Err(self.err(
                    name.span(),
                    format!(
                        "`{}` is readable or writable by others (mode {:04o}); expected a file \
                         only its owner can write and nobody else can read (`chmod 600 {}`)",
                        path.display(),
                        mode & 0o7777,
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The path named at `name`, checked to be a readable PEM file holding
    /// a `-----BEGIN …{label}-----` block.
    pub(super) fn pem_file(
        &self,
        name: &Spanned<String>,
        label: &str,
        what: &str,
    ) -> Result<PathBuf> {
        let path = self.path(name.get_ref());
        let pem = self.secrets.read(&path).map_err(|e| {
            self.err(
                name.span(),
                format!(
                    "cannot read `{}`: {e}; expected a PEM file with {what}",
                    path.display()
                ),
            )
        })?;
        let found = pem.split(|&b| b == b'\n').any(|line| {
            line.starts_with(b"-----BEGIN ")
                && line.windows(label.len()).any(|w| w == label.as_bytes())
        });
        if !found {
            return Err(self.err(
                name.span(),
                format!(
                    "`{}` holds no PEM {label}; expected a PEM file with {what} (`-----BEGIN …{label}-----`)",
                    path.display()
                ),
            ));
        }
        Ok(path)
    }

    /// The contents of the file named at `name`, one trailing newline removed.
    pub(super) fn file_secret(&self, name: &Spanned<String>, what: &str) -> Result<Vec<u8>> {
        self.private_file(name)?;
        let path = self.path(name.get_ref());
        let mut bytes = self.secrets.read(&path).map_err(|e| {
            self.err(
                name.span(),
                format!(
                    "cannot read `{}`: {e}; expected a file holding the {what}",
                    path.display()
                ),
            )
        })?;
        if bytes.ends_with(b"\n") {
            bytes.pop();
            if bytes.ends_with(b"\r") {
                bytes.pop();
            }
        }
        if bytes.is_empty() {
            return Err(self.err(
                name.span(),
                format!(
                    "`{}` is empty; expected it to hold the {what}",
                    path.display()
                ),
            ));
        }
        Ok(bytes)
    }
}

pub(super) fn validate(
    file: &str,
    text: &str,
    base: &Path,
    secrets: &dyn SecretSource,
    purpose: Purpose,
) -> Result<EngineConfig> {
    let cx = Cx {
        file,
        text,
        base,
        secrets,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start);
        cx.err(start..start, tidy_toml_message(e.message()))
    })?;

    let engine = raw.engine.get_ref();
    let listen: SocketAddr = engine.listen.get_ref().parse().map_err(|_| {
        cx.err(
            engine.listen.span(),
            format!(
                "`{}` is not a listen address; expected `IP:PORT` like \"127.0.0.1:8080\"",
                engine.listen.get_ref()
            ),
        )
    })?;
    if engine.data_dir.get_ref().trim().is_empty() {
        return Err(cx.err(
            engine.data_dir.span(),
            "`data_dir` is empty; expected the folder the journal lives in",
        ));
    }
    let data_dir = cx.path(engine.data_dir.get_ref());
    let max_body_bytes = match &engine.max_body_bytes {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(n) if *n.get_ref() >= 1024 => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
        Some(n) => {
            return Err(cx.err(
                n.span(),
                format!(
                    "`max_body_bytes = {}` is too small; expected at least 1024",
                    n.get_ref()
                ),
            ))
        }
    };

    // An in-process engine serves no API: its keys, TLS files and
    // connection limits are not needed.
    let (server, api_keys) = match purpose {
        Purpose::Service => (
            super::server::server_settings(&cx, engine)?,
            api_keys(&cx, &raw.api_key, raw.engine.span())?,
        ),
        Purpose::InProcess | Purpose::Discovery => {
            (super::server::ServerSettings::default(), Vec::new())
        }
    };
    let sites = sites(&cx, &raw.site, raw.engine.span())?;
    let cameras = if raw.camera.is_empty() && purpose == Purpose::Discovery {
        Vec::new()
    } else {
        cameras(&cx, &raw.camera, &sites, raw.engine.span())?
    };
    let policy = match &raw.policy {
        None => Policy::default(),
        Some(p) => p.apply().map_err(|e| cx.err(e.span, e.message))?,
    };

    let cluster = super::cluster::settings(&cx, engine, &policy)?;

    let device_check_interval = match &engine.device_check_interval {
        None => Some(DEFAULT_DEVICE_CHECK_INTERVAL),
        Some(d) => match d.get_ref().0 {
            Some(n) if n < 10 * crate::core::SECS => {
                return Err(cx.err(
                    d.span(),
                    "`device_check_interval` is under 10s; expected a duration like `1h`, \
                     or \"off\"",
                ))
            }
            other => other,
        },
    };
    Ok(EngineConfig {
        cluster,
        device_check_interval,
        file: file.to_string(),
        listen,
        data_dir,
        max_body_bytes,
        server,
        seed: engine.seed,
        api_keys,
        sites,
        cameras,
        policy,
    })
}

/// Names used in URLs and metrics labels: ASCII letters, digits, `-`, `_`, `.`.
fn check_name(cx: &Cx<'_>, name: &Spanned<String>, what: &str) -> Result<()> {
    let n = name.get_ref();
    if n.is_empty()
        || n.len() > 128
        || !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(cx.err(
            name.span(),
            format!(
                "`{n}` is not a valid {what} name; expected 1-128 ASCII letters, digits, `-`, `_` or `.`"
            ),
        ));
    }
    Ok(())
}

fn api_keys(
    cx: &Cx<'_>,
    raw: &[Spanned<RawApiKey>],
    engine_span: Range<usize>,
) -> Result<Vec<ApiKey>> {
    if raw.is_empty() {
        return Err(cx.err(
            engine_span,
            "no `[[api_key]]`; expected at least one (every request needs a bearer key)",
        ));
    }
    let mut names = HashSet::new();
    let mut digests = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for k in raw {
        let key = k.get_ref();
        check_name(cx, &key.name, "key")?;
        if !names.insert(key.name.get_ref().clone()) {
            return Err(cx.err(
                key.name.span(),
                format!(
                    "API key `{}` is defined twice; expected unique names",
                    key.name.get_ref()
                ),
            ));
        }
        let sources = [&key.key_env, &key.key_file, &key.key_sha256];
        let given: Vec<_> = sources.iter().filter_map(|s| s.as_ref()).collect();
        if given.len() != 1 {
            let span = given.get(1).map_or(k.span(), |s| s.span());
            return Err(cx.err(
                span,
                format!(
                    "API key `{}` needs exactly one of `key_env`, `key_file` or `key_sha256`",
                    key.name.get_ref()
                ),
            ));
        }
        let digest = if let Some(env) = &key.key_env {
            let v = cx.env(env, "API key")?;
            check_key_len(cx, env, v.len())?;
            sha256(v.as_bytes())
        } else if let Some(path) = &key.key_file {
            let v = cx.file_secret(path, "API key")?;
            check_key_len(cx, path, v.len())?;
            sha256(&v)
        } else if let Some(hex) = &key.key_sha256 {
            parse_hex32(hex.get_ref()).ok_or_else(|| {
                cx.err(
                    hex.span(),
                    "`key_sha256` is not a SHA-256 digest; expected 64 hexadecimal digits (`sha256sum` of the key)",
                )
            })?
        } else {
            unreachable!("exactly one key source was checked above")
        };
        if !digests.insert(digest) {
            return Err(cx.err(
                key.name.span(),
                format!(
                    "API key `{}` is the same key as an earlier one; expected distinct keys",
                    key.name.get_ref()
                ),
            ));
        }
        out.push(ApiKey {
            name: key.name.get_ref().clone(),
            role: match key.role {
                RawRole::Metrics => Role::Metrics,
                RawRole::Read => Role::Read,
                RawRole::Write => Role::Write,
            },
            sha256: digest,
        });
    }
    Ok(out)
}

fn check_key_len(cx: &Cx<'_>, at: &Spanned<String>, len: usize) -> Result<()> {
    if len < MIN_KEY_LEN {
        return Err(cx.err(
            at.span(),
            format!(
                "the API key from `{}` is {len} bytes long; expected at least {MIN_KEY_LEN}",
                at.get_ref()
            ),
        ));
    }
    Ok(())
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn check_url(cx: &Cx<'_>, url: &Spanned<String>) -> Result<()> {
    let u = url.get_ref();
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(cx.err(
            url.span(),
            format!("`{u}` is not a URL; expected `http://HOST[:PORT]` or `https://HOST[:PORT]`"),
        )),
    }
}

fn sites(
    cx: &Cx<'_>,
    raw: &[Spanned<RawSite>],
    engine_span: Range<usize>,
) -> Result<Vec<SiteSettings>> {
    if raw.is_empty() {
        return Err(cx.err(
            engine_span,
            "no `[[site]]`; expected at least one (usually a primary and a secondary)",
        ));
    }
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let site = s.get_ref();
        check_name(cx, &site.name, "site")?;
        if !names.insert(site.name.get_ref().clone()) {
            return Err(cx.err(
                site.name.span(),
                format!(
                    "site `{}` is defined twice; expected unique names",
                    site.name.get_ref()
                ),
            ));
        }
        check_url(cx, &site.management_url)?;
        let recorder_urls: Vec<String> = match (&site.recorder_url, &site.recorder_urls) {
            (Some(u), None) => {
                check_url(cx, u)?;
                vec![u.get_ref().clone()]
            }
            (None, Some(list)) if !list.get_ref().is_empty() => {
                for u in list.get_ref() {
                    check_url(cx, u)?;
                }
                list.get_ref().iter().map(|u| u.get_ref().clone()).collect()
            }
            (None, Some(list)) => {
                return Err(cx.err(
                    list.span(),
                    "`recorder_urls` is empty; expected one URL per recording server",
                ))
            }
            (Some(_), Some(list)) => {
                return Err(cx.err(
                    list.span(),
                    "both `recorder_url` and `recorder_urls`; expected one of them",
                ))
            }
            (None, None) => {
                return Err(cx.err(
                    site.name.span(),
                    format!(
                        "site `{}` has no recorder; expected `recorder_url = \"http://…:7563\"` or `recorder_urls = [...]`",
                        site.name.get_ref()
                    ),
                ))
            }
        };
        if site.username.get_ref().is_empty() {
            return Err(cx.err(
                site.username.span(),
                "`username` is empty; expected the site's service user",
            ));
        }
        let password = match (&site.password_env, &site.password_file) {
            (Some(env), None) => cx.env(env, "site password")?,
            (None, Some(path)) => String::from_utf8(cx.file_secret(path, "site password")?)
                .map_err(|_| cx.err(path.span(), "the password file is not UTF-8; expected a text file"))?,
            (Some(_), Some(path)) => {
                return Err(cx.err(
                    path.span(),
                    "both `password_env` and `password_file`; expected one of them",
                ))
            }
            (None, None) => {
                return Err(cx.err(
                    site.name.span(),
                    format!(
                        "site `{}` has no password source; expected `password_env = \"VAR\"` or `password_file = \"PATH\"` (passwords are never written in the config)",
                        site.name.get_ref()
                    ),
                ))
            }
        };
        let tls_ca_pem = match &site.tls_ca_file {
            None => None,
            Some(path) => {
                let p = cx.path(path.get_ref());
                let pem = cx.secrets.read(&p).map_err(|e| {
                    cx.err(
                        path.span(),
                        format!(
                            "cannot read `{}`: {e}; expected a PEM file of CA certificates",
                            p.display()
                        ),
                    )
                })?;
                if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
                    return Err(cx.err(
                        path.span(),
                        format!(
                            "`{}` holds no PEM certificate; expected `-----BEGIN CERTIFICATE-----`",
                            p.display()
                        ),
                    ));
                }
                Some(pem)
            }
        };
        let tls_cert_sha256 = match &site.tls_cert_sha256 {
            None => None,
            Some(fp) => Some(
                crate::runtime::parse_fingerprint(fp.get_ref()).ok_or_else(|| {
                    cx.err(
                        fp.span(),
                        "`tls_cert_sha256` is not a SHA-256 fingerprint; expected 64 hex digits, \
                     with or without `:` between the pairs",
                    )
                })?,
            ),
        };
        let password_file = site.password_file.as_ref().map(|p| cx.path(p.get_ref()));
        let name = site.name.get_ref().clone();
        out.push(SiteSettings {
            spec: SiteSpec {
                name: name.clone(),
                recorders: recorder_urls.len(),
                manual_recording_max: site
                    .manual_recording_max
                    .map_or(Some(DEFAULT_MANUAL_RECORDING_MAX), |d| d.0),
                prebuffer: site.prebuffer.map_or(DEFAULT_PREBUFFER, |d| d.0),
            },
            endpoint: SiteEndpoint {
                name,
                management_url: site.management_url.get_ref().clone(),
                recorder_urls,
                username: site.username.get_ref().clone(),
                password,
                auth: site_auth(site.auth.unwrap_or(super::raw::RawAuth::Basic)),
                login: match site.login.unwrap_or(super::raw::RawLogin::Idp) {
                    super::raw::RawLogin::Idp => SiteLogin::Idp,
                    super::raw::RawLogin::Soap => SiteLogin::Soap,
                },
                tls_ca_pem,
                tls_cert_sha256,
                password_file,
            },
        });
    }
    Ok(out)
}

/// XProtect device ids are GUIDs: 8-4-4-4-12 hexadecimal digits (braces allowed).
fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn cameras(
    cx: &Cx<'_>,
    raw: &[Spanned<RawCamera>],
    sites: &[SiteSettings],
    engine_span: Range<usize>,
) -> Result<Vec<CameraSettings>> {
    if raw.is_empty() {
        return Err(cx.err(
            engine_span,
            "no `[[camera]]`; expected at least one camera with its device on each site",
        ));
    }
    let site_index: BTreeMap<&str, usize> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.spec.name.as_str(), i))
        .collect();
    let mut names = HashSet::new();
    let mut devices_seen: Vec<HashSet<String>> = vec![HashSet::new(); sites.len()];
    let mut out = Vec::with_capacity(raw.len());
    for c in raw {
        let cam = c.get_ref();
        check_name(cx, &cam.name, "camera")?;
        if !names.insert(cam.name.get_ref().clone()) {
            return Err(cx.err(
                cam.name.span(),
                format!(
                    "camera `{}` is defined twice; expected unique names",
                    cam.name.get_ref()
                ),
            ));
        }
        if cam.devices.get_ref().is_empty() {
            return Err(cx.err(
                cam.devices.span(),
                "`devices` is empty; expected `{ SITE = \"DEVICE-GUID\", … }`",
            ));
        }
        let mut placements = Vec::new();
        for (site_name, dev) in cam.devices.get_ref() {
            let Some(&site) = site_index.get(site_name.get_ref().as_str()) else {
                let known: Vec<&str> = site_index.keys().copied().collect();
                return Err(cx.err(
                    site_name.span(),
                    format!(
                        "unknown site `{}`; expected one of {}",
                        site_name.get_ref(),
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let d = dev.get_ref();
            if !is_guid(&d.device) {
                return Err(cx.err(
                    dev.span(),
                    format!(
                        "`{}` is not a device GUID; expected 8-4-4-4-12 hexadecimal digits like \"a8a8b9dc-3995-49ed-9b00-62caac2ce74a\"",
                        d.device
                    ),
                ));
            }
            let recorders = sites[site].spec.recorders;
            if d.recorder >= recorders {
                return Err(cx.err(
                    dev.span(),
                    format!(
                        "recorder {} does not exist on site `{}`; expected 0..{} (one per recorder URL)",
                        d.recorder,
                        site_name.get_ref(),
                        recorders
                    ),
                ));
            }
            if !devices_seen[site].insert(d.device.to_ascii_lowercase()) {
                return Err(cx.err(
                    dev.span(),
                    format!(
                        "device `{}` on site `{}` belongs to another camera too; expected each device once per site",
                        d.device,
                        site_name.get_ref()
                    ),
                ));
            }
            // The device's own value (as that site has it) wins over the
            // camera's, which wins over the site's default.
            let settings = DeviceSettings {
                manual_recording_max: d
                    .manual_recording_max
                    .or(cam.manual_recording_max)
                    .map(|m| m.0),
                prebuffer: d.prebuffer.or(cam.prebuffer).map(|p| p.0),
            };
            placements.push(Placement {
                site,
                recorder: d.recorder,
                device: DeviceId::new(&d.device),
                settings,
            });
        }
        placements.sort_by_key(|p| p.site);
        out.push(CameraSettings {
            spec: CameraSpec {
                id: CameraId::new(cam.name.get_ref()),
                placements,
            },
            test: cam.test,
        });
    }
    Ok(out)
}
