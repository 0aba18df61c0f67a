//! Journal: appends are durable and restored, the highest sequence per
//! camera wins whatever the commit order, the audit trail keeps every write.

use super::*;

fn rec(camera: &str, seq: u64, recording: bool, who: &str) -> Record {
    Record {
        camera: CameraId::new(camera),
        seq: IntentSeq(seq),
        recording,
        at_ms: 1_700_000_000_000 + seq as i64,
        who: who.to_string(),
        client: "192.0.2.1:5000".to_string(),
    }
}

#[tokio::test]
async fn appends_survive_reopen_and_latest_keeps_the_highest_sequence() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let (j, latest) = Journal::open(dir.path()).expect("open");
        assert!(latest.is_empty());
        assert!(j.is_open());
        j.append(rec("lobby", 1, true, "a")).await.expect("append");
        // Committed out of click order: seq 3 before seq 2.
        j.append(rec("lobby", 3, true, "a")).await.expect("append");
        j.append(rec("lobby", 2, false, "b")).await.expect("append");
        j.append(rec("dock", 1, true, "b")).await.expect("append");
        // A repeated click (same sequence) is audited too.
        j.append(rec("dock", 1, true, "c")).await.expect("append");
        j.close();
    }
    let (j, latest) = Journal::open(dir.path()).expect("reopen");
    assert_eq!(
        latest,
        vec![
            JournalEntry {
                camera: CameraId::new("dock"),
                seq: IntentSeq(1),
                recording: true
            },
            JournalEntry {
                camera: CameraId::new("lobby"),
                seq: IntentSeq(3),
                recording: true
            },
        ]
    );
    drop(j);
    let audit = Journal::read_audit(dir.path()).expect("audit");
    assert_eq!(audit.len(), 5);
    assert_eq!(audit[2].1, rec("lobby", 2, false, "b"));
    assert!(audit.windows(2).all(|w| w[0].0 < w[1].0));
}

#[tokio::test]
async fn concurrent_appends_are_group_committed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (j, _) = Journal::open(dir.path()).expect("open");
    let j = std::sync::Arc::new(j);
    let mut tasks = Vec::new();
    for i in 0..500u64 {
        let j = j.clone();
        tasks.push(tokio::spawn(async move {
            j.append(rec(&format!("cam-{}", i % 50), i / 50 + 1, i % 2 == 0, "k"))
                .await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("append");
    }
    drop(j);
    let (_j, latest) = Journal::open(dir.path()).expect("reopen");
    assert_eq!(latest.len(), 50);
    assert!(latest.iter().all(|e| e.seq == IntentSeq(10)));
}

#[test]
fn an_unusable_data_dir_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = Journal::open(&file.join("sub")).unwrap_err();
    assert!(matches!(err, JournalError::DataDir { .. }), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_is_0700_and_every_journal_file_0600() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (j, _) = Journal::open(&dir).expect("open");
    j.append(rec("lobby", 1, true, "a")).await.expect("append");
    j.refuse(Refusal {
        at_ms: 1,
        client: "192.0.2.9:1234".into(),
        method: "PUT".into(),
        path: "/v1/cameras/lobby/recording".into(),
        status: 401,
        code: "unauthorized".into(),
        reason: "unknown API key".into(),
        who: None,
    })
    .expect("refuse");
    j.append(rec("lobby", 2, false, "a")).await.expect("append");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // WAL mode: the -wal and -shm files exist while the journal is open.
    assert!(names.iter().any(|n| n.ends_with("-wal")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-shm")), "{names:?}");
    for n in &names {
        assert_eq!(mode(&dir.join(n)), 0o600, "{n}");
    }
    j.close();
    let refusals = Journal::read_refusals(&dir).expect("refusals");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].1.client, "192.0.2.9:1234");
    let audit = Journal::read_audit(&dir).expect("audit");
    assert_eq!(audit[0].1.client, "192.0.2.1:5000");
}

#[test]
fn a_journal_without_the_client_column_is_migrated() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let conn = Connection::open(dir.path().join(FILE_NAME)).expect("open");
        conn.execute_batch(
            "CREATE TABLE intents (id INTEGER PRIMARY KEY AUTOINCREMENT, camera TEXT NOT NULL,
               seq INTEGER NOT NULL, recording INTEGER NOT NULL, at_ms INTEGER NOT NULL, who TEXT NOT NULL);
             INSERT INTO intents (camera, seq, recording, at_ms, who) VALUES ('lobby', 1, 1, 5, 'old');",
        )
        .expect("old schema");
    }
    let (j, _) = Journal::open(dir.path()).expect("open migrates");
    j.close();
    let audit = Journal::read_audit(dir.path()).expect("audit");
    assert_eq!(
        (audit[0].1.who.as_str(), audit[0].1.client.as_str()),
        ("old", "")
    );
}
