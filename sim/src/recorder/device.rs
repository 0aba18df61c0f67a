//! Per-device state of one simulated recording server: its manual-recording
//! intervals (with the footage start fixed when each began) and the camera
//! stream's loss intervals. Footage is derived from these at query time with
//! exact interval arithmetic.
//!
//! Crate-private bookkeeping driven by [`super::Recorder`]; no I/O, no clock.

use crate::intervals::{IntervalSet, Nanos, Span};

/// One manual recording on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManualInterval {
    /// When the Start took effect.
    pub start: Nanos,
    /// When it ended (Stop, auto-stop, crash); `None` while it lasts.
    pub end: Option<Nanos>,
    /// Where its footage begins: `start` minus the pre-buffer, but never
    /// before the recorder booted or the stream last came back.
    pub footage_start: Nanos,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Device {
    /// Time-ordered, disjoint; only the last one may be open.
    intervals: Vec<ManualInterval>,
    /// Auto-stop deadline of the open interval.
    deadline: Option<Nanos>,
    /// Closed stream-loss spans, time-ordered.
    losses: Vec<Span>,
    /// Start of the ongoing stream loss.
    lost_since: Option<Nanos>,
    /// End of the latest stream loss (the stream is live since then).
    last_loss_end: Option<Nanos>,
}

impl Device {
    pub(crate) fn is_recording(&self) -> bool {
        self.intervals.last().is_some_and(|i| i.end.is_none())
    }

    pub(crate) fn deadline(&self) -> Option<Nanos> {
        self.deadline
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Nanos>) {
        self.deadline = deadline;
    }

    pub(crate) fn intervals(&self) -> &[ManualInterval] {
        &self.intervals
    }

    pub(crate) fn is_stream_lost(&self) -> bool {
        self.lost_since.is_some()
    }

    /// Since when the stream has been continuously delivered (ignoring an
    /// ongoing loss, whose time is subtracted from footage anyway).
    pub(crate) fn stream_live_since(&self) -> Nanos {
        self.last_loss_end.unwrap_or(0)
    }

    /// Starts a manual recording; the caller checked it is not recording.
    pub(crate) fn begin(&mut self, start: Nanos, footage_start: Nanos, deadline: Option<Nanos>) {
        debug_assert!(!self.is_recording(), "begin on a recording device");
        self.intervals.push(ManualInterval {
            start,
            end: None,
            footage_start,
        });
        self.deadline = deadline;
    }

    /// Ends the open manual recording at `at`; returns whether one was open.
    pub(crate) fn end(&mut self, at: Nanos) -> bool {
        match self.intervals.last_mut() {
            Some(last) if last.end.is_none() => {
                if at <= last.start {
                    // Zero-length: nothing was recorded, not even the pre-buffer.
                    self.intervals.pop();
                } else {
                    last.end = Some(at);
                }
                self.deadline = None;
                true
            }
            _ => false,
        }
    }

    /// Marks the camera stream lost or back; returns whether that changed.
    pub(crate) fn set_stream_lost(&mut self, now: Nanos, lost: bool) -> bool {
        match (self.lost_since, lost) {
            (None, true) => {
                self.lost_since = Some(now);
                true
            }
            (Some(since), false) => {
                if since < now {
                    self.losses.push(Span::new(since, now));
                }
                self.lost_since = None;
                self.last_loss_end = Some(now);
                true
            }
            _ => false,
        }
    }

    /// End of the open interval when observed at `until`: the pending
    /// auto-stop applies even if nobody called `on_timeout` yet.
    fn open_end(&self, until: Nanos) -> Nanos {
        self.deadline.map_or(until, |d| d.min(until))
    }

    /// When the device was manually recording, clipped to `[0, until)`.
    pub(crate) fn manual(&self, until: Nanos) -> IntervalSet {
        IntervalSet::from_spans(self.intervals.iter().map(|i| {
            let end = i.end.unwrap_or_else(|| self.open_end(until)).min(until);
            Span::new(i.start, end)
        }))
    }

    /// Stream-loss time, the ongoing loss closed at `until`.
    pub(crate) fn losses(&self, until: Nanos) -> IntervalSet {
        let open = self.lost_since.map(|s| Span::new(s, until));
        IntervalSet::from_spans(self.losses.iter().copied().chain(open))
    }

    /// Footage actually written, clipped to `[0, until)`.
    pub(crate) fn footage(&self, until: Nanos) -> IntervalSet {
        let written = IntervalSet::from_spans(self.intervals.iter().map(|i| {
            let end = i.end.unwrap_or_else(|| self.open_end(until)).min(until);
            Span::new(i.footage_start, end)
        }));
        if self.losses.is_empty() && self.lost_since.is_none() {
            written
        } else {
            written.subtract(&self.losses(until))
        }
    }
}
