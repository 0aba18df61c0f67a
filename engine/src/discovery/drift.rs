//! A config compared with what its sites say: the drift an operator must
//! hear about before it costs evidence — a configured device gone from its
//! site, moved to another recording server, disabled, or with other
//! auto-stop or pre-buffer settings than the config assumes (the engine
//! renews by the configured limit: a site with a shorter one ends the
//! recording before the renewal).

use std::collections::HashMap;
use std::fmt;

use super::inventory::{normalize_url, SiteInventory};
use crate::config::EngineConfig;
use crate::core::{DeviceId, Nanos};
use crate::duration::format_duration;

/// What drifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftKind {
    /// The device GUID is not on the site any more.
    DeviceGone,
    /// The device is on another recording server than configured; `to` is
    /// its position in `recorder_urls`, `None` when that server is not
    /// there at all (its URL is given).
    Moved {
        from: usize,
        to: Option<usize>,
        uri: String,
    },
    /// The site has the camera disabled.
    Disabled,
    /// "Stop manual recording after" differs (`None` is off).
    LimitChanged {
        configured: Option<Nanos>,
        site: Option<Nanos>,
    },
    /// The pre-buffer differs.
    PrebufferChanged { configured: Nanos, site: Nanos },
    /// A configured recorder URL is none of the site's recording servers.
    UnknownRecorder { index: usize, url: String },
}

/// One finding, on one site (and one configured camera, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub site: String,
    /// The configured camera's name (`None` for site-wide findings).
    pub camera: Option<String>,
    pub device: Option<DeviceId>,
    pub kind: DriftKind,
}

impl Drift {
    /// Whether the engine cannot record this camera on this site as
    /// configured (as opposed to settings that only change timing).
    pub fn breaks_recording(&self) -> bool {
        matches!(
            self.kind,
            DriftKind::DeviceGone
                | DriftKind::Moved { .. }
                | DriftKind::Disabled
                | DriftKind::UnknownRecorder { .. }
        )
    }
}

fn limit(l: Option<Nanos>) -> String {
    l.map_or_else(|| "off".to_owned(), format_duration)
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.site)?;
        if let (Some(c), Some(d)) = (&self.camera, &self.device) {
            write!(f, "camera `{c}` (device {}): ", d)?;
        }
        match &self.kind {
            DriftKind::DeviceGone => write!(f, "the device is not on the site any more"),
            DriftKind::Moved {
                from,
                to: Some(to),
                uri,
            } => write!(
                f,
                "moved from recorder {from} to recorder {to} ({uri}); set `recorder = {to}`"
            ),
            DriftKind::Moved {
                from,
                to: None,
                uri,
            } => write!(
                f,
                "moved from recorder {from} to a recording server not in recorder_urls ({uri}); \
                 add it there"
            ),
            DriftKind::Disabled => write!(f, "the camera is disabled on the site"),
            DriftKind::LimitChanged { configured, site } => write!(
                f,
                "manual_recording_max is {} on the site, {} in the config",
                limit(*site),
                limit(*configured)
            ),
            DriftKind::PrebufferChanged { configured, site } => write!(
                f,
                "prebuffer is {} on the site, {} in the config",
                format_duration(*site),
                format_duration(*configured)
            ),
            DriftKind::UnknownRecorder { index, url } => write!(
                f,
                "recorder_urls[{index}] ({url}) is none of the site's recording servers"
            ),
        }
    }
}

/// Compares site `s` of `cfg` with `inv` (what that site reported).
pub fn check_site(cfg: &EngineConfig, s: usize, inv: &SiteInventory) -> Vec<Drift> {
    let site = &cfg.sites[s];
    let name = site.spec.name.clone();
    let mut out = Vec::new();
    let reported: HashMap<String, usize> = inv
        .recorders
        .iter()
        .enumerate()
        .map(|(i, r)| (normalize_url(&r.web_server_uri), i))
        .collect();
    let configured: HashMap<String, usize> = site
        .endpoint
        .recorder_urls
        .iter()
        .enumerate()
        .map(|(i, u)| (normalize_url(u), i))
        .collect();
    for (index, url) in site.endpoint.recorder_urls.iter().enumerate() {
        if !reported.contains_key(&normalize_url(url)) {
            out.push(Drift {
                site: name.clone(),
                camera: None,
                device: None,
                kind: DriftKind::UnknownRecorder {
                    index,
                    url: url.clone(),
                },
            });
        }
    }
    let index = inv.camera_index();
    for cam in &cfg.cameras {
        for p in cam.spec.placements.iter().filter(|p| p.site == s) {
            let drift = |kind| Drift {
                site: name.clone(),
                camera: Some(cam.spec.id.as_str().to_owned()),
                device: Some(p.device.clone()),
                kind,
            };
            let Some(&c) = index.get(&p.device) else {
                out.push(drift(DriftKind::DeviceGone));
                continue;
            };
            let found = &inv.cameras[c];
            let uri = &inv.recorder_of(c).web_server_uri;
            let to = configured.get(&normalize_url(uri)).copied();
            if to != Some(p.recorder) {
                out.push(drift(DriftKind::Moved {
                    from: p.recorder,
                    to,
                    uri: uri.clone(),
                }));
            }
            if !found.enabled {
                out.push(drift(DriftKind::Disabled));
            }
            let configured_limit = p.settings.limit_or(site.spec.manual_recording_max);
            if configured_limit != found.manual_recording_max {
                out.push(drift(DriftKind::LimitChanged {
                    configured: configured_limit,
                    site: found.manual_recording_max,
                }));
            }
            let configured_prebuffer = p.settings.prebuffer_or(site.spec.prebuffer);
            if configured_prebuffer != found.prebuffer {
                out.push(drift(DriftKind::PrebufferChanged {
                    configured: configured_prebuffer,
                    site: found.prebuffer,
                }));
            }
        }
    }
    out
}

/// Compares every site of `cfg` with its inventory (same order; a `None`
/// site could not be read and is skipped).
pub fn check_config(cfg: &EngineConfig, sites: &[Option<&SiteInventory>]) -> Vec<Drift> {
    sites
        .iter()
        .enumerate()
        .filter_map(|(s, inv)| inv.map(|inv| check_site(cfg, s, inv)))
        .flatten()
        .collect()
}
