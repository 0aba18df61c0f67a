//! `dualrec engine --config FILE`: the mirroring engine as a service.
//!
//! Owns argument parsing, the tokio runtime and signal handling; the
//! service itself is `engine::service`. Once the journal is restored and the
//! API serves, it prints `listening on ADDR` on stderr (with `--listen
//! 127.0.0.1:0` the line shows the real port). SIGTERM or Ctrl-C: stop
//! accepting, finish requests in flight, close the journal, exit 0 — the
//! recorders are not stopped. An invalid config exits 2 (`file:line:col`),
//! a port or journal that cannot be opened 3. TLS files that cannot serve
//! HTTPS (not PEM, a key that does not fit the certificate) exit 2 naming
//! the file; so does a key or password file others may read or write.
//! Listening on a non-loopback address without TLS is warned about on
//! stderr, `--check` included. With `--require-devices` it first checks every
//! configured device against the sites' configuration REST API and exits 2
//! if one is gone, moved or disabled, or a site cannot be read.
//!
//! Test hook: `DUALREC_TEST_CRASH_AFTER_JOURNAL=N` aborts the process after
//! the N-th journaled write, between the journal commit and the answer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use engine::config::{ConfigError, EngineConfig};
use engine::service::{Service, ServiceOptions, TlsReloader};

use crate::Outcome;

/// Environment variable of the crash test hook.
pub const CRASH_AFTER_JOURNAL_ENV: &str = "DUALREC_TEST_CRASH_AFTER_JOURNAL";

/// The mirroring engine as a service: REST API for the client button,
/// durable journal, Prometheus metrics.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Site config (TOML): [engine] listen and data_dir, [[api_key]], [[site]], [[camera]], [policy].
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Listen here instead of the config's `listen` (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Only validate the config (secrets included) and exit.
    #[arg(long)]
    check: bool,
    /// Refuse to start (exit 2) unless every site's configuration can be
    /// read and every configured device is there, on its configured
    /// recording server and enabled. Without it the same check runs in the
    /// background and only logs.
    #[arg(long)]
    require_devices: bool,
}

pub fn run(args: EngineArgs) -> anyhow::Result<Outcome> {
    let mut cfg = match EngineConfig::load(&args.config) {
        Ok(cfg) => cfg,
        Err(e @ ConfigError::Invalid { .. }) => {
            eprintln!("error: {e}");
            return Ok(Outcome::InvalidInput);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(listen) = args.listen {
        cfg.listen = listen;
    }
    if let Some(files) = &cfg.server.tls {
        if let Err(e) = TlsReloader::load(files) {
            eprintln!("error: {}: {e}", args.config.display());
            return Ok(Outcome::InvalidInput);
        }
    }
    for warning in cfg.server.warnings(cfg.listen) {
        eprintln!("warning: {warning}");
    }
    if args.check {
        tracing::info!(
            config = %args.config.display(),
            sites = cfg.sites.len(),
            cameras = cfg.cameras.len(),
            api_keys = cfg.api_keys.len(),
            "the site config is valid"
        );
        eprintln!(
            "{}: ok ({} sites, {} cameras, {} API keys)",
            args.config.display(),
            cfg.sites.len(),
            cfg.cameras.len(),
            cfg.api_keys.len()
        );
        return Ok(Outcome::Passed);
    }
    let crash_after_journal = match std::env::var(CRASH_AFTER_JOURNAL_ENV) {
        Ok(v) => Some(v.trim().parse::<u64>().with_context(|| {
            format!("{CRASH_AFTER_JOURNAL_ENV}={v:?} is not a count of writes")
        })?),
        Err(_) => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        if args.require_devices {
            let report = engine::service::device_check::check_devices(
                &cfg,
                std::time::Duration::from_secs(30),
            )
            .await;
            for line in report.lines() {
                eprintln!("{line}");
            }
            if !report.devices_ok() {
                eprintln!(
                    "error: refusing to start (--require-devices): a site could not be read or \
                     a configured device is gone, moved or disabled"
                );
                return Ok(Outcome::InvalidInput);
            }
            eprintln!("every configured device is on its site");
        }
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let service = Service::start(
            &cfg,
            listener,
            ServiceOptions {
                crash_after_journal,
            },
        )
        .await
        .context("the engine service did not start")?;
        eprintln!("listening on {}", service.local_addr());
        super::shutdown_signal().await;
        tracing::info!("shutdown requested; recorders keep recording, intents persist");
        service.shutdown().await.context("shutting down")?;
        Ok(Outcome::Passed)
    })
}
