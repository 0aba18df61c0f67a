//! Turns the raw file into a [`Scenario`]: resolves names, applies defaults,
//! expands camera ranges and repeated faults, and checks everything that
//! involves more than one value. The first problem found is returned,
//! located at the offending key or value.

use std::ops::Range;

use engine::core::{DeviceSettings, Nanos, Policy, MILLIS, SECS};
use sim::world::latency::LatencyDist;
use toml::Spanned;

use super::duration::format_duration as fmt;
use super::error::{line_col, ScenarioError};
use super::guarantees::{parse_guarantee, GuaranteeError};
use super::model::{
    CameraSettingsDef, ClickDef, FaultDef, FaultKind, Scenario, SessionDef, SiteDef, WorkloadDef,
};
use super::raw::{Dur, RawCameraSettings, RawCondition, RawDist, RawFault, RawFile, RawSite};
use super::real_mode;

/// Defaults (documented in `docs/scenario-format.md`).
pub const DEFAULT_SETTLE: Nanos = 30 * SECS;
/// Real-mode slack on time guarantees (wall-clock time), see `runner`.
pub const DEFAULT_REAL_TOLERANCE: Nanos = 25_000_000;
pub const DEFAULT_ORPHAN_GRACE: Nanos = 2 * SECS;
pub const DEFAULT_MANUAL_RECORDING_MAX: Nanos = 5 * 60 * SECS;
pub const DEFAULT_PREBUFFER: Nanos = 3 * SECS;
pub const DEFAULT_TOKEN_TTL: Nanos = 4 * 3_600 * SECS;
pub const DEFAULT_LATENCY: LatencyDist = LatencyDist::Fixed(MILLIS);

/// Upper bounds that keep a typo from exhausting memory.
pub const MAX_CAMERAS: u64 = 1_000_000;
pub const MAX_RECORDERS: u64 = 10_000;
pub const MAX_WORKLOAD_ARRIVALS: f64 = 10_000_000.0;
pub const MAX_FAULTS: usize = 1_000_000;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Where errors are reported.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.file, self.text, span, message)
    }
    fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }
}

/// Validates a deserialized file.
pub(crate) fn validate(raw: RawFile, cx: &Ctx<'_>) -> Result<Scenario> {
    let header_span = raw.scenario.span();
    let h = raw.scenario.into_inner();

    let name = h.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(cx.err(
            h.name.span(),
            format!(
                "scenario name `{name}` is not usable as a folder name; expected letters, \
                 digits, `-`, `_` or `.`, like `primary-down-mid-session`"
            ),
        ));
    }
    let duration = h.duration.get_ref().0;
    if duration == 0 {
        return Err(cx.err(
            h.duration.span(),
            "`duration` is 0s; expected a positive duration like `5m`",
        ));
    }
    let mut tags = Vec::new();
    for t in &h.tags {
        if t.get_ref().trim().is_empty() {
            return Err(cx.err(t.span(), "empty tag; expected a word like `smoke`"));
        }
        tags.push(t.get_ref().clone());
    }
    let settle = h.settle.as_ref().map_or(DEFAULT_SETTLE, |d| d.get_ref().0);
    let orphan_grace = h
        .orphan_grace
        .as_ref()
        .map_or(DEFAULT_ORPHAN_GRACE, |d| d.get_ref().0);
    let real_tolerance = h
        .real_tolerance
        .as_ref()
        .map_or(DEFAULT_REAL_TOLERANCE, |d| d.get_ref().0);
    let virtual_only = match (&h.virtual_only, &h.reason) {
        (Some(v), reason) if *v.get_ref() => Some(
            reason
                .as_ref()
                .map(|r| r.get_ref().clone())
                .unwrap_or_default(),
        ),
        (_, Some(reason)) => {
            return Err(cx.err(
                reason.span(),
                "`reason` explains `virtual_only`; expected it only together with \
                 `virtual_only = true`",
            ))
        }
        _ => None,
    };
    let real_time_scale = match &h.real_time_scale {
        Some(s) => {
            let v = *s.get_ref();
            if !(v.is_finite() && v > 0.0) {
                return Err(cx.err(
                    s.span(),
                    format!("`real_time_scale` is {v}; expected a positive number like 1.0"),
                ));
            }
            Some(v)
        }
        None => None,
    };

    // Sites.
    if raw.site.is_empty() {
        return Err(cx.err(
            header_span,
            "the scenario has no `[[site]]`; expected at least one site",
        ));
    }
    let mut sites: Vec<SiteDef> = Vec::new();
    for s in &raw.site {
        let def = site(s.get_ref(), cx)?;
        if let Some(prev) = raw
            .site
            .iter()
            .find(|o| o.get_ref().name.get_ref() == &def.name)
        {
            if !std::ptr::eq(prev, s) {
                return Err(cx.err(
                    s.get_ref().name.span(),
                    format!(
                        "site `{}` is defined twice (first at line {}); expected unique site names",
                        def.name,
                        cx.line(&prev.get_ref().name.span())
                    ),
                ));
            }
        }
        sites.push(def);
    }
    let site_names: Vec<String> = sites.iter().map(|s| s.name.clone()).collect();

    // Cameras.
    let count_span = raw.cameras.get_ref().count.span();
    let count = *raw.cameras.get_ref().count.get_ref();
    if count == 0 || count > MAX_CAMERAS {
        return Err(cx.err(
            count_span,
            format!("camera `count` is {count}; expected 1 to {MAX_CAMERAS}"),
        ));
    }
    let count = count as usize;
    let cameras: Vec<String> = (1..=count).map(|n| camera_name(n, count)).collect();
    let cams = Cameras { count };
    let camera_settings = camera_settings(&raw.camera_settings, &cams, &site_names, cx)?;

    // Sessions.
    let mut sessions = Vec::new();
    // Per camera: (start, end or MAX, span of the start, session index in file).
    let mut per_camera: Vec<Vec<(Nanos, Nanos, Range<usize>)>> = vec![Vec::new(); count];
    for s in &raw.session {
        let s = s.get_ref();
        let selected = cams.select(&s.camera, cx)?;
        let start = s.start.get_ref().0;
        if start >= duration {
            return Err(cx.err(
                s.start.span(),
                format!(
                    "session starts at {}, not before the end of the scenario; expected a start \
                     before `duration` ({})",
                    fmt(start),
                    fmt(duration)
                ),
            ));
        }
        let stop = match &s.stop {
            Some(stop_s) => {
                let stop = stop_s.get_ref().0;
                if stop <= start {
                    return Err(cx.err(
                        stop_s.span(),
                        format!(
                            "session stops at {} but starts at {}; expected `stop` after `start`",
                            fmt(stop),
                            fmt(start)
                        ),
                    ));
                }
                if stop > duration {
                    return Err(cx.err(
                        stop_s.span(),
                        format!(
                            "session stops at {}, after the end of the scenario ({}); expected a \
                             stop within `duration`, or no `stop` to keep recording at the end",
                            fmt(stop),
                            fmt(duration)
                        ),
                    ));
                }
                Some(stop)
            }
            None => None,
        };
        for camera in selected {
            per_camera[camera].push((start, stop.unwrap_or(Nanos::MAX), s.start.span()));
            sessions.push(SessionDef {
                camera,
                start,
                stop,
            });
        }
    }
    for (camera, list) in per_camera.iter_mut().enumerate() {
        list.sort_by_key(|(start, _, span)| (*start, span.start));
        for pair in list.windows(2) {
            let (a_start, a_end, a_span) = &pair[0];
            let (b_start, _, b_span) = &pair[1];
            if b_start < a_end {
                let a_stop = if *a_end == Nanos::MAX {
                    "open end".to_string()
                } else {
                    fmt(*a_end)
                };
                return Err(cx.err(
                    b_span.clone(),
                    format!(
                        "this session of `{}` starts at {} while its session from line {} \
                         ({}..{}) is still open; expected sessions of one camera not to overlap",
                        cameras[camera],
                        fmt(*b_start),
                        cx.line(a_span),
                        fmt(*a_start),
                        a_stop
                    ),
                ));
            }
        }
    }

    // Clicks.
    let mut clicks = Vec::new();
    for c in &raw.click {
        let c = c.get_ref();
        let selected = cams.select(&c.camera, cx)?;
        let at = c.at.get_ref().0;
        if at > duration {
            return Err(cx.err(
                c.at.span(),
                format!(
                    "click at {} is after the end of the scenario; expected `at` within \
                     `duration` ({})",
                    fmt(at),
                    fmt(duration)
                ),
            ));
        }
        clicks.extend(selected.into_iter().map(|camera| ClickDef {
            camera,
            at,
            recording: c.recording,
        }));
    }

    // Workloads.
    let mut workloads = Vec::new();
    for w in &raw.workload {
        let w = w.get_ref();
        let selected = cams.select(&w.cameras, cx)?;
        let pm = w.arrivals.get_ref().per_minute.get_ref();
        let pm_span = w.arrivals.get_ref().per_minute.span();
        if !(pm.is_finite() && *pm >= 0.0) {
            return Err(cx.err(
                pm_span,
                format!("`per_minute` is {pm}; expected a non-negative number like 6"),
            ));
        }
        let length = dist(&w.length, cx)?;
        let from = w.from.as_ref().map_or(0, |d| d.get_ref().0);
        let until = w.until.as_ref().map_or(duration, |d| d.get_ref().0);
        if let Some(u) = &w.until {
            if until > duration {
                return Err(cx.err(
                    u.span(),
                    format!(
                        "`until` is {}, after the end of the scenario; expected at most \
                         `duration` ({})",
                        fmt(until),
                        fmt(duration)
                    ),
                ));
            }
        }
        if from >= until {
            let span = w
                .from
                .as_ref()
                .map_or_else(|| w.cameras.span(), |d| d.span());
            return Err(cx.err(
                span,
                format!(
                    "workload window {}..{} is empty; expected `from` before `until` (default: \
                     the whole duration)",
                    fmt(from),
                    fmt(until)
                ),
            ));
        }
        let expected = pm * (until - from) as f64 / (60 * SECS) as f64;
        if expected > MAX_WORKLOAD_ARRIVALS {
            return Err(cx.err(
                pm_span,
                format!(
                    "`per_minute = {pm}` gives about {expected:.0} sessions; expected at most \
                     {MAX_WORKLOAD_ARRIVALS:.0} per workload"
                ),
            ));
        }
        workloads.push(WorkloadDef {
            cameras: selected,
            per_minute: *pm,
            length,
            from,
            until,
        });
    }

    // Faults.
    let engines = super::replicas::engines(h.engines.as_ref(), cx)?;
    let mut faults = Vec::new();
    let mut targets = Vec::new();
    for f in &raw.fault {
        fault(f.get_ref(), cx, &raw.site, &cams, duration, &mut faults)?;
        let target = super::replicas::target(f.get_ref(), cx, engines)?;
        targets.resize(faults.len(), target);
        if faults.len() > MAX_FAULTS {
            return Err(cx.err(
                f.get_ref().kind.span(),
                format!("more than {MAX_FAULTS} faults after expanding `every`; expected fewer"),
            ));
        }
    }
    let mut zipped: Vec<(FaultDef, Option<sim::world::EngineTarget>)> =
        faults.into_iter().zip(targets).collect();
    zipped.sort_by_key(|(f, _)| f.at);
    let (faults, targets): (Vec<FaultDef>, Vec<_>) = zipped.into_iter().unzip();
    let engine_targets = targets
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| Some((i, t?)))
        .collect();

    let policy = match &raw.policy {
        Some(p) => p.apply().map_err(|e| cx.err(e.span, e.message))?,
        None => Policy::default(),
    };

    let mut guarantees = Vec::new();
    let mut guarantee_spans = Vec::new();
    if let Some(g) = &raw.guarantees {
        for (key, value) in &g.0 {
            let text = match value.get_ref() {
                RawCondition::Text(t) => t,
                RawCondition::Table => {
                    return Err(cx.err(
                        key.span(),
                        format!(
                            "`{}` became a table because its key has bare dots; expected a \
                             quoted key like `\"{}.p99\" = \"< 300ms\"`",
                            key.get_ref(),
                            key.get_ref()
                        ),
                    ))
                }
                RawCondition::Other(kind) => {
                    return Err(cx.err(
                        value.span(),
                        format!(
                            "guarantee `{}` is {kind}; expected a string like \"< 300ms\" \
                             (or \"== 0\" for a count)",
                            key.get_ref()
                        ),
                    ))
                }
            };
            match parse_guarantee(key.get_ref(), text, &site_names) {
                Ok(g) => {
                    guarantees.push(g);
                    guarantee_spans.push(value.span());
                }
                Err(GuaranteeError::Key(m)) => return Err(cx.err(key.span(), m)),
                Err(GuaranteeError::Value(m)) => return Err(cx.err(value.span(), m)),
            }
        }
    }

    let real_unchecked = real_unchecked(&h.real_unchecked, &guarantees, cx)?;
    let real_mode_errors = guarantees
        .iter()
        .zip(&guarantee_spans)
        .filter(|(g, _)| !real_unchecked.contains(&g.key))
        .filter_map(|(g, span)| {
            let t = real_mode::too_tight(g, real_tolerance, real_time_scale)?;
            let msg = real_mode::message(g, &t, real_tolerance, real_time_scale, duration + settle);
            Some(cx.err(span.clone(), msg).to_string())
        })
        .collect();

    Ok(Scenario {
        name,
        description: h.description,
        seed: h.seed,
        duration,
        settle,
        orphan_grace,
        real_tolerance,
        real_unchecked,
        real_mode_errors,
        tags,
        virtual_only,
        real_time_scale,
        engines,
        engine_targets,
        sites,
        cameras,
        camera_settings,
        sessions,
        clicks,
        workloads,
        faults,
        policy,
        guarantees,
    })
}

/// `real_unchecked`: each entry must name a guarantee of the file, once.
fn real_unchecked(
    keys: &[Spanned<String>],
    guarantees: &[crate::guarantee::Guarantee],
    cx: &Ctx<'_>,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let key = k.get_ref();
        if !guarantees.iter().any(|g| &g.key == key) {
            let known: Vec<&str> = guarantees.iter().map(|g| g.key.as_str()).collect();
            return Err(cx.err(
                k.span(),
                format!(
                    "`{key}` in `real_unchecked` is not a guarantee of this scenario; expected \
                     one of: {}",
                    if known.is_empty() {
                        "(none)".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        if out.contains(key) {
            return Err(cx.err(
                k.span(),
                format!("`{key}` is listed twice in `real_unchecked`; expected each once"),
            ));
        }
        out.push(key.clone());
    }
    Ok(out)
}

/// `[[camera_settings]]`: each entry names cameras, optionally a site, and
/// at least one setting; two entries may not set the same key for the same
/// camera on the same site (which one should win would be a guess).
fn camera_settings(
    raw: &[Spanned<RawCameraSettings>],
    cams: &Cameras,
    site_names: &[String],
    cx: &Ctx<'_>,
) -> Result<Vec<CameraSettingsDef>> {
    let mut out = Vec::with_capacity(raw.len());
    // (camera, site, key) → line of the entry that set it.
    let mut set_at: std::collections::HashMap<(usize, usize, &str), usize> =
        std::collections::HashMap::new();
    for entry in raw {
        let e = entry.get_ref();
        let cameras = cams.select(&e.cameras, cx)?;
        let site = match &e.site {
            Some(name) => match site_names.iter().position(|s| s == name.get_ref()) {
                Some(i) => Some(i),
                None => {
                    return Err(cx.err(
                        name.span(),
                        format!(
                            "unknown site `{}`; expected one of {}, or no `site` for every site",
                            name.get_ref(),
                            site_names
                                .iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ))
                }
            },
            None => None,
        };
        let manual_recording_max = match &e.manual_recording_max {
            Some(m) if m.get_ref().0 == Some(0) => {
                return Err(cx.err(
                    m.span(),
                    "`manual_recording_max` is 0s; expected a positive duration like `5m`, or \
                     \"off\"",
                ))
            }
            Some(m) => Some(m.get_ref().0),
            None => None,
        };
        let prebuffer = e.prebuffer.as_ref().map(|p| p.get_ref().0);
        if manual_recording_max.is_none() && prebuffer.is_none() {
            return Err(cx.err(
                entry.span(),
                "`[[camera_settings]]` sets nothing; expected `manual_recording_max` (like \
                 `\"1m\"` or `\"off\"`) and/or `prebuffer` (like `\"3s\"`)",
            ));
        }
        let line = cx.line(&entry.span());
        let sites: Vec<usize> = match site {
            Some(s) => vec![s],
            None => (0..site_names.len()).collect(),
        };
        let keys = [
            ("manual_recording_max", manual_recording_max.is_some()),
            ("prebuffer", prebuffer.is_some()),
        ];
        for &c in &cameras {
            for &s in &sites {
                for (key, set) in keys {
                    if !set {
                        continue;
                    }
                    if let Some(first) = set_at.insert((c, s, key), line) {
                        return Err(cx.err(
                            e.cameras.span(),
                            format!(
                                "camera `{}` already has `{key}` on site `{}` from the \
                                 `[[camera_settings]]` at line {first}; expected each camera's \
                                 setting once per site",
                                camera_name(c + 1, cams.count),
                                site_names[s]
                            ),
                        ));
                    }
                }
            }
        }
        out.push(CameraSettingsDef {
            cameras,
            site,
            settings: DeviceSettings {
                manual_recording_max,
                prebuffer,
            },
        });
    }
    Ok(out)
}

fn site(s: &RawSite, cx: &Ctx<'_>) -> Result<SiteDef> {
    let name = s.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(cx.err(
            s.name.span(),
            format!(
                "site name `{name}` cannot be used in guarantee keys; expected letters, digits, \
                 `-` or `_`, like `primary`"
            ),
        ));
    }
    let latency = match &s.latency {
        Some(l) => dist(l, cx)?,
        None => DEFAULT_LATENCY,
    };
    let manual_recording_max = match &s.manual_recording_max {
        Some(m) => match m.get_ref().0 {
            Some(0) => {
                return Err(cx.err(
                    m.span(),
                    "`manual_recording_max` is 0s; expected a positive duration like `5m`, or \
                     \"off\"",
                ))
            }
            v => v,
        },
        None => Some(DEFAULT_MANUAL_RECORDING_MAX),
    };
    let prebuffer = s
        .prebuffer
        .as_ref()
        .map_or(DEFAULT_PREBUFFER, |d| d.get_ref().0);
    let recorders = match &s.recorders {
        Some(r) => {
            let n = *r.get_ref();
            if n == 0 || n > MAX_RECORDERS {
                return Err(cx.err(
                    r.span(),
                    format!("`recorders` is {n}; expected 1 to {MAX_RECORDERS}"),
                ));
            }
            n as usize
        }
        None => 1,
    };
    let token_ttl = match &s.token_ttl {
        Some(t) if t.get_ref().0 == 0 => {
            return Err(cx.err(
                t.span(),
                "`token_ttl` is 0s; expected a positive duration like `4h`",
            ))
        }
        Some(t) => t.get_ref().0,
        None => DEFAULT_TOKEN_TTL,
    };
    let idp_login = match &s.login {
        None => false,
        Some(l) => match l.get_ref().as_str() {
            "idp" => true,
            "soap" => false,
            other => {
                return Err(cx.err(
                    l.span(),
                    format!("`login = \"{other}\"`; expected \"idp\" or \"soap\""),
                ))
            }
        },
    };
    let lockout_after = match &s.lockout_after {
        None => None,
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => Some(v),
            _ => {
                return Err(cx.err(
                    n.span(),
                    "`lockout_after` must be a number of failed logins from 1 to 4294967295",
                ))
            }
        },
    };
    Ok(SiteDef {
        name,
        latency,
        manual_recording_max,
        prebuffer,
        recorders,
        start_extends_timer: s.start_extends_timer.unwrap_or(false),
        token_ttl,
        idp_login,
        lockout_after,
    })
}

/// Keys each `dist` takes, in the order they are listed in messages.
const DISTS: &[(&str, &[&str])] = &[
    ("fixed", &["value"]),
    ("uniform", &["min", "max"]),
    ("normal", &["mean", "stddev"]),
    ("lognormal", &["median", "p99"]),
    ("pareto", &["scale", "shape"]),
];

fn quoted_and(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A distribution table into a [`LatencyDist`].
pub(crate) fn dist(raw: &Spanned<RawDist>, cx: &Ctx<'_>) -> Result<LatencyDist> {
    let table_span = raw.span();
    let d = raw.get_ref();
    let kind = d.dist.get_ref().as_str();
    let Some(&(kind, wanted)) = DISTS.iter().find(|(k, _)| *k == kind) else {
        return Err(cx.err(
            d.dist.span(),
            format!(
                "unknown distribution `{kind}`; expected one of {}",
                DISTS
                    .iter()
                    .map(|(k, _)| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let durations: [(&str, &Option<Spanned<Dur>>); 8] = [
        ("value", &d.value),
        ("min", &d.min),
        ("max", &d.max),
        ("mean", &d.mean),
        ("stddev", &d.stddev),
        ("median", &d.median),
        ("p99", &d.p99),
        ("scale", &d.scale),
    ];
    let mut present: Vec<(&str, Range<usize>)> = durations
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.span())))
        .collect();
    if let Some(shape) = &d.shape {
        present.push(("shape", shape.span()));
    }
    present.sort_by_key(|(_, span)| span.start);
    for (key, span) in &present {
        if !wanted.contains(key) {
            return Err(cx.err(
                span.clone(),
                format!(
                    "`{key}` does not apply to `dist = \"{kind}\"`; expected only {}",
                    quoted_and(wanted)
                ),
            ));
        }
    }
    for key in wanted {
        if !present.iter().any(|(k, _)| k == key) {
            return Err(cx.err(
                table_span,
                format!(
                    "`dist = \"{kind}\"` needs `{key}`; expected {}",
                    quoted_and(wanted)
                ),
            ));
        }
    }
    let get = |key: &str| -> (Nanos, Range<usize>) {
        durations
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref())
            .map_or((0, table_span.clone()), |v| (v.get_ref().0, v.span()))
    };
    let out = match kind {
        "fixed" => LatencyDist::Fixed(get("value").0),
        "uniform" => {
            let (min, _) = get("min");
            let (max, max_span) = get("max");
            if min > max {
                return Err(cx.err(
                    max_span,
                    format!(
                        "uniform `max` ({}) is below `min` ({}); expected min <= max",
                        fmt(max),
                        fmt(min)
                    ),
                ));
            }
            LatencyDist::Uniform { min, max }
        }
        "normal" => LatencyDist::Normal {
            mean: get("mean").0,
            stddev: get("stddev").0,
        },
        "lognormal" => {
            let (median, median_span) = get("median");
            let (p99, p99_span) = get("p99");
            if median == 0 {
                return Err(cx.err(
                    median_span,
                    "lognormal `median` is 0s; expected a positive duration",
                ));
            }
            if p99 < median {
                return Err(cx.err(
                    p99_span,
                    format!(
                        "lognormal `p99` ({}) is below `median` ({}); expected p99 >= median",
                        fmt(p99),
                        fmt(median)
                    ),
                ));
            }
            LatencyDist::LogNormal { median, p99 }
        }
        _ => {
            let (scale, scale_span) = get("scale");
            if scale == 0 {
                return Err(cx.err(
                    scale_span,
                    "pareto `scale` is 0s; expected a positive duration",
                ));
            }
            let (shape, shape_span) = d
                .shape
                .as_ref()
                .map_or((0.0, table_span.clone()), |s| (*s.get_ref(), s.span()));
            if !(shape.is_finite() && shape > 0.0) {
                return Err(cx.err(
                    shape_span,
                    format!("pareto `shape` is {shape}; expected a positive number like 1.5"),
                ));
            }
            LatencyDist::Pareto { scale, shape }
        }
    };
    // Belt and braces: the model's own check must agree.
    out.validate().map_err(|m| cx.err(table_span.clone(), m))?;
    Ok(out)
}

/// The camera name for 1-based number `n` of `count`.
pub fn camera_name(n: usize, count: usize) -> String {
    let width = count.to_string().len().max(3);
    format!("cam-{n:0width$}")
}

/// The 1-based number of camera `name` among `count`, if it is one of them
/// (spelled exactly, zero padding included).
pub fn camera_number(name: &str, count: usize) -> Option<usize> {
    let digits = name.strip_prefix("cam-")?;
    let width = count.to_string().len().max(3);
    if digits.len() != width || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = digits.parse().ok()?;
    (1..=count).contains(&n).then_some(n)
}

/// Camera selectors of one scenario.
struct Cameras {
    count: usize,
}

impl Cameras {
    fn expected(&self) -> String {
        format!(
            "expected a camera `{}`..`{}`, a range like `{}..{}`, or `*` for all",
            camera_name(1, self.count),
            camera_name(self.count, self.count),
            camera_name(1, self.count),
            camera_name(self.count, self.count)
        )
    }

    fn one(&self, name: &str, span: Range<usize>, cx: &Ctx<'_>) -> Result<usize> {
        camera_number(name.trim(), self.count)
            .map(|n| n - 1)
            .ok_or_else(|| {
                cx.err(
                    span,
                    format!("unknown camera `{}`; {}", name.trim(), self.expected()),
                )
            })
    }

    /// `cam-001`, `cam-002..cam-016` or `*` into ascending camera indices.
    fn select(&self, sel: &Spanned<String>, cx: &Ctx<'_>) -> Result<Vec<usize>> {
        let text = sel.get_ref().trim();
        if text == "*" {
            return Ok((0..self.count).collect());
        }
        if let Some((a, b)) = text.split_once("..") {
            let first = self.one(a, sel.span(), cx)?;
            let last = self.one(b, sel.span(), cx)?;
            if first > last {
                return Err(cx.err(
                    sel.span(),
                    format!(
                        "camera range `{text}` runs backwards; expected the lower camera first, \
                         like `{}..{}`",
                        b.trim(),
                        a.trim()
                    ),
                ));
            }
            return Ok((first..=last).collect());
        }
        Ok(vec![self.one(text, sel.span(), cx)?])
    }
}

/// Which optional keys a fault kind takes.
struct KindRules {
    site: bool,
    /// `Some(true)`: required, `Some(false)`: optional, `None`: not allowed.
    for_: Option<bool>,
    rate: bool,
    latency: bool,
    camera: bool,
}

fn rules(kind: &str) -> Option<KindRules> {
    let base = KindRules {
        site: true,
        for_: Some(true),
        rate: false,
        latency: false,
        camera: false,
    };
    Some(match kind {
        "down" | "partition" | "hang" => base,
        "slow" => KindRules {
            latency: true,
            ..base
        },
        "errors" | "lost_replies" => KindRules { rate: true, ..base },
        "restart" => KindRules {
            for_: Some(false),
            ..base
        },
        "stream_loss" => KindRules {
            camera: true,
            ..base
        },
        "token_expiry" => KindRules { for_: None, ..base },
        "wrong_password" => base,
        "engine_crash" => KindRules {
            site: false,
            ..base
        },
        _ => return None,
    })
}

fn fault(
    f: &RawFault,
    cx: &Ctx<'_>,
    sites: &[Spanned<RawSite>],
    cams: &Cameras,
    duration: Nanos,
    out: &mut Vec<FaultDef>,
) -> Result<()> {
    let kind_name = f.kind.get_ref().as_str();
    let kind_span = f.kind.span();
    let Some(r) = rules(kind_name) else {
        return Err(cx.err(
            kind_span,
            format!(
                "unknown fault kind `{kind_name}`; expected one of {}",
                FaultKind::NAMES
                    .iter()
                    .chain(&["wrong_password"])
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let not_for = |key: &str, span: Range<usize>, hint: &str| {
        cx.err(
            span,
            format!("`{key}` does not apply to `kind = \"{kind_name}\"`; {hint}"),
        )
    };
    let needs = |key: &str, hint: &str| {
        cx.err(
            kind_span.clone(),
            format!("`kind = \"{kind_name}\"` needs `{key}`; expected {hint}"),
        )
    };

    let site = match (&f.site, r.site) {
        (Some(s), true) => {
            let name = s.get_ref();
            match sites
                .iter()
                .position(|o| o.get_ref().name.get_ref() == name)
            {
                Some(i) => Some(i),
                None => {
                    let known = sites
                        .iter()
                        .map(|o| format!("`{}`", o.get_ref().name.get_ref()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(cx.err(
                        s.span(),
                        format!("unknown site `{name}`; expected one of {known}"),
                    ));
                }
            }
        }
        (None, true) => {
            return Err(needs(
                "site",
                "the name of a `[[site]]`, like `site = \"primary\"`",
            ))
        }
        (Some(s), false) => {
            return Err(not_for(
                "site",
                s.span(),
                "expected no `site` (the engine crashes, not a site)",
            ))
        }
        (None, false) => None,
    };

    let at = f.at.get_ref().0;
    let for_ = match (&f.for_, r.for_) {
        (Some(d), Some(_)) => {
            if d.get_ref().0 == 0 && r.for_ == Some(true) {
                return Err(cx.err(
                    d.span(),
                    format!("`for` is 0s; expected how long the `{kind_name}` lasts, like `30s`"),
                ));
            }
            d.get_ref().0
        }
        (None, Some(true)) => {
            return Err(needs("for", "how long it lasts, like `for = \"30s\"`"));
        }
        (None, Some(false)) => 0,
        (Some(d), None) => {
            return Err(not_for(
                "for",
                d.span(),
                "expected no `for` (it happens at one instant)",
            ))
        }
        (None, None) => 0,
    };

    let kind = match kind_name {
        "down" => FaultKind::Down,
        "partition" => FaultKind::Partition,
        "hang" => FaultKind::Hang,
        "restart" => FaultKind::Restart,
        "token_expiry" => FaultKind::TokenExpiry,
        "wrong_password" => FaultKind::WrongPassword,
        "engine_crash" => FaultKind::EngineCrash,
        "slow" => match &f.latency {
            Some(l) => FaultKind::Slow(dist(l, cx)?),
            None => {
                return Err(needs(
                    "latency",
                    "a distribution, like `latency = { dist = \"fixed\", value = \"500ms\" }`",
                ))
            }
        },
        "errors" | "lost_replies" => match &f.rate {
            Some(rate) => {
                let v = *rate.get_ref();
                if !(0.0..=1.0).contains(&v) {
                    return Err(cx.err(
                        rate.span(),
                        format!("`rate` is {v}; expected a fraction from 0 to 1, like 0.3"),
                    ));
                }
                if kind_name == "errors" {
                    FaultKind::Errors { rate: v }
                } else {
                    FaultKind::LostReplies { rate: v }
                }
            }
            None => {
                return Err(needs(
                    "rate",
                    "the affected fraction of requests, like `rate = 0.3`",
                ))
            }
        },
        _ => match &f.camera {
            Some(c) => {
                let name = c.get_ref();
                if name.contains("..") || name.trim() == "*" {
                    return Err(cx.err(
                        c.span(),
                        format!(
                            "`stream_loss` takes one camera, not `{}`; expected a name like `{}`",
                            name.trim(),
                            camera_name(1, cams.count)
                        ),
                    ));
                }
                FaultKind::StreamLoss {
                    camera: cams.one(name, c.span(), cx)?,
                }
            }
            None => {
                return Err(needs(
                    "camera",
                    "a camera name, like `camera = \"cam-001\"`",
                ))
            }
        },
    };
    if let (Some(rate), false) = (&f.rate, r.rate) {
        return Err(not_for(
            "rate",
            rate.span(),
            "expected `rate` only with `kind = \"errors\"` or `\"lost_replies\"`",
        ));
    }
    if let (Some(l), false) = (&f.latency, r.latency) {
        return Err(not_for(
            "latency",
            l.span(),
            "expected `latency` only with `kind = \"slow\"`",
        ));
    }
    if let (Some(c), false) = (&f.camera, r.camera) {
        return Err(not_for(
            "camera",
            c.span(),
            "expected `camera` only with `kind = \"stream_loss\"`",
        ));
    }

    let window_end = at.saturating_add(for_);
    if window_end > duration {
        let span = f.for_.as_ref().map_or_else(|| f.at.span(), |d| d.span());
        return Err(cx.err(
            span,
            format!(
                "the `{kind_name}` fault runs {}..{}, past the end of the scenario; expected it \
                 to end by `duration` ({})",
                fmt(at),
                fmt(window_end),
                fmt(duration)
            ),
        ));
    }

    match (&f.every, &f.until) {
        (None, None) => {
            out.push(FaultDef {
                site,
                kind,
                at,
                duration: for_,
            });
        }
        (None, Some(u)) => {
            return Err(cx.err(
                u.span(),
                "`until` ends a repetition; expected it only together with `every`",
            ))
        }
        (Some(every_s), until_s) => {
            let every = every_s.get_ref().0;
            if every <= for_ {
                return Err(cx.err(
                    every_s.span(),
                    format!(
                        "`every` is {} but each fault lasts {}; expected `every` longer than `for`",
                        fmt(every),
                        fmt(for_)
                    ),
                ));
            }
            let until = match until_s {
                Some(u) => {
                    let until = u.get_ref().0;
                    if until <= at {
                        return Err(cx.err(
                            u.span(),
                            format!(
                                "`until` ({}) is not after `at` ({}); expected the repetition to \
                                 end after it starts",
                                fmt(until),
                                fmt(at)
                            ),
                        ));
                    }
                    if until > duration {
                        return Err(cx.err(
                            u.span(),
                            format!(
                                "`until` ({}) is after the end of the scenario; expected at most \
                                 `duration` ({})",
                                fmt(until),
                                fmt(duration)
                            ),
                        ));
                    }
                    until
                }
                None => duration,
            };
            // Repetitions start at at, at+every, … before `until`; each must
            // end by `duration` (without `until`, the ones that fit).
            let mut t = at;
            while t < until {
                let end = t.saturating_add(for_);
                if end > duration {
                    if let Some(u) = until_s {
                        return Err(cx.err(
                            u.span(),
                            format!(
                                "the repetition at {} runs until {}, past the end of the \
                                 scenario ({}); expected `until` at most {}",
                                fmt(t),
                                fmt(end),
                                fmt(duration),
                                fmt(t)
                            ),
                        ));
                    }
                    break;
                }
                out.push(FaultDef {
                    site,
                    kind: kind.clone(),
                    at: t,
                    duration: for_,
                });
                if out.len() > MAX_FAULTS {
                    break;
                }
                t = match t.checked_add(every) {
                    Some(t) => t,
                    None => break,
                };
            }
        }
    }
    Ok(())
}
