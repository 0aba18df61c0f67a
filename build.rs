//! Tells the end-to-end tests which outside tools this machine has.
//!
//! A test that needs a tool (headless Chromium for the HTML checks, curl for
//! the acceptance drill hooks and the demo, systemd-analyze for the unit
//! file) is marked `ignore` — visibly, with the reason,
//! in `cargo test`'s output — where the tool is missing, and runs (failing
//! loudly if the tool is absent) when the environment variable `CI` is set:
//! CI installs the tools, so a missing one there is a broken run, never a
//! silent pass. Sets `cfg(ci)` and `cfg(have_<tool>)`.

use std::path::Path;

/// (cfg name, environment variable overriding the path, default path)
const TOOLS: &[(&str, &str, &str)] = &[
    ("chromium", "CHROMIUM", "/usr/bin/chromium"),
    ("curl", "CURL", "/usr/bin/curl"),
    (
        "systemd_analyze",
        "SYSTEMD_ANALYZE",
        "/usr/bin/systemd-analyze",
    ),
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ci)");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if ci {
        println!("cargo::rustc-cfg=ci");
    }
    for (name, var, default) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg(have_{name})");
        println!("cargo::rerun-if-env-changed={var}");
        let path = std::env::var(var).unwrap_or_else(|_| (*default).to_owned());
        let path = Path::new(&path);
        // Installing the tool changes its folder: look again then.
        if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
        if path.is_file() {
            println!("cargo::rustc-cfg=have_{name}");
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
}
