//! The explorer across machines, end to end: `dualrec explore --shard I/M`
//! on every shard, then `dualrec report merge`, gives the folder one
//! `dualrec explore` writes — the same findings in `explore.json` and
//! byte-identical reproducers, originals and reports — and refuses a set
//! of shards that is not one exploration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small base whose recovery guarantees every faulty world breaks, per
/// site, so each run has several distinct findings to order and shrink.
const BASE: &str = r#"
[scenario]
name = "shard-base"
seed = 2
duration = "3m"

[[site]]
name = "primary"
latency = { dist = "lognormal", median = "10ms", p99 = "40ms" }

[[site]]
name = "secondary"
latency = { dist = "normal", mean = "20ms", stddev = "4ms" }

[cameras]
count = 4

[[session]]
camera = "cam-001"
start = "5s"
stop = "2m50s"

[guarantees]
"recovery_time.primary.max" = "< 1ms"
"recovery_time.secondary.max" = "< 1ms"
"union_gap.max" = "== 0s"
"#;

fn dualrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .output()
        .expect("dualrec runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn explore(base: &Path, out: &Path, shard: Option<&str>) -> Output {
    let mut args = vec![
        "explore",
        base.to_str().unwrap(),
        "--runs",
        "20",
        "--seed",
        "7",
        "--shrink-runs",
        "40",
        "--threads",
        "1",
        // The base's sub-millisecond bounds as written: every faulty world
        // breaks them (the explorer would otherwise loosen them to its own).
        "--base-bounds",
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    dualrec(&args)
}

/// Every file under `dir` but `explore.json`, by path relative to `dir`.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.file_name().unwrap() != "explore.json" {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn sharded_exploration_merges_into_the_one_machine_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    std::fs::write(&base, BASE).unwrap();

    let whole = dir.path().join("whole");
    let out = explore(&base, &whole, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let whole_json = json(&whole.join("explore.json"));
    let findings = whole_json["findings"].as_array().unwrap();
    assert!(
        findings.len() >= 2,
        "several distinct violations: {findings:?}"
    );

    let mut shard_files = Vec::new();
    for i in 1..=3 {
        let out_dir = dir.path().join(format!("shard-{i}"));
        let out = explore(&base, &out_dir, Some(&format!("{i}/3")));
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("shard {i}/3: the ")),
            "{}",
            text(&out.stdout)
        );
        let part = json(&out_dir.join("explore.json"));
        assert_eq!(part["shard"], format!("{i}/3"));
        assert_eq!(part["worlds_tried"], if i < 3 { 7 } else { 6 });
        shard_files.push(out_dir.join("explore.json"));
    }

    let merged = dir.path().join("merged");
    let mut args = vec!["report", "merge", merged.to_str().unwrap()];
    // Any order: the merge puts the shards in order itself.
    for f in shard_files.iter().rev() {
        args.push(f.to_str().unwrap());
    }
    let out = dualrec(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("merged 3 shards"),
        "{}",
        text(&out.stdout)
    );

    let merged_json = json(&merged.join("explore.json"));
    assert_eq!(merged_json["findings"], whole_json["findings"]);
    for field in [
        "runs",
        "worlds_tried",
        "violating_worlds",
        "steps",
        "seed",
        "base_sha256",
    ] {
        assert_eq!(merged_json[field], whole_json[field], "{field}");
    }
    assert_eq!(merged_json["shards"].as_array().unwrap().len(), 3);
    let (want, got) = (files(&whole), files(&merged));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &want {
        assert!(got[path] == *bytes, "{} differs", path.display());
    }

    // A missing shard, a shard twice, and a suite report are refused.
    let refused = |inputs: &[&PathBuf], expect: &str| {
        let target = dir.path().join("refused");
        let mut args = vec!["report", "merge", target.to_str().unwrap()];
        args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        let out = dualrec(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        assert!(text(&out.stderr).contains(expect), "{}", text(&out.stderr));
    };
    refused(&[&shard_files[0], &shard_files[2]], "shard 2/3 is missing");
    refused(
        &[
            &shard_files[0],
            &shard_files[1],
            &shard_files[1],
            &shard_files[2],
        ],
        "is given twice",
    );
    let whole_file = whole.join("explore.json");
    refused(&[&whole_file], "is not a shard");
    let finding_report = whole
        .join(
            findings[0]["scenario"]
                .as_str()
                .unwrap()
                .trim_end_matches(".toml"),
        )
        .join("report.json");
    refused(&[&shard_files[0], &finding_report], "not an explore.json");
}
