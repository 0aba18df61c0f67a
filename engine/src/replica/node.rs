//! [`Node`]: the task that drives one replica — lease, journal follower,
//! and the engine while leading — and [`ClusterHandle`], the service's
//! view of it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::gate::SendGate;
use crate::cluster::{LeaseConfig, LeaseEvent, LeaseOp, LeaseReply, OpId, Replica, Role};
use crate::core::{
    CameraId, CameraStatus, IntentSeq, JournalEntry, MirrorConfig, MirrorStats, Nanos,
    UnknownCamera, MILLIS,
};
use crate::journal::postgres::{PgError, PgJournal, Sequenced};
use crate::journal::Record;
use crate::runtime::{
    Driver, EngineHandle, EngineRequest, RuntimeError, RuntimeEvent, RuntimeStats, SiteEndpoint,
};

/// How often the journal is read even without a notification.
const FOLLOW_POLL: Duration = Duration::from_millis(250);
/// Most intents read from the journal at once.
const FOLLOW_BATCH: i64 = 10_000;
/// How long a write on the leader waits for the engine to apply it before
/// answering (it is durable either way).
const APPLY_WAIT: Duration = Duration::from_secs(1);

/// What a replica needs besides its journal.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Unique in the group (default: host name and process id).
    pub replica_id: String,
    /// This replica's API address as others should reach it, shown by
    /// `GET /v1/cluster` as the leader's URL.
    pub advertise_url: Option<String>,
    pub lease: LeaseConfig,
    pub mirror: MirrorConfig,
    pub endpoints: Vec<SiteEndpoint>,
    pub seed: u64,
}

/// This replica as `GET /v1/cluster` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = Cluster)]
pub struct ClusterStatus {
    /// This replica's name in the group.
    pub replica: String,
    pub role: Role,
    /// The fencing epoch this replica leads at, or the latest it has seen.
    pub epoch: u64,
    /// The lease holder's replica id (null before anyone held it).
    #[schema(required)]
    pub leader: Option<String>,
    /// The leader's `advertise_url`, when it set one.
    #[schema(required)]
    pub leader_url: Option<String>,
    /// Time since the lease was last renewed, as this replica knows it.
    #[schema(required)]
    pub lease_age_ms: Option<u64>,
    /// Whether this replica's last lease statement succeeded within a lease.
    pub journal_ok: bool,
    /// The last journal sequence this replica has read.
    pub applied_seq: u64,
}

/// Why a write could not be made durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Journal(#[from] PgError),
}

/// The service's handle on a running replica.
#[derive(Clone)]
pub struct ClusterHandle {
    journal: Arc<PgJournal>,
    status: Arc<Mutex<ClusterStatus>>,
    applied: watch::Receiver<u64>,
    stale: mpsc::UnboundedSender<u64>,
    engine: EngineHandle,
}

impl std::fmt::Debug for ClusterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterHandle")
            .field("status", &self.status())
            .finish()
    }
}

impl ClusterHandle {
    pub fn status(&self) -> ClusterStatus {
        match self.status.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// An engine handle served by this replica: the engine itself while
    /// leading; intents from the journal (no site state) while standby.
    pub fn engine(&self) -> EngineHandle {
        self.engine.clone()
    }

    pub fn journal(&self) -> &Arc<PgJournal> {
        &self.journal
    }

    /// Commits `records` to the journal under this replica's epoch, and
    /// answers with their journal sequences once committed. Fenced (the
    /// epoch moved on): the replica learns it and the write is retried once
    /// under the current epoch. Also waits (briefly) until this replica
    /// has read them back (on the leader: applied them to the engine).
    pub async fn write(&self, records: Vec<Record>) -> Result<Vec<IntentSeq>, WriteError> {
        let epoch = self.status().epoch;
        let seqs = match self.journal.append(epoch, records.clone()).await {
            Err(PgError::Stale(stale)) => {
                let _ = self.stale.send(stale.current);
                self.journal.append(stale.current, records).await?
            }
            other => other?,
        };
        // The leader's engine applies what it reads; a standby reads it
        // into its intents: either way the answer then shows the write.
        if let Some(&last) = seqs.last() {
            let mut applied = self.applied.clone();
            let _ = tokio::time::timeout(APPLY_WAIT, applied.wait_for(|&a| a >= last)).await;
        }
        Ok(seqs.into_iter().map(IntentSeq).collect())
    }
}

/// `status` with its intent as the journal has it (`(seq, recording)`).
fn with_journal_seq(mut status: CameraStatus, journaled: Option<(u64, bool)>) -> CameraStatus {
    if let Some((seq, recording)) = journaled {
        status.intent = Some((IntentSeq(seq), recording));
    }
    status
}

/// A replica's driving task.
pub struct Node;

impl Node {
    /// Reads the journal's state and starts the replica (as a standby; it
    /// leads once it acquires the lease). Must run inside a tokio runtime.
    pub async fn start(
        journal: Arc<PgJournal>,
        opts: NodeOptions,
        observer: Option<mpsc::UnboundedSender<RuntimeEvent>>,
    ) -> Result<ClusterHandle, PgError> {
        // The configuration is checked before any lease is taken.
        Driver::new(opts.mirror.clone(), opts.endpoints.clone(), opts.seed)
            .map_err(|e: RuntimeError| PgError::Db(format!("engine configuration: {e}")))?;
        let snapshot = journal.snapshot().await?;
        let base = Instant::now();
        let gate = Arc::new(SendGate::new(base));
        let status = Arc::new(Mutex::new(ClusterStatus {
            replica: opts.replica_id.clone(),
            role: Role::Standby,
            epoch: 0,
            leader: None,
            leader_url: None,
            lease_age_ms: None,
            journal_ok: true,
            applied_seq: snapshot.cursor,
        }));
        let (applied_tx, applied) = watch::channel(snapshot.cursor);
        let (stale, stale_rx) = mpsc::unbounded_channel();
        let (req_tx, req_rx) = mpsc::channel(1024);
        let (ops_tx, ops_rx) = mpsc::unbounded_channel();
        let (replies_tx, replies_rx) = mpsc::unbounded_channel();
        tokio::spawn(lease_task(
            journal.lease_client(),
            opts.replica_id.clone(),
            opts.advertise_url.clone(),
            opts.lease,
            ops_rx,
            replies_tx,
        ));
        let (rows_tx, rows_rx) = mpsc::channel(64);
        tokio::spawn(follow_task(
            journal.clone(),
            journal.listen(),
            snapshot.cursor,
            rows_tx,
        ));
        let cache = snapshot
            .latest
            .iter()
            .map(|e| (e.camera.clone(), (e.seq.0, e.recording)))
            .collect();
        let cameras = opts.mirror.cameras.iter().map(|c| c.id.clone()).collect();
        let sites = opts.mirror.sites.iter().map(|s| s.name.clone()).collect();
        let lp = Loop {
            replica: Replica::new(opts.replica_id.clone(), opts.lease),
            opts,
            base,
            gate,
            status: status.clone(),
            engine: None,
            cache,
            cameras,
            sites,
            cursor: snapshot.cursor,
            applied: applied_tx,
            ops: ops_tx,
            observer,
            // The snapshot was just read: the journal answered at time 0.
            last_ok: Some(0),
        };
        tokio::spawn(lp.run(req_rx, replies_rx, rows_rx, stale_rx));
        Ok(ClusterHandle {
            journal,
            status,
            applied,
            stale,
            engine: EngineHandle::from_sender(req_tx),
        })
    }
}

type LeaseResult = (OpId, Result<LeaseReply, String>);

async fn lease_task(
    mut client: crate::journal::postgres::LeaseClient,
    who: String,
    url: Option<String>,
    cfg: LeaseConfig,
    mut ops: mpsc::UnboundedReceiver<(OpId, LeaseOp)>,
    replies: mpsc::UnboundedSender<LeaseResult>,
) {
    let limit = Duration::from_nanos(cfg.op_timeout);
    while let Some((id, op)) = ops.recv().await {
        let result =
            match tokio::time::timeout(limit, client.run(&op, &who, url.as_deref(), cfg.lease))
                .await
            {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => {
                    client.reset();
                    Err(format!("no answer within {limit:?}"))
                }
            };
        if replies.send((id, result)).is_err() {
            return;
        }
    }
}

async fn follow_task(
    journal: Arc<PgJournal>,
    mut notes: mpsc::Receiver<()>,
    mut cursor: u64,
    rows: mpsc::Sender<Vec<Sequenced>>,
) {
    loop {
        tokio::select! {
            _ = notes.recv() => {}
            () = tokio::time::sleep(FOLLOW_POLL) => {}
        }
        loop {
            match journal.since(cursor, FOLLOW_BATCH).await {
                Ok(batch) if batch.is_empty() => break,
                Ok(batch) => {
                    let full = batch.len() as i64 == FOLLOW_BATCH;
                    cursor = batch.last().map_or(cursor, |s| s.seq);
                    if rows.send(batch).await.is_err() {
                        return;
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reading the journal failed; retrying");
                    break;
                }
            }
        }
        if rows.is_closed() {
            return;
        }
    }
}

struct Loop {
    replica: Replica,
    opts: NodeOptions,
    base: Instant,
    gate: Arc<SendGate>,
    status: Arc<Mutex<ClusterStatus>>,
    engine: Option<EngineHandle>,
    /// Every camera's latest journaled intent: (sequence, recording).
    cache: BTreeMap<CameraId, (u64, bool)>,
    cameras: Vec<CameraId>,
    sites: Vec<String>,
    cursor: u64,
    applied: watch::Sender<u64>,
    ops: mpsc::UnboundedSender<(OpId, LeaseOp)>,
    observer: Option<mpsc::UnboundedSender<RuntimeEvent>>,
    last_ok: Option<Nanos>,
}

impl Loop {
    fn now(&self) -> Nanos {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    async fn run(
        mut self,
        mut requests: mpsc::Receiver<EngineRequest>,
        mut replies: mpsc::UnboundedReceiver<LeaseResult>,
        mut rows: mpsc::Receiver<Vec<Sequenced>>,
        mut stale: mpsc::UnboundedReceiver<u64>,
    ) {
        tracing::info!(replica = %self.opts.replica_id, "replica started (standby)");
        let now = self.now();
        self.replica.on_timeout(now);
        loop {
            self.settle().await;
            let deadline = self
                .replica
                .next_deadline()
                .map(|d| self.base + Duration::from_nanos(d));
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = timer => {
                    let now = self.now();
                    self.replica.on_timeout(now);
                }
                Some((id, result)) = replies.recv() => {
                    let now = self.now();
                    if result.is_ok() {
                        self.last_ok = Some(now);
                    }
                    self.replica.on_reply(now, id, result);
                }
                Some(batch) = rows.recv() => self.follow(batch).await,
                Some(current) = stale.recv() => {
                    let now = self.now();
                    self.replica.on_stale_epoch(now, current);
                }
                request = requests.recv() => {
                    match request {
                        None => break,
                        Some(EngineRequest::Shutdown { answer }) => {
                            self.shutdown().await;
                            let _ = answer.send(());
                            return;
                        }
                        Some(other) => self.on_request(other),
                    }
                }
            }
        }
        self.shutdown().await;
    }

    /// Acts on role changes and lease operations, and publishes the status.
    async fn settle(&mut self) {
        self.gate.set(self.replica.send_until());
        while let Some(event) = self.replica.poll_event() {
            match event {
                LeaseEvent::BecameLeader { epoch } => self.lead(epoch).await,
                LeaseEvent::SteppedDown { epoch, reason } => {
                    self.gate.set(None);
                    tracing::warn!(epoch, reason, "stepping down: no longer leader");
                    if let Some(engine) = self.engine.take() {
                        engine.shutdown().await;
                    }
                }
            }
        }
        // A lapse noticed meanwhile closes the gate before anything else.
        self.gate.set(self.replica.send_until());
        while let Some(op) = self.replica.poll_op() {
            let _ = self.ops.send(op);
        }
        let now = self.now();
        let view = self.replica.view().clone();
        let lease = self.replica.config().lease;
        let status = ClusterStatus {
            replica: self.opts.replica_id.clone(),
            role: self.replica.role(),
            epoch: self.replica.epoch(),
            leader: view
                .holder
                .filter(|_| !view.expired || self.replica.role() == Role::Leader),
            leader_url: if self.replica.role() == Role::Leader {
                self.opts.advertise_url.clone()
            } else {
                view.holder_url
            },
            lease_age_ms: self.replica.lease_age(now).map(|a| a / MILLIS),
            journal_ok: self.last_ok.is_some_and(|t| now.saturating_sub(t) < lease),
            applied_seq: self.cursor,
        };
        if let Ok(mut s) = self.status.lock() {
            *s = status;
        }
    }

    async fn lead(&mut self, epoch: u64) {
        tracing::warn!(epoch, replica = %self.opts.replica_id, "became leader; restoring intents from the journal");
        let driver = match Driver::new(
            self.opts.mirror.clone(),
            self.opts.endpoints.clone(),
            self.opts.seed ^ epoch,
        ) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the engine");
                return;
            }
        };
        let gate = self.gate.clone();
        let mut driver = driver.send_gate(Arc::new(move || gate.is_open()));
        if let Some(obs) = &self.observer {
            driver = driver.observer(obs.clone());
        }
        let engine = driver.spawn();
        let entries: Vec<JournalEntry> = self
            .cache
            .iter()
            .map(|(camera, &(seq, recording))| JournalEntry {
                camera: camera.clone(),
                seq: IntentSeq(seq),
                recording,
            })
            .collect();
        let _ = engine.restore(entries).await;
        self.engine = Some(engine);
        let _ = self.applied.send(self.cursor);
    }

    /// Newly committed intents, in journal order.
    async fn follow(&mut self, batch: Vec<Sequenced>) {
        let Some(last) = batch.last().map(|s| s.seq) else {
            return;
        };
        if last <= self.cursor {
            return;
        }
        let fresh: Vec<Sequenced> = batch.into_iter().filter(|s| s.seq > self.cursor).collect();
        for s in &fresh {
            self.cache.insert(s.camera.clone(), (s.seq, s.recording));
        }
        if let Some(engine) = &self.engine {
            let intents = fresh.into_iter().map(|s| (s.camera, s.recording)).collect();
            // One engine step: the batch goes out as one request per recorder.
            if let Ok(results) = engine.set_intents(intents).await {
                for r in results.iter().filter_map(|r| r.as_ref().err()) {
                    tracing::warn!(camera = %r.0, "journaled intent names an unknown camera; ignored");
                }
            }
        }
        self.cursor = last;
        let _ = self.applied.send(last);
    }

    fn on_request(&mut self, request: EngineRequest) {
        if let Some(engine) = &self.engine {
            let engine = engine.clone();
            // The engine numbers intents per camera; the API shows the
            // journal's sequences (the same on every replica), and the
            // journal's latest intent, which the engine has been given.
            match request {
                EngineRequest::Status { camera, answer } => {
                    let journaled = self.cache.get(&camera).copied();
                    tokio::spawn(async move {
                        if let Ok(status) = engine.status(&camera).await {
                            let _ = answer.send(status.map(|s| with_journal_seq(s, journaled)));
                        }
                    });
                }
                EngineRequest::Statuses { answer } => {
                    let cache = self.cache.clone();
                    tokio::spawn(async move {
                        if let Ok(all) = engine.statuses().await {
                            let all = all
                                .into_iter()
                                .map(|s| {
                                    let journaled = cache.get(&s.camera).copied();
                                    with_journal_seq(s, journaled)
                                })
                                .collect();
                            let _ = answer.send(all);
                        }
                    });
                }
                other => {
                    tokio::spawn(async move { engine.forward(other).await });
                }
            }
            return;
        }
        match request {
            EngineRequest::Status { camera, answer } => {
                let _ = answer.send(self.standby_status(&camera));
            }
            EngineRequest::Statuses { answer } => {
                let all = self
                    .cameras
                    .iter()
                    .filter_map(|c| self.standby_status(c))
                    .collect();
                let _ = answer.send(all);
            }
            EngineRequest::Stats { answer } => {
                let _ = answer.send(RuntimeStats {
                    mirror: MirrorStats::default(),
                    sites_up: self.sites.iter().map(|s| (s.clone(), false)).collect(),
                    inflight: 0,
                    site_problems: Vec::new(),
                });
            }
            EngineRequest::Restore { answer, .. } => {
                let _ = answer.send(());
            }
            EngineRequest::SetIntent { camera, answer, .. } => {
                // Clicks reach a standby only through the journal.
                if !self.cameras.contains(&camera) {
                    let _ = answer.send(Err(UnknownCamera(camera)));
                }
            }
            EngineRequest::SetIntents { .. } | EngineRequest::Shutdown { .. } => {}
        }
    }

    fn standby_status(&self, camera: &CameraId) -> Option<CameraStatus> {
        if !self.cameras.contains(camera) {
            return None;
        }
        Some(CameraStatus {
            camera: camera.clone(),
            intent: self
                .cache
                .get(camera)
                .map(|&(seq, recording)| (IntentSeq(seq), recording)),
            sites: Vec::new(),
        })
    }

    async fn shutdown(&mut self) {
        let now = self.now();
        self.replica.release(now);
        self.gate.set(None);
        if let Some(engine) = self.engine.take() {
            engine.shutdown().await;
        }
        while let Some(op) = self.replica.poll_op() {
            let _ = self.ops.send(op);
        }
        tracing::info!(replica = %self.opts.replica_id, "replica stopped");
    }
}
