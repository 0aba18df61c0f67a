//! [`SiteModel`]: one simulated XProtect site (management server plus
//! recording servers) with all protocol semantics, shared by the virtual-time
//! world and the mock HTTP/SOAP server ("one model, two fronts").
//!
//! Owns: login and token checks, per-device Start/Stop/IsManualRecording
//! outcomes (unknown devices answer a non-zero result code, not a fault),
//! SequencesGet answers, and site-wide crash/boot/restart. Fronts own the
//! transport (XML, HTTP, latency, refused connections): this module does no
//! I/O, reads no clock and uses no randomness.

use rustc_hash::FxHashMap;

use engine::core::{
    DeviceId, DeviceResult, DeviceSettings, DeviceState, RecorderOp, Reply, SoapFault,
};

use super::accounts::{Accounts, LoginRefused};
use super::config::SiteConfig;
use super::deadlines::DeadlineIndex;
use super::recorder::Recorder;
use super::tokens::{TokenError, TokenTable};
use crate::intervals::{IntervalSet, Nanos, Span};

/// `ResultCode` of a successful `ManualRecordingResult`.
pub const RESULT_OK: i32 = 0;
/// `ResultCode` for a device the recorder does not know.
pub const RESULT_UNKNOWN_DEVICE: i32 = 1;

/// One device's outcome of a recorder call, with what the SOAP front needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOutcome {
    pub device: DeviceId,
    /// `ManualRecordingResult/ResultCode` (0 = success).
    pub code: i32,
    /// `ManualRecordingResult/Message` (`OK`, or what was wrong).
    pub message: String,
    /// Manual-recording state after the call (`IsManualRecording`); `false`
    /// for unknown devices.
    pub recording: bool,
}

impl DeviceOutcome {
    pub fn ok(&self) -> bool {
        self.code == RESULT_OK
    }
}

/// Why a recorder call was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Token check failed: a SOAP fault with `ErrorNumber` 40000.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The recording server is dead; a front refuses the connection.
    #[error("recording server {0} is not running")]
    RecorderDown(usize),
    /// No such recording server in this site.
    #[error("no recording server {index}: the site has {count} (expected 0..{count})")]
    UnknownRecorder { index: usize, count: usize },
    /// `SequencesGet` for a device this recorder does not have.
    #[error("unknown device {0} on this recording server")]
    UnknownDevice(DeviceId),
}

/// One XProtect site.
#[derive(Debug, Clone)]
pub struct SiteModel {
    cfg: SiteConfig,
    recorders: Vec<Recorder>,
    tokens: TokenTable,
    accounts: Accounts,
    /// device → (recorder, device index); the first placement wins.
    /// (FxHash: see `Recorder`'s index.)
    locate: FxHashMap<DeviceId, (usize, usize)>,
    /// Each recorder's next auto-stop, for [`SiteModel::next_deadline`].
    deadlines: DeadlineIndex,
    alive: bool,
}

impl SiteModel {
    /// A running site; `recorders[i]` lists the devices of recording server `i`.
    pub fn new(cfg: SiteConfig, recorders: Vec<Vec<DeviceId>>, now: Nanos) -> Self {
        let recorders: Vec<Recorder> = recorders
            .into_iter()
            .map(|devs| Recorder::new(cfg.recorder, devs, now))
            .collect();
        let mut locate = FxHashMap::default();
        for (r, rec) in recorders.iter().enumerate() {
            for (i, d) in rec.devices().iter().enumerate() {
                locate.entry(d.clone()).or_insert((r, i));
            }
        }
        SiteModel {
            deadlines: DeadlineIndex::new(&recorders),
            tokens: TokenTable::new(cfg.name.clone()),
            accounts: Accounts::new(
                &cfg.username,
                &cfg.password,
                cfg.lockout,
                cfg.access_token_ttl,
            ),
            cfg,
            recorders,
            locate,
            alive: true,
        }
    }

    pub fn config(&self) -> &SiteConfig {
        &self.cfg
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Whether the site (its management server) is up. Fronts refuse
    /// connections to a site that is down; [`SiteModel::login`] does not check.
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// `Login`: renews `current_token` if it is still valid, else issues a
    /// new token. Returns the token and its `TimeToLive`.
    pub fn login(&mut self, now: Nanos, current_token: Option<&str>) -> (String, Nanos) {
        let ttl = self.cfg.token_ttl;
        match current_token.filter(|t| !t.trim().is_empty()) {
            Some(t) => self.tokens.renew(now, t, ttl),
            None => self.tokens.issue(now, ttl),
        }
    }

    /// A login with a password (HTTP Basic on Login, the identity
    /// provider's password grant); counts toward account lockout.
    pub fn check_credentials(
        &mut self,
        now: Nanos,
        user: &str,
        pass: &str,
    ) -> Result<(), LoginRefused> {
        self.accounts.login(now, user, pass)
    }

    /// The site's accounts: lockout state, bearer tokens, and the password
    /// an NTLM verifier needs.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub fn accounts_mut(&mut self) -> &mut Accounts {
        &mut self.accounts
    }

    /// The token check every recorder operation performs.
    pub fn check_token(&self, now: Nanos, token: &str) -> Result<(), TokenError> {
        self.tokens.check(now, token)
    }

    pub fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// Every token of the site becomes invalid (`token_expiry` fault).
    pub fn invalidate_tokens(&mut self) {
        self.tokens.invalidate_all();
    }

    pub fn recorders(&self) -> &[Recorder] {
        &self.recorders
    }

    pub fn recorder(&self, i: usize) -> Option<&Recorder> {
        self.recorders.get(i)
    }

    /// A recording server to change directly. The site's deadline index
    /// cannot see what is done with it, so it is rebuilt on the next call
    /// (prefer the site's own methods on a hot path).
    pub fn recorder_mut(&mut self, i: usize) -> Option<&mut Recorder> {
        self.deadlines.mark_stale();
        self.recorders.get_mut(i)
    }

    /// Brings the deadline index up to date before a change.
    fn fresh(&mut self) {
        self.deadlines.rebuild_if_stale(&self.recorders);
    }

    /// Gives a device its own auto-stop limit and pre-buffer (from its next
    /// Start on). Returns `false` for a device the site does not have.
    pub fn set_device_settings(&mut self, d: &DeviceId, settings: DeviceSettings) -> bool {
        let Some((r, i)) = self.locate(d) else {
            return false;
        };
        self.recorders[r].set_device_settings(i, settings);
        true
    }

    /// Where a device lives: `(recorder, device index)`.
    pub fn locate(&self, d: &DeviceId) -> Option<(usize, usize)> {
        self.locate.get(d).copied()
    }

    /// Recorder `recorder`, its due auto-stops applied, if it runs. The
    /// caller refreshes its deadline entry after using it.
    fn live_recorder(&mut self, now: Nanos, recorder: usize) -> Result<&mut Recorder, CallError> {
        self.fresh();
        let count = self.recorders.len();
        let rec = self
            .recorders
            .get_mut(recorder)
            .ok_or(CallError::UnknownRecorder {
                index: recorder,
                count,
            })?;
        rec.on_timeout(now);
        self.deadlines.refresh(recorder, rec);
        if !rec.is_alive() {
            return Err(CallError::RecorderDown(recorder));
        }
        Ok(rec)
    }

    /// Validates the call, then applies `op` to each device in order.
    /// `f(device, index on the recorder if known, recording after the op)`.
    fn apply(
        &mut self,
        now: Nanos,
        recorder: usize,
        op: RecorderOp,
        token: &str,
        devices: &[DeviceId],
        mut f: impl FnMut(&DeviceId, Option<usize>, bool),
    ) -> Result<(), CallError> {
        // Check the token before touching the recorder (no state change on a
        // fault), but after the recorder is known to be there.
        let count = self.recorders.len();
        if recorder >= count {
            return Err(CallError::UnknownRecorder {
                index: recorder,
                count,
            });
        }
        self.tokens.check(now, token)?;
        let rec = self.live_recorder(now, recorder)?;
        // Requests list devices in the recorder's own order (the engine's
        // camera order), so each one after the first is looked for just past
        // the previous; the first may be anywhere.
        let mut next = None;
        for d in devices {
            let idx = match next {
                None => rec.device_index(d),
                Some(next) => rec.device_index_near(d, next),
            };
            if let Some(i) = idx {
                next = Some(i + 1);
                match op {
                    RecorderOp::Start => {
                        rec.start(now, i);
                    }
                    RecorderOp::Stop => {
                        rec.stop(now, i);
                    }
                    RecorderOp::Probe => {}
                }
            }
            f(d, idx, idx.is_some_and(|i| rec.is_recording(i)));
        }
        if op != RecorderOp::Probe {
            self.deadlines.refresh(recorder, &self.recorders[recorder]);
        }
        Ok(())
    }

    /// A recorder call with per-device result codes and messages.
    pub fn call_detailed(
        &mut self,
        now: Nanos,
        recorder: usize,
        op: RecorderOp,
        token: &str,
        devices: &[DeviceId],
    ) -> Result<Vec<DeviceOutcome>, CallError> {
        let mut out = Vec::with_capacity(devices.len());
        self.apply(now, recorder, op, token, devices, |d, idx, recording| {
            let (code, message) = match idx {
                Some(_) => (RESULT_OK, "OK".to_owned()),
                None => (RESULT_UNKNOWN_DEVICE, format!("Unknown device {d}")),
            };
            out.push(DeviceOutcome {
                device: d.clone(),
                code,
                message,
                recording,
            });
        })?;
        Ok(out)
    }

    /// A recorder call as the engine sees its reply: `Results` for
    /// Start/Stop (unknown device → `ok = false`), `States` for Probe
    /// (unknown device → `recording = false`), `Fault` otherwise
    /// (`token_invalid` for token errors; no state change).
    pub fn call(
        &mut self,
        now: Nanos,
        recorder: usize,
        op: RecorderOp,
        token: &str,
        devices: &[DeviceId],
    ) -> Reply {
        let (mut results, mut states) = match op {
            RecorderOp::Probe => (Vec::new(), Vec::with_capacity(devices.len())),
            RecorderOp::Start | RecorderOp::Stop => (Vec::with_capacity(devices.len()), Vec::new()),
        };
        let res = self.apply(
            now,
            recorder,
            op,
            token,
            devices,
            |d, idx, recording| match op {
                RecorderOp::Probe => states.push(DeviceState {
                    device: d.clone(),
                    recording,
                }),
                RecorderOp::Start | RecorderOp::Stop => results.push(DeviceResult {
                    device: d.clone(),
                    ok: idx.is_some(),
                }),
            },
        );
        match res {
            Err(e) => Reply::Fault(SoapFault {
                token_invalid: matches!(e, CallError::Token(_)),
                message: e.to_string(),
            }),
            Ok(()) if op == RecorderOp::Probe => Reply::States(states),
            Ok(()) => Reply::Results(results),
        }
    }

    /// `SequencesGet` on one recorder: footage of `device` clipped to
    /// `[min, max)`, at most `max_count` spans.
    #[allow(clippy::too_many_arguments)]
    pub fn sequences_get(
        &mut self,
        now: Nanos,
        recorder: usize,
        token: &str,
        device: &DeviceId,
        min: Nanos,
        max: Nanos,
        max_count: usize,
    ) -> Result<Vec<Span>, CallError> {
        let count = self.recorders.len();
        if recorder >= count {
            return Err(CallError::UnknownRecorder {
                index: recorder,
                count,
            });
        }
        self.tokens.check(now, token)?;
        let rec = self.live_recorder(now, recorder)?;
        let i = rec
            .device_index(device)
            .ok_or_else(|| CallError::UnknownDevice(device.clone()))?;
        Ok(rec.sequences(i, min, max, max_count, now))
    }

    /// Earliest pending auto-stop over all recorders.
    /// O(log recorders): read from the deadline index.
    pub fn next_deadline(&self) -> Option<Nanos> {
        self.deadlines.next(&self.recorders)
    }

    /// Applies every auto-stop due by `now`, visiting only the recorders
    /// that have one due.
    pub fn on_timeout(&mut self, now: Nanos) {
        self.fresh();
        while let Some(r) = self.deadlines.first_due(now) {
            self.recorders[r].on_timeout(now);
            self.deadlines.refresh(r, &self.recorders[r]);
        }
    }

    /// Applies `f` to every recorder, then refreshes the deadline index.
    fn each_recorder(&mut self, f: impl Fn(&mut Recorder)) {
        self.fresh();
        for (r, rec) in self.recorders.iter_mut().enumerate() {
            f(rec);
            self.deadlines.refresh(r, rec);
        }
    }

    /// The whole site goes down: recorders crash, tokens are invalidated.
    pub fn crash(&mut self, now: Nanos) {
        self.each_recorder(|r| r.crash(now));
        self.tokens.invalidate_all();
        self.alive = false;
    }

    /// The site comes back: recorders run again, nothing recording.
    pub fn boot(&mut self, now: Nanos) {
        self.each_recorder(|r| r.boot(now));
        self.alive = true;
    }

    /// Recording servers restart with no downtime: manual state and
    /// pre-buffers are lost, tokens stay valid.
    pub fn restart_recorders(&mut self, now: Nanos) {
        self.each_recorder(|r| r.restart(now));
    }

    /// Every recording server dies (the management server stays up):
    /// manual recordings end at `now` and are forgotten.
    pub fn crash_recorders(&mut self, now: Nanos) {
        self.each_recorder(|r| r.crash(now));
    }

    /// Every recording server runs again, nothing recording.
    pub fn boot_recorders(&mut self, now: Nanos) {
        self.each_recorder(|r| r.boot(now));
    }

    /// Camera stream of `device` lost or back; `false` if the device is unknown.
    pub fn set_stream_lost(&mut self, now: Nanos, device: &DeviceId, lost: bool) -> bool {
        match self.locate(device) {
            Some((r, i)) => {
                self.fresh();
                self.recorders[r].set_stream_lost(now, i, lost);
                self.deadlines.refresh(r, &self.recorders[r]);
                true
            }
            None => false,
        }
    }

    /// Ground-truth manual-recording intervals of a device, up to `until`.
    pub fn manual_intervals(&self, device: &DeviceId, until: Nanos) -> Option<IntervalSet> {
        let (r, i) = self.locate(device)?;
        Some(self.recorders[r].manual_intervals(i, until))
    }

    /// Ground-truth footage of a device, up to `until`.
    pub fn footage(&self, device: &DeviceId, until: Nanos) -> Option<IntervalSet> {
        let (r, i) = self.locate(device)?;
        Some(self.recorders[r].footage(i, until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::core::SECS;

    fn ids(v: &[&str]) -> Vec<DeviceId> {
        v.iter().copied().map(DeviceId::new).collect()
    }

    fn site() -> SiteModel {
        let mut cfg = SiteConfig::new("primary", "admin", "pw");
        cfg.token_ttl = 100 * SECS;
        SiteModel::new(cfg, vec![ids(&["a", "b"]), ids(&["c"])], 0)
    }

    #[test]
    fn credentials() {
        let mut s = site();
        assert!(s.check_credentials(0, "admin", "pw").is_ok());
        assert!(s.check_credentials(0, "admin", "pw2").is_err());
        assert!(s.check_credentials(0, "admin", "p").is_err());
        // Account names are case-insensitive, as Windows and XProtect have them.
        assert!(s.check_credentials(0, "Admin", "pw").is_ok());
        assert!(s.check_credentials(0, "CORP\\admin", "pw").is_ok());
        assert!(s.check_credentials(0, "other", "pw").is_err());
        assert!(s.check_credentials(0, "", "").is_err());
    }

    #[test]
    fn locate_devices() {
        let s = site();
        assert_eq!(s.locate(&DeviceId::new("b")), Some((0, 1)));
        assert_eq!(s.locate(&DeviceId::new("c")), Some((1, 0)));
        assert_eq!(s.locate(&DeviceId::new("z")), None);
    }

    #[test]
    fn start_probe_stop_through_call() {
        let mut s = site();
        let (tok, ttl) = s.login(0, None);
        assert_eq!(ttl, 100 * SECS);
        let r = s.call(SECS, 0, RecorderOp::Start, &tok, &ids(&["a", "zz"]));
        assert_eq!(
            r,
            Reply::Results(vec![
                DeviceResult {
                    device: DeviceId::new("a"),
                    ok: true
                },
                DeviceResult {
                    device: DeviceId::new("zz"),
                    ok: false
                },
            ])
        );
        let r = s.call(
            2 * SECS,
            0,
            RecorderOp::Probe,
            &tok,
            &ids(&["a", "b", "zz"]),
        );
        assert_eq!(
            r,
            Reply::States(vec![
                DeviceState {
                    device: DeviceId::new("a"),
                    recording: true
                },
                DeviceState {
                    device: DeviceId::new("b"),
                    recording: false
                },
                DeviceState {
                    device: DeviceId::new("zz"),
                    recording: false
                },
            ])
        );
        // "c" lives on recorder 1, not 0.
        let r = s.call(3 * SECS, 0, RecorderOp::Start, &tok, &ids(&["c"]));
        assert_eq!(
            r,
            Reply::Results(vec![DeviceResult {
                device: DeviceId::new("c"),
                ok: false
            }])
        );
        let r = s.call(4 * SECS, 0, RecorderOp::Stop, &tok, &ids(&["a"]));
        assert_eq!(
            r,
            Reply::Results(vec![DeviceResult {
                device: DeviceId::new("a"),
                ok: true
            }])
        );
        assert_eq!(
            s.manual_intervals(&DeviceId::new("a"), 10 * SECS)
                .map(|m| m.spans().to_vec()),
            Some(vec![Span::new(SECS, 4 * SECS)])
        );
    }

    #[test]
    fn unknown_device_gets_non_zero_code_and_message() {
        let mut s = site();
        let (tok, _) = s.login(0, None);
        let out = s
            .call_detailed(0, 0, RecorderOp::Start, &tok, &ids(&["a", "nope"]))
            .unwrap_or_default();
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].code, out[0].message.as_str(), out[0].recording),
            (0, "OK", true)
        );
        assert!(out[0].ok());
        assert_ne!(out[1].code, RESULT_OK);
        assert_eq!(out[1].message, "Unknown device nope");
        assert!(!out[1].recording);
    }

    #[test]
    fn bad_tokens_fault_without_state_change() {
        let mut s = site();
        let r = s.call(0, 0, RecorderOp::Start, "", &ids(&["a"]));
        assert!(matches!(
            r,
            Reply::Fault(SoapFault {
                token_invalid: true,
                ..
            })
        ));
        assert_eq!(
            s.call_detailed(0, 0, RecorderOp::Start, "", &ids(&["a"])),
            Err(CallError::Token(TokenError::Missing))
        );
        assert_eq!(
            s.call_detailed(0, 0, RecorderOp::Start, "TOKEN#x#", &ids(&["a"])),
            Err(CallError::Token(TokenError::Invalid))
        );
        assert!(!s.recorders()[0].is_recording(0));
        let (tok, _) = s.login(0, None);
        // Expires at ttl.
        assert_eq!(
            s.call_detailed(100 * SECS, 0, RecorderOp::Start, &tok, &ids(&["a"])),
            Err(CallError::Token(TokenError::Invalid))
        );
        assert!(!s.recorders()[0].is_recording(0));
    }

    #[test]
    fn login_renews_current_token() {
        let mut s = site();
        let (t1, _) = s.login(0, None);
        let (t2, _) = s.login(90 * SECS, Some(&t1));
        assert_eq!(t1, t2);
        assert_eq!(s.check_token(150 * SECS, &t1), Ok(()));
        let (t3, _) = s.login(150 * SECS, Some(""));
        assert_ne!(t3, t1);
    }

    #[test]
    fn invalidate_tokens() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        s.invalidate_tokens();
        assert_eq!(s.check_token(0, &t), Err(TokenError::Invalid));
    }

    #[test]
    fn crash_invalidates_tokens_and_boot_records_nothing() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        s.call(SECS, 0, RecorderOp::Start, &t, &ids(&["a"]));
        s.call(SECS, 1, RecorderOp::Start, &t, &ids(&["c"]));
        assert_eq!(s.next_deadline(), Some(SECS + 300 * SECS));
        s.crash(10 * SECS);
        assert!(!s.is_alive());
        assert_eq!(s.next_deadline(), None);
        assert_eq!(s.check_token(10 * SECS, &t), Err(TokenError::Invalid));
        let (t2, _) = s.login(11 * SECS, None);
        assert_eq!(
            s.call_detailed(11 * SECS, 0, RecorderOp::Probe, &t2, &ids(&["a"])),
            Err(CallError::RecorderDown(0))
        );
        s.boot(20 * SECS);
        assert!(s.is_alive());
        let r = s.call(21 * SECS, 0, RecorderOp::Probe, &t2, &ids(&["a"]));
        assert_eq!(
            r,
            Reply::States(vec![DeviceState {
                device: DeviceId::new("a"),
                recording: false
            }])
        );
        assert_eq!(
            s.footage(&DeviceId::new("c"), 30 * SECS)
                .map(|f| f.spans().to_vec()),
            Some(vec![Span::new(0, 10 * SECS)])
        );
    }

    #[test]
    fn restart_recorders_keeps_tokens() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        s.call(SECS, 0, RecorderOp::Start, &t, &ids(&["a", "b"]));
        s.restart_recorders(5 * SECS);
        assert!(s.recorders().iter().all(Recorder::is_alive));
        assert_eq!(s.check_token(5 * SECS, &t), Ok(()));
        let r = s.call(6 * SECS, 0, RecorderOp::Probe, &t, &ids(&["a", "b"]));
        assert_eq!(
            r,
            Reply::States(vec![
                DeviceState {
                    device: DeviceId::new("a"),
                    recording: false
                },
                DeviceState {
                    device: DeviceId::new("b"),
                    recording: false
                },
            ])
        );
    }

    #[test]
    fn site_auto_stop_and_deadline() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        s.call(10 * SECS, 1, RecorderOp::Start, &t, &ids(&["c"]));
        s.call(20 * SECS, 0, RecorderOp::Start, &t, &ids(&["a"]));
        assert_eq!(s.next_deadline(), Some(310 * SECS));
        s.on_timeout(310 * SECS);
        assert_eq!(s.next_deadline(), Some(320 * SECS));
        // A probe after the deadline sees the auto-stop even without on_timeout.
        let (t, _) = s.login(329 * SECS, None); // the first token expired at 100 s
        let r = s.call(330 * SECS, 0, RecorderOp::Probe, &t, &ids(&["a"]));
        assert_eq!(
            r,
            Reply::States(vec![DeviceState {
                device: DeviceId::new("a"),
                recording: false
            }])
        );
    }

    #[test]
    fn unknown_recorder_and_sequences() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        assert_eq!(
            s.call_detailed(0, 5, RecorderOp::Probe, &t, &[]),
            Err(CallError::UnknownRecorder { index: 5, count: 2 })
        );
        assert!(matches!(
            s.call(0, 5, RecorderOp::Probe, &t, &[]),
            Reply::Fault(SoapFault {
                token_invalid: false,
                ..
            })
        ));
        s.call(10 * SECS, 0, RecorderOp::Start, &t, &ids(&["a"]));
        s.call(20 * SECS, 0, RecorderOp::Stop, &t, &ids(&["a"]));
        assert_eq!(
            s.sequences_get(30 * SECS, 0, &t, &DeviceId::new("a"), 0, 100 * SECS, 10),
            Ok(vec![Span::new(7 * SECS, 20 * SECS)])
        );
        assert_eq!(
            s.sequences_get(30 * SECS, 0, &t, &DeviceId::new("c"), 0, 100 * SECS, 10),
            Err(CallError::UnknownDevice(DeviceId::new("c")))
        );
        assert_eq!(
            s.sequences_get(30 * SECS, 0, "", &DeviceId::new("a"), 0, 100 * SECS, 10),
            Err(CallError::Token(TokenError::Missing))
        );
    }

    #[test]
    fn stream_loss_via_site() {
        let mut s = site();
        let (t, _) = s.login(0, None);
        s.call(10 * SECS, 0, RecorderOp::Start, &t, &ids(&["a"]));
        assert!(s.set_stream_lost(12 * SECS, &DeviceId::new("a"), true));
        assert!(!s.set_stream_lost(12 * SECS, &DeviceId::new("nope"), true));
        let r = s.call(13 * SECS, 0, RecorderOp::Probe, &t, &ids(&["a"]));
        assert_eq!(
            r,
            Reply::States(vec![DeviceState {
                device: DeviceId::new("a"),
                recording: true
            }])
        );
        assert_eq!(
            s.footage(&DeviceId::new("a"), 20 * SECS)
                .map(|f| f.spans().to_vec()),
            Some(vec![Span::new(7 * SECS, 12 * SECS)])
        );
    }
}
