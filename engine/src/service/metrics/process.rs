//! `dualrec_build_info` and the standard `process_*` metrics every
//! Prometheus client library exports (the names Grafana's stock dashboards
//! and alerting rules expect): start time, CPU seconds, memory, file
//! descriptors. Read from `/proc` at scrape time via `procfs` on Linux;
//! elsewhere only the start time (as the service saw it) is exported.

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Registers build information and the process metrics. `service_started`
/// stands in for the process start where `/proc` cannot say it.
pub(super) fn register(reg: &mut Registry, service_started: SystemTime) {
    reg.register(
        "dualrec_build",
        "The dualrec build serving this endpoint (value 1; labels say which)",
        Info::new(vec![
            ("version", env!("CARGO_PKG_VERSION")),
            ("os", std::env::consts::OS),
            ("arch", std::env::consts::ARCH),
        ]),
    );
    let snapshot = ProcessSnapshot::read();
    let start = snapshot.start_time.unwrap_or_else(|| {
        service_started
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
    reg.register(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds",
        ConstGauge::new(start),
    );
    if let Some(cpu) = snapshot.cpu_seconds {
        reg.register(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            ConstCounter::new(cpu),
        );
    }
    for (name, help, value) in [
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            snapshot.resident_bytes,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            snapshot.virtual_bytes,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors",
            snapshot.open_fds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors",
            snapshot.max_fds,
        ),
    ] {
        if let Some(v) = value {
            reg.register(name, help, ConstGauge::new(v as f64));
        }
    }
}

/// What `/proc/self` says now; `None` where it cannot be read.
#[derive(Debug, Default)]
struct ProcessSnapshot {
    start_time: Option<f64>,
    cpu_seconds: Option<f64>,
    resident_bytes: Option<u64>,
    virtual_bytes: Option<u64>,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
}

impl ProcessSnapshot {
    #[cfg(target_os = "linux")]
    fn read() -> ProcessSnapshot {
        use procfs::process::{LimitValue, Process};
        let Ok(me) = Process::myself() else {
            return ProcessSnapshot::default();
        };
        let mut s = ProcessSnapshot::default();
        let ticks = procfs::ticks_per_second() as f64;
        if let Ok(stat) = me.stat() {
            s.cpu_seconds = Some((stat.utime + stat.stime) as f64 / ticks);
            s.resident_bytes = Some(stat.rss * procfs::page_size());
            s.virtual_bytes = Some(stat.vsize);
            if let Ok(boot) = procfs::boot_time_secs() {
                s.start_time = Some(boot as f64 + stat.starttime as f64 / ticks);
            }
        }
        s.open_fds = me.fd_count().ok().map(|n| n as u64);
        s.max_fds = me
            .limits()
            .ok()
            .and_then(|l| match l.max_open_files.soft_limit {
                LimitValue::Value(v) => Some(v),
                LimitValue::Unlimited => None,
            });
        s
    }

    #[cfg(not(target_os = "linux"))]
    fn read() -> ProcessSnapshot {
        ProcessSnapshot::default()
    }
}
