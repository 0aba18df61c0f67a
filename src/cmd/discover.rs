//! `dualrec discover --config FILE [--out FILE] [--check]`: reads every
//! `[[site]]`'s configuration REST API with the credentials the engine
//! uses, pairs the cameras across sites and writes `[[camera]]` tables
//! ready to append to the config — or, with `--check`, compares the
//! config's cameras with the sites and reports drift.
//!
//! Exit: 0 every camera paired (no drift with `--check`), 1 some camera
//! unpaired or an inconsistent site item (drift with `--check`), 2 invalid
//! config or refused credentials, 3 a site unreachable or answering
//! errors. Nothing is written unless every site was read: `--out` is
//! written to a temporary file beside it and renamed into place.
//!
//! Owns arguments, the runtime, progress and files; what discovery means
//! lives in `engine::discovery`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use engine::config::{ConfigError, EngineConfig};
use engine::discovery::{check_config, fetch_site, pair, render_cameras, SiteInventory, Stage};
use engine::runtime::SoapClient;

use crate::Outcome;

/// Read both sites' configuration, pair their cameras, write `[[camera]]` tables.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Site config (TOML) with the `[[site]]` tables (cameras optional).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Write the `[[camera]]` tables here (default: stdout).
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    out: Option<PathBuf>,
    /// Compare the config's cameras with the sites and report drift instead.
    #[arg(long)]
    check: bool,
    /// Give up on a site after this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_timeout)]
    timeout: Duration,
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    match engine::duration::parse_duration(s) {
        Ok(0) => Err(format!("`{s}` is zero; expected a positive duration")),
        Ok(n) => Ok(Duration::from_nanos(n)),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(args: DiscoverArgs) -> anyhow::Result<Outcome> {
    let cfg = match EngineConfig::load_for_discovery(&args.config) {
        Ok(cfg) => cfg,
        Err(e @ ConfigError::Invalid { .. }) => {
            eprintln!("error: {e}");
            return Ok(Outcome::InvalidInput);
        }
        Err(e) => return Err(e.into()),
    };
    let mut clients = Vec::with_capacity(cfg.sites.len());
    for site in &cfg.sites {
        match SoapClient::new(&site.endpoint) {
            Ok(c) => clients.push(c),
            Err(e) => {
                eprintln!("error: {}: {e}", args.config.display());
                return Ok(Outcome::InvalidInput);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let inventories = match runtime.block_on(read_sites(&clients, args.timeout)) {
        Ok(inv) => inv,
        Err(outcome) => return Ok(outcome),
    };
    if args.check {
        return Ok(check(&cfg, &inventories));
    }
    let refs: Vec<&SiteInventory> = inventories.iter().collect();
    let pairing = pair(&refs);
    let rendered = render_cameras(&cfg, &inventories, &pairing);
    match &args.out {
        Some(path) => write_atomically(path, &rendered.text)?,
        None => std::io::stdout()
            .lock()
            .write_all(rendered.text.as_bytes())
            .context("cannot write to stdout")?,
    }
    for p in &rendered.problems {
        eprintln!("not written: {p}");
    }
    eprintln!(
        "{} cameras written{}, {} already in the config, {} not written",
        rendered.written,
        args.out
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default(),
        rendered.already_configured,
        rendered.problems.len()
    );
    Ok(if rendered.complete() {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}

/// Reads every site at once, with a spinner per site on a terminal.
async fn read_sites(
    clients: &[SoapClient],
    timeout: Duration,
) -> Result<Vec<SiteInventory>, Outcome> {
    let terminal = std::io::stderr().is_terminal();
    let bars = indicatif::MultiProgress::with_draw_target(if terminal {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    let reads = clients.iter().map(|client| {
        let bar = bars.add(indicatif::ProgressBar::new_spinner());
        bar.enable_steady_tick(Duration::from_millis(120));
        let site = client.site().to_owned();
        async move {
            let progress = |stage: Stage| {
                bar.set_message(match stage {
                    Stage::Token => format!("{site}: identity provider…"),
                    Stage::Reading(what) => format!("{site}: reading {what}…"),
                    Stage::Done { cameras } => format!("{site}: {cameras} cameras"),
                })
            };
            let got = tokio::time::timeout(timeout, fetch_site(client, &progress)).await;
            bar.finish();
            (site, got)
        }
    });
    let results = futures_util::future::join_all(reads).await;
    let mut out = Vec::with_capacity(results.len());
    let mut worst = None;
    for (site, got) in results {
        match got {
            Ok(Ok(inv)) => out.push(inv),
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                let outcome = if e.is_io() {
                    Outcome::Internal
                } else {
                    Outcome::InvalidInput
                };
                worst = Some(worst.map_or(outcome, |w: Outcome| w.max_by_code(outcome)));
            }
            Err(_) => {
                eprintln!(
                    "error: site `{site}` did not answer within {}",
                    engine::duration::format_duration(timeout.as_nanos() as u64)
                );
                worst = Some(Outcome::Internal);
            }
        }
    }
    match worst {
        Some(outcome) => {
            eprintln!("nothing written: every site must be read");
            Err(outcome)
        }
        None => Ok(out),
    }
}

/// `--check`: drift between the config and the sites.
fn check(cfg: &EngineConfig, inventories: &[SiteInventory]) -> Outcome {
    let refs: Vec<Option<&SiteInventory>> = inventories.iter().map(Some).collect();
    let drift = check_config(cfg, &refs);
    for (s, inv) in inventories.iter().enumerate() {
        for p in &inv.problems {
            outln!("{}: {p}", cfg.sites[s].spec.name);
        }
        let configured: std::collections::HashSet<_> = cfg
            .cameras
            .iter()
            .flat_map(|c| c.spec.placements.iter())
            .filter(|p| p.site == s)
            .map(|p| &p.device)
            .collect();
        let extra = inv
            .cameras
            .iter()
            .filter(|c| !configured.contains(&c.id))
            .count();
        if extra > 0 {
            eprintln!(
                "note: {}: {extra} cameras on the site are not in the config",
                cfg.sites[s].spec.name
            );
        }
    }
    for d in &drift {
        outln!("{d}");
    }
    let problems: usize = inventories.iter().map(|i| i.problems.len()).sum();
    eprintln!(
        "{} cameras checked on {} sites: {} drift findings{}",
        cfg.cameras.len(),
        cfg.sites.len(),
        drift.len(),
        if problems > 0 {
            format!(", {problems} inconsistent site items")
        } else {
            String::new()
        }
    );
    if drift.is_empty() && problems == 0 {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    }
}

/// Writes `text` to `path` all at once: a temporary file beside it, then a
/// rename, so a failure never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
