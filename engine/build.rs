//! Tells the engine's PostgreSQL journal tests whether this machine has a
//! PostgreSQL server to start (Debian's `postgresql`: `initdb` and `pg_ctl`
//! under `/usr/lib/postgresql/<version>/bin`).
//!
//! Where it is missing the tests are marked `ignore` — visibly, with the
//! reason, in `cargo test`'s output — unless the environment variable `CI`
//! is set: CI installs PostgreSQL, so there a missing server fails the
//! tests instead of passing them silently. Sets `cfg(ci)` and
//! `cfg(have_postgres)`. The workspace root's `build.rs` does the same for
//! the end-to-end tests.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ci)");
    println!("cargo::rustc-check-cfg=cfg(have_postgres)");
    println!("cargo::rerun-if-env-changed=CI");
    if std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false")) {
        println!("cargo::rustc-cfg=ci");
    }
    if has_postgres() {
        println!("cargo::rustc-cfg=have_postgres");
    }
    // Installing a Debian package rewrites dpkg's status file: look again.
    if Path::new(DPKG_STATUS).is_file() {
        println!("cargo::rerun-if-changed={DPKG_STATUS}");
    }
    println!("cargo::rerun-if-changed=build.rs");
}

const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// Whether any `/usr/lib/postgresql/*/bin` holds `initdb` and `pg_ctl`.
fn has_postgres() -> bool {
    std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|dirs| {
        dirs.filter_map(Result::ok).any(|d| {
            let bin = d.path().join("bin");
            bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()
        })
    })
}
