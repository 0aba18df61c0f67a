//! The `[[camera]]` tables `dualrec discover` writes: one per paired
//! camera, ready to append to the site config, with per site the device,
//! its recording server (its position in the site's `recorder_urls`) and
//! the camera's settings as the site has them. What could not be written
//! is named in comments at the top and returned for stderr.
//!
//! The text is deterministic (no time stamps): the same sites give the
//! same file, so two runs can be diffed.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::inventory::{normalize_url, SiteInventory};
use super::pairing::{PairedBy, Pairing, UnpairedReason};
use crate::config::EngineConfig;
use crate::core::DeviceId;
use crate::duration::format_duration;

/// What [`render_cameras`] made.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The TOML text (comments, then `[[camera]]` tables).
    pub text: String,
    /// `[[camera]]` tables written.
    pub written: usize,
    /// Paired cameras already in the config (not written again).
    pub already_configured: usize,
    /// One line per camera that was not written, and per site problem.
    pub problems: Vec<String>,
}

impl Rendered {
    /// Every camera of every site is paired and written (or already in the
    /// config), and every site item was consistent.
    pub fn complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A TOML string literal (escaped by the `toml` crate).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise (a `.` would split it).
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        s.to_owned()
    } else {
        quoted(s)
    }
}

/// `name` as a config camera name (ASCII letters, digits, `-`, `_`, `.`;
/// at most 128), made unique against `taken`.
fn config_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut slug = String::new();
    for ch in name.trim().chars() {
        if ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.') {
            slug.push(ch);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_matches('-').to_owned();
    slug.truncate(120);
    if slug.is_empty() {
        slug = "camera".to_owned();
    }
    let mut candidate = slug.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{slug}-{n}");
        n += 1;
    }
    candidate
}

/// Renders `pairing` of `sites` (in the order of `cfg.sites`).
pub fn render_cameras(cfg: &EngineConfig, sites: &[SiteInventory], pairing: &Pairing) -> Rendered {
    let mut out = Rendered::default();
    let site_names: Vec<&str> = cfg.sites.iter().map(|s| s.spec.name.as_str()).collect();
    // Per site: normalized recorder URL → position in the config.
    let configured: Vec<HashMap<String, usize>> = cfg
        .sites
        .iter()
        .map(|s| {
            s.endpoint
                .recorder_urls
                .iter()
                .enumerate()
                .map(|(i, u)| (normalize_url(u), i))
                .collect()
        })
        .collect();
    let known_devices: Vec<HashSet<&DeviceId>> = (0..sites.len())
        .map(|s| {
            cfg.cameras
                .iter()
                .flat_map(|c| c.spec.placements.iter())
                .filter(|p| p.site == s)
                .map(|p| &p.device)
                .collect()
        })
        .collect();
    let mut taken: HashSet<String> = cfg
        .cameras
        .iter()
        .map(|c| c.spec.id.as_str().to_owned())
        .collect();

    for (s, inv) in sites.iter().enumerate() {
        for p in &inv.problems {
            out.problems.push(format!("{}: {p}", site_names[s]));
        }
    }
    for u in &pairing.unpaired {
        let inv = &sites[u.site];
        let cam = &inv.cameras[u.camera];
        let why = match &u.reason {
            UnpairedReason::NoCounterpart { missing_on } => format!(
                "no camera of that name or hardware address + channel on {}",
                missing_on
                    .iter()
                    .map(|&s| site_names[s])
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            UnpairedReason::AmbiguousName { site, count } => format!(
                "{count} cameras on {} are named so, and hardware address + channel did not \
                 decide",
                site_names[*site]
            ),
            UnpairedReason::AmbiguousAddress { site, count } => format!(
                "{count} cameras on {} share its hardware address + channel",
                site_names[*site]
            ),
        };
        out.problems.push(format!(
            "{}: camera \"{}\" ({}) not paired: {why}",
            site_names[u.site], cam.name, cam.id
        ));
    }

    let mut tables = String::new();
    let mut by_name = 0;
    let mut by_address = 0;
    'pairs: for pair in &pairing.paired {
        let first = &sites[0].cameras[pair.cameras[0]];
        if pair
            .cameras
            .iter()
            .enumerate()
            .all(|(s, &c)| known_devices[s].contains(&sites[s].cameras[c].id))
        {
            out.already_configured += 1;
            continue;
        }
        // Some of its devices already belong to a configured camera: a new
        // table would put one device in two cameras. `--check` says what
        // to fix in the existing one.
        if let Some((s, c)) = pair
            .cameras
            .iter()
            .enumerate()
            .find(|&(s, &c)| known_devices[s].contains(&sites[s].cameras[c].id))
        {
            let cam = &sites[s].cameras[*c];
            out.problems.push(format!(
                "{}: camera \"{}\" ({}) is already in the config, paired with another device \
                 than discovery pairs it with; see `dualrec discover --check`",
                site_names[s], cam.name, cam.id
            ));
            continue;
        }
        let mut devices = Vec::new();
        for (s, &c) in pair.cameras.iter().enumerate() {
            let inv = &sites[s];
            let rec = inv.recorder_of(c);
            let Some(&index) = configured[s].get(&normalize_url(&rec.web_server_uri)) else {
                out.problems.push(format!(
                    "{}: camera \"{}\" ({}) is on recording server \"{}\" ({}), which is not \
                     in the site's recorder_urls; add it there",
                    site_names[s],
                    inv.cameras[c].name,
                    inv.cameras[c].id,
                    rec.name,
                    rec.web_server_uri
                ));
                continue 'pairs;
            };
            let cam = &inv.cameras[c];
            let limit = cam
                .manual_recording_max
                .map_or_else(|| "off".to_owned(), format_duration);
            devices.push(format!(
                "{} = {{ device = {}, recorder = {index}, manual_recording_max = {}, prebuffer = {} }}",
                key(site_names[s]),
                quoted(&cam.id.text()),
                quoted(&limit),
                quoted(&format_duration(cam.prebuffer)),
            ));
        }
        let how = match pair.by {
            PairedBy::Name => {
                by_name += 1;
                "by name".to_owned()
            }
            PairedBy::Address => {
                by_address += 1;
                let hw = sites[0].hardware_of(pair.cameras[0]);
                format!(
                    "by hardware address {} channel {}",
                    hw.address, first.channel
                )
            }
        };
        let names: Vec<String> = pair
            .cameras
            .iter()
            .enumerate()
            .map(|(s, &c)| format!("{} {}", site_names[s], quoted(&sites[s].cameras[c].name)))
            .collect();
        let _ = writeln!(tables, "\n# {} (paired {how})", names.join(", "));
        let _ = writeln!(tables, "[[camera]]");
        let _ = writeln!(
            tables,
            "name = {}",
            quoted(&config_name(&first.name, &mut taken))
        );
        let _ = writeln!(tables, "devices.{}", devices[0]);
        for d in &devices[1..] {
            let _ = writeln!(tables, "devices.{d}");
        }
        out.written += 1;
    }

    let mut head = String::new();
    let _ = writeln!(
        head,
        "# Cameras discovered on {}.",
        site_names.join(" and ")
    );
    for (s, inv) in sites.iter().enumerate() {
        let _ = writeln!(
            head,
            "# {}: {} recording servers, {} hardware, {} cameras.",
            site_names[s],
            inv.recorders.len(),
            inv.hardware.len(),
            inv.cameras.len()
        );
        let uris: Vec<String> = inv
            .recorders
            .iter()
            .map(|r| quoted(&r.web_server_uri))
            .collect();
        let _ = writeln!(
            head,
            "#   its recording servers (webServerUri): recorder_urls = [{}]",
            uris.join(", ")
        );
    }
    let _ = writeln!(
        head,
        "# {} cameras written ({by_name} paired by name, {by_address} by hardware address + \
         channel), {} already in the config, {} problems.",
        out.written,
        out.already_configured,
        out.problems.len()
    );
    for p in &out.problems {
        let _ = writeln!(head, "# NOT WRITTEN: {p}");
    }
    out.text = head + &tables;
    out
}
