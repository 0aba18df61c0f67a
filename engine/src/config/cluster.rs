//! `[engine] journal_url` and friends: the settings of a replica in a
//! group sharing a PostgreSQL journal.
//!
//! ```toml
//! [engine]
//! journal_url = "postgresql://dualrec@db.example.local:5432/dualrec?sslmode=require"
//! journal_password_env = "DUALREC_DB_PASSWORD"   # or journal_password_file
//! journal_ca_file = "/etc/dualrec/db-ca.pem"     # optional: trust this CA for the database
//! replica = "engine-a"                           # optional: unique name in the group
//! advertise_url = "https://engine-a.example.local:8080"  # optional: shown as the leader's URL
//! lease = "4s"                                   # optional: the leader lease
//! ```

use toml::Spanned;

use super::raw::RawEngine;
use super::validate::Cx;
use super::ConfigError;
use crate::cluster::LeaseConfig;
use crate::core::{Policy, SECS};
use crate::journal::postgres::PgSettings;

/// A replica's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    pub journal: PgSettings,
    /// Unique name of this replica in the group.
    pub replica: String,
    pub advertise_url: Option<String>,
    pub lease: LeaseConfig,
}

fn file_or_env(
    cx: &Cx<'_>,
    env: &Option<Spanned<String>>,
    file: &Option<Spanned<String>>,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    match (env, file) {
        (Some(e), Some(_)) => Err(cx.err(
            e.span(),
            "both `journal_password_env` and `journal_password_file`; expected one of them",
        )),
        (Some(e), None) => cx.env(e, what).map(Some),
        (None, Some(f)) => {
            let bytes = cx.file_secret(f, what)?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| cx.err(f.span(), format!("the {what} is not UTF-8")))
        }
        (None, None) => Ok(None),
    }
}

pub(super) fn settings(
    cx: &Cx<'_>,
    engine: &RawEngine,
    policy: &Policy,
) -> Result<Option<ClusterSettings>, ConfigError> {
    let Some(url) = &engine.journal_url else {
        for (key, span) in [
            (
                "journal_password_env",
                engine.journal_password_env.as_ref().map(|s| s.span()),
            ),
            (
                "journal_password_file",
                engine.journal_password_file.as_ref().map(|s| s.span()),
            ),
            (
                "journal_ca_file",
                engine.journal_ca_file.as_ref().map(|s| s.span()),
            ),
            ("replica", engine.replica.as_ref().map(|s| s.span())),
            (
                "advertise_url",
                engine.advertise_url.as_ref().map(|s| s.span()),
            ),
            ("lease", engine.lease.as_ref().map(|s| s.span())),
        ] {
            if let Some(span) = span {
                return Err(cx.err(
                    span,
                    format!("`{key}` without `journal_url`; expected `journal_url = \"postgresql://…\"` (replicas share a PostgreSQL journal)"),
                ));
            }
        }
        return Ok(None);
    };
    let u = url.get_ref();
    if !(u.starts_with("postgresql://") || u.starts_with("postgres://")) {
        return Err(cx.err(
            url.span(),
            format!(
                "`{}` is not a PostgreSQL URL; expected `postgresql://user@host:port/database`",
                crate::journal::postgres::redact(u)
            ),
        ));
    }
    if let Err(e) = u.parse::<tokio_postgres::Config>() {
        return Err(cx.err(
            url.span(),
            format!("`journal_url` is not a valid PostgreSQL URL ({e}); expected `postgresql://user@host:port/database[?sslmode=require]`"),
        ));
    }
    let password = file_or_env(
        cx,
        &engine.journal_password_env,
        &engine.journal_password_file,
        "journal database password",
    )?;
    let ca_pem = match &engine.journal_ca_file {
        None => None,
        Some(f) => Some(cx.file_secret(f, "journal database CA certificate (PEM)")?),
    };
    let replica = match &engine.replica {
        Some(r) => {
            let n = r.get_ref();
            if n.is_empty()
                || n.len() > 128
                || n.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(cx.err(r.span(), format!("`{n}` is not a valid replica name; expected 1-128 characters without spaces")));
            }
            n.clone()
        }
        None => default_replica_name(),
    };
    let lease_ns = engine.lease.as_ref().map_or(4 * SECS, |l| l.get_ref().0);
    let lease = LeaseConfig::for_policy(lease_ns, policy);
    if let Err(why) = lease.check() {
        let span = engine.lease.as_ref().map_or(url.span(), |l| l.span());
        return Err(cx.err(
            span,
            format!("{why}; expected a `lease` of at least 2 × the request timeout (default 4s)"),
        ));
    }
    Ok(Some(ClusterSettings {
        journal: PgSettings {
            url: u.clone(),
            password,
            ca_pem,
        },
        replica,
        advertise_url: engine.advertise_url.as_ref().map(|a| a.get_ref().clone()),
        lease,
    }))
}

/// Host name and process id: unique per running process.
fn default_replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "engine".to_string());
    format!("{host}-{}", std::process::id())
}
