//! Bearer API keys: the presented token's SHA-256 is compared with every
//! configured key's digest in constant time (`subtle`), always all of them,
//! so timing says neither which key nor how much of one matched. Tokens are
//! never logged; only the matching key's *name* is (the audit "who").

use axum::http::{header, HeaderMap};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::error::ApiError;
use crate::config::{sha256, ApiKey, Role};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The API key's name.
    pub name: String,
    pub role: Role,
}

/// Checks `Authorization: Bearer <key>` against `keys`.
pub fn authenticate(keys: &[ApiKey], headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing_key",
            "missing `Authorization: Bearer <key>` header",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "malformed_header",
                "the `Authorization` header is not `Bearer <key>`",
            )
        })?;
    let digest = sha256(token.as_bytes());
    let mut found = subtle::Choice::from(0);
    let mut index = 0u32;
    for (i, key) in keys.iter().enumerate() {
        let hit = key.sha256.ct_eq(&digest);
        index.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), hit);
        found |= hit;
    }
    if !bool::from(found) {
        return Err(ApiError::unauthorized("unknown_key", "unknown API key"));
    }
    let key = &keys[index as usize];
    Ok(Caller {
        name: key.name.clone(),
        role: key.role,
    })
}

/// Like [`authenticate`], and the key's role must be at least `needed`
/// (`metrics` < `read` < `write`).
pub fn authorize(keys: &[ApiKey], headers: &HeaderMap, needed: Role) -> Result<Caller, ApiError> {
    let caller = authenticate(keys, headers)?;
    if caller.role < needed {
        return Err(ApiError::forbidden(&caller.name, caller.role, needed));
    }
    Ok(caller)
}

/// Like [`authenticate`], and the key must have role `write`.
pub fn authorize_write(keys: &[ApiKey], headers: &HeaderMap) -> Result<Caller, ApiError> {
    authorize(keys, headers, Role::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn keys() -> Vec<ApiKey> {
        vec![
            ApiKey {
                name: "writer".into(),
                role: Role::Write,
                sha256: sha256(b"write-key-0123456789"),
            },
            ApiKey {
                name: "reader".into(),
                role: Role::Read,
                sha256: sha256(b"read-key-0123456789"),
            },
        ]
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn keys_roles_and_refusals() {
        let k = keys();
        let w = authenticate(&k, &headers("Bearer write-key-0123456789")).unwrap();
        assert_eq!((w.name.as_str(), w.role), ("writer", Role::Write));
        let r = authenticate(&k, &headers("bearer  read-key-0123456789 ")).unwrap();
        assert_eq!(r.name, "reader");
        assert_eq!(
            authorize_write(&k, &headers("Bearer read-key-0123456789"))
                .unwrap_err()
                .code,
            "forbidden"
        );
        for bad in [
            "Bearer nope",
            "Basic d3JpdGU=",
            "Bearer",
            "write-key-0123456789",
        ] {
            assert_eq!(
                authenticate(&k, &headers(bad)).unwrap_err().code,
                "unauthorized"
            );
        }
        assert_eq!(
            authenticate(&k, &HeaderMap::new()).unwrap_err().code,
            "unauthorized"
        );
    }
}
