//! One scrape of `/metrics`: a registry built for this request from the
//! live metrics and snapshots of everything else, encoded in the format the
//! scraper asked for.
//!
//! Prometheus sends `Accept: application/openmetrics-text;...` and gets
//! OpenMetrics 1.0 (ending in `# EOF`); anything else (curl, a browser,
//! older scrapers) gets the classic text format 0.0.4. Both encoders are
//! `prometheus-client`'s own.

use axum::http::{header, HeaderMap};
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;

/// The exposition format of one scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    PrometheusText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format `Accept` asks for: OpenMetrics when it names it.
    pub fn negotiate(headers: &HeaderMap) -> Format {
        let wants_openmetrics = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|part| {
                let media = part.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/openmetrics-text")
            });
        if wants_openmetrics {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::PrometheusText => prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Encodes `reg` in `format`.
pub fn encode(reg: &Registry, format: Format) -> String {
    let mut out = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail; an encoder error would be a bug in
    // a label value, and the metrics written so far are still useful.
    let result = match format {
        Format::PrometheusText => prometheus_text::encode(&mut out, reg),
        Format::OpenMetrics => text::encode(&mut out, reg),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "encoding /metrics failed part-way");
    }
    out
}
