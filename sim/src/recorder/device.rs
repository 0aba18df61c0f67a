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

/// Per-device state, one cache line: the recording in progress inline,
/// its history and the rare stream losses behind pointers.
///
/// Every Start and Stop reads this; a site of tens of thousands of devices
/// keeps most of them out of cache, so whatever a Start or Stop needs is
/// here in one line (the first version kept the open recording at the end
/// of the history, a second miss per call).
#[derive(Debug, Clone, Default)]
pub(crate) struct Device {
    /// The manual recording in progress.
    open: Option<Open>,
    /// Ended manual recordings: time-ordered, disjoint, before `open`.
    closed: Vec<ManualInterval>,
    /// Camera-stream losses; most devices never have one.
    stream: Option<Box<StreamHistory>>,
}

/// A manual recording in progress.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: Nanos,
    footage_start: Nanos,
    /// Its auto-stop, [`NO_DEADLINE`] for none (an `Option` would not fit
    /// the line).
    deadline: Nanos,
}

const NO_DEADLINE: Nanos = Nanos::MAX;

impl Open {
    fn deadline(&self) -> Option<Nanos> {
        (self.deadline != NO_DEADLINE).then_some(self.deadline)
    }
}

#[derive(Debug, Clone, Default)]
struct StreamHistory {
    /// Closed stream-loss spans, time-ordered.
    losses: Vec<Span>,
    /// Start of the ongoing stream loss.
    lost_since: Option<Nanos>,
    /// End of the latest stream loss (the stream is live since then).
    last_loss_end: Option<Nanos>,
}

impl Device {
    pub(crate) fn is_recording(&self) -> bool {
        self.open.is_some()
    }

    /// Auto-stop deadline of the open interval.
    pub(crate) fn deadline(&self) -> Option<Nanos> {
        self.open.and_then(|o| o.deadline())
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Nanos>) {
        if let Some(open) = &mut self.open {
            open.deadline = deadline.unwrap_or(NO_DEADLINE);
        }
    }

    /// Every manual recording, oldest first; the last may be open.
    pub(crate) fn intervals(&self) -> impl Iterator<Item = ManualInterval> + '_ {
        let open = self.open.map(|o| ManualInterval {
            start: o.start,
            end: None,
            footage_start: o.footage_start,
        });
        self.closed.iter().copied().chain(open)
    }

    pub(crate) fn is_stream_lost(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.lost_since.is_some())
    }

    /// Since when the stream has been continuously delivered (ignoring an
    /// ongoing loss, whose time is subtracted from footage anyway).
    pub(crate) fn stream_live_since(&self) -> Nanos {
        self.stream
            .as_ref()
            .and_then(|s| s.last_loss_end)
            .unwrap_or(0)
    }

    /// Starts a manual recording; the caller checked it is not recording.
    pub(crate) fn begin(&mut self, start: Nanos, footage_start: Nanos, deadline: Option<Nanos>) {
        debug_assert!(!self.is_recording(), "begin on a recording device");
        self.open = Some(Open {
            start,
            footage_start,
            deadline: deadline.unwrap_or(NO_DEADLINE),
        });
    }

    /// Ends the open manual recording at `at`; returns whether one was open.
    pub(crate) fn end(&mut self, at: Nanos) -> bool {
        let Some(open) = self.open.take() else {
            return false;
        };
        // Zero-length: nothing was recorded, not even the pre-buffer.
        if at > open.start {
            self.closed.push(ManualInterval {
                start: open.start,
                end: Some(at),
                footage_start: open.footage_start,
            });
        }
        true
    }

    /// Marks the camera stream lost or back; returns whether that changed.
    pub(crate) fn set_stream_lost(&mut self, now: Nanos, lost: bool) -> bool {
        let stream = self.stream.get_or_insert_with(Box::default);
        match (stream.lost_since, lost) {
            (None, true) => {
                stream.lost_since = Some(now);
                true
            }
            (Some(since), false) => {
                if since < now {
                    stream.losses.push(Span::new(since, now));
                }
                stream.lost_since = None;
                stream.last_loss_end = Some(now);
                true
            }
            _ => false,
        }
    }

    /// End of an interval when observed at `until`: the pending auto-stop
    /// of the open one applies even if nobody called `on_timeout` yet.
    fn end_at(&self, interval: &ManualInterval, until: Nanos) -> Nanos {
        let open_end = || self.deadline().map_or(until, |d| d.min(until));
        interval.end.unwrap_or_else(open_end).min(until)
    }

    /// When the device was manually recording, clipped to `[0, until)`.
    pub(crate) fn manual(&self, until: Nanos) -> IntervalSet {
        IntervalSet::from_spans(
            self.intervals()
                .map(|i| Span::new(i.start, self.end_at(&i, until))),
        )
    }

    /// Stream-loss time, the ongoing loss closed at `until`.
    pub(crate) fn losses(&self, until: Nanos) -> IntervalSet {
        let Some(stream) = &self.stream else {
            return IntervalSet::new();
        };
        let open = stream.lost_since.map(|s| Span::new(s, until));
        IntervalSet::from_spans(stream.losses.iter().copied().chain(open))
    }

    /// Footage actually written, clipped to `[0, until)`.
    pub(crate) fn footage(&self, until: Nanos) -> IntervalSet {
        let written = IntervalSet::from_spans(
            self.intervals()
                .map(|i| Span::new(i.footage_start, self.end_at(&i, until))),
        );
        if self.stream.is_none() {
            written
        } else {
            written.subtract(&self.losses(until))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_fits_one_cache_line() {
        assert!(std::mem::size_of::<Device>() <= 64);
    }
}
