//! Vocabulary of the mirroring engine: identifiers, configuration, the
//! commands the engine emits and the replies a driver feeds back.
//!
//! Nothing here performs I/O; drivers (the virtual-time world, the tokio
//! runtime) translate [`Command`]s into SOAP requests and replies back.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Monotonic time in nanoseconds, supplied by the driver.
pub type Nanos = u64;

pub const MICROS: Nanos = 1_000;
pub const MILLIS: Nanos = 1_000_000;
pub const SECS: Nanos = 1_000_000_000;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(s: impl AsRef<str>) -> Self {
                $name(Arc::from(s.as_ref()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::new(s)
            }
        }
    };
}

string_id!(
    /// A logical camera, the thing the user clicks on (e.g. `cam-001`, `lobby`).
    CameraId
);
pub use super::device_id::{canonical_guid, DeviceId, IdText};

/// Index of a site in [`MirrorConfig::sites`].
pub type SiteId = usize;
/// Index of a recording server within its site.
pub type RecorderId = usize;

/// Identifies one request the engine sent, so its reply can be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// Per-camera intent sequence number: the higher one is the later click.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct IntentSeq(pub u64);

/// What the engine asks a recording server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecorderOp {
    /// `StartManualRecording`
    Start,
    /// `StopManualRecording`
    Stop,
    /// `IsManualRecording`
    Probe,
}

/// A request the driver must perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `Login` on the site's management server (`currentToken` when renewing).
    Login {
        req: RequestId,
        site: SiteId,
        current_token: Option<String>,
    },
    /// One batched call on one recording server.
    Send {
        req: RequestId,
        site: SiteId,
        recorder: RecorderId,
        op: RecorderOp,
        devices: Vec<DeviceId>,
        token: String,
    },
}

impl Command {
    pub fn req(&self) -> RequestId {
        match self {
            Command::Login { req, .. } | Command::Send { req, .. } => *req,
        }
    }
    pub fn site(&self) -> SiteId {
        match self {
            Command::Login { site, .. } | Command::Send { site, .. } => *site,
        }
    }
}

/// Outcome for one device of a Start/Stop call (`ManualRecordingResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceResult {
    pub device: DeviceId,
    /// `ResultCode == 0`
    pub ok: bool,
}

/// One device's answer to a probe (`ManualRecordingInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    pub device: DeviceId,
    pub recording: bool,
}

/// A reply that reached the engine (the transport worked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    LoggedIn {
        token: String,
        ttl: Nanos,
    },
    Results(Vec<DeviceResult>),
    States(Vec<DeviceState>),
    Fault(SoapFault),
    /// The site refused the login's credentials (HTTP 401, `invalid_grant`,
    /// a token fault on a fresh login): a configuration error.
    CredentialsRejected {
        message: String,
    },
}

/// A SOAP fault the site answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// `ErrorNumber 40000` with `SubErrorNumber` 1 or 2: log in again.
    pub token_invalid: bool,
    pub message: String,
}

/// Why no reply arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("connection refused")]
    Refused,
    #[error("request timed out")]
    Timeout,
    #[error("HTTP status {0}")]
    Http(u16),
    #[error("malformed reply: {0}")]
    Malformed(String),
}

/// Static description of one site as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSpec {
    pub name: String,
    /// Number of recording servers in the site (recorder ids `0..recorders`).
    pub recorders: usize,
    /// The site's "stop manual recording after" setting; `None` when off.
    pub manual_recording_max: Option<Nanos>,
    /// The recorders' pre-buffer, used to size renewal hand-overs.
    pub prebuffer: Nanos,
}

/// One camera's own settings on its site, overriding the site's defaults.
///
/// On real sites "stop manual recording after" and the pre-buffer are set
/// camera by camera; the site values are only what a camera has when nobody
/// changed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSettings {
    /// `None`: the site's value; `Some(None)`: auto-stop switched off.
    pub manual_recording_max: Option<Option<Nanos>>,
    /// `None`: the site's pre-buffer.
    pub prebuffer: Option<Nanos>,
}

impl DeviceSettings {
    /// The camera's auto-stop limit, given its site's default.
    pub fn limit_or(&self, site: Option<Nanos>) -> Option<Nanos> {
        self.manual_recording_max.unwrap_or(site)
    }

    /// The camera's pre-buffer, given its site's default.
    pub fn prebuffer_or(&self, site: Nanos) -> Nanos {
        self.prebuffer.unwrap_or(site)
    }

    /// Whether nothing is overridden.
    pub fn is_default(&self) -> bool {
        *self == DeviceSettings::default()
    }
}

/// Where a logical camera lives on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub site: SiteId,
    pub recorder: RecorderId,
    pub device: DeviceId,
    /// The camera's own settings there (site defaults when not set).
    pub settings: DeviceSettings,
}

/// A logical camera and its devices, at most one per site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraSpec {
    pub id: CameraId,
    pub placements: Vec<Placement>,
}

/// Everything the engine is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorConfig {
    pub sites: Vec<SiteSpec>,
    pub cameras: Vec<CameraSpec>,
    pub policy: Policy,
}

/// Timing policy of the engine. Defaults are what ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// A request without a reply after this long has failed.
    pub request_timeout: Nanos,
    /// First retry delay after a failed request.
    pub retry_initial: Nanos,
    /// Cap of the exponential retry delay.
    pub retry_max: Nanos,
    /// Interval of `IsManualRecording` drift probes per recorder.
    pub probe_interval: Nanos,
    /// Interval of health probes to a site that is down.
    pub down_probe_interval: Nanos,
    /// Consecutive transport failures after which a site counts as down.
    pub failures_before_down: u32,
    /// Renew a manual recording this long before the site would stop it.
    pub renew_before: Nanos,
    /// Log in again this long before the token's `TimeToLive` ends.
    pub token_renew_before: Nanos,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            request_timeout: 2 * SECS,
            retry_initial: 100 * MILLIS,
            retry_max: 2 * SECS,
            probe_interval: 2 * SECS,
            down_probe_interval: 500 * MILLIS,
            failures_before_down: 2,
            renew_before: 30 * SECS,
            token_renew_before: 60 * SECS,
        }
    }
}

/// One durable intent, as the journal stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub camera: CameraId,
    pub seq: IntentSeq,
    pub recording: bool,
}

/// What the engine believes about one camera on one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Observed {
    Unknown,
    Recording,
    Stopped,
}

/// The engine's view of one camera on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCameraStatus {
    pub site: String,
    pub observed: Observed,
    /// Whether a request for this camera is in flight on this site.
    pub pending: bool,
    pub site_up: bool,
    /// Why this camera cannot record on this site until its configuration
    /// is fixed (the site refuses the device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
}

/// The engine's view of one camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraStatus {
    pub camera: CameraId,
    /// Latest intent: its sequence and whether it asks for recording.
    pub intent: Option<(IntentSeq, bool)>,
    pub sites: Vec<SiteCameraStatus>,
}

#[cfg(test)]
mod guid_tests {
    use super::*;

    #[test]
    fn device_guids_compare_without_case_or_braces() {
        let lower = DeviceId::new("a8a8b9dc-3995-49ed-9b00-62caac2ce74a");
        assert_eq!(
            DeviceId::new("{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A}"),
            lower
        );
        assert_eq!(
            DeviceId::new(" A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A "),
            lower
        );
        assert_eq!(lower.to_string(), "a8a8b9dc-3995-49ed-9b00-62caac2ce74a");
        let back: DeviceId =
            serde_json::from_str("\"{A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A}\"").expect("a string");
        assert_eq!(back, lower);
        // Not a GUID: kept as given.
        assert_eq!(DeviceId::new("Cam-A").to_string(), "Cam-A");
        for not_guid in [
            "{a8a8b9dc-3995-49ed-9b00-62caac2ce74a",
            "a8a8b9dc-3995-49ed-9b00-62caac2ce74",
            "a8a8b9dc-3995-49ed-9b00-62caac2ce74g",
            "a8a8b9dc+3995-49ed-9b00-62caac2ce74a",
            "a8a8b9dc3995-49ed-9b00-62caac2ce74a0",
            "+8a8b9dc-3995-49ed-9b00-62caac2ce74a",
        ] {
            assert_eq!(DeviceId::new(not_guid).to_string(), not_guid);
            assert_eq!(canonical_guid(not_guid), None, "{not_guid}");
        }
    }

    #[test]
    fn device_guids_round_trip_through_their_value() {
        for text in [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "0123abcd-4567-89ef-0a1b-2c3d4e5f6789",
            "d0a10001-0000-4000-8000-0000000186a0",
        ] {
            let id = DeviceId::new(text.to_ascii_uppercase());
            assert_eq!(id.to_string(), text);
            assert_eq!(&*id.text(), text);
            assert_eq!(
                canonical_guid(&format!("{{{text}}}")).as_deref(),
                Some(text)
            );
            assert_eq!(DeviceId::new(id.to_string()), id);
        }
    }

    #[test]
    fn device_ids_order_and_hash_as_their_canonical_text() {
        use std::collections::HashSet;
        let mut texts: Vec<String> = (0..200u64)
            .map(|i| {
                let v = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                format!(
                    "{:08x}-{:04x}-4000-8{:03x}-{:012x}",
                    v >> 32,
                    v & 0xffff,
                    i % 0x1000,
                    v & 0xffff_ffff_ffff
                )
            })
            .collect();
        texts.extend(["cam-b".to_owned(), "Cam-A".to_owned(), "zz".to_owned()]);
        let mut ids: Vec<DeviceId> = texts.iter().map(DeviceId::new).collect();
        ids.sort();
        texts.sort();
        let sorted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(sorted, texts);
        // Sequential GUIDs (as a site numbers its cameras) get distinct keys.
        let keys: HashSet<u64> = (0..10_000u64)
            .map(|c| DeviceId::new(format!("d0a10000-0000-4000-8000-{c:012x}")).key())
            .collect();
        assert_eq!(keys.len(), 10_000);
    }
}
