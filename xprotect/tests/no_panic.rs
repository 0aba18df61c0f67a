//! Robustness: every decoder returns (never panics, never overflows the
//! stack) on arbitrary text, arbitrary bytes read as lossy UTF-8, XML-ish
//! noise, and valid messages with random mutations.

use proptest::prelude::*;
use xprotect::*;

/// Runs every decoder on `input`; only checks that each returns.
fn decode_all(input: &str) {
    let _ = decode_login_request(input);
    let _ = decode_login_response(input);
    let _ = decode_recorder_request(input);
    for op in Operation::ALL {
        let _ = decode_recorder_response(op, input);
    }
    let _ = decode_fault(input);
    let _ = sniff_soap_version(input);
    let _ = UtcTime::parse(input);
    let _ = SoapVersion::from_content_type(input);
    // Errors must render too.
    if let Err(err) = decode_recorder_request(input) {
        let _ = err.to_string();
    }
}

fn valid_messages() -> Vec<String> {
    let t = UtcTime::from_unix_nanos(1_689_879_169_053_000_000);
    let devices = vec!["a8a8b9dc-3995-49ed-9b00-62caac2ce74a".to_owned()];
    let mut out = vec![
        encode_login_request(
            SoapVersion::V12,
            &LoginRequest {
                instance_id: NIL_GUID.to_owned(),
                current_token: Some("TOKEN#1#".to_owned()),
            },
        ),
        encode_login_response(
            SoapVersion::V11,
            &LoginResult {
                token: "TOKEN#1#".to_owned(),
                registration_time: t,
                time_to_live_micros: DEFAULT_TIME_TO_LIVE_MICROS,
                time_to_live_limited: true,
            },
        ),
        encode_fault(SoapVersion::V11, &Fault::token_invalid()),
        encode_fault(SoapVersion::V12, &Fault::token_missing()),
        encode_recorder_request(&RecorderRequest::StartManualRecording {
            token: "T".to_owned(),
            device_ids: devices.clone(),
        }),
        encode_recorder_request(&RecorderRequest::SequencesGet {
            token: "T".to_owned(),
            device_id: devices[0].clone(),
            sequence_type: RECORDING_SEQUENCE_ID.to_owned(),
            min_time: t,
            max_time: t,
            max_count: 5,
        }),
        encode_recorder_response(&RecorderResponse::StartManualRecording(vec![
            ManualRecordingResult::success(devices[0].clone()),
        ])),
        encode_recorder_response(&RecorderResponse::IsManualRecording(vec![
            ManualRecordingInfo {
                device_id: devices[0].clone(),
                is_manual_recording: true,
            },
        ])),
        encode_recorder_response(&RecorderResponse::SequencesGetTypes(vec![
            SequenceType::recording(),
        ])),
        encode_recorder_response(&RecorderResponse::SequencesGet(vec![SequenceEntry {
            time_begin: t,
            time_trigged: t,
            time_end: t,
        }])),
    ];
    out.push(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><StopManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><token>x</token><deviceIds><deviceId>d</deviceId></deviceIds></StopManualRecording></s:Body></s:Envelope>"#.to_owned());
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    Truncate(usize),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (pos, xmlish()).prop_map(|(p, s)| Mutation::Insert(p, s)),
        (pos, 1usize..200).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        pos.prop_map(Mutation::Truncate),
        (pos, any::<u8>()).prop_map(|(p, b)| Mutation::Replace(p, b)),
    ]
}

fn apply(message: &str, mutations: &[Mutation]) -> String {
    let mut bytes = message.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Delete(p, n) => {
                let start = p % len;
                let end = (start + n).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
            Mutation::Insert(p, s) => {
                let at = (p % len).min(bytes.len());
                bytes.splice(at..at, s.bytes());
            }
            Mutation::Duplicate(p, n) => {
                let start = (p % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Truncate(p) => bytes.truncate(p % len),
            Mutation::Replace(p, b) => {
                if let Some(slot) = bytes.get_mut(p % len) {
                    *slot = *b;
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Noise made of XML and SOAP fragments.
fn xmlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("</".to_owned()),
        Just("/>".to_owned()),
        Just("&".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#0;".to_owned()),
        Just("&#x110000;".to_owned()),
        Just("&bogus;".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("]]>".to_owned()),
        Just("<!--".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("<!DOCTYPE x [<!ENTITY e \"&e;&e;\">]>".to_owned()),
        Just("xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"".to_owned()),
        Just("s:".to_owned()),
        Just("Envelope".to_owned()),
        Just("Body".to_owned()),
        Just("Fault".to_owned()),
        Just("deviceIds".to_owned()),
        Just("guid".to_owned()),
        Just("token".to_owned()),
        Just("2023-07-20T18:52:49".to_owned()),
        Just(".9999999999Z".to_owned()),
        Just("\u{feff}".to_owned()),
        "[ -~]{0,6}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(input in any::<String>()) {
        decode_all(&input);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_utf8(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn xml_noise(input in xmlish()) {
        decode_all(&input);
        decode_all(&format!("<Envelope><Body>{input}</Body></Envelope>"));
    }

    #[test]
    fn mutated_valid_messages(index in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let messages = valid_messages();
        let message = &messages[index % messages.len()];
        decode_all(&apply(message, &mutations));
    }
}

#[test]
fn deep_nesting_is_rejected_not_recursed() {
    let deep = "<a>".repeat(200_000);
    let err = decode_recorder_request(&deep);
    assert!(matches!(err, Err(DecodeError::TooDeep { .. })), "{err:?}");
    let deep_body = format!("<Envelope><Body>{}</Body></Envelope>", "<x>".repeat(10_000));
    assert!(decode_fault(&deep_body).is_err());
}

#[test]
fn valid_messages_decode() {
    for message in valid_messages() {
        let ok = decode_login_request(&message).is_ok()
            || decode_login_response(&message).is_ok()
            || decode_recorder_request(&message).is_ok()
            || Operation::ALL
                .into_iter()
                .any(|op| decode_recorder_response(op, &message).is_ok());
        assert!(ok, "{message}");
    }
}
