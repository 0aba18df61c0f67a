//! SPNEGO framing (RFC 4178, MS-SPNG) around the mock's NTLM server: the
//! `Negotiate` tokens that .NET on Linux, pyspnego's `negotiate` protocol
//! and Windows' own Negotiate package send instead of a bare NTLMSSP
//! message.
//!
//! This file only reads and writes the DER messages — the client's first
//! token (a GSS-API InitialContextToken holding a NegTokenInit, first byte
//! 0x60), its later NegTokenResp (0xa1), and the server's NegTokenResp —
//! with the `der` crate's derived codecs (strict DER: a cut, padded or
//! mis-tagged token is an error, never a panic). It knows nothing of NTLM:
//! `auth.rs` runs the NTLM handshake on the tokens inside and signs and
//! verifies the mechListMIC. Kerberos is never selected: the mock has no
//! KDC, so NTLM is the only mechanism it offers.

use der::asn1::{BitString, ContextSpecific, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Enumerated, Sequence, TagMode, TagNumber};

/// The SPNEGO mechanism (1.3.6.1.5.5.2).
const SPNEGO_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.2");
/// The NTLM mechanism (1.3.6.1.4.1.311.2.2.10).
const NTLM_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.2.10");

/// First byte of a GSS-API InitialContextToken (`[APPLICATION 0]`).
pub(crate) const INIT_TAG: u8 = 0x60;
/// First byte of a NegTokenResp (`[1]`, constructed).
pub(crate) const RESP_TAG: u8 = 0xa1;

/// negState (RFC 4178 4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enumerated)]
#[repr(u32)]
pub(crate) enum NegState {
    AcceptCompleted = 0,
    AcceptIncomplete = 1,
    Reject = 2,
    /// The acceptor chose a mechanism other than the client's first: the
    /// mechListMIC exchange is required (RFC 4178 5).
    RequestMic = 3,
}

/// `InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE { thisMech
/// MechType, innerToken ANY }` — here with innerToken `[0] NegTokenInit`.
/// Coded as a universal SEQUENCE; the first byte is swapped on the wire.
#[derive(Sequence)]
struct InitialContextToken {
    this_mech: ObjectIdentifier,
    #[asn1(context_specific = "0")]
    neg_token_init: NegTokenInit,
}

/// RFC 4178 4.2.1 (EXPLICIT TAGS).
#[derive(Sequence)]
struct NegTokenInit {
    #[asn1(context_specific = "0")]
    mech_types: Vec<ObjectIdentifier>,
    #[asn1(context_specific = "1", optional = "true")]
    req_flags: Option<BitString>,
    #[asn1(context_specific = "2", optional = "true")]
    mech_token: Option<OctetString>,
    #[asn1(context_specific = "3", optional = "true")]
    mech_list_mic: Option<OctetString>,
}

/// RFC 4178 4.2.2 (EXPLICIT TAGS); on the wire as `[1] NegTokenResp`.
#[derive(Sequence)]
struct NegTokenResp {
    #[asn1(context_specific = "0", optional = "true")]
    neg_state: Option<NegState>,
    #[asn1(context_specific = "1", optional = "true")]
    supported_mech: Option<ObjectIdentifier>,
    #[asn1(context_specific = "2", optional = "true")]
    response_token: Option<OctetString>,
    #[asn1(context_specific = "3", optional = "true")]
    mech_list_mic: Option<OctetString>,
}

/// The client's first token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Init {
    /// The DER encoding of the client's MechTypeList: the data both
    /// mechListMICs sign.
    pub(crate) mech_types: Vec<u8>,
    /// Where NTLM stands in the client's list (0 = its first choice), or
    /// `None` if the client does not offer NTLM.
    pub(crate) ntlm_index: Option<usize>,
    /// The optimistic token of the client's first choice.
    pub(crate) mech_token: Option<Vec<u8>>,
}

/// A client's NegTokenResp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resp {
    pub(crate) response_token: Option<Vec<u8>>,
    pub(crate) mech_list_mic: Option<Vec<u8>>,
}

/// Why a token is not SPNEGO the mock understands.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SpnegoError {
    #[error("not a SPNEGO token: {0}")]
    Malformed(String),
    #[error("the token is for mechanism {0}, not SPNEGO")]
    NotSpnego(String),
    #[error("expected a [1] NegTokenResp, found tag [{0}]")]
    WrongChoice(u8),
}

fn malformed(e: impl std::fmt::Display) -> SpnegoError {
    SpnegoError::Malformed(e.to_string())
}

/// Decodes the client's first token.
pub(crate) fn decode_init(token: &[u8]) -> Result<Init, SpnegoError> {
    if token.first() != Some(&INIT_TAG) {
        return Err(malformed("expected an InitialContextToken (0x60)"));
    }
    // [APPLICATION 0] IMPLICIT SEQUENCE: the same length and contents as
    // a universal SEQUENCE.
    let mut seq = token.to_vec();
    seq[0] = 0x30;
    let t = InitialContextToken::from_der(&seq).map_err(malformed)?;
    if t.this_mech != SPNEGO_OID {
        return Err(SpnegoError::NotSpnego(t.this_mech.to_string()));
    }
    let init = t.neg_token_init;
    Ok(Init {
        mech_types: init.mech_types.to_der().map_err(malformed)?,
        ntlm_index: init.mech_types.iter().position(|m| *m == NTLM_OID),
        mech_token: init.mech_token.map(OctetString::into_bytes),
    })
}

/// Decodes a client's NegTokenResp.
pub(crate) fn decode_resp(token: &[u8]) -> Result<Resp, SpnegoError> {
    if token.first() != Some(&RESP_TAG) {
        return Err(malformed("expected a NegTokenResp (0xa1)"));
    }
    let choice = ContextSpecific::<NegTokenResp>::from_der(token).map_err(malformed)?;
    if choice.tag_number != TagNumber::N1 {
        return Err(SpnegoError::WrongChoice(choice.tag_number.value()));
    }
    Ok(Resp {
        response_token: choice.value.response_token.map(OctetString::into_bytes),
        mech_list_mic: choice.value.mech_list_mic.map(OctetString::into_bytes),
    })
}

/// The server's NegTokenResp. `supported_mech` names NTLM (on the first
/// answer only, as RFC 4178 4.2.2 says).
pub(crate) fn encode_resp(
    state: NegState,
    supported_mech: bool,
    response_token: Option<Vec<u8>>,
    mech_list_mic: Option<Vec<u8>>,
) -> Vec<u8> {
    let octets = |v: Option<Vec<u8>>| v.and_then(|v| OctetString::new(v).ok());
    let resp = ContextSpecific {
        tag_number: TagNumber::N1,
        tag_mode: TagMode::Explicit,
        value: NegTokenResp {
            neg_state: Some(state),
            supported_mech: supported_mech.then_some(NTLM_OID),
            response_token: octets(response_token),
            mech_list_mic: octets(mech_list_mic),
        },
    };
    // Owned bytes far below DER's length limits always encode.
    resp.to_der().unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const KRB5: &str = "1.2.840.113554.1.2.2";
    const NTLM: &str = "1.3.6.1.4.1.311.2.2.10";

    fn oid(s: &str) -> ObjectIdentifier {
        ObjectIdentifier::new(s).expect("an OID")
    }

    /// A client's first token offering `mechs` (OID strings), with an
    /// optimistic `mech_token`.
    pub(crate) fn init_token(mechs: &[&str], mech_token: Option<Vec<u8>>) -> Vec<u8> {
        init_token_for("1.3.6.1.5.5.2", mechs, mech_token)
    }

    fn init_token_for(this_mech: &str, mechs: &[&str], mech_token: Option<Vec<u8>>) -> Vec<u8> {
        let mut der = InitialContextToken {
            this_mech: oid(this_mech),
            neg_token_init: NegTokenInit {
                mech_types: mechs.iter().map(|m| oid(m)).collect(),
                req_flags: None,
                mech_token: mech_token.map(|t| OctetString::new(t).unwrap()),
                mech_list_mic: None,
            },
        }
        .to_der()
        .unwrap();
        der[0] = INIT_TAG;
        der
    }

    /// A client's NegTokenResp (no negState, as clients send it).
    pub(crate) fn resp_token(response_token: Option<Vec<u8>>, mic: Option<Vec<u8>>) -> Vec<u8> {
        ContextSpecific {
            tag_number: TagNumber::N1,
            tag_mode: TagMode::Explicit,
            value: NegTokenResp {
                neg_state: None,
                supported_mech: None,
                response_token: response_token.map(|t| OctetString::new(t).unwrap()),
                mech_list_mic: mic.map(|m| OctetString::new(m).unwrap()),
            },
        }
        .to_der()
        .unwrap()
    }

    /// A server NegTokenResp, read back: (negState, supportedMech is NTLM,
    /// responseToken, mechListMIC).
    pub(crate) type ServerResp = (Option<u8>, bool, Option<Vec<u8>>, Option<Vec<u8>>);

    pub(crate) fn read_server_resp(token: &[u8]) -> ServerResp {
        let t = ContextSpecific::<NegTokenResp>::from_der(token).unwrap();
        assert_eq!(t.tag_number, TagNumber::N1);
        let t = t.value;
        (
            t.neg_state.map(|s| s as u8),
            t.supported_mech == Some(NTLM_OID),
            t.response_token.map(OctetString::into_bytes),
            t.mech_list_mic.map(OctetString::into_bytes),
        )
    }

    /// Tokens encoded by another ASN.1 library (`picky-krb`, which `sspi`
    /// uses), byte for byte: a NegTokenInit offering Kerberos then NTLM
    /// with an optimistic token, and a NegTokenResp without negState.
    #[test]
    fn tokens_from_another_encoder_are_read() {
        let init = [
            0x60, 0x36, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x2c, 0x30, 0x2a,
            0xa0, 0x19, 0x30, 0x17, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02,
            0x02, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2,
            0x0d, 0x04, 0x0b, 0x6e, 0x82, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x4e, 0x54, 0x4c, 0x4d,
        ];
        let i = decode_init(&init).unwrap();
        assert_eq!(i.ntlm_index, Some(1));
        assert_eq!(i.mech_token.as_deref(), Some(&b"\x6e\x82 not NTLM"[..]));
        assert_eq!(i.mech_types, init[16..16 + 25].to_vec());
        assert_eq!(
            init_token(&[KRB5, NTLM], Some(b"\x6e\x82 not NTLM".to_vec())),
            init
        );

        let mut resp = vec![0xa1, 0x23, 0x30, 0x21, 0xa2, 0x0b, 0x04, 0x09];
        resp.extend(b"NTLMSSP\0\x03");
        resp.extend([0xa3, 0x12, 0x04, 0x10]);
        resp.extend([1; 16]);
        let r = decode_resp(&resp).unwrap();
        assert_eq!(r.response_token.as_deref(), Some(&b"NTLMSSP\0\x03"[..]));
        assert_eq!(r.mech_list_mic, Some(vec![1; 16]));
        assert_eq!(
            resp_token(Some(b"NTLMSSP\0\x03".to_vec()), Some(vec![1; 16])),
            resp
        );
    }

    #[test]
    fn a_negtokeninit_is_read() {
        let token = init_token(&[KRB5, NTLM], Some(b"NTLMSSP\0\x01".to_vec()));
        assert_eq!(token[0], INIT_TAG);
        let init = decode_init(&token).unwrap();
        assert_eq!(init.ntlm_index, Some(1));
        assert_eq!(init.mech_token.as_deref(), Some(&b"NTLMSSP\0\x01"[..]));
        // The MechTypeList exactly as encoded inside the token.
        let at = token
            .windows(init.mech_types.len())
            .position(|w| w == init.mech_types.as_slice());
        assert!(at.is_some(), "mechTypes bytes are the client's");
        assert_eq!(init.mech_types[0], 0x30);

        let kerberos_only = decode_init(&init_token(&[KRB5], None)).unwrap();
        assert_eq!(kerberos_only.ntlm_index, None);
        assert_eq!(kerberos_only.mech_token, None);
    }

    #[test]
    fn a_negtokenresp_round_trips() {
        let token = resp_token(Some(b"NTLMSSP\0\x03".to_vec()), Some(vec![1; 16]));
        assert_eq!(token[0], RESP_TAG);
        let resp = decode_resp(&token).unwrap();
        assert_eq!(resp.response_token.as_deref(), Some(&b"NTLMSSP\0\x03"[..]));
        assert_eq!(resp.mech_list_mic, Some(vec![1; 16]));

        let server = encode_resp(
            NegState::AcceptIncomplete,
            true,
            Some(b"NTLMSSP\0\x02".to_vec()),
            None,
        );
        assert_eq!(server[0], RESP_TAG);
        assert_eq!(
            read_server_resp(&server),
            (Some(1), true, Some(b"NTLMSSP\0\x02".to_vec()), None)
        );
        let done = encode_resp(NegState::AcceptCompleted, false, None, Some(vec![2; 16]));
        assert_eq!(
            read_server_resp(&done),
            (Some(0), false, None, Some(vec![2; 16]))
        );
        let mic = encode_resp(NegState::RequestMic, true, None, None);
        assert_eq!(read_server_resp(&mic), (Some(3), true, None, None));
    }

    #[test]
    fn foreign_and_broken_tokens_are_errors() {
        assert!(decode_init(b"").is_err());
        assert!(decode_init(b"NTLMSSP\0").is_err());
        assert!(decode_resp(&[0xa1, 0x05, 0x30]).is_err());
        let good = init_token(&[NTLM], Some(vec![1, 2, 3]));
        assert!(decode_init(&good[..good.len() - 1]).is_err());
        // A Kerberos InitialContextToken (thisMech = krb5) is not SPNEGO.
        assert_eq!(
            decode_init(&init_token_for(KRB5, &[KRB5], None)),
            Err(SpnegoError::NotSpnego(KRB5.into()))
        );
    }

    proptest! {
        /// Outside input never panics the decoders: random bytes, and
        /// valid tokens cut or with one byte changed.
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                cut in 0usize..200, flip in 0usize..200, xor in 1u8..=255) {
            let _ = decode_init(&bytes);
            let _ = decode_resp(&bytes);
            let mut init = init_token(&[KRB5, NTLM], Some(bytes.clone()));
            let mut resp = resp_token(Some(bytes), Some(vec![7; 16]));
            let _ = decode_init(&init[..cut.min(init.len())]);
            let _ = decode_resp(&resp[..cut.min(resp.len())]);
            let i = flip % init.len();
            init[i] ^= xor;
            let _ = decode_init(&init);
            let r = flip % resp.len();
            resp[r] ^= xor;
            let _ = decode_resp(&resp);
        }
    }
}
