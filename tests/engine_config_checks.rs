//! `dualrec engine --check` and `dualrec validate` on hostile or careless
//! files: secret files others may read refused (exit 2, naming the file),
//! TLS files that cannot serve refused, invalid UTF-8 located at
//! `file:line:col` (exit 2), and plain HTTP on a non-loopback address
//! warned about.

use std::path::Path;
use std::process::{Command, Output};

fn dualrec(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dualrec runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

const KEY: &str = "a-long-enough-api-key-0123456789";

/// A config whose key comes from `key.txt` and password from `pw.txt` in
/// `dir`, with `engine_extra` added to `[engine]`.
fn config(dir: &Path, listen: &str, engine_extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"[engine]
listen = "{listen}"
data_dir = "data"
{engine_extra}

[[api_key]]
name = "client"
key_file = "key.txt"
role = "write"

[[site]]
name = "primary"
management_url = "http://127.0.0.1:9"
recorder_url = "http://127.0.0.1:9"
username = "svc"
password_file = "pw.txt"

[[camera]]
name = "lobby"
devices = {{ primary = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a" }}
"#
    );
    let path = dir.join("engine.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::write(dir.join("key.txt"), KEY).unwrap();
    std::fs::write(dir.join("pw.txt"), "site-password").unwrap();
    #[cfg(unix)]
    {
        chmod(&dir.join("key.txt"), 0o600);
        chmod(&dir.join("pw.txt"), 0o400);
    }
    path
}

fn check(path: &Path) -> Output {
    dualrec(
        &["engine", "--config", path.to_str().unwrap(), "--check"],
        &[],
    )
}

#[test]
fn plain_http_on_a_non_loopback_address_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let loopback = check(&config(dir.path(), "127.0.0.1:8080", ""));
    assert_eq!(
        loopback.status.code(),
        Some(0),
        "{}",
        text(&loopback.stderr)
    );
    assert!(
        !text(&loopback.stderr).contains("warning"),
        "{}",
        text(&loopback.stderr)
    );
    let open = check(&config(dir.path(), "0.0.0.0:8080", ""));
    let err = text(&open.stderr);
    assert_eq!(open.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning:") && err.contains("0.0.0.0:8080") && err.contains("without TLS"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn secret_files_others_may_read_or_write_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "127.0.0.1:8080", "");
    for (file, mode) in [
        ("key.txt", 0o644),
        ("key.txt", 0o666),
        ("pw.txt", 0o604),
        ("pw.txt", 0o620),
    ] {
        let path = dir.path().join(file);
        chmod(&path, mode);
        let out = check(&cfg);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file} {mode:o}: {err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains("engine.toml:") && err.contains("readable or writable by others"),
            "{err}"
        );
        assert!(
            !err.contains(KEY) && !err.contains("site-password"),
            "{err}"
        );
        chmod(&path, 0o600);
    }
    // Group-readable is fine (a service group), as is 0400.
    chmod(&dir.path().join("key.txt"), 0o640);
    let out = check(&cfg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn tls_files_that_cannot_serve_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key_a = rcgen::KeyPair::generate().unwrap();
    let cert_a = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key_a)
        .unwrap();
    let key_b = rcgen::KeyPair::generate().unwrap();
    std::fs::write(dir.path().join("api.pem"), cert_a.pem()).unwrap();
    std::fs::write(dir.path().join("api.key"), key_b.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("good.key"), key_a.serialize_pem()).unwrap();
    std::fs::write(
        dir.path().join("junk.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    #[cfg(unix)]
    for k in ["api.key", "good.key"] {
        chmod(&dir.path().join(k), 0o600);
    }
    let tls =
        |cert: &str, key: &str| format!("tls_cert_file = \"{cert}\"\ntls_key_file = \"{key}\"");

    let out = check(&config(
        dir.path(),
        "0.0.0.0:8443",
        &tls("api.pem", "good.key"),
    ));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("without TLS"), "{err}");

    for (cert, key, needle) in [
        ("api.pem", "api.key", "does not fit"),
        ("junk.pem", "good.key", "junk.pem"),
        ("missing.pem", "good.key", "missing.pem"),
    ] {
        let out = check(&config(dir.path(), "127.0.0.1:8443", &tls(cert, key)));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cert}/{key}: {err}");
        assert!(err.contains(needle), "{cert}/{key}: {err}");
    }
    let out = check(&config(
        dir.path(),
        "127.0.0.1:8443",
        "tls_cert_file = \"api.pem\"",
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    #[cfg(unix)]
    {
        chmod(&dir.path().join("good.key"), 0o644);
        let out = check(&config(
            dir.path(),
            "127.0.0.1:8443",
            &tls("api.pem", "good.key"),
        ));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("good.key") && err.contains("readable or writable by others"),
            "{err}"
        );
    }
}

#[test]
fn invalid_utf8_in_a_config_or_scenario_exits_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "127.0.0.1:8080", "");
    let mut bytes = std::fs::read(&cfg).unwrap();
    // Line 3 is `data_dir = "data"`: corrupt its 13th character.
    let at = bytes.iter().position(|&b| b == b'd').unwrap() + "data_dir = \"".len();
    bytes[at] = 0xff;
    std::fs::write(&cfg, &bytes).unwrap();
    let out = check(&cfg);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("engine.toml:3:13:") && err.contains("0xff") && err.contains("UTF-8"),
        "{err}"
    );

    let scenario = dir.path().join("bad.toml");
    let mut text_bytes = std::fs::read("scenarios/happy-path.toml").unwrap();
    let nl = text_bytes.iter().position(|&b| b == b'\n').unwrap();
    text_bytes.insert(nl + 3, 0xc3);
    std::fs::write(&scenario, &text_bytes).unwrap();
    let out = dualrec(&["validate", scenario.to_str().unwrap()], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml:2:3:") && err.contains("UTF-8"),
        "{err}"
    );
}
