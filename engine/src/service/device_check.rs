//! The engine's device check: every configured device must exist on its
//! site, on the configured recording server, with the settings the engine
//! renews by. Run at start-up (blocking only with `--require-devices`) and
//! then every `[engine] device_check_interval`; findings are logged (target
//! `dualrec_devices`) and exported in `/metrics`.
//!
//! Reads the sites' configuration REST API through its own clients, never
//! through the engine's: a slow configuration API must not delay a Start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::EngineConfig;
use crate::discovery::{check_site, fetch_site, DiscoveryError, Drift};
use crate::runtime::SoapClient;

/// What one check found on one site.
#[derive(Debug, Clone)]
pub enum SiteCheck {
    Checked {
        drift: Vec<Drift>,
        problems: usize,
    },
    Failed(String),
    /// A site that cannot be checked at all (`login = "soap"`: no REST
    /// API): said once at start-up, not retried, not in `/metrics`.
    Skipped(String),
}

/// What one check found on every site (configuration order).
#[derive(Debug, Clone, Default)]
pub struct DeviceCheckReport {
    pub sites: Vec<(String, SiteCheck)>,
}

impl DeviceCheckReport {
    /// Whether the engine could record every configured camera as
    /// configured: every site read, no device gone, moved or disabled.
    pub fn devices_ok(&self) -> bool {
        self.sites.iter().all(|(_, s)| match s {
            SiteCheck::Checked { drift, .. } => !drift.iter().any(Drift::breaks_recording),
            SiteCheck::Failed(_) | SiteCheck::Skipped(_) => false,
        })
    }

    /// One line per finding, for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (site, check) in &self.sites {
            match check {
                SiteCheck::Failed(why) | SiteCheck::Skipped(why) => {
                    out.push(format!("{site}: not checked: {why}"))
                }
                SiteCheck::Checked { drift, problems } => {
                    out.extend(drift.iter().map(ToString::to_string));
                    if *problems > 0 {
                        out.push(format!(
                            "{site}: {problems} site items are inconsistent (see `dualrec discover --check`)"
                        ));
                    }
                }
            }
        }
        out
    }

    /// Logs the findings; sites that cannot be checked only when `first`.
    fn log(&self, first: bool) {
        for (site, check) in &self.sites {
            match check {
                SiteCheck::Skipped(why) if first => {
                    tracing::info!(target: "dualrec_devices", site = %site, reason = %why,
                        "device check: this site's devices are not checked")
                }
                SiteCheck::Skipped(_) => {}
                SiteCheck::Failed(why) => {
                    tracing::warn!(target: "dualrec_devices", site = %site, reason = %why,
                        "device check: the site's configuration could not be read")
                }
                SiteCheck::Checked { drift, problems } => {
                    for d in drift {
                        if d.breaks_recording() {
                            tracing::error!(target: "dualrec_devices", site = %site, "{d}");
                        } else {
                            tracing::warn!(target: "dualrec_devices", site = %site, "{d}");
                        }
                    }
                    tracing::info!(target: "dualrec_devices", site = %site,
                        findings = drift.len(), inconsistent_items = problems, "device check done");
                }
            }
        }
    }
}

/// Checks every site of `cfg` once, each bounded by `timeout`.
pub async fn check_devices(cfg: &EngineConfig, timeout: Duration) -> DeviceCheckReport {
    let checks = cfg.sites.iter().enumerate().map(|(s, site)| async move {
        let name = site.spec.name.clone();
        let client = match SoapClient::new(&site.endpoint) {
            Ok(c) => c,
            Err(e) => return (name, SiteCheck::Failed(e.to_string())),
        };
        let result = match tokio::time::timeout(timeout, fetch_site(&client, &|_| {})).await {
            Err(_) => SiteCheck::Failed(format!("no answer within {}s", timeout.as_secs())),
            Ok(Err(e @ DiscoveryError::NoRestApi { .. })) => SiteCheck::Skipped(e.to_string()),
            Ok(Err(e)) => SiteCheck::Failed(e.to_string()),
            Ok(Ok(inv)) => SiteCheck::Checked {
                drift: check_site(cfg, s, &inv),
                problems: inv.problems.len(),
            },
        };
        (name, result)
    });
    DeviceCheckReport {
        sites: futures_util::future::join_all(checks).await,
    }
}

/// The latest report, shared with `/metrics`.
pub type LatestCheck = Arc<Mutex<Option<DeviceCheckReport>>>;

/// Checks now, then every `interval` (if any), keeping the latest report
/// in `latest`.
pub async fn run_periodically(
    cfg: Arc<EngineConfig>,
    interval: Option<Duration>,
    timeout: Duration,
    latest: LatestCheck,
) {
    let mut first = true;
    loop {
        let report = check_devices(&cfg, timeout).await;
        report.log(first);
        first = false;
        if let Ok(mut l) = latest.lock() {
            *l = Some(report);
        }
        match interval {
            Some(i) => tokio::time::sleep(i).await,
            None => return,
        }
    }
}

/// Registers the latest report's figures for one scrape.
pub fn register_metrics(latest: &LatestCheck, reg: &mut prometheus_client::registry::Registry) {
    use prometheus_client::encoding::EncodeLabelSet;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    #[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
    struct SiteKind {
        site: String,
        kind: &'static str,
    }
    let Ok(guard) = latest.lock() else { return };
    let Some(report) = guard.as_ref() else { return };
    let ok = Family::<super::metrics::SiteLabel, Gauge>::default();
    let drifted = Family::<SiteKind, Gauge>::default();
    for (site, check) in &report.sites {
        let read = match check {
            SiteCheck::Checked { drift, .. } => {
                let breaking = drift.iter().filter(|d| d.breaks_recording()).count();
                for (kind, n) in [
                    ("breaks_recording", breaking),
                    ("settings", drift.len() - breaking),
                ] {
                    drifted
                        .get_or_create(&SiteKind {
                            site: site.clone(),
                            kind,
                        })
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
                1
            }
            SiteCheck::Failed(_) => 0,
            SiteCheck::Skipped(_) => continue,
        };
        ok.get_or_create(&super::metrics::SiteLabel { site: site.clone() })
            .set(read);
    }
    reg.register(
        "dualrec_device_check_ok",
        "1 when the site's configuration was read at the last device check",
        ok,
    );
    reg.register(
        "dualrec_device_drift",
        "Configured devices that drifted from the site at the last check (gone, moved, disabled, settings changed)",
        drifted,
    );
}
