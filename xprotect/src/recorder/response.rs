//! Encoding and decoding of [`RecorderResponse`] messages.
//!
//! A response is `<Op>Response/<Op>Result` holding one item element per
//! entry; an empty list is an empty `<Op>Result />`. On decode a missing
//! `<Op>Result` also reads as an empty list (what .NET sends for a null
//! array), elements other than the expected item are ignored, and a missing
//! `Message` reads as empty. A `Fault` in the Body is returned as `Err(Fault)`.

use super::{
    ManualRecordingInfo, ManualRecordingResult, Operation, RecorderResponse, SequenceEntry,
    SequenceType,
};
use crate::consts::RECORDER_COMMAND_NS;
use crate::envelope::{self, SoapVersion};
use crate::error::DecodeError;
use crate::fault::{self, Fault};
use crate::fields;
use crate::write;
use crate::xml::Element;

/// Encodes `response` as a SOAP 1.1 message.
pub fn encode_recorder_response(response: &RecorderResponse) -> String {
    encode_recorder_response_as(SoapVersion::V11, response)
}

/// [`encode_recorder_response`] in a chosen SOAP version: a server answers
/// in the version the request came in (ASMX services accept both).
pub fn encode_recorder_response_as(version: SoapVersion, response: &RecorderResponse) -> String {
    let op = response.operation().name();
    let response_name = format!("{op}Response");
    let result_name = format!("{op}Result");
    write::envelope(version, |xml| {
        xml.open(&response_name, &[("xmlns", RECORDER_COMMAND_NS)]);
        xml.element(
            &result_name,
            &[],
            response.is_empty(),
            |xml| match response {
                RecorderResponse::StartManualRecording(results)
                | RecorderResponse::StopManualRecording(results) => {
                    for r in results {
                        xml.open("ManualRecordingResult", &[]);
                        xml.leaf("DeviceId", &r.device_id);
                        xml.leaf("ResultCode", &r.result_code.to_string());
                        xml.leaf("Message", &r.message);
                        xml.close("ManualRecordingResult");
                    }
                }
                RecorderResponse::IsManualRecording(infos) => {
                    for i in infos {
                        xml.open("ManualRecordingInfo", &[]);
                        xml.leaf("DeviceId", &i.device_id);
                        xml.leaf("IsManualRecording", &i.is_manual_recording.to_string());
                        xml.close("ManualRecordingInfo");
                    }
                }
                RecorderResponse::SequencesGetTypes(types) => {
                    for t in types {
                        xml.open("SequenceType", &[]);
                        xml.leaf("Id", &t.id);
                        xml.leaf("Name", &t.name);
                        xml.close("SequenceType");
                    }
                }
                RecorderResponse::SequencesGet(entries) => {
                    for e in entries {
                        xml.open("SequenceEntry", &[]);
                        xml.leaf("TimeBegin", &e.time_begin.to_string());
                        xml.leaf("TimeTrigged", &e.time_trigged.to_string());
                        xml.leaf("TimeEnd", &e.time_end.to_string());
                        xml.close("SequenceEntry");
                    }
                }
            },
        );
        xml.close(&response_name);
    })
}

/// Decodes the answer to a request of `operation`: the response, or the
/// fault the recorder sent.
pub fn decode_recorder_response(
    operation: Operation,
    message: &str,
) -> Result<Result<RecorderResponse, Fault>, DecodeError> {
    let received = envelope::unwrap(message)?;
    let element = &received.operation;
    if let Some(fault) = fault::check(element) {
        return Ok(Err(fault));
    }
    let op = operation.name();
    let response_name = format!("{op}Response");
    if !element.is(&response_name) {
        return Err(DecodeError::unexpected(
            &element.name,
            "Body",
            &format!("`{response_name}` or `Fault`"),
        ));
    }
    let empty = Element::default();
    let result = element.child(&format!("{op}Result")).unwrap_or(&empty);
    Ok(Ok(match operation {
        Operation::StartManualRecording => RecorderResponse::StartManualRecording(items(
            result,
            "ManualRecordingResult",
            result_item,
        )?),
        Operation::StopManualRecording => RecorderResponse::StopManualRecording(items(
            result,
            "ManualRecordingResult",
            result_item,
        )?),
        Operation::IsManualRecording => {
            RecorderResponse::IsManualRecording(items(result, "ManualRecordingInfo", info_item)?)
        }
        Operation::SequencesGetTypes => {
            RecorderResponse::SequencesGetTypes(items(result, "SequenceType", type_item)?)
        }
        Operation::SequencesGet => {
            RecorderResponse::SequencesGet(items(result, "SequenceEntry", entry_item)?)
        }
    }))
}

fn items<T>(
    result: &Element,
    name: &str,
    read: fn(&Element, &str) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    result
        .children
        .iter()
        .filter(|c| c.is(name))
        .map(|c| read(c, name))
        .collect()
}

fn result_item(e: &Element, ctx: &str) -> Result<ManualRecordingResult, DecodeError> {
    Ok(ManualRecordingResult {
        device_id: fields::string(e, "DeviceId", ctx)?,
        result_code: fields::integer(e, "ResultCode", ctx, "a 32-bit integer (0 = success)")?,
        message: e
            .child("Message")
            .map(|m| m.text().to_owned())
            .unwrap_or_default(),
    })
}

fn info_item(e: &Element, ctx: &str) -> Result<ManualRecordingInfo, DecodeError> {
    Ok(ManualRecordingInfo {
        device_id: fields::string(e, "DeviceId", ctx)?,
        is_manual_recording: fields::boolean(e, "IsManualRecording", ctx)?,
    })
}

fn type_item(e: &Element, ctx: &str) -> Result<SequenceType, DecodeError> {
    Ok(SequenceType {
        id: fields::string(e, "Id", ctx)?,
        name: fields::string(e, "Name", ctx)?,
    })
}

fn entry_item(e: &Element, ctx: &str) -> Result<SequenceEntry, DecodeError> {
    Ok(SequenceEntry {
        time_begin: fields::time(e, "TimeBegin", ctx)?,
        time_trigged: fields::time(e, "TimeTrigged", ctx)?,
        time_end: fields::time(e, "TimeEnd", ctx)?,
    })
}
