//! The NTLMv2 proof check a domain controller makes, which the `sspi`
//! crate's server leaves out.
//!
//! `sspi` checks an AUTHENTICATE message only through its MIC (keyed by
//! the session key, hence by the password): a client that sends no MIC
//! (older stacks, or a forged message with the MIC flag cleared) would be
//! accepted with any password. A domain controller checks the NTProofStr
//! of every NTLMv2 response, so the mock does too (MS-NLMP 3.3.2):
//!
//! - NTOWFv2 = HMAC-MD5(MD4(UNICODE(password)), UNICODE(Upper(user) ‖ domain))
//! - NTProofStr = HMAC-MD5(NTOWFv2, ServerChallenge ‖ temp), where temp is
//!   the rest of the client's NtChallengeResponse after its first 16 bytes,
//!   which must equal NTProofStr.
//!
//! The hashes come from the RustCrypto crates; this file only reads the
//! AUTHENTICATE message's field table (no crate exposes it: `sspi` keeps
//! its parser private) and compares. NTLMv1 and LM-only answers fail.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;

/// The server challenge of a CHALLENGE message (bytes 24..32).
pub(crate) fn server_challenge(challenge: &[u8]) -> Option<[u8; 8]> {
    challenge.get(24..32)?.try_into().ok()
}

/// Whether the NTLMv2 response of the AUTHENTICATE message `authenticate`
/// (Unicode strings, as `sspi` requires) answers `server_challenge` with
/// `password`, for the user and domain the message names.
pub(crate) fn proves_password(
    authenticate: &[u8],
    server_challenge: &[u8; 8],
    password: &str,
) -> bool {
    let (Some(nt), Some(domain), Some(user)) = (
        field(authenticate, 20),
        field(authenticate, 28),
        field(authenticate, 36),
    ) else {
        return false;
    };
    // 16 bytes of NTProofStr and at least the blob header: NTLMv1's 24
    // bytes (or nothing) are not an NTLMv2 response.
    if nt.len() <= 24 {
        return false;
    }
    let (Some(user), Some(domain)) = (utf16le(user), utf16le(domain)) else {
        return false;
    };
    let nt_hash = Md4::digest(unicode(password));
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(&nt_hash) else {
        return false;
    };
    mac.update(&unicode(&(user.to_uppercase() + &domain)));
    let ntowf = mac.finalize().into_bytes();
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(&ntowf) else {
        return false;
    };
    mac.update(server_challenge);
    mac.update(&nt[16..]);
    mac.verify_slice(&nt[..16]).is_ok()
}

/// Whether the client says its AUTHENTICATE message carries a MIC: the
/// MsvAvFlags pair (id 6) of its NTLMv2 response has bit 0x2 (MS-NLMP
/// 2.2.2.1). SPNEGO then requires a mechListMIC (MS-SPNG 3.3.5.1).
pub(crate) fn has_mic(authenticate: &[u8]) -> bool {
    // NTProofStr (16) and the blob's fixed part (28) precede the AV pairs.
    let Some(mut pairs) = field(authenticate, 20).and_then(|nt| nt.get(44..)) else {
        return false;
    };
    while let Some(h) = pairs.get(..4) {
        let id = u16::from_le_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
        let Some(value) = pairs.get(4..4 + len) else {
            return false;
        };
        match id {
            0 => return false,
            6 if len == 4 => {
                return u32::from_le_bytes([value[0], value[1], value[2], value[3]]) & 0x2 != 0
            }
            _ => pairs = &pairs[4 + len..],
        }
    }
    false
}

/// A field of an NTLM message: its (length u16, max length u16, offset
/// u32) header at `at`, the bytes it points to.
fn field(msg: &[u8], at: usize) -> Option<&[u8]> {
    let h = msg.get(at..at + 8)?;
    let len = usize::from(u16::from_le_bytes([h[0], h[1]]));
    let off = usize::try_from(u32::from_le_bytes([h[4], h[5], h[6], h[7]])).ok()?;
    msg.get(off..off.checked_add(len)?)
}

fn utf16le(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

fn unicode(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-NLMP 4.2.4 (NTLMv2 authentication): user "User", domain
    /// "Domain", password "Password", server challenge 0123456789abcdef,
    /// and the NTProofStr the specification computes for its temp blob.
    #[test]
    fn the_specification_example() {
        let challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        // temp (MS-NLMP 4.2.4.1.3 input): header, time 0, client
        // challenge aa.., 4 zero bytes, the AV pairs of 4.2.4, 4 zero bytes.
        let mut temp = vec![0x01, 0x01, 0, 0, 0, 0, 0, 0];
        temp.extend([0u8; 8]);
        temp.extend([0xaa; 8]);
        temp.extend([0u8; 4]);
        temp.extend([
            0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00,
            0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
            0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]);
        temp.extend([0u8; 4]);
        let proof = [
            0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef,
            0x6a, 0x1c,
        ];
        let mut nt = proof.to_vec();
        nt.extend(&temp);
        let msg = authenticate("User", "Domain", &nt);
        assert!(proves_password(&msg, &challenge, "Password"));
        assert!(!proves_password(&msg, &challenge, "password"));
        let mut other = challenge;
        other[0] ^= 1;
        assert!(!proves_password(&msg, &other, "Password"));
        // An NTLMv1-sized answer, a truncated message.
        assert!(!proves_password(
            &authenticate("User", "Domain", &[0; 24]),
            &challenge,
            "Password"
        ));
        assert!(!proves_password(&msg[..40], &challenge, "Password"));

        // The example's AV pairs carry no MsvAvFlags: no MIC announced.
        assert!(!has_mic(&msg));
        let mut flagged = nt[..44].to_vec();
        flagged.extend([0x06, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00]);
        flagged.extend([0u8; 4]);
        assert!(has_mic(&authenticate("User", "Domain", &flagged)));
        flagged[48] = 0x01; // MsvAvFlags without the MIC bit
        assert!(!has_mic(&authenticate("User", "Domain", &flagged)));
        // A pair running past the end.
        let mut cut = nt[..44].to_vec();
        cut.extend([0x06, 0x00, 0x40, 0x00, 0x02]);
        assert!(!has_mic(&authenticate("User", "Domain", &cut)));
    }

    /// An AUTHENTICATE message with just the fields this file reads.
    fn authenticate(user: &str, domain: &str, nt: &[u8]) -> Vec<u8> {
        let (user, domain) = (unicode(user), unicode(domain));
        let mut msg = b"NTLMSSP\0".to_vec();
        msg.extend(3u32.to_le_bytes());
        let mut payload = Vec::new();
        let base = 64usize;
        let mut header = |bytes: &[u8], msg: &mut Vec<u8>| {
            let off = base + payload.len();
            msg.extend((bytes.len() as u16).to_le_bytes());
            msg.extend((bytes.len() as u16).to_le_bytes());
            msg.extend((off as u32).to_le_bytes());
            payload.extend_from_slice(bytes);
        };
        header(&[], &mut msg); // LM
        header(nt, &mut msg);
        header(&domain, &mut msg);
        header(&user, &mut msg);
        header(&[], &mut msg); // workstation
        header(&[], &mut msg); // session key
        msg.extend(0u32.to_le_bytes()); // flags
        assert_eq!(msg.len(), base);
        msg.extend(payload);
        msg
    }
}
