//! The PostgreSQL journal against a real, throwaway PostgreSQL server.

use std::time::Duration;

use super::*;
use crate::cluster::{LeaseOp, LeaseReply};
use crate::core::SECS;
use crate::pgtest;

fn settings(server: &pgtest::TestServer) -> PgSettings {
    PgSettings {
        url: server.url(),
        password: Some(pgtest::PASSWORD.to_string()),
        ca_pem: None,
    }
}

fn record(camera: &str, recording: bool) -> Record {
    Record {
        camera: CameraId::new(camera),
        seq: IntentSeq(0),
        recording,
        at_ms: 1,
        who: "test".into(),
        client: "127.0.0.1:1".into(),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

#[test]
#[cfg_attr(
    not(any(ci, have_postgres)),
    ignore = "needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql; CI installs it)"
)]
fn journal_lease_and_fencing_on_a_real_server() {
    let server = pgtest::server("journal_lease_and_fencing_on_a_real_server");
    rt().block_on(async {
        let connector = Connector::new(&settings(&server)).expect("settings");
        let a = PgJournal::open(connector.clone(), "a").await.expect("open a");
        // A second replica migrates nothing twice.
        let b = PgJournal::open(connector.clone(), "b").await.expect("open b");
        let empty = a.snapshot().await.expect("snapshot");
        assert_eq!(empty.cursor, 0);
        assert!(empty.latest.is_empty());

        // Epoch 0 (nobody ever led) accepts writes; sequences are global.
        let mut notes = b.listen();
        tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("the listener signals once connected");
        let s1 = a
            .append(0, vec![record("cam-1", true), record("cam-2", true)])
            .await
            .expect("append");
        let s2 = b.append(0, vec![record("cam-1", false)]).await.expect("append");
        assert_eq!(s1, vec![1, 2]);
        assert_eq!(s2, vec![3]);
        tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("a commit is notified");
        let snap = b.snapshot().await.expect("snapshot");
        assert_eq!(snap.cursor, 3);
        let cam1 = snap
            .latest
            .iter()
            .find(|e| e.camera.as_str() == "cam-1")
            .expect("cam-1");
        assert_eq!((cam1.seq.0, cam1.recording), (3, false));
        let since = a.since(1, 100).await.expect("since");
        assert_eq!(since.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![2, 3]);

        // The lease: a takes it; b is refused while it is fresh.
        let mut la = a.lease_client();
        let mut lb = b.lease_client();
        let lease = 2 * SECS;
        let LeaseReply::Observed(v) = la.run(&LeaseOp::Observe, "a", None, lease).await.expect("observe") else {
            panic!("expected a view")
        };
        assert!(v.expired && v.epoch == 0);
        let got = la
            .run(&LeaseOp::Acquire { observed_epoch: 0 }, "a", Some("http://a"), lease)
            .await
            .expect("acquire");
        assert_eq!(got, LeaseReply::Acquired { epoch: 1 });
        let refused = lb
            .run(&LeaseOp::Acquire { observed_epoch: 1 }, "b", None, lease)
            .await
            .expect("acquire");
        assert!(matches!(refused, LeaseReply::Refused(ref v) if v.holder.as_deref() == Some("a") && !v.expired));
        assert_eq!(
            la.run(&LeaseOp::Renew { epoch: 1 }, "a", None, lease).await.expect("renew"),
            LeaseReply::Renewed { epoch: 1 }
        );
        // Writes under a stale epoch are rejected and not written.
        let stale = b.append(0, vec![record("cam-2", false)]).await;
        assert!(matches!(stale, Err(PgError::Stale(s)) if s.current == 1), "{stale:?}");
        assert_eq!(a.since(3, 100).await.expect("since").len(), 0);
        assert_eq!(b.append(1, vec![record("cam-2", false)]).await.expect("append"), vec![4]);

        // Once a stops renewing, the database lets b take over: epoch 2.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let LeaseReply::Observed(v) = lb.run(&LeaseOp::Observe, "b", None, lease).await.expect("observe") else {
            panic!("expected a view")
        };
        assert!(v.expired, "{v:?}");
        let got = lb
            .run(&LeaseOp::Acquire { observed_epoch: v.epoch }, "b", None, lease)
            .await
            .expect("acquire");
        assert_eq!(got, LeaseReply::Acquired { epoch: 2 });
        // The deposed a can neither renew nor write.
        let renew = la.run(&LeaseOp::Renew { epoch: 1 }, "a", None, lease).await.expect("renew");
        assert!(matches!(renew, LeaseReply::Refused(ref v) if v.epoch == 2));
        assert!(matches!(a.append(1, vec![record("cam-1", true)]).await, Err(PgError::Stale(_))));

        // Audit trail: every row with its writer's epoch.
        let audit = a.audit().await.expect("audit");
        assert_eq!(
            audit.iter().map(|(s, _, e)| (*s, *e)).collect::<Vec<_>>(),
            vec![(1, 0), (2, 0), (3, 0), (4, 1)]
        );

        // A wrong password is a clear error.
        let bad = Connector::new(&PgSettings {
            password: Some("wrong".into()),
            ..settings(&server)
        })
        .expect("settings");
        let err = PgJournal::open(bad, "c").await.expect_err("wrong password");
        assert!(err.to_string().contains("password"), "{err}");
    });
}

#[test]
#[cfg_attr(
    not(any(ci, have_postgres)),
    ignore = "needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql; CI installs it)"
)]
fn the_journal_reconnects_after_a_database_restart() {
    let server = pgtest::server("the_journal_reconnects_after_a_database_restart");
    rt().block_on(async {
        let connector = Connector::new(&settings(&server)).expect("settings");
        let j = PgJournal::open(connector, "a").await.expect("open");
        j.append(0, vec![record("cam-1", true)])
            .await
            .expect("append");
        server.stop().expect("stop");
        assert!(
            j.append(0, vec![record("cam-1", false)]).await.is_err(),
            "no database, no acknowledgement"
        );
        server.start_again().expect("start");
        // The writer and the reader reconnect on their own.
        let mut ok = None;
        for _ in 0..50 {
            if let Ok(s) = j.append(0, vec![record("cam-1", false)]).await {
                ok = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(ok.expect("a write after the restart"), vec![2]);
        let snap = j.snapshot().await.expect("snapshot after restart");
        assert_eq!(snap.cursor, 2);
        assert!(!snap.latest[0].recording);
    });
}

#[test]
fn tls_settings_are_checked() {
    let err = Connector::new(&PgSettings {
        url: "postgresql://u@localhost/db?sslmode=require".into(),
        password: None,
        ca_pem: Some(b"not a certificate".to_vec()),
    })
    .expect_err("bad CA");
    assert!(err.to_string().contains("PEM"), "{err}");
    let bad_url = Connector::new(&PgSettings {
        url: "postgresql://u@localhost/db?sslmode=sometimes".into(),
        password: None,
        ca_pem: None,
    });
    assert!(bad_url.is_err());
    assert_eq!(
        conn::redact("postgresql://u:secret@h:5432/db"),
        "postgresql://u@h:5432/db"
    );
}
