//! Property tests of [`super::Recorder`] against a naive pointwise reference
//! model over random operation sequences. Test-only; no I/O, no clock.

use engine::core::DeviceId;
use proptest::prelude::*;

use super::{Recorder, RecorderConfig};
use crate::intervals::{IntervalSet, Nanos, Span};

const DEVICES: usize = 3;

#[derive(Debug, Clone, Copy)]
enum Op {
    Start(usize),
    Stop(usize),
    Crash,
    Boot,
    Restart,
    Lost(usize, bool),
    Timeout,
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..DEVICES).prop_map(Op::Start),
        3 => (0..DEVICES).prop_map(Op::Stop),
        1 => Just(Op::Crash),
        1 => Just(Op::Boot),
        1 => Just(Op::Restart),
        3 => (0..DEVICES, any::<bool>()).prop_map(|(d, l)| Op::Lost(d, l)),
        2 => Just(Op::Timeout),
    ]
}

fn arb_cfg() -> impl Strategy<Value = RecorderConfig> {
    (prop::option::of(1u64..25), 0u64..9, any::<bool>()).prop_map(|(max, pb, ext)| RecorderConfig {
        manual_recording_max: max,
        prebuffer: pb,
        start_extends_timer: ext,
    })
}

/// Naive model: explicit event lists, linear scans, pointwise footage.
#[derive(Default)]
struct Reference {
    /// Number of operations applied: orders events that share a time.
    seq: usize,
    /// per device: closed `(start, end, seq of the start)` and the open
    /// `(start, deadline, seq of the start)`
    closed: Vec<Vec<(Nanos, Nanos, usize)>>,
    open: Vec<Option<(Nanos, Option<Nanos>, usize)>>,
    alive: bool,
    /// `(time, seq)` of every boot
    boots: Vec<(Nanos, usize)>,
    /// per device: closed losses, ongoing loss start, `(time, seq)` of
    /// every stream return
    losses: Vec<Vec<(Nanos, Nanos)>>,
    lost_since: Vec<Option<Nanos>>,
    loss_ends: Vec<Vec<(Nanos, usize)>>,
}

impl Reference {
    fn new() -> Self {
        Reference {
            seq: 0,
            closed: vec![Vec::new(); DEVICES],
            open: vec![None; DEVICES],
            alive: true,
            boots: vec![(0, 0)],
            losses: vec![Vec::new(); DEVICES],
            lost_since: vec![None; DEVICES],
            loss_ends: vec![Vec::new(); DEVICES],
        }
    }

    fn close(&mut self, d: usize, at: Nanos) {
        if let Some((s, _, seq)) = self.open[d].take() {
            if at > s {
                self.closed[d].push((s, at, seq));
            }
        }
    }

    fn due(&mut self, now: Nanos) {
        for d in 0..DEVICES {
            if let Some((_, Some(dl), _)) = self.open[d] {
                if dl <= now {
                    self.close(d, dl);
                }
            }
        }
    }

    fn apply(&mut self, cfg: &RecorderConfig, now: Nanos, op: Op) {
        self.due(now);
        self.seq += 1;
        let seq = self.seq;
        let deadline = cfg.manual_recording_max.map(|m| now + m);
        match op {
            Op::Start(d) if self.alive => match &mut self.open[d] {
                Some((_, dl, _)) => {
                    if cfg.start_extends_timer {
                        *dl = deadline;
                    }
                }
                None => self.open[d] = Some((now, deadline, seq)),
            },
            Op::Start(_) => {}
            Op::Stop(d) => self.close(d, now),
            Op::Crash | Op::Restart if self.alive => {
                for d in 0..DEVICES {
                    self.close(d, now);
                }
                self.alive = false;
                if matches!(op, Op::Restart) {
                    self.alive = true;
                    self.boots.push((now, seq));
                }
            }
            Op::Crash | Op::Restart => {}
            Op::Boot => {
                if !self.alive {
                    self.alive = true;
                    self.boots.push((now, seq));
                }
            }
            Op::Lost(d, true) => {
                if self.lost_since[d].is_none() {
                    self.lost_since[d] = Some(now);
                }
            }
            Op::Lost(d, false) => {
                if let Some(s) = self.lost_since[d].take() {
                    self.losses[d].push((s, now));
                    self.loss_ends[d].push((now, seq));
                }
            }
            Op::Timeout => {}
        }
    }

    /// Manual recordings `(start, end, seq of the start)` clipped at `until`.
    fn manual(&self, d: usize, until: Nanos) -> Vec<(Nanos, Nanos, usize)> {
        let mut v: Vec<(Nanos, Nanos, usize)> = self.closed[d]
            .iter()
            .map(|&(s, e, q)| (s, e.min(until), q))
            .collect();
        if let Some((s, dl, q)) = self.open[d] {
            v.push((s, dl.map_or(until, |x| x.min(until)), q));
        }
        v.retain(|&(s, e, _)| e > s);
        v
    }

    fn lost_at(&self, d: usize, t: Nanos) -> bool {
        self.losses[d].iter().any(|&(a, b)| a <= t && t < b)
            || self.lost_since[d].is_some_and(|s| s <= t)
    }

    /// Pointwise: `[t, t+1)` is footage iff some manual recording `[s, e)`
    /// has `t` in `[s - pb, e)`, the stream is not lost at `t`, and no boot
    /// or stream return later than `t` happened before that Start (the
    /// pre-buffer holds only video received since then). "Before" is in
    /// operation order, which matters for events sharing a time.
    fn footage_at(&self, cfg: &RecorderConfig, d: usize, t: Nanos, until: Nanos) -> bool {
        if self.lost_at(d, t) {
            return false;
        }
        self.manual(d, until).iter().any(|&(s, e, q)| {
            t + cfg.prebuffer >= s
                && t < e
                && !self.boots.iter().any(|&(b, bq)| t < b && bq < q)
                && !self.loss_ends[d].iter().any(|&(r, rq)| t < r && rq < q)
        })
    }
}

fn pointwise(until: Nanos, f: impl Fn(Nanos) -> bool) -> IntervalSet {
    IntervalSet::from_spans((0..until).filter(|&t| f(t)).map(|t| Span::new(t, t + 1)))
}

fn devices() -> Vec<DeviceId> {
    (0..DEVICES)
        .map(|i| DeviceId::new(format!("dev-{i}")))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn recorder_matches_reference_and_invariants(
        cfg in arb_cfg(),
        ops in prop::collection::vec((0u64..5, arb_op()), 0..60),
    ) {
        let mut r = Recorder::new(cfg, devices(), 0);
        let mut m = Reference::new();
        let mut now = 0;
        for (dt, op) in ops {
            now += dt;
            match op {
                Op::Start(d) => { r.start(now, d); }
                Op::Stop(d) => { r.stop(now, d); }
                Op::Crash => r.crash(now),
                Op::Boot => r.boot(now),
                Op::Restart => r.restart(now),
                Op::Lost(d, l) => r.set_stream_lost(now, d, l),
                Op::Timeout => r.on_timeout(now),
            }
            m.apply(&cfg, now, op);
            prop_assert_eq!(r.is_alive(), m.alive);

            // next_deadline is the true minimum, over the model's own
            // per-device deadlines and over the reference.
            let own = (0..DEVICES).filter_map(|d| r.deadline(d)).min();
            let reference = (0..DEVICES)
                .filter_map(|d| m.open[d].and_then(|(_, dl, _)| dl))
                .min();
            prop_assert_eq!(r.next_deadline(), own);
            prop_assert_eq!(r.next_deadline(), reference);
            if let Some(dl) = r.next_deadline() {
                prop_assert!(dl > now, "a due deadline was not applied");
            }

            for d in 0..DEVICES {
                // is_recording agrees with the interval log and the reference.
                let log = r.manual_log(d);
                let open = log.iter().filter(|i| i.end.is_none()).count();
                prop_assert!(open <= 1);
                prop_assert_eq!(r.is_recording(d), log.last().is_some_and(|i| i.end.is_none()));
                prop_assert_eq!(r.is_recording(d), m.open[d].is_some());
                prop_assert_eq!(r.is_recording(d), r.manual_intervals(d, now + 1).contains(now));
                let limited = cfg.manual_recording_max.is_some();
                prop_assert_eq!(r.deadline(d).is_some(), r.is_recording(d) && limited);
                for w in log.windows(2) {
                    prop_assert!(w[0].end.is_some_and(|e| e <= w[1].start));
                }
                for i in &log {
                    prop_assert!(i.end.is_none_or(|e| e > i.start));
                    prop_assert!(i.footage_start <= i.start);
                }

                let until = now + 1;
                let footage = r.footage(d, until);
                // footage ⊆ manual intervals each extended back by the pre-buffer
                let extended = IntervalSet::from_spans(log.iter().map(|i| {
                    let e = i.end.unwrap_or(until).min(until);
                    Span::new(i.start.saturating_sub(cfg.prebuffer), e)
                }));
                prop_assert!(footage.subtract(&extended).is_empty());
                // footage ∩ stream loss = ∅
                prop_assert!(footage.intersect(&r.stream_losses(d, until)).is_empty());
            }
        }

        // Exact agreement with the reference, including pending deadlines
        // that nobody applied yet.
        let until = now + 30;
        for d in 0..DEVICES {
            let manual = IntervalSet::from_spans(
                m.manual(d, until).into_iter().map(|(s, e, _)| Span::new(s, e)),
            );
            prop_assert_eq!(r.manual_intervals(d, until), manual);
            let expected = pointwise(until, |t| m.footage_at(&cfg, d, t, until));
            prop_assert_eq!(r.footage(d, until), expected);
            let seq = r.sequences(d, 2, until - 2, 2, until);
            let clipped = r.footage(d, until).clip(2, until - 2);
            prop_assert_eq!(seq.as_slice(), &clipped.spans()[..clipped.spans().len().min(2)]);
        }
    }
}
