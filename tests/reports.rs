//! Reports end to end through the binary: `suite --shard` + `report merge`
//! give back the unsharded suite byte for byte, `report render` reproduces
//! the run's own files, `--format json` prints the report, and the HTML
//! renders in headless Chromium (ignored, saying why, without
//! `/usr/bin/chromium` — except under `CI`, where it must run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dualrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("dualrec runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every file under `dir` except `timing.json` (wall-clock figures) and
/// screenshots, relative path → contents.
fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "timing.json") {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), read(&p)));
            }
        }
    }
    out.sort();
    out
}

/// The XML without its ` time="…"` attributes.
fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find(" time=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        rest = after.find('"').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

#[test]
fn merging_n_shards_equals_the_unsharded_suite_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let out = dualrec(&["suite", "scenarios", "--quiet", "--out", s(&whole)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let n = 3;
    let mut shard_files = Vec::new();
    let mut seen = 0;
    for i in 1..=n {
        let dir = tmp.path().join(format!("shard-{i}"));
        let shard = format!("{i}/{n}");
        let out = dualrec(&[
            "suite",
            "scenarios",
            "--quiet",
            "--shard",
            &shard,
            "--out",
            s(&dir),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let suite: serde_json::Value =
            serde_json::from_str(&read(&dir.join("suite.json"))).unwrap();
        assert_eq!(suite["shard"], shard.as_str());
        seen += suite["reports"].as_array().unwrap().len();
        shard_files.push(dir.join("suite.json"));
    }
    let whole_json: serde_json::Value =
        serde_json::from_str(&read(&whole.join("suite.json"))).unwrap();
    assert_eq!(seen, whole_json["reports"].as_array().unwrap().len());

    let merged = tmp.path().join("merged");
    let mut args = vec!["report", "merge", s(&merged)];
    // Shards in a different order than they were run.
    let files: Vec<String> = shard_files.iter().rev().map(|p| s(p).to_string()).collect();
    args.extend(files.iter().map(String::as_str));
    let out = dualrec(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("PASS"), "{}", text(&out.stdout));
    assert_eq!(
        read(&merged.join("suite.json")),
        read(&whole.join("suite.json")),
        "merged suite.json differs from the unsharded one"
    );
    // Every file the merge writes equals the unsharded run's.
    let (a, b) = (tree(&whole), tree(&merged));
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        // junit.xml of a run carries its wall-clock times; a merge of
        // reports has no timing, so it is compared without them.
        let (x, y) = if path.ends_with("junit.xml") {
            (without_times(x), without_times(y))
        } else {
            (x.clone(), y.clone())
        };
        assert!(x == y, "{} differs after the merge", path.display());
    }

    // The same shard twice: a scenario in two shards is rejected.
    let out = dualrec(&[
        "report",
        "merge",
        s(&tmp.path().join("dup")),
        &files[0],
        &files[0],
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("more than once"),
        "{}",
        text(&out.stderr)
    );
    // Not a report.
    let out = dualrec(&["report", "merge", s(&tmp.path().join("x")), "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = dualrec(&["suite", "scenarios", "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn render_reproduces_a_runs_files_and_format_json_prints_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = dualrec(&[
        "run",
        "scenarios/stream-loss.toml",
        "--out",
        s(&run),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), read(&run.join("report.json")));
    let report: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(report["scenario_file"], "scenarios/stream-loss.toml");
    assert!(!report["timelines"].as_array().unwrap().is_empty());

    let again = tmp.path().join("again");
    let out = dualrec(&[
        "report",
        "render",
        s(&run.join("report.json")),
        "--out",
        s(&again),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for f in ["report.html", "summary.md", "junit.xml"] {
        assert_eq!(
            read(&run.join(f)),
            read(&again.join(f)),
            "{f} re-rendered differently"
        );
    }
    assert!(!again.join("report.json").exists());
    let html = read(&again.join("report.html"));
    assert!(html.contains("dualrec run scenarios/stream-loss.toml --seed 47"));

    // A suite's JSON on stdout is its suite.json.
    let suite = tmp.path().join("suite");
    let out = dualrec(&[
        "suite",
        "scenarios",
        "--filter",
        "click",
        "--format",
        "json",
        "--out",
        s(&suite),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), read(&suite.join("suite.json")));
    // Not a terminal: no progress bar, no colour codes.
    let out = dualrec(&[
        "suite",
        "scenarios",
        "--filter",
        "click",
        "--out",
        s(&suite),
    ]);
    assert!(!text(&out.stdout).contains('\x1b'));
    for f in ["suite.json", "report.html", "summary.md", "junit.xml"] {
        assert!(suite.join(f).is_file(), "{f} missing");
    }
}

// Needs headless Chromium: ignored (and said so) where it is missing, run
// and failing when `CI` is set, because CI installs it (see build.rs).
#[test]
#[cfg_attr(
    not(any(have_chromium, ci)),
    ignore = "needs headless Chromium (apt-get install chromium; CI installs it)"
)]
fn report_html_renders_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} not found: this check needs headless Chromium (apt-get install chromium)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = dualrec(&[
        "run",
        "scenarios/primary-down-mid-session.toml",
        "--out",
        s(&run),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let check = |html: &Path| {
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/check-html"))
            .arg(html)
            .output()
            .expect(".ci/check-html runs")
    };
    let out = check(&run.join("report.html"));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("check-html: ok"));
    assert!(run.join("screenshot.png").metadata().unwrap().len() > 10_000);
    // The check does catch a script error.
    let broken = run.join("broken.html");
    std::fs::write(
        &broken,
        read(&run.join("report.html"))
            .replace("</body>", "<script>undefinedFunction();</script></body>"),
    )
    .unwrap();
    let out = check(&broken);
    assert!(!out.status.success(), "a script error went unnoticed");
    assert!(
        text(&out.stderr).contains("undefinedFunction"),
        "{}",
        text(&out.stderr)
    );
}
