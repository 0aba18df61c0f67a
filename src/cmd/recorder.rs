//! `dualrec recorder`: a standalone mock XProtect site (one process per site)
//! for tests and demos, serving `sim::server::MockSite`. Its devices come
//! from `--cameras N`, `--devices-file` or a whole `--inventory FILE`
//! (recording servers, hardware, cameras with their own settings).
//!
//! Owns argument parsing, the devices file, the tokio runtime and signal
//! handling; what the site does lives in `sim::server`. Output: the generated
//! device GUIDs (with `--cameras N`) on stdout, one a line, then
//! with `--tls`, `tls certificate sha256 AA:BB:…` on stderr, then
//! `listening on ADDR (control ADDR)` on stderr once both ports are bound
//! (port 0 picks free ports, the line shows the real ones). Request logs go
//! through `tracing` (`DUALREC_LOG=info`). Ctrl-C or SIGTERM stops it with
//! exit 0; invalid input exits 2, a port that cannot be bound 3.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args};

use engine::core::{DeviceId, Nanos};
use sim::recorder::{LockoutPolicy, SiteConfig};
use sim::server::{
    parse_duration, parse_latency, MockSite, MockSiteConfig, SiteClock, TlsIdentity,
    DEFAULT_MAX_BODY_BYTES,
};
use sim::world::latency::LatencyDist;

use crate::Outcome;

/// Most cameras `--cameras` makes.
const MAX_CAMERAS: usize = 100_000;

/// A standalone mock XProtect site: the management server's Login endpoints
/// and the RecorderCommandService on `--listen`, a JSON control API (faults,
/// footage) on `--control`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("device_source").required(true).args(["devices_file", "cameras", "inventory"])))]
#[command(group(ArgGroup::new("secret").required(true).args(["password", "password_env"])))]
pub struct RecorderArgs {
    /// Service address (Login + RecorderCommandService); port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7563")]
    listen: SocketAddr,
    /// Control API address (POST/DELETE/GET /faults, GET /footage/{device}, GET /healthz).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7663")]
    control: SocketAddr,
    /// Site name (also the host part of its tokens).
    #[arg(long, value_name = "NAME", default_value = "primary")]
    site: String,
    /// File of device GUIDs, one a line; blank lines and `#` comments ignored.
    #[arg(long, value_name = "FILE")]
    devices_file: Option<PathBuf>,
    /// Make N deterministic device GUIDs (from the site name) and print them on stdout.
    #[arg(long, value_name = "N")]
    cameras: Option<usize>,
    /// The site's configuration (recording servers, hardware, cameras with
    /// their own auto-stop and pre-buffer) from a TOML file; served by the
    /// configuration REST API and `GetConfiguration`. Sets the recorders.
    #[arg(long, value_name = "FILE", conflicts_with = "recorders")]
    inventory: Option<PathBuf>,
    /// Recording servers (default 1); device k lives on server k mod N (server i > 0 at
    /// /recorder/{i}/RecorderCommandService/RecorderCommandService.asmx).
    #[arg(long, value_name = "N")]
    recorders: Option<usize>,
    /// User the Login endpoints accept (HTTP Basic).
    #[arg(long, value_name = "USER", default_value = "dualrec")]
    username: String,
    /// Password the Login endpoints accept (visible to `ps`; prefer --password-env).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// Environment variable holding the password.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// XProtect's "stop manual recording after": a duration, or `off`.
    #[arg(long, value_name = "DURATION|off", default_value = "5m", value_parser = parse_recording_max)]
    manual_recording_max: RecordingMax,
    /// How far before a Start footage begins.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    prebuffer: Nanos,
    /// TimeToLive of issued tokens.
    #[arg(long, value_name = "DURATION", default_value = "4h", value_parser = parse_positive)]
    token_ttl: Nanos,
    /// One-way latency added to each request and to its reply: `fixed:20ms`
    /// (or `20ms`), `uniform:5ms:50ms`, `normal:MEAN:STDDEV`,
    /// `lognormal:MEDIAN:P99`, `pareto:SCALE:SHAPE`.
    #[arg(long, value_name = "SPEC", default_value = "fixed:0s", value_parser = parse_latency)]
    latency: LatencyDist,
    /// Seed of the latency and `errors` fault draws.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Larger request bodies answer 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Shift the site's UTC clock (Login RegistrationTime, footage times) by
    /// this much; negative is behind true time, e.g. `-1.5s`.
    #[arg(long, value_name = "DURATION", default_value = "0s", allow_hyphen_values = true, value_parser = parse_offset)]
    clock_offset: i64,
    /// Serve the service address over HTTPS with a self-signed certificate
    /// for 127.0.0.1/localhost made at start (its SHA-256 fingerprint is
    /// printed on stderr).
    #[arg(long)]
    tls: bool,
    /// HTTPS with this certificate (PEM, leaf first) instead of a generated one.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Lock an account for 15 minutes after N failed logins within 15
    /// minutes (every login path then answers as for a wrong password).
    #[arg(long, value_name = "N")]
    lockout_after: Option<u32>,
    /// Lifetime of the identity provider's bearer tokens (`expires_in`).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_positive)]
    access_token_ttl: Nanos,
}

/// `--clock-offset`: a duration with an optional sign, in nanoseconds.
fn parse_offset(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = parse_duration(body)?;
    i64::try_from(n)
        .map(|n| sign * n)
        .map_err(|_| format!("`{s}` is too large; expected an offset like `-1.5s` or `250ms`"))
}

/// `--manual-recording-max`: `None` is `off`.
#[derive(Debug, Clone, Copy)]
pub struct RecordingMax(Option<Nanos>);

fn parse_recording_max(s: &str) -> Result<RecordingMax, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(RecordingMax(None));
    }
    parse_positive(s)
        .map(|n| RecordingMax(Some(n)))
        .map_err(|e| format!("{e}; or `off`"))
}

fn parse_positive(s: &str) -> Result<Nanos, String> {
    match parse_duration(s)? {
        0 => Err(format!("`{s}` is zero; expected a positive duration")),
        n => Ok(n),
    }
}

/// Whether `s` is a GUID (`8-4-4-4-12` hex digits, braces allowed).
fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Reads a devices file; `Err` names the file and line.
fn read_devices(path: &Path) -> Result<Vec<DeviceId>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read devices file {}: {e}", path.display()))?;
    let mut devices: Vec<DeviceId> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        if !is_guid(entry) {
            return Err(format!(
                "{at}: `{entry}` is not a device GUID; expected one GUID a line like \
                 a8a8b9dc-3995-49ed-9b00-62caac2ce74a"
            ));
        }
        let id = DeviceId::new(
            entry
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_ascii_lowercase(),
        );
        if devices.contains(&id) {
            return Err(format!("{at}: device {entry} is listed twice"));
        }
        devices.push(id);
    }
    if devices.is_empty() {
        return Err(format!(
            "devices file {} lists no device; expected one GUID a line",
            path.display()
        ));
    }
    Ok(devices)
}

/// `n` GUIDs derived from the site name: the same on every run.
fn generated_devices(site: &str, n: usize) -> Vec<DeviceId> {
    let hash = site.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (1..=n)
        .map(|c| DeviceId::new(format!("{hash:08x}-0000-4000-8000-{c:012x}")))
        .collect()
}

fn invalid(message: impl std::fmt::Display) -> anyhow::Result<Outcome> {
    eprintln!("error: {message}");
    Ok(Outcome::InvalidInput)
}

pub fn run(args: RecorderArgs) -> anyhow::Result<Outcome> {
    let password = match (&args.password, &args.password_env) {
        (Some(p), _) => p.clone(),
        (None, Some(var)) => match std::env::var(var) {
            Ok(p) => p,
            Err(_) => {
                return invalid(format!(
                    "environment variable {var} (named by --password-env) is not set or not UTF-8"
                ))
            }
        },
        (None, None) => return invalid("expected --password or --password-env"),
    };
    let recorder_count = args.recorders.unwrap_or(1);
    if recorder_count == 0 {
        return invalid("--recorders is 0; expected at least one recording server");
    }
    let inventory = match &args.inventory {
        Some(path) => match sim::inventory::load_inventory(path, &args.site) {
            Ok(inv) => Some(inv),
            Err(e) => return invalid(e),
        },
        None => None,
    };
    let (devices, print) = match (&args.devices_file, args.cameras) {
        _ if inventory.is_some() => (Vec::new(), false),
        (Some(path), _) => match read_devices(path) {
            Ok(d) => (d, false),
            Err(e) => return invalid(e),
        },
        (None, Some(n)) if (1..=MAX_CAMERAS).contains(&n) => {
            (generated_devices(&args.site, n), true)
        }
        (None, Some(n)) => {
            return invalid(format!(
                "--cameras {n}: expected a count from 1 to {MAX_CAMERAS}"
            ))
        }
        (None, None) => return invalid("expected --devices-file FILE or --cameras N"),
    };
    let recorders = match &inventory {
        Some(inv) => inv.devices_by_recorder(),
        None => {
            let mut recorders = vec![Vec::new(); recorder_count];
            for (k, d) in devices.iter().enumerate() {
                recorders[k % recorder_count].push(d.clone());
            }
            recorders
        }
    };
    let mut site = SiteConfig::new(args.site.clone(), args.username.clone(), password);
    site.recorder.manual_recording_max = args.manual_recording_max.0;
    site.recorder.prebuffer = args.prebuffer;
    site.token_ttl = args.token_ttl;
    site.access_token_ttl = args.access_token_ttl;
    match args.lockout_after {
        Some(0) => return invalid("--lockout-after 0: expected at least 1 failed login"),
        Some(n) => site.lockout = Some(LockoutPolicy::domain_default(n)),
        None => {}
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match TlsIdentity::from_pem_files(cert, key) {
            Ok(id) => Some(id),
            Err(e) => return invalid(e),
        },
        _ if args.tls => Some(TlsIdentity::self_signed().context("cannot make a certificate")?),
        _ => None,
    };
    let mut cfg = MockSiteConfig::new(site, recorders);
    cfg.tls = tls.clone();
    cfg.inventory = inventory;
    cfg.latency = args.latency.clone();
    cfg.seed = args.seed;
    cfg.max_body_bytes = args.max_body_bytes;
    if args.clock_offset != 0 {
        let lead = std::time::Duration::from_nanos(args.prebuffer);
        cfg.clock = Some(SiteClock::start(lead).shifted(args.clock_offset));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let site = MockSite::start(cfg, args.listen, Some(args.control))
            .await
            .context("mock site did not start")?;
        if print {
            for d in &devices {
                outln!("{d}");
            }
        }
        if let Some(id) = &tls {
            eprintln!("tls certificate sha256 {}", id.fingerprint_sha256());
        }
        eprintln!(
            "listening on {} (control {})",
            site.service_addr(),
            site.control_addr()
                .map_or_else(|| "none".to_owned(), |a| a.to_string())
        );
        super::shutdown_signal().await;
        site.shutdown().await;
        Ok(Outcome::Passed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("a8a8b9dc-3995-49ed-9b00-62caac2ce74a"));
        assert!(is_guid("{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A}"));
        assert!(!is_guid("a8a8b9dc-3995-49ed-9b00-62caac2ce74"));
        assert!(!is_guid("cam-001"));
        let g = generated_devices("primary", 3);
        assert_eq!(g.len(), 3);
        assert!(g.iter().all(|d| is_guid(&d.text())));
        assert_eq!(g, generated_devices("primary", 3));
        assert_ne!(g, generated_devices("secondary", 3));
    }

    #[test]
    fn devices_file_errors_name_the_line() {
        let dir = std::env::temp_dir().join(format!("dualrec-devices-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let good = dir.join("good.txt");
        let bad = dir.join("bad.txt");
        let written = std::fs::write(
            &good,
            "# cameras\n\na8a8b9dc-3995-49ed-9b00-62caac2ce74a  # lobby\n{5F0C1D2E-0000-4000-8000-000000000002}\n",
        )
        .and_then(|()| std::fs::write(&bad, "a8a8b9dc-3995-49ed-9b00-62caac2ce74a\n\nlobby\n"));
        assert!(written.is_ok());
        let devices = read_devices(&good);
        assert_eq!(devices.map(|d| d.len()), Ok(2));
        let err = read_devices(&bad).err().unwrap_or_default();
        assert!(
            err.contains("bad.txt:3") && err.contains("`lobby`"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn durations_and_off() {
        assert!(matches!(parse_recording_max("off"), Ok(RecordingMax(None))));
        assert!(matches!(
            parse_recording_max("5m"),
            Ok(RecordingMax(Some(n))) if n == 300_000_000_000
        ));
        assert!(parse_recording_max("0s").is_err());
        assert_eq!(parse_offset("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_offset("+250ms"), Ok(250_000_000));
        assert_eq!(parse_offset("2s"), Ok(2_000_000_000));
        assert!(parse_offset("-soon").is_err());
        assert!(parse_positive("soon").is_err());
    }
}
