//! Encoding and decoding of [`RecorderRequest`] messages.
//!
//! **Device list encoding.** Of the two `deviceIds` encodings seen in the
//! wild, this crate sends
//! `<deviceIds xmlns:a="http://microsoft.com/wsdl/types/"><a:guid>…</a:guid></deviceIds>`:
//! it names each item by its .NET type (`guid` from the
//! `http://microsoft.com/wsdl/types/` schema that ASMX services declare for
//! `System.Guid`), i.e. it follows the service's own `Guid[]` parameter,
//! while `<deviceId>` items are a name the service's schema does not
//! declare. Both encodings are accepted on decode, as is any other prefix or
//! namespace on the items.
//!
//! Decoding dispatches on the Body's first element, never on SOAPAction, and
//! accepts SOAP 1.1 or 1.2 envelopes. An empty `token` element decodes as an
//! empty token (the recorder answers it with a token fault); a missing one is
//! [`DecodeError::MissingElement`] (see [`DecodeError::is_missing_token`]).

use super::{Operation, RecorderRequest};
use crate::consts::{RECORDER_COMMAND_NS, WSDL_TYPES_NS};
use crate::envelope::{self, SoapVersion};
use crate::error::DecodeError;
use crate::fields;
use crate::write;
use crate::xml::Element;

/// Encodes `request` as a SOAP 1.1 message for the RecorderCommandService.
/// Send it with SOAPAction [`Operation::soap_action`].
pub fn encode_recorder_request(request: &RecorderRequest) -> String {
    let op = request.operation().name();
    write::envelope(SoapVersion::V11, |xml| {
        xml.open(op, &[("xmlns", RECORDER_COMMAND_NS)]);
        xml.leaf("token", request.token());
        match request {
            RecorderRequest::StartManualRecording { device_ids, .. }
            | RecorderRequest::StopManualRecording { device_ids, .. }
            | RecorderRequest::IsManualRecording { device_ids, .. } => {
                let ns = [("xmlns:a", WSDL_TYPES_NS)];
                xml.element("deviceIds", &ns, device_ids.is_empty(), |xml| {
                    for id in device_ids {
                        xml.leaf("a:guid", id);
                    }
                });
            }
            RecorderRequest::SequencesGetTypes { device_id, .. } => {
                xml.leaf("deviceId", device_id);
            }
            RecorderRequest::SequencesGet {
                device_id,
                sequence_type,
                min_time,
                max_time,
                max_count,
                ..
            } => {
                xml.leaf("deviceId", device_id);
                xml.leaf("sequenceType", sequence_type);
                xml.leaf("minTime", &min_time.to_string());
                xml.leaf("maxTime", &max_time.to_string());
                xml.leaf("maxCount", &max_count.to_string());
            }
        }
        xml.close(op);
    })
}

/// Decodes a RecorderCommandService request. An operation this service does
/// not have gives [`DecodeError::UnsupportedOperation`] with its name.
pub fn decode_recorder_request(message: &str) -> Result<RecorderRequest, DecodeError> {
    let received = envelope::unwrap_request(message, crate::consts::RECORDER_COMMAND_NS)?;
    let element = &received.operation;
    let Some(op) = Operation::from_name(&element.name) else {
        return Err(DecodeError::UnsupportedOperation(crate::error::quote(
            &element.name,
        )));
    };
    let context = op.name();
    let token = fields::string(element, "token", context)?;
    Ok(match op {
        Operation::StartManualRecording => RecorderRequest::StartManualRecording {
            token,
            device_ids: device_ids(element, context)?,
        },
        Operation::StopManualRecording => RecorderRequest::StopManualRecording {
            token,
            device_ids: device_ids(element, context)?,
        },
        Operation::IsManualRecording => RecorderRequest::IsManualRecording {
            token,
            device_ids: device_ids(element, context)?,
        },
        Operation::SequencesGetTypes => RecorderRequest::SequencesGetTypes {
            token,
            device_id: fields::string(element, "deviceId", context)?,
        },
        Operation::SequencesGet => RecorderRequest::SequencesGet {
            token,
            device_id: fields::string(element, "deviceId", context)?,
            sequence_type: fields::string(element, "sequenceType", context)?,
            min_time: fields::time(element, "minTime", context)?,
            max_time: fields::time(element, "maxTime", context)?,
            max_count: fields::integer(
                element,
                "maxCount",
                context,
                "a count from 0 to 4294967295",
            )?,
        },
    })
}

/// Reads `deviceIds` in either encoding: `<deviceId>` or `<guid>` items.
fn device_ids(operation: &Element, context: &str) -> Result<Vec<String>, DecodeError> {
    let list = operation.require("deviceIds", context)?;
    list.children
        .iter()
        .map(|item| {
            if item.is("guid") || item.is("deviceId") {
                Ok(item.text().to_owned())
            } else {
                Err(DecodeError::unexpected(
                    &item.name,
                    "deviceIds",
                    "`guid` or `deviceId` items",
                ))
            }
        })
        .collect()
}
