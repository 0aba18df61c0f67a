//! [`Settings`]: what an acceptance run will do — the `[acceptance]` table
//! of the site config (re-parsed here from the file text, so every error
//! names `file:line:col`) overridden by the command line — and the
//! human-readable [`plan`] that `--dry-run` prints.
//!
//! ```toml
//! [acceptance]
//! cycles = 3              # start/stop cycles
//! session = "10s"         # how long each cycle records
//! pause = "5s"            # between cycles; keep it above the pre-buffer
//! confirm_timeout = "10s" # how long IsManualRecording may take to agree
//! drill_site = "secondary"
//! drill_outage = "4s"     # hooks only: how long the site stays cut
//! drill_recovery = "10s"  # the cut site must record again within this
//!
//! [acceptance.guarantees]  # same syntax as a scenario's [guarantees]
//! "dual_start_latency.p99" = "< 1s"
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use engine::config::EngineConfig;
use engine::core::{Nanos, SECS};
use serde::Deserialize;
use toml::Spanned;

use super::AcceptError;

/// Defaults of `[acceptance]`.
pub const DEFAULT_CYCLES: u32 = 3;
pub const DEFAULT_SESSION: Nanos = 10 * SECS;
pub const DEFAULT_PAUSE: Nanos = 5 * SECS;
pub const DEFAULT_CONFIRM_TIMEOUT: Nanos = 10 * SECS;
pub const DEFAULT_DRILL_RECOVERY: Nanos = 10 * SECS;

/// How the fault drill cuts and restores a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillMode {
    /// Ask the operator and wait for Enter.
    Prompt,
    /// Run these shell commands (`sh -c`).
    Hooks { cut: String, restore: String },
}

/// The command-line side of the settings (`None`: from the config or default).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub cycles: Option<u32>,
    pub session: Option<Nanos>,
    pub pause: Option<Nanos>,
    pub drill: Option<DrillMode>,
    pub drill_site: Option<String>,
}

/// One acceptance criterion as written: key, condition, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub key: String,
    pub condition: String,
    /// `file:line:col` of the entry in the config; `None` for a default.
    pub at: Option<String>,
}

/// Everything the run does, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cycles: u32,
    pub session: Nanos,
    pub pause: Nanos,
    pub confirm_timeout: Nanos,
    pub drill: Option<DrillMode>,
    /// Index of the site the drill cuts.
    pub drill_site: usize,
    pub drill_outage: Nanos,
    pub drill_recovery: Nanos,
    /// From `[acceptance.guarantees]`, in key order.
    pub configured: Vec<Criterion>,
}

#[derive(Deserialize)]
struct FileView {
    acceptance: Option<RawAcceptance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcceptance {
    cycles: Option<Spanned<i64>>,
    session: Option<Spanned<String>>,
    pause: Option<Spanned<String>>,
    confirm_timeout: Option<Spanned<String>>,
    drill_site: Option<Spanned<String>>,
    drill_outage: Option<Spanned<String>>,
    drill_recovery: Option<Spanned<String>>,
    #[serde(default)]
    guarantees: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Cx<'_> {
    fn at(&self, span: Range<usize>) -> String {
        let (l, c) = line_col(self.text, span.start);
        format!("{}:{l}:{c}", self.file)
    }
    fn err(&self, span: Range<usize>, msg: impl std::fmt::Display) -> AcceptError {
        AcceptError::Invalid(format!("{}: {msg}", self.at(span)))
    }
    fn dur(
        &self,
        v: &Option<Spanned<String>>,
        positive: bool,
    ) -> Result<Option<Nanos>, AcceptError> {
        let Some(v) = v else { return Ok(None) };
        match engine::config::parse_duration(v.get_ref()) {
            Ok(0) if positive => Err(self.err(
                v.span(),
                format!("`{}` is zero; expected a positive duration", v.get_ref()),
            )),
            Ok(n) => Ok(Some(n)),
            Err(e) => Err(self.err(v.span(), e)),
        }
    }
}

impl Settings {
    /// Reads `[acceptance]` from the config file's `text` and applies `cli`.
    pub fn resolve(
        file: &str,
        text: &str,
        cfg: &EngineConfig,
        cli: &Overrides,
    ) -> Result<Settings, AcceptError> {
        let cx = Cx { file, text };
        let view: FileView = toml::from_str(text).map_err(|e| {
            let start = e.span().map_or(0, |s| s.start);
            cx.err(start..start, e.message().trim())
        })?;
        let raw = view.acceptance;
        let cycles = match raw.as_ref().and_then(|r| r.cycles.as_ref()) {
            Some(c) if (1..=1000).contains(c.get_ref()) => Some(*c.get_ref() as u32),
            Some(c) => {
                return Err(cx.err(
                    c.span(),
                    format!(
                        "cycles = {} is out of range; expected 1 to 1000",
                        c.get_ref()
                    ),
                ))
            }
            None => None,
        };
        let get = |f: fn(&RawAcceptance) -> &Option<Spanned<String>>, positive| match &raw {
            Some(r) => cx.dur(f(r), positive),
            None => Ok(None),
        };
        let session = get(|r| &r.session, true)?;
        let pause = get(|r| &r.pause, false)?;
        let confirm_timeout = get(|r| &r.confirm_timeout, true)?;
        let drill_outage = get(|r| &r.drill_outage, true)?;
        let drill_recovery = get(|r| &r.drill_recovery, true)?;
        let site_names: Vec<&str> = cfg.sites.iter().map(|s| s.spec.name.as_str()).collect();
        let drill_site_name = match (
            &cli.drill_site,
            raw.as_ref().and_then(|r| r.drill_site.as_ref()),
        ) {
            (Some(n), _) => Some((n.clone(), None)),
            (None, Some(n)) => Some((n.get_ref().clone(), Some(n.span()))),
            (None, None) => None,
        };
        let drill_site = match drill_site_name {
            None => site_names.len().saturating_sub(1),
            Some((name, span)) => match site_names.iter().position(|s| *s == name) {
                Some(i) => i,
                None => {
                    let msg = format!(
                        "unknown drill site `{name}`; expected one of {}",
                        site_names.join(", ")
                    );
                    return Err(match span {
                        Some(span) => cx.err(span, msg),
                        None => AcceptError::Invalid(format!("--drill-site: {msg}")),
                    });
                }
            },
        };
        let configured = raw
            .as_ref()
            .map(|r| {
                r.guarantees
                    .iter()
                    .map(|(k, v)| Criterion {
                        key: k.get_ref().clone(),
                        condition: v.get_ref().clone(),
                        at: Some(cx.at(k.span())),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let s = Settings {
            cycles: cli.cycles.or(cycles).unwrap_or(DEFAULT_CYCLES),
            session: cli.session.or(session).unwrap_or(DEFAULT_SESSION),
            pause: cli.pause.or(pause).unwrap_or(DEFAULT_PAUSE),
            confirm_timeout: confirm_timeout.unwrap_or(DEFAULT_CONFIRM_TIMEOUT),
            drill: cli.drill.clone(),
            drill_site,
            drill_outage: drill_outage.unwrap_or(0),
            drill_recovery: drill_recovery.unwrap_or(DEFAULT_DRILL_RECOVERY),
            configured,
        };
        if s.cycles == 0 {
            return Err(AcceptError::Invalid(
                "--cycles 0: expected at least one cycle".into(),
            ));
        }
        if s.session == 0 {
            return Err(AcceptError::Invalid(
                "--session 0s: expected a positive duration".into(),
            ));
        }
        Ok(s)
    }

    /// How long the cut site stays cut with hooks.
    pub fn outage(&self) -> Nanos {
        if self.drill_outage > 0 {
            self.drill_outage
        } else {
            (self.session / 3).max(SECS)
        }
    }

    /// Roughly how long the run takes (cycles, pauses, drill), ns.
    pub fn estimate(&self) -> Nanos {
        let n = u64::from(self.cycles);
        let drill = if self.drill.is_some() {
            self.pause + self.session.max(self.outage() + 3 * SECS)
        } else {
            0
        };
        n * self.session + n.saturating_sub(1) * self.pause + drill
    }
}

/// Formats ns as `1.5s`-style text.
pub fn secs(ns: Nanos) -> String {
    crate::verdict::format_duration(ns)
}

/// The plan, one step a line (what `--dry-run` prints).
pub fn plan(
    cfg: &EngineConfig,
    s: &Settings,
    cameras: &[usize],
    criteria: &[Criterion],
    remote: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let names: Vec<&str> = cameras
        .iter()
        .map(|&c| cfg.cameras[c].spec.id.as_str())
        .collect();
    out.push(format!(
        "acceptance plan: {} site(s), test camera(s) {}; about {}",
        cfg.sites.len(),
        names.join(", "),
        secs(s.estimate() + 5 * SECS)
    ));
    for site in &cfg.sites {
        out.push(format!(
            "  site {}: management {}, recorder(s) {}",
            site.spec.name,
            site.endpoint.management_url,
            site.endpoint.recorder_urls.join(", ")
        ));
    }
    let untouched: Vec<&str> = cfg
        .cameras
        .iter()
        .enumerate()
        .filter(|(i, _)| !cameras.contains(i))
        .map(|(_, c)| c.spec.id.as_str())
        .collect();
    if !untouched.is_empty() {
        out.push(format!("  never touched: {}", untouched.join(", ")));
    }
    out.push(
        "1. preflight: log in to every site (login time, token lifetime, clock offset), \
         recorder round trip, SequencesGetTypes + IsManualRecording of every test camera; \
         refuse if one is already recording (unless --force)"
            .into(),
    );
    out.push(format!(
        "2. {} cycle(s): start, record {}, stop, pause {} — through {}; each confirmed with \
         IsManualRecording on every site",
        s.cycles,
        secs(s.session),
        secs(s.pause),
        remote.map_or_else(
            || "the engine in-process".to_owned(),
            |u| format!("the engine at {u}")
        )
    ));
    match &s.drill {
        None => out.push("3. no fault drill (--drill prompt|hooks)".into()),
        Some(mode) => out.push(format!(
            "3. fault drill: start, cut site {} ({}), restore, check the other site(s) kept \
             recording with no gap and the cut site records again within {}",
            cfg.sites[s.drill_site].spec.name,
            match mode {
                DrillMode::Prompt => "operator prompt".to_owned(),
                DrillMode::Hooks { cut, restore } => format!(
                    "cut `{cut}`, after {} restore `{restore}`",
                    secs(s.outage())
                ),
            },
            secs(s.drill_recovery)
        )),
    }
    out.push(
        "4. read footage back (SequencesGet, RecordingSequence), correct each site's clock \
         offset, compute latencies, skews and gaps; verdict:"
            .into(),
    );
    for c in criteria {
        out.push(format!("     {} {}", c.key, c.condition));
    }
    out
}
