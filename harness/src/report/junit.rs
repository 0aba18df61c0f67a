//! `junit.xml`: one `<testsuite>` per scenario, one `<testcase>` per
//! guarantee.
//!
//! The testcase name is the guarantee key, its classname the scenario name.
//! A failed guarantee carries a `<failure>` whose message states the measured
//! figure, the condition and the margin. No `time` attributes: the file is as
//! deterministic as `report.json` (wall-clock figures live in `timing.json`).

use std::fmt::Write as _;

use super::Report;

/// JUnit XML for one scenario's report.
pub fn junit_xml(report: &Report) -> String {
    junit_xml_suites(std::slice::from_ref(report))
}

/// JUnit XML for several scenarios (a suite run), one `<testsuite>` each.
pub fn junit_xml_suites(reports: &[Report]) -> String {
    let tests: usize = reports.iter().map(|r| r.verdicts.len()).sum();
    let failures: usize = reports.iter().map(|r| r.failures().count()).sum();
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dualrec\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    for r in reports {
        let name = escape(&r.scenario.name);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            r.verdicts.len(),
            r.failures().count()
        );
        out.push_str("    <properties>\n");
        let props = [
            ("seed", r.scenario.seed.to_string()),
            ("mode", r.scenario.mode.clone()),
            ("sites", r.sites.join(",")),
            ("cameras", r.cameras.to_string()),
            ("sessions", r.sessions.total.to_string()),
            ("schema", r.schema.clone()),
        ];
        for (k, v) in props {
            let _ = writeln!(
                out,
                "      <property name=\"{k}\" value=\"{}\"/>",
                escape(&v)
            );
        }
        out.push_str("    </properties>\n");
        for v in &r.verdicts {
            let case = format!(
                "    <testcase name=\"{}\" classname=\"{name}\"",
                escape(&v.key)
            );
            if v.passed {
                let _ = writeln!(out, "{case}/>");
            } else {
                let message = format!(
                    "{} measured {}, required {} ({})",
                    v.key, v.measured_text, v.condition, v.margin_text
                );
                let _ = writeln!(out, "{case}>");
                let _ = writeln!(
                    out,
                    "      <failure type=\"guarantee\" message=\"{}\">{}</failure>",
                    escape(&message),
                    escape(&message)
                );
                out.push_str("    </testcase>\n");
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML content and attribute values; characters XML 1.0
/// cannot carry (most control characters) become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn report_junit_escapes() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}&#10;"
        );
    }
}
