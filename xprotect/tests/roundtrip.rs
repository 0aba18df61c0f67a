//! Property tests: decoding what this crate encodes gives back the value.

use proptest::prelude::*;
use xprotect::*;

/// Text as it appears in values: no leading/trailing whitespace (decoding
/// trims), no control characters (not representable in XML 1.0), but markup
/// characters and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9#/<>&\"'; é漢\u{1F600}-]{0,24}".prop_map(|s| s.trim().to_owned())
}

fn non_empty_text() -> impl Strategy<Value = String> {
    text().prop_filter("non-empty", |s| !s.is_empty())
}

/// Any instant at .NET tick (100 ns) resolution, which the wire form keeps exactly.
fn time() -> impl Strategy<Value = UtcTime> {
    any::<i64>().prop_map(|n| UtcTime::from_unix_nanos(n / 100 * 100))
}

fn version() -> impl Strategy<Value = SoapVersion> {
    prop_oneof![Just(SoapVersion::V11), Just(SoapVersion::V12)]
}

fn results() -> impl Strategy<Value = Vec<ManualRecordingResult>> {
    prop::collection::vec(
        (text(), any::<i32>(), text()).prop_map(|(device_id, result_code, message)| {
            ManualRecordingResult {
                device_id,
                result_code,
                message,
            }
        }),
        0..4,
    )
}

fn request() -> impl Strategy<Value = RecorderRequest> {
    let ids = || prop::collection::vec(text(), 0..4);
    prop_oneof![
        (text(), ids()).prop_map(
            |(token, device_ids)| RecorderRequest::StartManualRecording { token, device_ids }
        ),
        (text(), ids()).prop_map(|(token, device_ids)| RecorderRequest::StopManualRecording {
            token,
            device_ids
        }),
        (text(), ids()).prop_map(|(token, device_ids)| RecorderRequest::IsManualRecording {
            token,
            device_ids
        }),
        (text(), text())
            .prop_map(|(token, device_id)| RecorderRequest::SequencesGetTypes { token, device_id }),
        (text(), text(), text(), time(), time(), any::<u32>()).prop_map(
            |(token, device_id, sequence_type, min_time, max_time, max_count)| {
                RecorderRequest::SequencesGet {
                    token,
                    device_id,
                    sequence_type,
                    min_time,
                    max_time,
                    max_count,
                }
            }
        ),
    ]
}

fn response() -> impl Strategy<Value = RecorderResponse> {
    prop_oneof![
        results().prop_map(RecorderResponse::StartManualRecording),
        results().prop_map(RecorderResponse::StopManualRecording),
        prop::collection::vec(
            (text(), any::<bool>()).prop_map(|(device_id, is_manual_recording)| {
                ManualRecordingInfo {
                    device_id,
                    is_manual_recording,
                }
            }),
            0..4
        )
        .prop_map(RecorderResponse::IsManualRecording),
        prop::collection::vec(
            (text(), text()).prop_map(|(id, name)| SequenceType { id, name }),
            0..4
        )
        .prop_map(RecorderResponse::SequencesGetTypes),
        prop::collection::vec(
            (time(), time(), time()).prop_map(|(time_begin, time_trigged, time_end)| {
                SequenceEntry {
                    time_begin,
                    time_trigged,
                    time_end,
                }
            }),
            0..4
        )
        .prop_map(RecorderResponse::SequencesGet),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    let code = prop_oneof![
        Just("soap:Server".to_owned()),
        Just("soap:Client".to_owned()),
        Just("soap:VersionMismatch".to_owned()),
        Just("soap:MustUnderstand".to_owned()),
    ];
    (code, text(), any::<Option<i32>>(), any::<Option<i32>>()).prop_map(
        |(code, string, error_number, sub_error_number)| Fault {
            code,
            string,
            error_number,
            sub_error_number,
        },
    )
}

proptest! {
    #[test]
    fn login_request(version in version(), instance_id in non_empty_text(), current_token in proptest::option::of(non_empty_text())) {
        let request = LoginRequest { instance_id, current_token };
        prop_assert_eq!(decode_login_request(&encode_login_request(version, &request)), Ok((version, request)));
    }

    #[test]
    fn login_response(version in version(), token in text(), registration_time in time(), time_to_live_micros in any::<u64>(), time_to_live_limited in any::<bool>()) {
        let result = LoginResult { token, registration_time, time_to_live_micros, time_to_live_limited };
        prop_assert_eq!(decode_login_response(&encode_login_response(version, &result)), Ok(Ok(result)));
    }

    #[test]
    fn recorder_request(request in request()) {
        prop_assert_eq!(decode_recorder_request(&encode_recorder_request(&request)), Ok(request));
    }

    #[test]
    fn recorder_response(response in response()) {
        let op = response.operation();
        prop_assert_eq!(decode_recorder_response(op, &encode_recorder_response(&response)), Ok(Ok(response)));
    }

    #[test]
    fn fault_in_both_versions(version in version(), fault in fault()) {
        let encoded = encode_fault(version, &fault);
        prop_assert_eq!(sniff_soap_version(&encoded), Some(version));
        prop_assert_eq!(decode_fault(&encoded), Ok(fault.clone()));
        prop_assert_eq!(decode_login_response(&encoded), Ok(Err(fault.clone())));
        for op in Operation::ALL {
            prop_assert_eq!(decode_recorder_response(op, &encoded), Ok(Err(fault.clone())));
        }
    }

    #[test]
    fn time_format_parse(t in time()) {
        let wire = t.format();
        prop_assert_eq!(wire.len(), 28);
        prop_assert_eq!(UtcTime::parse(&wire), Ok(t));
        // Zone-less, and with fewer fraction digits, mean the same instant.
        let zone_less = wire.trim_end_matches('Z');
        prop_assert_eq!(UtcTime::parse(zone_less), Ok(t));
        let short = zone_less.trim_end_matches('0').trim_end_matches('.');
        prop_assert_eq!(UtcTime::parse(short), Ok(t));
        let offset = format!("{zone_less}+00:00");
        prop_assert_eq!(UtcTime::parse(&offset), Ok(t));
    }

    #[test]
    fn time_order_survives_formatting(a in any::<i64>(), b in any::<i64>()) {
        let (a, b) = (UtcTime::from_unix_nanos(a), UtcTime::from_unix_nanos(b));
        let (pa, pb) = (UtcTime::parse(&a.format()), UtcTime::parse(&b.format()));
        prop_assert!(pa.is_ok() && pb.is_ok());
        if let (Ok(pa), Ok(pb)) = (pa, pb) {
            if a <= b {
                prop_assert!(pa <= pb);
            }
        }
    }
}
