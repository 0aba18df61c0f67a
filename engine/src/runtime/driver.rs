//! [`Driver`]: the tokio loop that owns one [`Mirror`] and carries its
//! commands and replies.
//!
//! One task owns the engine. Time is the [`Instant`] elapsed since the
//! driver started, as [`Nanos`]. Every [`Command`] runs on its own task,
//! bounded by the policy's `request_timeout`, and its outcome comes back
//! over a channel to [`Mirror::on_reply`], so a hung site never blocks the
//! loop or another site. The loop sleeps until [`Mirror::next_deadline`]
//! (re-armed every turn) and then calls [`Mirror::on_timeout`].

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::client::{ClientError, SoapClient};
use super::config::SiteEndpoint;
use super::events::{Outcome, RequestKind, RuntimeEvent};
use super::handle::{EngineHandle, Request, RuntimeStats, SiteProblem};
use crate::core::{
    Command, IntentSeq, Mirror, MirrorConfig, Nanos, Reply, RequestId, SiteId, TransportError,
    UnknownCamera,
};

/// At most this many queued requests are taken into one step, so a flood of
/// clicks cannot starve replies and timers.
const MAX_REQUESTS_PER_STEP: usize = 10_000;

/// How often password files of sites with rejected credentials are read
/// again (a fixed password takes effect within this).
const PASSWORD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// How many handle requests may queue before callers wait.
const REQUEST_QUEUE: usize = 1024;

/// The runtime could not be set up from the given configuration.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{endpoints} site endpoints given for {sites} configured sites (expected one endpoint per site, in the same order)")]
    SiteCount { sites: usize, endpoints: usize },
    #[error("site {index} is `{spec}` in the engine configuration but `{endpoint}` in the endpoints (expected the same order)")]
    SiteName {
        index: usize,
        spec: String,
        endpoint: String,
    },
    #[error("site `{site}` has {recorders} recorders but {urls} recorder URLs (expected one URL per recorder)")]
    RecorderCount {
        site: String,
        recorders: usize,
        urls: usize,
    },
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A runtime ready to start: the engine, one [`SoapClient`] per site and an
/// optional observer.
pub struct Driver {
    mirror: Mirror,
    clients: Vec<SoapClient>,
    request_timeout: Duration,
    observer: Option<mpsc::UnboundedSender<RuntimeEvent>>,
    gate: Option<SendGate>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("mirror", &self.mirror)
            .field("clients", &self.clients)
            .field("request_timeout", &self.request_timeout)
            .field("gated", &self.gate.is_some())
            .finish()
    }
}

/// Asked as each command leaves: may it be sent? (A replica's lease right;
/// see `crate::replica`.) A closed gate fails the command as refused.
pub type SendGate = std::sync::Arc<dyn Fn() -> bool + Send + Sync>;

/// Starts an engine for `cfg` on `sites` (one endpoint per configured site,
/// same order) with jitter seed `seed`. Must be called inside a tokio
/// runtime.
pub fn spawn(
    cfg: MirrorConfig,
    sites: Vec<SiteEndpoint>,
    seed: u64,
) -> Result<EngineHandle, RuntimeError> {
    Ok(Driver::new(cfg, sites, seed)?.spawn())
}

impl Driver {
    /// Checks that `sites` match `cfg` and builds their clients.
    pub fn new(
        cfg: MirrorConfig,
        sites: Vec<SiteEndpoint>,
        seed: u64,
    ) -> Result<Self, RuntimeError> {
        if sites.len() != cfg.sites.len() {
            return Err(RuntimeError::SiteCount {
                sites: cfg.sites.len(),
                endpoints: sites.len(),
            });
        }
        for (index, (spec, endpoint)) in cfg.sites.iter().zip(&sites).enumerate() {
            if spec.name != endpoint.name {
                return Err(RuntimeError::SiteName {
                    index,
                    spec: spec.name.clone(),
                    endpoint: endpoint.name.clone(),
                });
            }
            if spec.recorders.max(1) != endpoint.recorder_urls.len() {
                return Err(RuntimeError::RecorderCount {
                    site: spec.name.clone(),
                    recorders: spec.recorders,
                    urls: endpoint.recorder_urls.len(),
                });
            }
        }
        let clients = sites
            .iter()
            .map(SoapClient::new)
            .collect::<Result<Vec<_>, _>>()?;
        let request_timeout = Duration::from_nanos(cfg.policy.request_timeout.max(1));
        Ok(Driver {
            mirror: Mirror::new(cfg, seed),
            clients,
            request_timeout,
            observer: None,
            gate: None,
        })
    }

    /// Every command checks `gate` as it leaves and is not sent when closed.
    pub fn send_gate(mut self, gate: SendGate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Reports every intent, dispatch and reply to `observer`.
    pub fn observer(mut self, observer: mpsc::UnboundedSender<RuntimeEvent>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Starts the engine task on the current tokio runtime.
    pub fn spawn(self) -> EngineHandle {
        let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
        tokio::spawn(self.run(rx));
        EngineHandle { tx }
    }

    async fn run(self, requests: mpsc::Receiver<Request>) {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let mut lp = Loop {
            start: Instant::now(),
            mirror: self.mirror,
            clients: self.clients,
            request_timeout: self.request_timeout,
            observer: self.observer,
            gate: self.gate,
            done_tx,
            tasks: JoinSet::new(),
            acks: Vec::new(),
            batch_acks: Vec::new(),
        };
        tracing::info!(sites = lp.clients.len(), "engine runtime started");
        lp.run(requests, done_rx).await;
        tracing::info!("engine runtime stopped");
    }
}

/// The outcome of one command, sent back by its task.
struct Done {
    req: RequestId,
    site: SiteId,
    result: Result<Reply, TransportError>,
}

struct Loop {
    start: Instant,
    mirror: Mirror,
    clients: Vec<SoapClient>,
    request_timeout: Duration,
    observer: Option<mpsc::UnboundedSender<RuntimeEvent>>,
    gate: Option<SendGate>,
    done_tx: mpsc::UnboundedSender<Done>,
    /// Request tasks; dropping the set on shutdown aborts them.
    tasks: JoinSet<()>,
    /// Click answers held until the step's commands are dispatched.
    acks: Vec<(IntentAnswer, Result<IntentSeq, UnknownCamera>)>,
    batch_acks: Vec<(BatchAnswer, Vec<Result<IntentSeq, UnknownCamera>>)>,
}

type BatchAnswer = oneshot::Sender<Vec<Result<IntentSeq, UnknownCamera>>>;

type IntentAnswer = oneshot::Sender<Result<IntentSeq, UnknownCamera>>;

enum Turn {
    Continue,
    Stop(Option<tokio::sync::oneshot::Sender<()>>),
}

impl Loop {
    fn now(&self) -> Nanos {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn emit(&self, event: RuntimeEvent) {
        if let Some(observer) = &self.observer {
            // A gone observer is not the engine's problem.
            let _ = observer.send(event);
        }
    }

    async fn run(
        &mut self,
        mut requests: mpsc::Receiver<Request>,
        mut done_rx: mpsc::UnboundedReceiver<Done>,
    ) {
        let mut password_check = tokio::time::interval(PASSWORD_CHECK_INTERVAL);
        password_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = loop {
            self.dispatch_all();
            while self.tasks.try_join_next().is_some() {}
            let deadline = self
                .mirror
                .next_deadline()
                .and_then(|d| self.start.checked_add(Duration::from_nanos(d)));
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = password_check.tick() => self.check_password_files(),
                done = done_rx.recv() => {
                    // `self.done_tx` keeps the channel open: never `None`.
                    if let Some(done) = done {
                        self.on_done(done);
                    }
                }
                request = requests.recv() => {
                    let Some(first) = request else {
                        // Every handle is gone.
                        break None;
                    };
                    // Requests already queued are taken in the same step, so
                    // clicks arriving together (a "record all") are batched
                    // into one request per recorder before any goes out.
                    let mut stop = None;
                    let mut next = Some(first);
                    let mut taken = 0;
                    while let Some(request) = next.take() {
                        if let Turn::Stop(answer) = self.on_request(request) {
                            stop = Some(answer);
                            break;
                        }
                        taken += 1;
                        if taken < MAX_REQUESTS_PER_STEP {
                            next = requests.try_recv().ok();
                        }
                    }
                    self.dispatch_all();
                    for (answer, result) in self.acks.drain(..) {
                        let _ = answer.send(result);
                    }
                    for (answer, results) in self.batch_acks.drain(..) {
                        let _ = answer.send(results);
                    }
                    if let Some(answer) = stop {
                        break answer;
                    }
                }
                () = timer => {
                    let now = self.now();
                    self.mirror.on_timeout(now);
                }
            }
        };
        self.tasks.abort_all();
        if let Some(answer) = stop {
            let _ = answer.send(());
        }
    }

    fn on_request(&mut self, request: Request) -> Turn {
        match request {
            Request::SetIntent {
                camera,
                recording,
                answer,
            } => {
                let now = self.now();
                let result = self.mirror.set_intent(now, &camera, recording);
                if let Ok(seq) = &result {
                    tracing::info!(%camera, recording, seq = seq.0, "intent");
                    self.emit(RuntimeEvent::Intent {
                        at: Instant::now(),
                        camera,
                        seq: *seq,
                        recording,
                    });
                }
                // Acknowledged after the step's commands went out.
                self.acks.push((answer, result));
            }
            Request::SetIntents { intents, answer } => {
                let now = self.now();
                let mut results = Vec::with_capacity(intents.len());
                for (camera, recording) in intents {
                    let result = self.mirror.set_intent(now, &camera, recording);
                    if let Ok(seq) = &result {
                        self.emit(RuntimeEvent::Intent {
                            at: Instant::now(),
                            camera,
                            seq: *seq,
                            recording,
                        });
                    }
                    results.push(result);
                }
                tracing::info!(intents = results.len(), "batch of intents");
                self.batch_acks.push((answer, results));
            }
            Request::Status { camera, answer } => {
                let _ = answer.send(self.mirror.status(&camera));
            }
            Request::Statuses { answer } => {
                let all = self
                    .mirror
                    .camera_ids()
                    .filter_map(|c| self.mirror.status(c))
                    .collect();
                let _ = answer.send(all);
            }
            Request::Restore { entries, answer } => {
                let now = self.now();
                tracing::info!(entries = entries.len(), "restoring intents");
                self.mirror.restore(now, entries);
                self.dispatch_all();
                let _ = answer.send(());
            }
            Request::Stats { answer } => {
                let _ = answer.send(RuntimeStats {
                    mirror: self.mirror.stats().clone(),
                    sites_up: self
                        .mirror
                        .sites_up()
                        .map(|(name, up)| (name.to_owned(), up))
                        .collect(),
                    inflight: self.mirror.inflight_count(),
                    site_problems: self.site_problems(),
                });
            }
            Request::Shutdown { answer } => return Turn::Stop(Some(answer)),
        }
        Turn::Continue
    }

    /// Configuration problems per site: rejected credentials, an untrusted
    /// certificate.
    fn site_problems(&self) -> Vec<SiteProblem> {
        let mut out: Vec<SiteProblem> = self
            .mirror
            .credential_problems()
            .map(|(site, message)| SiteProblem {
                site: site.to_owned(),
                kind: "credentials_rejected",
                message: message.to_owned(),
            })
            .collect();
        for (camera, site, device) in self.mirror.device_problems() {
            out.push(SiteProblem {
                site: site.to_owned(),
                kind: "unknown_device",
                message: format!(
                    "camera `{camera}`: the site refuses device {device} (non-zero ResultCode)"
                ),
            });
        }
        for c in &self.clients {
            if let Some(why) = c.tls_problem() {
                out.push(SiteProblem {
                    site: c.site().to_owned(),
                    kind: "untrusted_certificate",
                    message: why,
                });
            }
        }
        out
    }

    /// A password file fixed while the site rejects the credentials ends
    /// the long back-off at once.
    fn check_password_files(&mut self) {
        let rejected: Vec<String> = self
            .mirror
            .credential_problems()
            .map(|(site, _)| site.to_owned())
            .collect();
        if rejected.is_empty() {
            return;
        }
        let now = self.now();
        for (site, client) in self.clients.iter().enumerate() {
            if rejected.iter().any(|r| r == client.site()) && client.password_changed() {
                self.mirror.credentials_changed(now, site);
            }
        }
    }

    fn on_done(&mut self, done: Done) {
        let outcome = match &done.result {
            Ok(Reply::LoggedIn { .. }) => Outcome::LoggedIn,
            Ok(Reply::Results(results)) => {
                let ok = results.iter().filter(|r| r.ok).count();
                Outcome::Results {
                    ok,
                    failed: results.len() - ok,
                }
            }
            Ok(Reply::States(states)) => Outcome::States(states.len()),
            Ok(Reply::Fault(fault)) => Outcome::Fault {
                token_invalid: fault.token_invalid,
            },
            Ok(Reply::CredentialsRejected { .. }) => Outcome::CredentialsRejected,
            Err(e) => Outcome::Failed(e.clone()),
        };
        if let Outcome::Failed(e) = &outcome {
            let site = self.clients.get(done.site).map_or("?", |c| c.site());
            tracing::debug!(site, req = done.req.0, error = %e, "request failed");
        }
        let now = self.now();
        self.mirror.on_reply(now, done.req, done.result);
        self.emit(RuntimeEvent::Replied {
            at: Instant::now(),
            req: done.req,
            site: done.site,
            outcome,
        });
    }

    fn dispatch_all(&mut self) {
        while let Some(cmd) = self.mirror.poll_command() {
            self.dispatch(cmd);
        }
    }

    /// Runs `cmd` on its own task; its outcome comes back as a [`Done`].
    fn dispatch(&mut self, cmd: Command) {
        let req = cmd.req();
        let site = cmd.site();
        let kind = match &cmd {
            Command::Login { current_token, .. } => RequestKind::Login {
                renew: current_token.is_some(),
            },
            Command::Send {
                recorder,
                op,
                devices,
                ..
            } => RequestKind::Recorder {
                recorder: *recorder,
                op: *op,
                devices: devices.len(),
            },
        };
        let done_tx = self.done_tx.clone();
        let Some(client) = self.clients.get(site).cloned() else {
            // Driver::new checked one client per site; answer rather than panic.
            let _ = done_tx.send(Done {
                req,
                site,
                result: Err(TransportError::Malformed(format!(
                    "no endpoint configured for site {site}"
                ))),
            });
            return;
        };
        tracing::trace!(site = client.site(), req = req.0, ?kind, "dispatch");
        self.emit(RuntimeEvent::Dispatched {
            at: Instant::now(),
            req,
            site,
            kind,
        });
        let timeout = self.request_timeout;
        let gate = self.gate.clone();
        self.tasks.spawn(async move {
            // Checked at the last moment before the request leaves: a
            // replica whose lease right lapsed (even while this task was
            // queued, or the process paused) must not send.
            if gate.as_ref().is_some_and(|open| !open()) {
                tracing::debug!(
                    req = req.0,
                    "not sent: this replica's lease right has lapsed"
                );
                let _ = done_tx.send(Done {
                    req,
                    site,
                    result: Err(TransportError::Refused),
                });
                return;
            }
            let call = async {
                match &cmd {
                    Command::Login { current_token, .. } => {
                        client.login(current_token.as_deref()).await
                    }
                    Command::Send {
                        recorder,
                        op,
                        devices,
                        token,
                        ..
                    } => client.call(*recorder, *op, devices, token).await,
                }
            };
            let result = tokio::time::timeout(timeout, call)
                .await
                .unwrap_or(Err(TransportError::Timeout));
            let _ = done_tx.send(Done { req, site, result });
        });
    }
}
