//! `report.json`: the [`Report`] as pretty JSON with a trailing newline.
//!
//! Field order is the struct's declaration order and every collection is a
//! Vec or a `BTreeMap`, so the same run gives the same bytes.

use super::Report;

/// Pretty-printed JSON of the report, ending in a newline.
pub fn to_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .expect("a report has string keys and finite numbers: it always serializes");
    s.push('\n');
    s
}
