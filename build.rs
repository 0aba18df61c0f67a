//! Tells the end-to-end tests which outside tools this machine has.
//!
//! A test that needs a tool (headless Chromium and chromedriver for the HTML
//! checks and the operator console, Python's requests-ntlm for the
//! third-party NTLM client check, a PostgreSQL server for the replica test,
//! curl for the acceptance drill hooks and the demo, systemd-analyze for the
//! unit file) is marked `ignore` — visibly, with the reason, in `cargo
//! test`'s output — where the tool is missing, and runs (failing loudly if
//! the tool is absent) when the environment variable `CI` is set: CI
//! installs the tools, so a missing one there is a broken run, never a
//! silent pass. Sets `cfg(ci)` and `cfg(have_<tool>)`. Tools are looked for
//! again when build.rs, `CI`, a tool's variable, a found tool or dpkg's
//! status file (any `apt-get install`) changes; after a `pip install` or a
//! tool installed by other means, `touch build.rs`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// (cfg name, environment variable overriding the path, default path)
const TOOLS: &[(&str, &str, &str)] = &[
    ("chromium", "CHROMIUM", "/usr/bin/chromium"),
    ("chromedriver", "CHROMEDRIVER", "/usr/bin/chromedriver"),
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
        // A tool that is there: look again when it changes. A missing one
        // is noticed through dpkg's status file (below), never by watching
        // its folder — cargo scans a watched folder recursively, and a
        // variable pointing at `/nonexistent` would make that `/`.
        if path.is_file() {
            println!("cargo::rerun-if-changed={}", path.display());
            println!("cargo::rustc-cfg=have_{name}");
        }
    }
    // The replica test needs a PostgreSQL server to start.
    println!("cargo::rustc-check-cfg=cfg(have_postgres)");
    if has_postgres() {
        println!("cargo::rustc-cfg=have_postgres");
    }
    // Installing a Debian package rewrites dpkg's status file: look again.
    if Path::new(DPKG_STATUS).is_file() {
        println!("cargo::rerun-if-changed={DPKG_STATUS}");
    }
    // The third-party NTLM client check needs Python modules, not a file.
    println!("cargo::rustc-check-cfg=cfg(have_python_ntlm)");
    println!("cargo::rerun-if-env-changed=PYTHONPATH");
    if python_imports("import requests, requests_ntlm, spnego") {
        println!("cargo::rustc-cfg=have_python_ntlm");
    }
    println!("cargo::rerun-if-changed=build.rs");
}

const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// Whether any `/usr/lib/postgresql/*/bin` holds `initdb` and `pg_ctl`
/// (Debian's `postgresql`).
fn has_postgres() -> bool {
    std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|dirs| {
        dirs.filter_map(Result::ok).any(|d| {
            let bin = d.path().join("bin");
            bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()
        })
    })
}

/// Whether `python3 -c CODE` succeeds. Bounded to 30 s: a build must never
/// hang on a wedged interpreter (it then counts as missing, and CI fails
/// the test that needs it).
fn python_imports(code: &str) -> bool {
    let Ok(mut child) = Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}
