//! From a validated scenario to a virtual world: sites, links, cameras,
//! clicks and the fault schedule, exactly as the scenario states them.

use engine::core::CameraId;
use sim::recorder::{RecorderConfig, SiteConfig};
use sim::world::{Click, FaultSpec, SiteSetup, WorldConfig};

use crate::scenario::Scenario;
use crate::workload;

/// Credentials every simulated site accepts.
pub const SIM_USERNAME: &str = "dualrec";
pub const SIM_PASSWORD: &str = "dualrec";

/// Builds the world a scenario describes.
pub fn world_config(s: &Scenario) -> WorldConfig {
    let sites = s
        .sites
        .iter()
        .enumerate()
        .map(|(site_index, site)| SiteSetup {
            model: SiteConfig {
                name: site.name.clone(),
                recorder: RecorderConfig {
                    manual_recording_max: site.manual_recording_max,
                    prebuffer: site.prebuffer,
                    start_extends_timer: site.start_extends_timer,
                },
                token_ttl: site.token_ttl,
                username: SIM_USERNAME.to_string(),
                password: SIM_PASSWORD.to_string(),
                lockout: site
                    .lockout_after
                    .map(sim::recorder::LockoutPolicy::domain_default),
                access_token_ttl: sim::recorder::DEFAULT_ACCESS_TOKEN_TTL,
            },
            recorders: site.recorders,
            latency: site.latency.clone(),
            idp_login: site.idp_login,
            camera_settings: s.camera_settings_on(site_index),
        })
        .collect();
    let clicks = workload::clicks(s)
        .into_iter()
        .map(|c| Click {
            at: c.at,
            camera: c.camera,
            recording: c.recording,
        })
        .collect();
    let faults = s
        .faults
        .iter()
        .map(|f| FaultSpec {
            site: f.site,
            kind: f.kind.clone(),
            at: f.at,
            duration: f.duration,
        })
        .collect();
    WorldConfig {
        seed: s.seed,
        sites,
        cameras: s.cameras.iter().map(CameraId::new).collect(),
        policy: s.policy.clone(),
        clicks,
        faults,
        duration: s.duration,
        settle: s.settle,
        sabotage: Default::default(),
        engines: s.engines,
        engine_targets: s.engine_targets.clone(),
    }
}
