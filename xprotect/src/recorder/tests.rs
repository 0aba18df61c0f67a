//! Tests of the RecorderCommandService codec: golden messages, tolerant
//! decoding in the styles real clients use, and error messages.

use super::*;
use crate::consts::RECORDING_SEQUENCE_ID;
use crate::error::DecodeError;
use crate::fault::{encode_fault, Fault};
use crate::SoapVersion;

const TOKEN: &str = "TOKEN#6b1f0c4e-2c1a-4c55-a5a4-0e0c36f7e0b1#ms-a//ServerConnector#";
const CAM_A: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";
const CAM_B: &str = "5f0c1d2e-3f40-4152-8364-758697a8b9ca";

fn t(text: &str) -> UtcTime {
    UtcTime::parse(text).unwrap_or_default()
}

fn requests() -> Vec<(&'static str, RecorderRequest)> {
    let devices = vec![CAM_A.to_owned(), CAM_B.to_owned()];
    vec![
        (
            "request_start_manual_recording",
            RecorderRequest::StartManualRecording {
                token: TOKEN.to_owned(),
                device_ids: devices.clone(),
            },
        ),
        (
            "request_stop_manual_recording",
            RecorderRequest::StopManualRecording {
                token: TOKEN.to_owned(),
                device_ids: vec![CAM_A.to_owned()],
            },
        ),
        (
            "request_is_manual_recording_empty",
            RecorderRequest::IsManualRecording {
                token: TOKEN.to_owned(),
                device_ids: vec![],
            },
        ),
        (
            "request_sequences_get_types",
            RecorderRequest::SequencesGetTypes {
                token: TOKEN.to_owned(),
                device_id: CAM_A.to_owned(),
            },
        ),
        (
            "request_sequences_get",
            RecorderRequest::SequencesGet {
                token: TOKEN.to_owned(),
                device_id: CAM_A.to_owned(),
                sequence_type: RECORDING_SEQUENCE_ID.to_owned(),
                min_time: t("2023-07-20T18:52:49Z"),
                max_time: t("2023-07-20T19:52:49.053Z"),
                max_count: 100,
            },
        ),
    ]
}

fn responses() -> Vec<(&'static str, RecorderResponse)> {
    vec![
        (
            "response_start_manual_recording",
            RecorderResponse::StartManualRecording(vec![
                ManualRecordingResult::success(CAM_A),
                ManualRecordingResult {
                    device_id: CAM_B.to_owned(),
                    result_code: 1,
                    message: "Device not found".to_owned(),
                },
            ]),
        ),
        (
            "response_stop_manual_recording",
            RecorderResponse::StopManualRecording(vec![ManualRecordingResult::success(CAM_A)]),
        ),
        (
            "response_is_manual_recording",
            RecorderResponse::IsManualRecording(vec![
                ManualRecordingInfo {
                    device_id: CAM_A.to_owned(),
                    is_manual_recording: true,
                },
                ManualRecordingInfo {
                    device_id: CAM_B.to_owned(),
                    is_manual_recording: false,
                },
            ]),
        ),
        (
            "response_sequences_get_types",
            RecorderResponse::SequencesGetTypes(vec![
                SequenceType::recording(),
                SequenceType::recording_with_trigger(),
                SequenceType::motion(),
            ]),
        ),
        (
            "response_sequences_get",
            RecorderResponse::SequencesGet(vec![SequenceEntry {
                time_begin: t("2023-07-20T18:52:46Z"),
                time_trigged: t("2023-07-20T18:52:49.0530000Z"),
                time_end: t("2023-07-20T18:57:49.0530000Z"),
            }]),
        ),
        (
            "response_sequences_get_empty",
            RecorderResponse::SequencesGet(vec![]),
        ),
    ]
}

#[test]
fn golden_requests() {
    for (name, request) in requests() {
        insta::assert_snapshot!(name, encode_recorder_request(&request));
    }
}

#[test]
fn golden_responses() {
    for (name, response) in responses() {
        insta::assert_snapshot!(name, encode_recorder_response(&response));
    }
}

#[test]
fn round_trips() {
    for (_, request) in requests() {
        assert_eq!(
            decode_recorder_request(&encode_recorder_request(&request)),
            Ok(request)
        );
    }
    for (_, response) in responses() {
        let op = response.operation();
        assert_eq!(
            decode_recorder_response(op, &encode_recorder_response(&response)),
            Ok(Ok(response))
        );
    }
}

#[test]
fn accessors() {
    for (_, request) in requests() {
        assert_eq!(request.token(), TOKEN);
        assert_eq!(
            Operation::from_name(request.operation().name()),
            Some(request.operation())
        );
    }
    let (_, get) = &requests()[4];
    assert_eq!(get.device_ids(), [CAM_A.to_owned()]);
    assert_eq!(
        soap_action(Operation::SequencesGet),
        "http://videoos.net/2/XProtectCSRecorderCommand/SequencesGet"
    );
}

#[test]
fn both_device_list_encodings() {
    let guid_style = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
      <StartManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand">
        <token>TOKEN#1#</token>
        <deviceIds xmlns:a="http://microsoft.com/wsdl/types/">
          <a:guid>a8a8b9dc-3995-49ed-9b00-62caac2ce74a</a:guid>
          <a:guid>5f0c1d2e-3f40-4152-8364-758697a8b9ca</a:guid>
        </deviceIds>
      </StartManualRecording></soap:Body></soap:Envelope>"#;
    let device_id_style = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
      <StartManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand">
        <deviceIds><deviceId>a8a8b9dc-3995-49ed-9b00-62caac2ce74a</deviceId><deviceId>5f0c1d2e-3f40-4152-8364-758697a8b9ca</deviceId></deviceIds>
        <token>TOKEN#1#</token>
      </StartManualRecording></soap:Body></soap:Envelope>"#;
    let expected = RecorderRequest::StartManualRecording {
        token: "TOKEN#1#".to_owned(),
        device_ids: vec![CAM_A.to_owned(), CAM_B.to_owned()],
    };
    assert_eq!(decode_recorder_request(guid_style), Ok(expected.clone()));
    assert_eq!(decode_recorder_request(device_id_style), Ok(expected));
}

#[test]
fn sequences_get_with_zone_less_times_and_prefixed_namespace() {
    // SOAPAction (not part of the body) may name the wrong namespace: irrelevant here.
    for (min, max) in [
        ("2023-07-20T18:52:49", "2023-07-20T19:52:49"),
        ("2023-07-20T18:52:49.0000000", "2023-07-20T19:52:49.0000000"),
    ] {
        let m = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
  <r:SequencesGet xmlns:r="http://videoos.net/2/XProtectCSRecorderCommand">
    <r:token>TOKEN#1#</r:token><r:deviceId>{CAM_A}</r:deviceId>
    <r:sequenceType>{RECORDING_SEQUENCE_ID}</r:sequenceType>
    <r:minTime>{min}</r:minTime><r:maxTime>{max}</r:maxTime><r:maxCount>10</r:maxCount>
  </r:SequencesGet></s:Body></s:Envelope>"#
        );
        assert_eq!(
            decode_recorder_request(&m),
            Ok(RecorderRequest::SequencesGet {
                token: "TOKEN#1#".to_owned(),
                device_id: CAM_A.to_owned(),
                sequence_type: RECORDING_SEQUENCE_ID.to_owned(),
                min_time: t("2023-07-20T18:52:49Z"),
                max_time: t("2023-07-20T19:52:49Z"),
                max_count: 10,
            })
        );
    }
}

#[test]
fn unknown_operation_is_distinct() {
    let m = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><StartRecordingForever xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><token>x</token></StartRecordingForever></s:Body></s:Envelope>"#;
    assert_eq!(
        decode_recorder_request(m),
        Err(DecodeError::UnsupportedOperation(
            "StartRecordingForever".to_owned()
        ))
    );
}

#[test]
fn request_errors_say_what_is_wrong() {
    let err = |body: &str| {
        decode_recorder_request(&format!("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>{body}</s:Body></s:Envelope>"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let missing = decode_recorder_request(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><StartManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><deviceIds/></StartManualRecording></s:Body></s:Envelope>",
    );
    assert!(missing.as_ref().is_err_and(DecodeError::is_missing_token));
    assert_eq!(
        missing.map_err(|e| e.to_string()),
        Err("missing element `token` in StartManualRecording".to_owned())
    );
    assert_eq!(
        err("<IsManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token>x</token></IsManualRecording>"),
        "missing element `deviceIds` in IsManualRecording"
    );
    assert_eq!(
        err("<StopManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token>x</token><deviceIds><camera>1</camera></deviceIds></StopManualRecording>"),
        "unexpected element `camera` in deviceIds: expected `guid` or `deviceId` items"
    );
    assert_eq!(
        err("<SequencesGet xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token>x</token><deviceId>d</deviceId><sequenceType>s</sequenceType><minTime>2023-07-20T18:52:49</minTime><maxTime>2023-07-20T18:52:49</maxTime><maxCount>-1</maxCount></SequencesGet>"),
        "invalid value `-1` in `maxCount`: expected a count from 0 to 4294967295"
    );
    assert_eq!(
        err("<SequencesGet xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token>x</token><deviceId>d</deviceId><sequenceType>s</sequenceType><minTime>noon</minTime></SequencesGet>"),
        "invalid value `noon` in `minTime`: expected an xs:dateTime like 2023-07-20T18:52:49.0530000Z (zone-less means UTC)"
    );
}

#[test]
fn empty_token_decodes_as_empty() {
    let m = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><IsManualRecording xmlns=\"http://videoos.net/2/XProtectCSRecorderCommand\"><token/><deviceIds/></IsManualRecording></s:Body></s:Envelope>";
    assert_eq!(
        decode_recorder_request(m),
        Ok(RecorderRequest::IsManualRecording {
            token: String::new(),
            device_ids: vec![]
        })
    );
}

#[test]
fn empty_and_missing_sequences_get_result() {
    for result in [
        "<SequencesGetResult/>",
        "<SequencesGetResult></SequencesGetResult>",
        "",
    ] {
        let m = format!(
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SequencesGetResponse xmlns="http://videoos.net/2/XProtectCSRecorderCommand">{result}</SequencesGetResponse></soap:Body></soap:Envelope>"#
        );
        assert_eq!(
            decode_recorder_response(Operation::SequencesGet, &m),
            Ok(Ok(RecorderResponse::SequencesGet(vec![])))
        );
    }
}

#[test]
fn response_in_real_site_style() {
    let m = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><IsManualRecordingResponse xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><IsManualRecordingResult><ManualRecordingInfo><IsManualRecording>true</IsManualRecording><DeviceId>a8a8b9dc-3995-49ed-9b00-62caac2ce74a</DeviceId></ManualRecordingInfo></IsManualRecordingResult></IsManualRecordingResponse></soap:Body></soap:Envelope>"#;
    assert_eq!(
        decode_recorder_response(Operation::IsManualRecording, m),
        Ok(Ok(RecorderResponse::IsManualRecording(vec![
            ManualRecordingInfo {
                device_id: CAM_A.to_owned(),
                is_manual_recording: true
            }
        ])))
    );
}

#[test]
fn response_fault_and_mismatch() {
    let fault = encode_fault(SoapVersion::V11, &Fault::token_invalid());
    assert_eq!(
        decode_recorder_response(Operation::StartManualRecording, &fault),
        Ok(Err(Fault::token_invalid()))
    );
    let stop = encode_recorder_response(&RecorderResponse::StopManualRecording(vec![]));
    assert_eq!(
        decode_recorder_response(Operation::StartManualRecording, &stop).map_err(|e| e.to_string()),
        Err("unexpected element `StopManualRecordingResponse` in Body: expected `StartManualRecordingResponse` or `Fault`".to_owned())
    );
    let bad = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><StartManualRecordingResponse xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><StartManualRecordingResult><ManualRecordingResult><DeviceId>x</DeviceId><ResultCode>ok</ResultCode></ManualRecordingResult></StartManualRecordingResult></StartManualRecordingResponse></s:Body></s:Envelope>"#;
    assert_eq!(
        decode_recorder_response(Operation::StartManualRecording, bad).map_err(|e| e.to_string()),
        Err(
            "invalid value `ok` in `ResultCode`: expected a 32-bit integer (0 = success)"
                .to_owned()
        )
    );
}
