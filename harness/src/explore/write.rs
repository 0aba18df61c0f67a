//! Writing a validated [`Scenario`] back as a readable scenario TOML file.
//!
//! The output round-trips: `scenario::parse(&to_toml(s)?, …)` gives back a
//! scenario equal to `s` (tested over thousands of generated worlds).
//! Defaults are left out, camera sets are written as names or ranges,
//! durations in the scenario syntax ([`format_nanos`], exact to the
//! nanosecond), and a start and stop click of one camera with nothing in
//! between come out as one `[[session]]` only when `s` said so.

use std::fmt::Write as _;

use engine::core::Policy;
use sim::world::latency::{format_nanos, LatencyDist};
use sim::world::EngineTarget;

use crate::scenario::DEFAULT_REAL_TOLERANCE;
use crate::scenario::{camera_name, CameraSettingsDef, FaultKind, Scenario};

/// The scenario as it reads back from [`to_toml`]: `real_unchecked` only
/// for guarantees it states, and no `real_mode_errors` — those are derived
/// on reading and name positions in the file they were read from, so a
/// written reproducer's differ from its base's by file name and line
/// alone. Compare a scenario with its written form through this.
pub fn as_written(s: &Scenario) -> Scenario {
    let mut w = s.clone();
    // Written one contiguous run of cameras per entry, as the format takes.
    w.camera_settings = s
        .camera_settings
        .iter()
        .flat_map(|def| {
            contiguous_runs(&def.cameras).map(|run| CameraSettingsDef {
                cameras: run.to_vec(),
                ..def.clone()
            })
        })
        .collect();
    w.real_unchecked
        .retain(|k| s.guarantees.iter().any(|g| &g.key == k));
    w.real_mode_errors.clear();
    w
}

/// Defaults of the scenario format (`scenario::validate`), left unwritten.
const DEFAULT_SETTLE: u64 = 30_000_000_000;
const DEFAULT_ORPHAN_GRACE: u64 = 2_000_000_000;
const DEFAULT_MANUAL_RECORDING_MAX: u64 = 300_000_000_000;
const DEFAULT_PREBUFFER: u64 = 3_000_000_000;
const DEFAULT_TOKEN_TTL: u64 = 4 * 3_600_000_000_000;

/// A scenario the file format cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("workload {index} covers cameras that are not one contiguous range; the file format takes a name, a range `a..b` or `*`")]
    ScatteredWorkload { index: usize },
}

/// `"…"` with TOML basic-string escapes.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dur(ns: u64) -> String {
    quote(&format_nanos(ns))
}

/// A float TOML reads back as the same float (`6.0`, not `6`).
fn float(v: f64) -> String {
    format!("{v:?}")
}

/// `{ dist = "lognormal", median = "15ms", p99 = "80ms" }`
pub fn dist_toml(d: &LatencyDist) -> String {
    match *d {
        LatencyDist::Fixed(v) => format!("{{ dist = \"fixed\", value = {} }}", dur(v)),
        LatencyDist::Uniform { min, max } => format!(
            "{{ dist = \"uniform\", min = {}, max = {} }}",
            dur(min),
            dur(max)
        ),
        LatencyDist::Normal { mean, stddev } => format!(
            "{{ dist = \"normal\", mean = {}, stddev = {} }}",
            dur(mean),
            dur(stddev)
        ),
        LatencyDist::LogNormal { median, p99 } => format!(
            "{{ dist = \"lognormal\", median = {}, p99 = {} }}",
            dur(median),
            dur(p99)
        ),
        LatencyDist::Pareto { scale, shape } => format!(
            "{{ dist = \"pareto\", scale = {}, shape = {} }}",
            dur(scale),
            float(shape)
        ),
    }
}

/// `cams` (ascending) cut where a camera is skipped.
fn contiguous_runs(cams: &[usize]) -> impl Iterator<Item = &[usize]> {
    cams.chunk_by(|a, b| b == &(a + 1))
}

/// A camera set as the format writes it: `*`, a name, or `a..b`.
fn camera_set(cams: &[usize], count: usize) -> Option<String> {
    let (&first, &last) = (cams.first()?, cams.last()?);
    if last - first + 1 != cams.len() || cams.windows(2).any(|w| w[1] != w[0] + 1) {
        return None;
    }
    Some(if cams.len() == count {
        "*".to_string()
    } else if first == last {
        camera_name(first + 1, count)
    } else {
        format!(
            "{}..{}",
            camera_name(first + 1, count),
            camera_name(last + 1, count)
        )
    })
}

/// The scenario as TOML.
pub fn to_toml(s: &Scenario) -> Result<String, WriteError> {
    let n = s.cameras.len();
    let cam = |c: usize| quote(&camera_name(c + 1, n));
    let mut o = String::new();
    o.push_str("[scenario]\n");
    let _ = writeln!(o, "name = {}", quote(&s.name));
    if !s.description.is_empty() {
        let _ = writeln!(o, "description = {}", quote(&s.description));
    }
    let _ = writeln!(o, "seed = {}", s.seed);
    let _ = writeln!(o, "duration = {}", dur(s.duration));
    if !s.tags.is_empty() {
        let tags: Vec<String> = s.tags.iter().map(|t| quote(t)).collect();
        let _ = writeln!(o, "tags = [{}]", tags.join(", "));
    }
    if s.settle != DEFAULT_SETTLE {
        let _ = writeln!(o, "settle = {}", dur(s.settle));
    }
    if s.orphan_grace != DEFAULT_ORPHAN_GRACE {
        let _ = writeln!(o, "orphan_grace = {}", dur(s.orphan_grace));
    }
    if s.engines != 1 {
        let _ = writeln!(o, "engines = {}", s.engines);
    }
    if let Some(reason) = &s.virtual_only {
        o.push_str("virtual_only = true\n");
        if !reason.is_empty() {
            let _ = writeln!(o, "reason = {}", quote(reason));
        }
    }
    if let Some(scale) = s.real_time_scale {
        let _ = writeln!(o, "real_time_scale = {}", float(scale));
    }
    if s.real_tolerance != DEFAULT_REAL_TOLERANCE {
        let _ = writeln!(o, "real_tolerance = {}", dur(s.real_tolerance));
    }
    // Only keys the scenario still states: a reproducer keeps one of the
    // base's guarantees, and the format refuses an entry naming none.
    let unchecked: Vec<String> = s
        .real_unchecked
        .iter()
        .filter(|k| s.guarantees.iter().any(|g| &g.key == *k))
        .map(|k| quote(k))
        .collect();
    if !unchecked.is_empty() {
        let _ = writeln!(o, "real_unchecked = [{}]", unchecked.join(", "));
    }

    for site in &s.sites {
        o.push_str("\n[[site]]\n");
        let _ = writeln!(o, "name = {}", quote(&site.name));
        let _ = writeln!(o, "latency = {}", dist_toml(&site.latency));
        match site.manual_recording_max {
            Some(DEFAULT_MANUAL_RECORDING_MAX) => {}
            Some(v) => {
                let _ = writeln!(o, "manual_recording_max = {}", dur(v));
            }
            None => o.push_str("manual_recording_max = \"off\"\n"),
        }
        if site.prebuffer != DEFAULT_PREBUFFER {
            let _ = writeln!(o, "prebuffer = {}", dur(site.prebuffer));
        }
        if site.recorders != 1 {
            let _ = writeln!(o, "recorders = {}", site.recorders);
        }
        if site.start_extends_timer {
            o.push_str("start_extends_timer = true\n");
        }
        if site.token_ttl != DEFAULT_TOKEN_TTL {
            let _ = writeln!(o, "token_ttl = {}", dur(site.token_ttl));
        }
        if site.idp_login {
            o.push_str("login = \"idp\"\n");
        }
        if let Some(n) = site.lockout_after {
            let _ = writeln!(o, "lockout_after = {n}");
        }
    }

    let _ = write!(o, "\n[cameras]\ncount = {n}\n");

    for def in &s.camera_settings {
        for run in contiguous_runs(&def.cameras) {
            let set = camera_set(run, n).unwrap_or_default();
            o.push_str("\n[[camera_settings]]\n");
            let _ = writeln!(o, "cameras = {}", quote(&set));
            if let Some(site) = def.site {
                let _ = writeln!(o, "site = {}", quote(&s.sites[site].name));
            }
            match def.settings.manual_recording_max {
                Some(Some(v)) => {
                    let _ = writeln!(o, "manual_recording_max = {}", dur(v));
                }
                Some(None) => o.push_str("manual_recording_max = \"off\"\n"),
                None => {}
            }
            if let Some(p) = def.settings.prebuffer {
                let _ = writeln!(o, "prebuffer = {}", dur(p));
            }
        }
    }

    for sess in &s.sessions {
        o.push_str("\n[[session]]\n");
        let _ = writeln!(o, "camera = {}", cam(sess.camera));
        let _ = writeln!(o, "start = {}", dur(sess.start));
        if let Some(stop) = sess.stop {
            let _ = writeln!(o, "stop = {}", dur(stop));
        }
    }
    for c in &s.clicks {
        o.push_str("\n[[click]]\n");
        let _ = writeln!(o, "camera = {}", cam(c.camera));
        let _ = writeln!(o, "at = {}", dur(c.at));
        let _ = writeln!(o, "recording = {}", c.recording);
    }
    for (index, w) in s.workloads.iter().enumerate() {
        let set = camera_set(&w.cameras, n).ok_or(WriteError::ScatteredWorkload { index })?;
        o.push_str("\n[[workload]]\n");
        let _ = writeln!(o, "cameras = {}", quote(&set));
        let _ = writeln!(o, "arrivals = {{ per_minute = {} }}", float(w.per_minute));
        let _ = writeln!(o, "length = {}", dist_toml(&w.length));
        if w.from != 0 {
            let _ = writeln!(o, "from = {}", dur(w.from));
        }
        if w.until != s.duration {
            let _ = writeln!(o, "until = {}", dur(w.until));
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        o.push_str("\n[[fault]]\n");
        if let Some(site) = f.site {
            let _ = writeln!(o, "site = {}", quote(&s.sites[site].name));
        }
        let _ = writeln!(o, "kind = \"{}\"", f.kind.name());
        match s
            .engine_targets
            .iter()
            .find(|(at, _)| *at == i)
            .map(|(_, t)| t)
        {
            Some(EngineTarget::Leader) => o.push_str("engine = \"leader\"\n"),
            Some(EngineTarget::Standby) => o.push_str("engine = \"standby\"\n"),
            Some(EngineTarget::Index(r)) => {
                let _ = writeln!(o, "engine = {r}");
            }
            None => {}
        }
        let _ = writeln!(o, "at = {}", dur(f.at));
        let instantaneous = matches!(f.kind, FaultKind::TokenExpiry)
            || (matches!(f.kind, FaultKind::Restart) && f.duration == 0);
        if !instantaneous {
            let _ = writeln!(o, "for = {}", dur(f.duration));
        }
        match &f.kind {
            FaultKind::Slow(d) => {
                let _ = writeln!(o, "latency = {}", dist_toml(d));
            }
            FaultKind::Errors { rate } | FaultKind::LostReplies { rate } => {
                let _ = writeln!(o, "rate = {}", float(*rate));
            }
            FaultKind::StreamLoss { camera } => {
                let _ = writeln!(o, "camera = {}", cam(*camera));
            }
            _ => {}
        }
    }

    let policy = policy_lines(&s.policy);
    if !policy.is_empty() {
        o.push_str("\n[policy]\n");
        o.push_str(&policy);
    }

    if !s.guarantees.is_empty() {
        o.push_str("\n[guarantees]\n");
        for g in &s.guarantees {
            let _ = writeln!(o, "{} = {}", quote(&g.key), quote(&g.condition));
        }
    }
    Ok(o)
}

/// The `[policy]` keys that differ from the engine's defaults.
fn policy_lines(p: &Policy) -> String {
    let d = Policy::default();
    let mut o = String::new();
    let mut line = |key: &str, v: u64, dv: u64| {
        if v != dv {
            let _ = writeln!(o, "{key} = {}", dur(v));
        }
    };
    line("request_timeout", p.request_timeout, d.request_timeout);
    line("retry_initial", p.retry_initial, d.retry_initial);
    line("retry_max", p.retry_max, d.retry_max);
    line("probe_interval", p.probe_interval, d.probe_interval);
    line(
        "down_probe_interval",
        p.down_probe_interval,
        d.down_probe_interval,
    );
    line("renew_before", p.renew_before, d.renew_before);
    line(
        "token_renew_before",
        p.token_renew_before,
        d.token_renew_before,
    );
    if p.failures_before_down != d.failures_before_down {
        let _ = writeln!(o, "failures_before_down = {}", p.failures_before_down);
    }
    o
}
