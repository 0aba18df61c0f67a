//! Replicas of `dualrec engine` on a real PostgreSQL journal (a throwaway
//! server started from Debian's `postgresql` tools): leader election, any
//! replica taking writes, `kill -9` of the leader, a leader paused with
//! SIGSTOP past its lease and resumed (split brain), and a database
//! restart. Acknowledged writes must never be lost, and the sites must end
//! up agreeing with the last intent of every camera.

mod cluster_support;
mod engine_support;

use std::time::Duration;

use cluster_support::*;
use engine_support::*;
use reqwest::Client;
use serde_json::Value;

const CAMERAS: usize = 4;

async fn all_agree(
    a: &sim::server::MockSite,
    b: &sim::server::MockSite,
    want: &[(usize, bool)],
) -> bool {
    eventually(Duration::from_secs(8), || {
        want.iter().all(|&(c, r)| sites_agree(a, b, c, r))
    })
    .await
}

fn logs(replicas: &[&Replica]) -> String {
    replicas
        .iter()
        .map(|r| {
            format!(
                "--- {} ---\n{}",
                r.name,
                std::fs::read_to_string(&r.log).unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(ci, have_postgres)),
    ignore = "needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql; CI installs it)"
)]
async fn replicas_fail_over_on_kill_pause_and_database_restart() {
    let server = engine::pgtest::server("replicas_fail_over_on_kill_pause_and_database_restart");
    let dir = tempfile::tempdir().expect("temp dir");
    let (site_a, site_b) = start_sites(CAMERAS).await;
    let (ua, ub) = (site_a.service_url(), site_b.service_url());
    let cfg_a = replica_config(dir.path(), "a", &ua, &ub, CAMERAS, &server.url());
    let cfg_b = replica_config(dir.path(), "b", &ua, &ub, CAMERAS, &server.url());
    let client = Client::new();
    let mut a = spawn_replica("a", &cfg_a, dir.path());
    let mut b = spawn_replica("b", &cfg_b, dir.path());

    // One leader; the other is a standby at the same epoch.
    let (li, epoch1, _) = await_leader(&client, &[&a, &b], Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("no leader\n{}", logs(&[&a, &b])));
    let (leader_base, standby_base) = if li == 0 {
        (a.base.clone(), b.base.clone())
    } else {
        (b.base.clone(), a.base.clone())
    };
    let sv = cluster(&client, &standby_base)
        .await
        .expect("standby answers /v1/cluster");
    assert_eq!(sv["role"], "standby", "{sv}");
    let ready: Value = client
        .get(format!("{standby_base}/readyz"))
        .send()
        .await
        .expect("readyz")
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).expect("json"))
        .expect("text");
    assert_eq!(ready["role"], "standby", "{ready}\n{}", logs(&[&a, &b]));
    let metrics = client
        .get(format!("{leader_base}/metrics"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("dualrec_cluster_role{role=\"leader\"} 1"),
        "{metrics}"
    );
    let no_key = client
        .get(format!("{leader_base}/v1/cluster"))
        .send()
        .await
        .expect("cluster");
    assert_eq!(no_key.status(), 401);

    // A write to the standby is committed, then applied by the leader.
    let mut acked = [None; CAMERAS + 1];
    acked[1] = Some(
        click(&client, &standby_base, 1, true)
            .await
            .expect("the standby acknowledges a write"),
    );
    assert!(
        all_agree(&site_a, &site_b, &[(1, true)]).await,
        "a standby's write reached the sites\n{}",
        logs(&[&a, &b])
    );
    let unknown = client
        .put(format!("{standby_base}/v1/cameras/nope/recording"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body("{\"recording\": true}")
        .send()
        .await
        .expect("put");
    assert_eq!(unknown.status(), 404);

    // kill -9 of the leader: the standby takes over; a write made while
    // nobody leads is acknowledged (committed) and applied after.
    {
        let dead = if li == 0 { &mut a } else { &mut b };
        dead.child.kill().expect("SIGKILL");
        let _ = dead.child.wait();
    }
    acked[2] = Some(
        click(&client, &standby_base, 2, true)
            .await
            .expect("acknowledged while leaderless"),
    );
    let survivor = if li == 0 { &b } else { &a };
    let (_, epoch2, took) = await_leader(&client, &[survivor], Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("no takeover\n{}", logs(&[survivor])));
    assert_eq!(epoch2, epoch1 + 1, "the fencing epoch grew by one");
    eprintln!("takeover after kill -9: {took:?}");
    assert!(
        all_agree(&site_a, &site_b, &[(1, true), (2, true)]).await,
        "the new leader restored and applied every intent\n{}",
        logs(&[survivor])
    );

    // The killed replica comes back as a standby.
    let name = if li == 0 { "a" } else { "b" };
    let cfg = if li == 0 { &cfg_a } else { &cfg_b };
    let back = spawn_replica(name, cfg, dir.path());
    if li == 0 {
        a = back
    } else {
        b = back
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (li2, _) = leader(&client, &[&a, &b]).await.expect("still one leader");
    assert_eq!(li2, 1 - li, "the returning replica does not take over");

    // SIGSTOP the leader past its lease: the other takes over; a stop click
    // through the new leader must survive the old one resuming.
    let paused_pid = if li2 == 0 { a.child.id() } else { b.child.id() };
    let (other_base, paused_base) = if li2 == 0 {
        (b.base.clone(), a.base.clone())
    } else {
        (a.base.clone(), b.base.clone())
    };
    assert!(signal(paused_pid, "STOP"));
    let other = if li2 == 0 { &b } else { &a };
    let (_, epoch3, took) = await_leader(&client, &[other], Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("no takeover from a paused leader\n{}", logs(&[&a, &b])));
    eprintln!("takeover from a paused leader: {took:?}");
    assert_eq!(epoch3, epoch2 + 1);
    acked[1] = Some(
        click(&client, &other_base, 1, false)
            .await
            .expect("stop acknowledged"),
    );
    assert!(all_agree(&site_a, &site_b, &[(1, false), (2, true)]).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(signal(paused_pid, "CONT"));
    // The resumed replica finds its right lapsed and is a standby.
    let mut resumed = Value::Null;
    let stepped_down = {
        let mut ok = false;
        for _ in 0..100 {
            if let Some(v) = cluster(&client, &paused_base).await {
                if v["role"] == "standby" && v["epoch"].as_u64() == Some(epoch3) {
                    ok = true;
                    resumed = v;
                    break;
                }
                resumed = v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ok
    };
    assert!(
        stepped_down,
        "the resumed old leader is a standby at the new epoch: {resumed}\n{}",
        logs(&[&a, &b])
    );
    // For three seconds nothing the old leader had in mind overrides the stop.
    for _ in 0..30 {
        assert!(
            sites_agree(&site_a, &site_b, 1, false),
            "a deposed leader restarted camera 1\n{}",
            logs(&[&a, &b])
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (li3, e) = leader(&client, &[&a, &b]).await.expect("a leader");
    assert_eq!((li3, e), (1 - li2, epoch3), "the new leader kept the lease");

    // Database restart: writes fail meanwhile (never acknowledged without
    // being durable), then a leader leads again and nothing is lost.
    server.stop().expect("stop the database");
    assert_eq!(
        click(&client, &other_base, 3, true).await,
        None,
        "no acknowledgement without the database"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.start_again().expect("start the database");
    await_leader(&client, &[&a, &b], Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no leader after the database restart\n{}", logs(&[&a, &b])));
    let mut seq3 = None;
    for _ in 0..50 {
        if let Some(s) = click(&client, &a.base, 3, true).await {
            seq3 = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    acked[3] = Some(seq3.expect("writes work again after the database restart"));
    assert!(
        all_agree(&site_a, &site_b, &[(1, false), (2, true), (3, true)]).await,
        "after the database restart the sites agree with every intent\n{}",
        logs(&[&a, &b])
    );

    // No acknowledged write was lost: every replica reports the last
    // acknowledged sequence of each camera.
    let last = acked.iter().flatten().copied().max().unwrap_or(0);
    for r in [&a, &b] {
        // A standby reads the journal on a notification or within 250 ms.
        let mut caught_up = false;
        for _ in 0..100 {
            if cluster(&client, &r.base)
                .await
                .and_then(|v| v["applied_seq"].as_u64())
                .is_some_and(|s| s >= last)
            {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            caught_up,
            "replica {} reads the journal up to {last}\n{}",
            r.name,
            logs(&[&a, &b])
        );
        let v: Value = client
            .get(format!("{}/v1/cameras", r.base))
            .bearer_auth(READ_KEY)
            .send()
            .await
            .expect("cameras")
            .text()
            .await
            .map(|t| serde_json::from_str::<Value>(&t).expect("json"))
            .expect("text");
        for (c, want) in acked.iter().enumerate().skip(1) {
            let Some(seq) = want else { continue };
            let cam = &v["cameras"][c - 1];
            assert_eq!(
                cam["seq"].as_u64(),
                Some(*seq),
                "replica {} camera {c}: {cam}\n{:?}\n{}",
                r.name,
                cluster(&client, &r.base).await,
                logs(&[&a, &b])
            );
        }
    }
}
