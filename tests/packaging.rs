//! What a deployment is built from: the systemd unit passes
//! `systemd-analyze verify` with the hardening options the docs promise, and
//! the licence file matches the licence Cargo.toml declares.

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `systemd-analyze verify` of `unit` (with the binary path pointed at the
/// built binary); its complaints, empty when the unit is clean.
fn verify(unit: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dualrec.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/dualrec", env!("CARGO_BIN_EXE_dualrec")),
    )
    .expect("write the unit");
    let out = Command::new(std::env::var("SYSTEMD_ANALYZE").unwrap_or("systemd-analyze".into()))
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        text.push_str(&format!("exit status {}", out.status));
    }
    text
}

// Needs systemd-analyze: ignored (and said so) where it is missing, run and
// failing when `CI` is set (see build.rs).
#[test]
#[cfg_attr(
    not(any(have_systemd_analyze, ci)),
    ignore = "needs systemd-analyze (apt-get install systemd; CI installs it)"
)]
fn the_systemd_unit_is_valid_and_hardened() {
    let unit = repo("packaging/dualrec.service");
    for line in [
        "DynamicUser=yes",
        "StateDirectory=dualrec",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "ExecStart=/usr/local/bin/dualrec engine --config /etc/dualrec/engine.toml",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit has `{line}`");
    }
    let complaints = verify(&unit);
    assert!(complaints.trim().is_empty(), "{complaints}");
    // The check does see a broken unit.
    let broken = unit.replace("ProtectSystem=strict", "ProtectSystem=everything");
    assert!(
        verify(&broken).contains("ProtectSystem") || verify(&broken).contains("protect system"),
        "a bad value went unnoticed"
    );
}

#[test]
fn the_licence_file_is_the_licence_cargo_declares() {
    let cargo = repo("Cargo.toml");
    assert!(cargo.contains("license = \"MIT\""), "Cargo.toml says MIT");
    let licence = repo("LICENSE");
    assert!(
        licence.starts_with("MIT License"),
        "LICENSE is the MIT text"
    );
    assert!(licence.contains("Permission is hereby granted, free of charge"));
}
