//! A throwaway PostgreSQL server for tests: `initdb` and `pg_ctl` from
//! Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`), in a
//! temporary directory, listening on a free loopback port.
//!
//! `initdb` refuses to run as root, so under root the server runs as the
//! `postgres` user (via `runuser`) in a directory owned by it. Test-only:
//! nothing in the engine uses this module.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The password of the test server's superuser `dualrec`.
pub const PASSWORD: &str = "dualrec-test-password";

/// A running throwaway server; stopped (immediately) when dropped.
#[derive(Debug)]
pub struct TestServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_user: Option<String>,
}

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb` and `pg_ctl`.
pub fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// A started server for a test. The test is marked ignored where the tools
/// are missing (`cfg(have_postgres)`, set by the build scripts) unless `CI`
/// is set, so reaching here without them is a failure, never a silent pass.
pub fn server(test: &str) -> TestServer {
    let bin = find_bin().unwrap_or_else(|| {
        panic!(
            "{test}: PostgreSQL server tools (initdb, pg_ctl under /usr/lib/postgresql/*/bin) are missing; apt-get install postgresql (.ci/run does)"
        )
    });
    TestServer::start(&bin)
        .unwrap_or_else(|e| panic!("{test}: cannot start the throwaway PostgreSQL server: {e}"))
}

/// For benchmarks: a started server, or `None` when the PostgreSQL tools
/// are missing — fails if the environment variable `CI` is set (the CI
/// script installs them), otherwise says loudly the bench is skipped.
pub fn require(test: &str) -> Option<TestServer> {
    match find_bin() {
        Some(bin) => Some(TestServer::start(&bin).unwrap_or_else(|e| {
            panic!("{test}: cannot start the throwaway PostgreSQL server: {e}")
        })),
        None if std::env::var_os("CI").is_some() => panic!(
            "{test}: PostgreSQL server tools (initdb, pg_ctl under /usr/lib/postgresql/*/bin) are missing, and CI is set; expected .ci/run to install Debian's `postgresql`"
        ),
        None => {
            eprintln!(
                "SKIPPED {test}: PostgreSQL server tools are missing (apt-get install postgresql)"
            );
            None
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestServer {
    /// `initdb` (superuser `dualrec`, password auth over TCP) and start.
    pub fn start(bin: &Path) -> Result<TestServer, String> {
        let dir = tempfile::Builder::new()
            .prefix("dualrec-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let as_user = is_root().then(|| "postgres".to_string());
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| e.to_string())?;
        if let Some(user) = &as_user {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err(format!("chown {user} {}: {status}", dir.path().display()));
            }
        }
        let port = free_port().map_err(|e| e.to_string())?;
        let server = TestServer {
            dir,
            bin: bin.to_path_buf(),
            port,
            as_user,
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "dualrec",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        server.start_again()?;
        Ok(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"],
        )
    }

    /// Stops the server (`fast`: connections are cut, like a database restart).
    pub fn stop(&self) -> Result<(), String> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }

    /// `postgresql://dualrec@127.0.0.1:PORT/postgres` (no password in it).
    pub fn url(&self) -> String {
        format!(
            "postgresql://dualrec@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}
