//! `dualrec accept`: a pre-deployment acceptance run against the live
//! XProtect sites of a site config — one command that proves one click
//! records on every site, with what latency and skew, and that the footage
//! really exists on every recorder, and leaves a report for the customer.
//!
//! The run: preflight (`preflight.rs`), N start/stop cycles through the
//! real engine (`cycles.rs`), an optional fault drill (`drill.rs`), footage
//! read back and turned into a [`RunRecord`](sim::world::record::RunRecord)
//! (`footage.rs`), then the scenario machinery: [`crate::metrics`],
//! [`crate::verdict`] against the criteria (`criteria.rs`), and the reports
//! of [`crate::report`] plus `acceptance.json` and `actions.log`.
//!
//! Safety: only cameras with `test = true` are touched; a test camera that
//! is already manually recording makes the run refuse (with `force`, that
//! camera is left out instead — acceptance never stops a recording it did
//! not start); on Ctrl-C or an error the run stops what it started (through
//! the engine, then directly on the recorders) and logs the state it left;
//! every action is logged with its UTC time; a dry run touches nothing.

pub mod criteria;
pub mod cycles;
pub mod drill;
pub mod footage;
pub mod live;
pub mod log;
pub mod plan;
pub mod preflight;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use engine::config::{ConfigError, EngineConfig};
use engine::core::{CameraId, MirrorConfig, Nanos, SECS};
use serde::Serialize;
use xprotect::{RecorderRequest, UtcTime};

use crate::metrics::{compute, MetricsConfig};
use crate::output::{write_report_files, Renderings};
use crate::report::{summary_markdown, summary_text, Report, ReportMeta};
use crate::verdict::evaluate;

use cycles::{Clicker, Ctx, CycleLog, RunClock, Shared};
use live::{LiveSite, Session};
use log::{utc_now, ActionLog, Echo};
use plan::{secs, DrillMode, Overrides, Settings};
use preflight::SitePreflight;

/// Schema tag of `acceptance.json`.
pub const SCHEMA: &str = "dualrec.acceptance/v1";

/// Invalid input (exit 2) or a failure of the run itself (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

/// A running `dualrec engine` to click through instead of the in-process engine.
#[derive(Debug, Clone)]
pub struct RemoteEngine {
    pub url: String,
    pub key: String,
}

/// What `dualrec accept` was asked to do.
pub struct AcceptOptions {
    /// The command line as typed (shell-quoted): the reports name it as the
    /// way to run the same acceptance again.
    pub command_line: String,
    pub config: PathBuf,
    pub out_dir: PathBuf,
    pub operator: String,
    pub overrides: Overrides,
    pub force: bool,
    pub dry_run: bool,
    pub remote: Option<RemoteEngine>,
    /// Where log lines are echoed (the terminal).
    pub echo: Echo,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every criterion held (exit 0).
    Passed,
    /// A criterion failed (exit 1).
    Failed,
    /// The run refused to start, and why (exit 4).
    Refused(String),
    /// Ctrl-C: what was started was stopped (exit 1).
    Interrupted,
    /// `--dry-run`: the plan was shown (exit 0).
    DryRun,
}

/// The result of a run.
#[derive(Debug)]
pub struct AcceptOutcome {
    pub status: Status,
    pub report: Option<Report>,
    /// Per site: measured clock offset, ns (preflight).
    pub clock_offsets_ns: Vec<(String, Option<i64>)>,
}

/// A test camera: its index in the config, name and, per site, `(recorder, device)`.
#[derive(Debug, Clone)]
pub struct Target {
    pub index: usize,
    pub id: CameraId,
    pub name: String,
    pub devices: Vec<(usize, String)>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'a str,
    status: String,
    operator: &'a str,
    command_line: &'a str,
    dualrec_version: &'a str,
    config: String,
    started_utc: String,
    finished_utc: String,
    engine: String,
    cycles: u32,
    session_ns: Nanos,
    pause_ns: Nanos,
    drill: Option<String>,
    cameras: Vec<String>,
    left_out: Vec<String>,
    preflight: &'a [SitePreflight],
    sessions: Vec<CycleLog>,
    criteria: Vec<(String, String)>,
}

fn targets_of(cfg: &EngineConfig) -> Result<Vec<Target>, AcceptError> {
    let mut out = Vec::new();
    for (index, cam) in cfg.cameras.iter().enumerate().filter(|(_, c)| c.test) {
        let mut devices = Vec::new();
        for (r, site) in cfg.sites.iter().enumerate() {
            let p = cam.spec.placements.iter().find(|p| p.site == r).ok_or_else(|| {
                AcceptError::Invalid(format!(
                    "{}: test camera `{}` has no device on site `{}`; expected a device on every site",
                    cfg.file,
                    cam.spec.id.as_str(),
                    site.spec.name
                ))
            })?;
            devices.push((p.recorder, p.device.text().to_ascii_lowercase()));
        }
        out.push(Target {
            index,
            id: cam.spec.id.clone(),
            name: cam.spec.id.as_str().to_owned(),
            devices,
        });
    }
    if out.is_empty() {
        return Err(AcceptError::Invalid(format!(
            "{}: no camera has `test = true`; acceptance only touches test cameras",
            cfg.file
        )));
    }
    Ok(out)
}

/// Runs an acceptance (see the module doc). Must be called inside a tokio runtime.
pub async fn run(opts: AcceptOptions) -> Result<AcceptOutcome, AcceptError> {
    // The engine runs in this process (or is reached with `--engine URL`):
    // `[engine]` and `[[api_key]]` are optional.
    let cfg = match EngineConfig::load_in_process(&opts.config) {
        Ok(c) => c,
        Err(e @ ConfigError::Invalid { .. }) => return Err(AcceptError::Invalid(e.to_string())),
        Err(e) => return Err(AcceptError::Internal(e.to_string())),
    };
    let text = std::fs::read_to_string(&opts.config)
        .map_err(|e| AcceptError::Internal(format!("{}: {e}", cfg.file)))?;
    let settings = Settings::resolve(&cfg.file, &text, &cfg, &opts.overrides)?;
    let mut targets = targets_of(&cfg)?;
    let site_names: Vec<String> = cfg.sites.iter().map(|s| s.spec.name.clone()).collect();
    let criteria = criteria::criteria(&settings, &site_names);
    let guarantees = criteria::parse(&criteria, &site_names)?;
    let mut plan_lines = plan::plan(
        &cfg,
        &settings,
        &targets.iter().map(|t| t.index).collect::<Vec<_>>(),
        &criteria,
        opts.remote.as_ref().map(|r| r.url.as_str()),
    );
    let max_prebuffer = cfg
        .sites
        .iter()
        .map(|s| s.spec.prebuffer)
        .max()
        .unwrap_or(0);

    if settings.pause <= max_prebuffer && (settings.cycles > 1 || settings.drill.is_some()) {
        plan_lines.push(format!(
            "note: pause {} is not longer than the pre-buffer {}: footage of consecutive \
             sessions may merge (their start times then come from IsManualRecording)",
            secs(settings.pause),
            secs(max_prebuffer)
        ));
    }

    if opts.dry_run {
        let log = ActionLog::echo_only(opts.echo);
        for l in &plan_lines {
            log.plain(l);
        }
        log.plain("dry run: no recorder was contacted");
        return Ok(AcceptOutcome {
            status: Status::DryRun,
            report: None,
            clock_offsets_ns: Vec::new(),
        });
    }

    std::fs::create_dir_all(&opts.out_dir).map_err(|e| {
        AcceptError::Internal(format!("cannot create {}: {e}", opts.out_dir.display()))
    })?;
    let log = ActionLog::to_file(&opts.out_dir.join("actions.log"), opts.echo).map_err(|e| {
        AcceptError::Internal(format!(
            "cannot write {}/actions.log: {e}",
            opts.out_dir.display()
        ))
    })?;
    let started_utc = utc_now();
    log.action(format!(
        "acceptance by {} with {} (dualrec {}), output in {}",
        opts.operator,
        cfg.file,
        env!("CARGO_PKG_VERSION"),
        opts.out_dir.display()
    ));
    log.action(format!("command line: {}", opts.command_line));
    for l in &plan_lines {
        log.plain(format!("  {l}"));
    }

    // Preflight.
    let sessions: Vec<Session> = cfg
        .sites
        .iter()
        .map(|s| LiveSite::new(&s.endpoint).map(Session::new))
        .collect::<Result<_, _>>()
        .map_err(AcceptError::Invalid)?;
    let pre: Vec<SitePreflight> = cycles::join_all(
        sessions
            .iter()
            .enumerate()
            .map(|(r, s)| preflight::check_site(r, s, &targets, &log)),
    )
    .await;
    let offsets: Vec<(String, Option<i64>)> = pre
        .iter()
        .map(|p| (p.site.clone(), p.clock_offset_ns))
        .collect();
    let mut doc = Document {
        schema: SCHEMA,
        status: String::new(),
        operator: &opts.operator,
        command_line: &opts.command_line,
        dualrec_version: env!("CARGO_PKG_VERSION"),
        config: cfg.file.clone(),
        started_utc: started_utc.format(),
        finished_utc: String::new(),
        engine: opts
            .remote
            .as_ref()
            .map_or_else(|| "in-process".to_owned(), |r| r.url.clone()),
        cycles: settings.cycles,
        session_ns: settings.session,
        pause_ns: settings.pause,
        drill: settings.drill.as_ref().map(|d| match d {
            DrillMode::Prompt => format!("prompt, site {}", site_names[settings.drill_site]),
            DrillMode::Hooks { .. } => format!("hooks, site {}", site_names[settings.drill_site]),
        }),
        cameras: Vec::new(),
        left_out: Vec::new(),
        preflight: &pre,
        sessions: Vec::new(),
        criteria: criteria
            .iter()
            .map(|c| (c.key.clone(), c.condition.clone()))
            .collect(),
    };
    let refuse = |why: String, doc: &mut Document| {
        log.action(format!("REFUSED: {why}"));
        doc.status = format!("refused: {why}");
        doc.finished_utc = utc_now().format();
        write_doc(&opts.out_dir, doc);
        Ok(AcceptOutcome {
            status: Status::Refused(why),
            report: None,
            clock_offsets_ns: offsets.clone(),
        })
    };
    let broken: Vec<String> = pre
        .iter()
        .filter(|p| !p.ok())
        .map(|p| {
            let mut why = p.problem.clone().unwrap_or_default();
            for c in p.cameras.iter().filter(|c| c.problem.is_some()) {
                let _ = write!(
                    why,
                    "{}camera {}: {}",
                    if why.is_empty() { "" } else { "; " },
                    c.camera,
                    c.problem.as_deref().unwrap_or("")
                );
            }
            format!("site {}: {why}", p.site)
        })
        .collect();
    if !broken.is_empty() {
        return refuse(
            format!("preflight failed — {}", broken.join(" | ")),
            &mut doc,
        );
    }
    let busy: Vec<(String, String)> = pre
        .iter()
        .flat_map(|p| {
            p.cameras
                .iter()
                .filter(|c| c.recording == Some(true))
                .map(|c| (c.camera.clone(), p.site.clone()))
        })
        .collect();
    if !busy.is_empty() {
        let list = busy
            .iter()
            .map(|(c, s)| format!("{c} on {s}"))
            .collect::<Vec<_>>()
            .join(", ");
        if !opts.force {
            return refuse(
                format!(
                    "test camera(s) already manually recording: {list} — someone may be \
                     recording evidence; stop it first, or give --force to leave those \
                     cameras out"
                ),
                &mut doc,
            );
        }
        doc.left_out = busy.iter().map(|(c, _)| c.clone()).collect();
        targets.retain(|t| !busy.iter().any(|(c, _)| *c == t.name));
        log.action(format!("--force: leaving out (and never stopping) {list}"));
        if targets.is_empty() {
            return refuse(
                "every test camera is already recording; nothing left to test".into(),
                &mut doc,
            );
        }
    }
    doc.cameras = targets.iter().map(|t| t.name.clone()).collect();

    // The engine. Its jitter seed goes into the report (a remote engine's
    // is its own: 0 there).
    let engine_seed = match &opts.remote {
        Some(_) => 0,
        None => cfg.seed.unwrap_or(started_utc.unix_nanos() as u64),
    };
    let clicker = match &opts.remote {
        Some(r) => {
            let http = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| AcceptError::Internal(format!("HTTP client: {e}")))?;
            log.action(format!("clicks go to the engine at {}", r.url));
            Clicker::Remote {
                http,
                url: r.url.clone(),
                key: r.key.clone(),
            }
        }
        None => {
            let mirror = MirrorConfig {
                sites: cfg.sites.iter().map(|s| s.spec.clone()).collect(),
                cameras: targets
                    .iter()
                    .map(|t| cfg.cameras[t.index].spec.clone())
                    .collect(),
                policy: cfg.policy.clone(),
            };
            let seed = engine_seed;
            let handle = engine::runtime::spawn(mirror, cfg.endpoints(), seed)
                .map_err(|e| AcceptError::Internal(format!("engine: {e}")))?;
            log.action("engine started in-process (test cameras only)");
            Clicker::InProcess(handle)
        }
    };

    let clock = RunClock {
        origin_utc_ns: utc_now().unix_nanos() - (max_prebuffer + 2 * SECS) as i64,
    };
    let shared = Shared::default();
    let ctx = Ctx {
        sessions: &sessions,
        targets: &targets,
        clicker: &clicker,
        clock,
        log: &log,
        shared: &shared,
        confirm_timeout: settings.confirm_timeout,
    };
    let main = async {
        for k in 0..settings.cycles {
            if k > 0 {
                ctx.sleep_until(ctx.clock.now() + settings.pause).await;
            }
            let c = ctx.cycle(k, settings.cycles, settings.session).await?;
            shared
                .cycles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(c);
        }
        if let Some(mode) = &settings.drill {
            ctx.sleep_until(ctx.clock.now() + settings.pause).await;
            let c = drill::drill(
                &ctx,
                mode,
                settings.drill_site,
                settings.session,
                settings.outage(),
            )
            .await?;
            shared
                .cycles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(c);
        }
        Ok::<(), String>(())
    };
    let interrupted = tokio::select! {
        r = main => match r {
            Ok(()) => None,
            Err(e) => Some(format!("the run failed: {e}")),
        },
        _ = tokio::signal::ctrl_c() => Some("interrupted (Ctrl-C)".to_owned()),
    };
    if let Some(why) = interrupted {
        log.action(format!("{why}; cleaning up"));
        clean_up(&ctx, &settings).await;
        if let Clicker::InProcess(h) = &clicker {
            h.shutdown().await;
        }
        doc.status = why.clone();
        doc.sessions = shared
            .cycles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        doc.finished_utc = utc_now().format();
        write_doc(&opts.out_dir, &doc);
        if why.starts_with("interrupted") {
            return Ok(AcceptOutcome {
                status: Status::Interrupted,
                report: None,
                clock_offsets_ns: offsets,
            });
        }
        return Err(AcceptError::Internal(why));
    }
    if let Clicker::InProcess(h) = &clicker {
        h.shutdown().await;
    }

    // Footage and verdict.
    ctx.sleep_until(ctx.clock.now() + cycles::SETTLE).await;
    let end = ctx.clock.now();
    let mut final_manual = Vec::new();
    let mut footage = Vec::new();
    for (r, s) in sessions.iter().enumerate() {
        let mut states = Vec::new();
        for t in &targets {
            let st = s
                .is_recording(t.devices[r].0, std::slice::from_ref(&t.devices[r].1))
                .await;
            states.push(matches!(st.as_deref(), Ok([(_, true)])));
        }
        final_manual.push(states);
        let offset = pre[r].clock_offset_ns.unwrap_or(0);
        log.action(format!(
            "reading footage of {} (SequencesGet, RecordingSequence, clock offset {:+.3} s)",
            s.site.name(),
            offset as f64 / 1e9
        ));
        let f = footage::read_site(s, r, &targets, clock, offset, end)
            .await
            .map_err(AcceptError::Internal)?;
        for (t, sf) in targets.iter().zip(&f) {
            log.action(format!(
                "footage {} on {}: {} sequence(s), {} in all",
                t.name,
                s.site.name(),
                sf.sequences.len(),
                secs(sf.sequences.iter().map(|q| q.2 - q.0).sum())
            ));
        }
        footage.push(f);
    }
    let cycle_logs = shared
        .cycles
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let clicks = shared
        .clicks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let prebuffers: Vec<Nanos> = cfg.sites.iter().map(|s| s.spec.prebuffer).collect();
    let record = footage::record(
        site_names.clone(),
        &targets,
        &footage,
        &prebuffers,
        &cycle_logs,
        clicks,
        final_manual,
        end,
        settings.drill.as_ref().map(|_| settings.drill_site),
    );
    let metrics = compute(&record, &MetricsConfig::default())
        .map_err(|e| AcceptError::Internal(format!("metrics: {e}")))?;
    let uncertainty: Vec<Nanos> = pre
        .iter()
        .map(|p| p.clock_offset_uncertainty_ns.unwrap_or(0).max(0) as Nanos)
        .collect();
    log.action(format!(
        "time criteria are granted each site's clock-offset uncertainty: {}",
        site_names
            .iter()
            .zip(&uncertainty)
            .map(|(s, u)| format!("{s} ±{}", secs(*u)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let guarantees = criteria::with_clock_tolerance(&guarantees, &site_names, &uncertainty);
    let verdicts = evaluate(&guarantees, &metrics);
    if settings.drill.is_some() {
        // The drill's figure as the report has it: the log must agree.
        let site = &site_names[settings.drill_site];
        let recovery = metrics.stat(
            "recovery_time",
            Some(site.as_str()),
            crate::guarantee::Stat::Max,
        );
        log.action(format!(
            "drill: recovery_time.{site}.max = {} (from footage, bounded by the IsManualRecording confirmation)",
            recovery.map_or_else(|| "no samples".to_owned(), |ns| secs(ns as Nanos))
        ));
    }
    let finished = utc_now();
    let description = format!(
        "{} Command line: `{}`.",
        header(&cfg, &opts.operator, started_utc, finished, &pre),
        opts.command_line
    );
    let meta = ReportMeta {
        name: "acceptance".into(),
        description: description.clone(),
        seed: engine_seed,
        tags: vec!["acceptance".into(), format!("operator:{}", opts.operator)],
        duration_ns: end,
        settle_ns: 0,
        mode: "acceptance".into(),
    };
    let report = Report::build(meta, &record, &metrics, verdicts);
    write_report_files(&opts.out_dir, &report, Renderings::ALL)
        .map_err(|e| AcceptError::Internal(e.to_string()))?;
    // The scenario renderings name a replay command; an acceptance is re-run
    // with the very command line that ran it.
    let rerun = opts.command_line.clone();
    let summary = format!(
        "# Acceptance\n\n{description}\n\n{}",
        summary_markdown(&report)
    )
    .replace(&report.replay_command(), &rerun);
    let _ = std::fs::write(opts.out_dir.join("summary.md"), summary);
    for file in ["report.html", "junit.xml"] {
        let path = opts.out_dir.join(file);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let _ = std::fs::write(&path, text.replace(&report.replay_command(), &rerun));
        }
    }
    let _ = std::fs::write(
        opts.out_dir.join("record.json"),
        serde_json::to_string_pretty(&record).unwrap_or_default() + "\n",
    );
    log.plain(summary_text(&report));
    let status = if report.passed {
        Status::Passed
    } else {
        Status::Failed
    };
    log.action(format!(
        "acceptance {}: reports in {}",
        if report.passed { "PASSED" } else { "FAILED" },
        opts.out_dir.display()
    ));
    doc.status = if report.passed { "passed" } else { "failed" }.into();
    doc.sessions = cycle_logs;
    doc.finished_utc = finished.format();
    write_doc(&opts.out_dir, &doc);
    Ok(AcceptOutcome {
        status,
        report: Some(report),
        clock_offsets_ns: offsets,
    })
}

/// The report's heading: sites, versions, times, operator, clock offsets.
fn header(
    cfg: &EngineConfig,
    operator: &str,
    start: UtcTime,
    end: UtcTime,
    pre: &[SitePreflight],
) -> String {
    let sites: Vec<String> = cfg
        .sites
        .iter()
        .zip(pre)
        .map(|(s, p)| {
            format!(
                "{} ({}; clock {:+.3} s ±{:.1} ms, recorder RTT {:.1} ms)",
                s.spec.name,
                s.endpoint.management_url,
                p.clock_offset_ns.unwrap_or(0) as f64 / 1e9,
                p.clock_offset_uncertainty_ns.unwrap_or(0) as f64 / 1e6,
                p.recorder_rtt_ms.unwrap_or(0.0)
            )
        })
        .collect();
    format!(
        "Acceptance against sites {} — operator {operator}, dualrec {}, from {} to {} (UTC). \
         Times are the recorders' own footage timestamps corrected by each site's measured \
         clock offset.",
        sites.join(", "),
        env!("CARGO_PKG_VERSION"),
        start.format(),
        end.format()
    )
}

fn write_doc(dir: &std::path::Path, doc: &Document) {
    let text = serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    if let Err(e) = std::fs::write(dir.join("acceptance.json"), text) {
        tracing::warn!(error = %e, "cannot write acceptance.json");
    }
}

/// After Ctrl-C or an error: restore a cut site, stop what the run started
/// (through the engine, then directly on any site still recording it),
/// and log the state left behind. Never touches anything else.
async fn clean_up(ctx: &Ctx<'_>, settings: &Settings) {
    if ctx.shared.cut.load(Ordering::SeqCst) {
        match &settings.drill {
            Some(DrillMode::Hooks { restore, .. }) => {
                ctx.log
                    .action(format!("restoring the cut site: `{restore}`"));
                if let Err(e) = drill::run_hook("restore", restore).await {
                    ctx.log.action(format!("RESTORE FAILED: {e}"));
                }
            }
            _ => ctx.log.plain(">>> the drill had cut a site: reconnect it"),
        }
    }
    let started: Vec<usize> = ctx
        .shared
        .started
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    if started.is_empty() {
        ctx.log
            .action("nothing acceptance started is recording; nothing stopped");
    } else {
        let ids: Vec<CameraId> = started.iter().map(|&i| ctx.targets[i].id.clone()).collect();
        ctx.log.action(format!(
            "stopping what acceptance started: {}",
            started
                .iter()
                .map(|&i| ctx.targets[i].name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        match tokio::time::timeout(Duration::from_secs(5), ctx.clicker.set(&ids, false)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => ctx.log.action(format!("engine stop failed: {e}")),
            Err(_) => ctx.log.action("engine stop timed out"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        for (r, s) in ctx.sessions.iter().enumerate() {
            for &i in &started {
                let (rec, dev) = &ctx.targets[i].devices[r];
                let on = s.is_recording(*rec, std::slice::from_ref(dev)).await;
                if matches!(on.as_deref(), Ok([(_, true)])) {
                    ctx.log.action(format!(
                        "StopManualRecording {} on {} directly",
                        ctx.targets[i].name,
                        s.site.name()
                    ));
                    let r = s
                        .call(*rec, |token| RecorderRequest::StopManualRecording {
                            token,
                            device_ids: vec![dev.clone()],
                        })
                        .await;
                    if let Err(e) = r {
                        ctx.log.action(format!("direct stop failed: {e}"));
                    }
                }
            }
        }
    }
    for (r, s) in ctx.sessions.iter().enumerate() {
        for t in ctx.targets {
            let (rec, dev) = &t.devices[r];
            let state = match s.is_recording(*rec, std::slice::from_ref(dev)).await {
                Ok(v) if matches!(v.as_slice(), [(_, true)]) => "RECORDING".to_owned(),
                Ok(_) => "not recording".to_owned(),
                Err(e) => format!("unknown ({e})"),
            };
            ctx.log
                .action(format!("left: {} on {}: {state}", t.name, s.site.name()));
        }
    }
}
