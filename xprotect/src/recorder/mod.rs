//! RecorderCommandService (on each recording server): the [`Operation`]s,
//! their typed requests and responses, and the message codec.
//!
//! Requests are always sent as SOAP 1.1 with every operation in the default
//! namespace `http://videoos.net/2/XProtectCSRecorderCommand`; see
//! [`encode_recorder_request`] for the device list encoding.

mod request;
mod response;
#[cfg(test)]
mod tests;

pub use request::{decode_recorder_request, encode_recorder_request};
pub use response::{
    decode_recorder_response, encode_recorder_response, encode_recorder_response_as,
};

use std::fmt;

use crate::consts::{
    MOTION_SEQUENCE_ID, MOTION_SEQUENCE_NAME, RECORDING_SEQUENCE_ID, RECORDING_SEQUENCE_NAME,
    RECORDING_WITH_TRIGGER_SEQUENCE_ID, RECORDING_WITH_TRIGGER_SEQUENCE_NAME,
};
use crate::time::UtcTime;

/// A RecorderCommandService operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Start manual recording on a list of devices.
    StartManualRecording,
    /// Stop manual recording on a list of devices.
    StopManualRecording,
    /// Ask whether a list of devices is manually recording.
    IsManualRecording,
    /// List the sequence types of a device.
    SequencesGetTypes,
    /// List the recorded sequences of one type of a device in a time window.
    SequencesGet,
}

impl Operation {
    /// Every operation, in declaration order.
    pub const ALL: [Operation; 5] = [
        Operation::StartManualRecording,
        Operation::StopManualRecording,
        Operation::IsManualRecording,
        Operation::SequencesGetTypes,
        Operation::SequencesGet,
    ];

    /// The operation's element name, e.g. `StartManualRecording`.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::StartManualRecording => "StartManualRecording",
            Operation::StopManualRecording => "StopManualRecording",
            Operation::IsManualRecording => "IsManualRecording",
            Operation::SequencesGetTypes => "SequencesGetTypes",
            Operation::SequencesGet => "SequencesGet",
        }
    }

    /// The operation with this element name (ASCII case ignored).
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(name))
    }

    /// The SOAPAction this crate sends for the operation. Receivers must not
    /// rely on it: dispatch on the Body's element instead.
    pub const fn soap_action(self) -> &'static str {
        match self {
            Operation::StartManualRecording => {
                "http://videoos.net/2/XProtectCSRecorderCommand/StartManualRecording"
            }
            Operation::StopManualRecording => {
                "http://videoos.net/2/XProtectCSRecorderCommand/StopManualRecording"
            }
            Operation::IsManualRecording => {
                "http://videoos.net/2/XProtectCSRecorderCommand/IsManualRecording"
            }
            Operation::SequencesGetTypes => {
                "http://videoos.net/2/XProtectCSRecorderCommand/SequencesGetTypes"
            }
            Operation::SequencesGet => {
                "http://videoos.net/2/XProtectCSRecorderCommand/SequencesGet"
            }
        }
    }

    pub(crate) const fn expected_list() -> &'static str {
        "StartManualRecording, StopManualRecording, IsManualRecording, SequencesGetTypes, SequencesGet"
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SOAPAction of `operation` (see [`Operation::soap_action`]).
pub const fn soap_action(operation: Operation) -> &'static str {
    operation.soap_action()
}

/// A request to the RecorderCommandService. Every request carries the token
/// from Login.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecorderRequest {
    /// Start manual recording on `device_ids`.
    StartManualRecording {
        /// Login token.
        token: String,
        /// Device GUIDs.
        device_ids: Vec<String>,
    },
    /// Stop manual recording on `device_ids`.
    StopManualRecording {
        /// Login token.
        token: String,
        /// Device GUIDs.
        device_ids: Vec<String>,
    },
    /// Whether `device_ids` are manually recording.
    IsManualRecording {
        /// Login token.
        token: String,
        /// Device GUIDs.
        device_ids: Vec<String>,
    },
    /// The sequence types of `device_id`.
    SequencesGetTypes {
        /// Login token.
        token: String,
        /// Device GUID.
        device_id: String,
    },
    /// Up to `max_count` sequences of `sequence_type` on `device_id` in
    /// `[min_time, max_time]`.
    SequencesGet {
        /// Login token.
        token: String,
        /// Device GUID.
        device_id: String,
        /// Sequence type GUID, e.g. [`RECORDING_SEQUENCE_ID`].
        sequence_type: String,
        /// Start of the window.
        min_time: UtcTime,
        /// End of the window.
        max_time: UtcTime,
        /// Most entries wanted.
        max_count: u32,
    },
}

impl RecorderRequest {
    /// Which operation this is.
    pub fn operation(&self) -> Operation {
        match self {
            RecorderRequest::StartManualRecording { .. } => Operation::StartManualRecording,
            RecorderRequest::StopManualRecording { .. } => Operation::StopManualRecording,
            RecorderRequest::IsManualRecording { .. } => Operation::IsManualRecording,
            RecorderRequest::SequencesGetTypes { .. } => Operation::SequencesGetTypes,
            RecorderRequest::SequencesGet { .. } => Operation::SequencesGet,
        }
    }

    /// The Login token the request carries (may be empty if the client sent
    /// an empty `token` element).
    pub fn token(&self) -> &str {
        match self {
            RecorderRequest::StartManualRecording { token, .. }
            | RecorderRequest::StopManualRecording { token, .. }
            | RecorderRequest::IsManualRecording { token, .. }
            | RecorderRequest::SequencesGetTypes { token, .. }
            | RecorderRequest::SequencesGet { token, .. } => token,
        }
    }

    /// The devices the request is about (one for the `Sequences*` operations).
    pub fn device_ids(&self) -> &[String] {
        match self {
            RecorderRequest::StartManualRecording { device_ids, .. }
            | RecorderRequest::StopManualRecording { device_ids, .. }
            | RecorderRequest::IsManualRecording { device_ids, .. } => device_ids,
            RecorderRequest::SequencesGetTypes { device_id, .. }
            | RecorderRequest::SequencesGet { device_id, .. } => std::slice::from_ref(device_id),
        }
    }
}

/// The result of a RecorderCommandService operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecorderResponse {
    /// One result per device.
    StartManualRecording(Vec<ManualRecordingResult>),
    /// One result per device.
    StopManualRecording(Vec<ManualRecordingResult>),
    /// One state per device.
    IsManualRecording(Vec<ManualRecordingInfo>),
    /// The device's sequence types.
    SequencesGetTypes(Vec<SequenceType>),
    /// The sequences found (possibly none).
    SequencesGet(Vec<SequenceEntry>),
}

impl RecorderResponse {
    /// Which operation this answers.
    pub fn operation(&self) -> Operation {
        match self {
            RecorderResponse::StartManualRecording(_) => Operation::StartManualRecording,
            RecorderResponse::StopManualRecording(_) => Operation::StopManualRecording,
            RecorderResponse::IsManualRecording(_) => Operation::IsManualRecording,
            RecorderResponse::SequencesGetTypes(_) => Operation::SequencesGetTypes,
            RecorderResponse::SequencesGet(_) => Operation::SequencesGet,
        }
    }

    /// Whether the answer lists nothing (written as an empty `<OpResult />`).
    pub fn is_empty(&self) -> bool {
        match self {
            RecorderResponse::StartManualRecording(r)
            | RecorderResponse::StopManualRecording(r) => r.is_empty(),
            RecorderResponse::IsManualRecording(i) => i.is_empty(),
            RecorderResponse::SequencesGetTypes(t) => t.is_empty(),
            RecorderResponse::SequencesGet(e) => e.is_empty(),
        }
    }
}

/// Outcome of Start/Stop for one device. An unknown device comes back here
/// with a non-zero `result_code`, not as a fault.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManualRecordingResult {
    /// Device GUID.
    pub device_id: String,
    /// 0 = success.
    pub result_code: i32,
    /// Explanation (empty on success).
    pub message: String,
}

impl ManualRecordingResult {
    /// A successful result for `device_id`.
    pub fn success(device_id: impl Into<String>) -> Self {
        ManualRecordingResult {
            device_id: device_id.into(),
            result_code: 0,
            message: String::new(),
        }
    }

    /// Whether `result_code` is 0.
    pub fn is_success(&self) -> bool {
        self.result_code == 0
    }
}

/// Whether one device is manually recording.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManualRecordingInfo {
    /// Device GUID.
    pub device_id: String,
    /// Manual recording on?
    pub is_manual_recording: bool,
}

/// A sequence type of a device (`Id`, `Name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SequenceType {
    /// Type GUID.
    pub id: String,
    /// Type name, e.g. `RecordingSequence`.
    pub name: String,
}

impl SequenceType {
    /// `RecordingSequence`: where manually recorded footage shows up.
    pub fn recording() -> Self {
        Self::known(RECORDING_SEQUENCE_ID, RECORDING_SEQUENCE_NAME)
    }

    /// `RecordingWithTriggerSequence`.
    pub fn recording_with_trigger() -> Self {
        Self::known(
            RECORDING_WITH_TRIGGER_SEQUENCE_ID,
            RECORDING_WITH_TRIGGER_SEQUENCE_NAME,
        )
    }

    /// `MotionSequence`.
    pub fn motion() -> Self {
        Self::known(MOTION_SEQUENCE_ID, MOTION_SEQUENCE_NAME)
    }

    fn known(id: &str, name: &str) -> Self {
        SequenceType {
            id: id.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// One recorded sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SequenceEntry {
    /// Start of footage.
    pub time_begin: UtcTime,
    /// When the triggering event happened (XProtect's spelling).
    pub time_trigged: UtcTime,
    /// End of footage.
    pub time_end: UtcTime,
}
