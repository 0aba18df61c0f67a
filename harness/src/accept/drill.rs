//! The optional fault drill: during one session, cut one site off and
//! restore it — by asking the operator ("disconnect the secondary site now,
//! then press Enter") or with `--drill-cut CMD` / `--drill-restore CMD`
//! shell hooks — then check from footage that the other site(s) recorded
//! without a gap and that the cut site records again (the criteria
//! `site_gap.<other>.max == 0s` and `recovery_time.<cut>.max < …`, see
//! `criteria.rs`). The cut window becomes a fault window of the record, so
//! the report shows it and `recovery_time` is measured from its end.

use std::sync::atomic::Ordering;

use engine::core::{Nanos, SECS};
use tokio::io::AsyncBufReadExt;

use super::cycles::{Ctx, CycleLog};
use super::plan::{secs, DrillMode};

/// Runs a shell hook; `Err` when it cannot run or exits non-zero.
pub async fn run_hook(what: &str, cmd: &str) -> Result<(), String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("--drill-{what} `{cmd}` could not run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "--drill-{what} `{cmd}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Waits for the operator's Enter on stdin.
async fn wait_enter() -> Result<(), String> {
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot read the operator's Enter: {e}"))
}

async fn cut_or_restore(
    ctx: &Ctx<'_>,
    mode: &DrillMode,
    site: &str,
    cut: bool,
) -> Result<(), String> {
    match mode {
        DrillMode::Prompt => {
            ctx.log.plain(format!(
                ">>> {} the {site} site now, then press Enter",
                if cut { "disconnect" } else { "reconnect" }
            ));
            wait_enter().await
        }
        DrillMode::Hooks { cut: c, restore: r } => {
            let (what, cmd) = if cut { ("cut", c) } else { ("restore", r) };
            ctx.log
                .action(format!("drill: running --drill-{what} `{cmd}`"));
            run_hook(what, cmd).await
        }
    }
}

/// The drill session on site `cut_site`; `outage` is how long hooks keep it cut.
pub async fn drill(
    ctx: &Ctx<'_>,
    mode: &DrillMode,
    cut_site: usize,
    session: Nanos,
    outage: Nanos,
) -> Result<CycleLog, String> {
    let site = ctx.sessions[cut_site].site.name().to_owned();
    ctx.log
        .action(format!("drill: start (site {site} will be cut)"));
    let a = ctx.click(true).await?;
    let start_confirmed = ctx.confirm(true, a, None).await;
    ctx.sleep_until(a + (session / 3).max(SECS)).await;

    ctx.shared.cut.store(true, Ordering::SeqCst);
    cut_or_restore(ctx, mode, &site, true).await?;
    let cut = ctx.clock.now();
    ctx.log.action(format!("drill: site {site} cut"));
    if matches!(mode, DrillMode::Hooks { .. }) {
        ctx.sleep_until(cut + outage).await;
    }
    cut_or_restore(ctx, mode, &site, false).await?;
    ctx.shared.cut.store(false, Ordering::SeqCst);
    let restored = ctx.clock.now();
    ctx.log.action(format!(
        "drill: site {site} restored after {}",
        secs(restored - cut)
    ));
    let resumed = ctx.confirm_site(cut_site, true, restored).await;
    match resumed {
        Some(t) => ctx.log.action(format!(
            "drill: site {site} records again, {} after the restore (IsManualRecording)",
            secs(t - restored)
        )),
        None => ctx.log.action(format!(
            "drill: site {site} did NOT record again after the restore"
        )),
    }
    let until = (a + session).max(resumed.unwrap_or(restored) + SECS);
    ctx.sleep_until(until).await;
    let b = ctx.click(false).await?;
    let stop_confirmed = ctx.confirm(false, b, None).await;
    ctx.log.action("drill: done");
    Ok(CycleLog {
        kind: "drill".into(),
        start_ns: a,
        stop_ns: Some(b),
        start_confirmed_after_ns: start_confirmed,
        stop_confirmed_after_ns: stop_confirmed,
        cut_ns: Some(cut),
        restored_ns: Some(restored),
        resumed_ns: resumed,
    })
}
