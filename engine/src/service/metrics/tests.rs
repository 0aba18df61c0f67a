//! The exposition as a scraper reads it: names, types, labels, formats.

use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue};
use prometheus_client::registry::Registry;

use super::scrape::{encode, Format};
use super::*;
use crate::core::MirrorStats;

fn scrape(m: &Metrics, stats: Option<&RuntimeStats>, format: Format) -> String {
    let mut reg = Registry::default();
    m.register(&mut reg, stats, true);
    encode(&reg, format)
}

fn stats() -> RuntimeStats {
    RuntimeStats {
        mirror: MirrorStats {
            intents: 3,
            renewals: 2,
            ..MirrorStats::default()
        },
        sites_up: vec![("primary".into(), true), ("secondary".into(), false)],
        inflight: 1,
        site_problems: vec![],
    }
}

/// A dispatched request and its reply, as the runtime reports them.
fn request(m: &Metrics, req: u64, site: SiteId, op: RecorderOp, outcome: Outcome, secs: f64) {
    let sent = Instant::now();
    m.on_event(RuntimeEvent::Dispatched {
        at: sent,
        req: RequestId(req),
        site,
        kind: RequestKind::Recorder {
            recorder: 0,
            op,
            devices: 1,
        },
    });
    m.on_event(RuntimeEvent::Replied {
        at: sent + Duration::from_secs_f64(secs),
        req: RequestId(req),
        site,
        outcome,
    });
}

#[test]
fn site_requests_are_one_counter_labelled_by_outcome() {
    let m = Metrics::new(vec!["primary".into(), "secondary".into()]);
    request(
        &m,
        1,
        0,
        RecorderOp::Start,
        Outcome::Results { ok: 1, failed: 0 },
        0.02,
    );
    request(
        &m,
        2,
        1,
        RecorderOp::Start,
        Outcome::Failed(TransportError::Timeout),
        5.0,
    );
    request(
        &m,
        3,
        1,
        RecorderOp::Probe,
        Outcome::Failed(TransportError::Refused),
        0.001,
    );
    request(
        &m,
        4,
        1,
        RecorderOp::Probe,
        Outcome::Fault {
            token_invalid: true,
        },
        0.003,
    );
    let text = scrape(&m, Some(&stats()), Format::PrometheusText);
    for line in [
        "dualrec_site_requests_total{site=\"primary\",op=\"start\",outcome=\"ok\"} 1\n",
        "dualrec_site_requests_total{site=\"secondary\",op=\"start\",outcome=\"timeout\"} 1\n",
        "dualrec_site_requests_total{site=\"secondary\",op=\"probe\",outcome=\"transport_error\"} 1\n",
        "dualrec_site_requests_total{site=\"secondary\",op=\"probe\",outcome=\"fault\"} 1\n",
        // Answered requests only: the fault has a latency, the failures not.
        "dualrec_site_request_duration_seconds_bucket{site=\"primary\",op=\"start\",le=\"0.025\"} 1\n",
        "dualrec_site_request_duration_seconds_count{site=\"secondary\",op=\"probe\"} 1\n",
        "dualrec_intents_total 3\n",
        "dualrec_renewals_total 2\n",
        "dualrec_site_up{site=\"secondary\"} 0\n",
        "dualrec_ready 1\n",
        "# TYPE dualrec_site_requests_total counter\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("site_request_duration_seconds_count{site=\"secondary\",op=\"start\"}"),
        "a timed-out request has no answer latency:\n{text}"
    );
    // One counter per meaning: no separate failure or request totals.
    for gone in [
        "dualrec_failures_total",
        "dualrec_site_request_failures_total",
        "dualrec_engine_requests_total",
        "dualrec_uptime_seconds",
    ] {
        assert!(!text.contains(gone), "{gone} still exported:\n{text}");
    }
}

#[test]
fn no_empty_label_sets_and_build_and_process_metrics_present() {
    let m = Metrics::new(vec!["primary".into()]);
    m.observe_write(Duration::from_millis(3));
    let text = scrape(&m, Some(&stats()), Format::PrometheusText);
    assert!(!text.contains("{}"), "an empty label set:\n{text}");
    assert!(
        text.contains("dualrec_api_write_duration_seconds_count 1\n"),
        "{text}"
    );
    assert!(
        text.contains("dualrec_api_write_duration_seconds_bucket{le=\"0.005\"} 1\n"),
        "{text}"
    );
    let version = format!(
        "dualrec_build_info{{version=\"{}\",os=\"{}\",arch=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    assert!(text.contains(&version), "missing {version:?} in\n{text}");
    let start = text
        .lines()
        .find_map(|l| l.strip_prefix("process_start_time_seconds "))
        .expect("process_start_time_seconds")
        .parse::<f64>()
        .expect("a number");
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!(
        start > 1.6e9 && start <= now + 1.0,
        "start {start}, now {now}"
    );
    if cfg!(target_os = "linux") {
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
    // Every sample line is a known family with a TYPE line.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} "))
                || text.contains(&format!("# TYPE {name} ")),
            "{name} has no TYPE line:\n{text}"
        );
    }
}

#[test]
fn openmetrics_when_the_scraper_asks_for_it() {
    let mut headers = HeaderMap::new();
    assert_eq!(Format::negotiate(&headers), Format::PrometheusText);
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        ),
    );
    assert_eq!(Format::negotiate(&headers), Format::OpenMetrics);
    let m = Metrics::new(vec!["primary".into()]);
    let text = scrape(&m, None, Format::OpenMetrics);
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE dualrec_build info\n"), "{text}");
    assert!(
        text.contains("# TYPE dualrec_api_writes counter\n"),
        "{text}"
    );
    assert!(text.contains("dualrec_api_writes_total 0\n"), "{text}");
    assert!(Format::OpenMetrics
        .content_type()
        .starts_with("application/openmetrics-text"));
}
