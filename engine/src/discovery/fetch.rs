//! Reading one site's inventory over its configuration REST API: a bearer
//! token from the identity provider (the site's credentials, as the engine
//! logs in), then `recordingServers`, `hardware` and `cameras`.

use super::inventory::{from_rest_json, SiteInventory};
use crate::core::TransportError;
use crate::runtime::{Bearer, SoapClient};

/// Where a fetch is (for progress on a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Token,
    Reading(&'static str),
    Done { cameras: usize },
}

/// Why a site's inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("site `{site}` is unreachable: {error}")]
    Unreachable { site: String, error: TransportError },
    #[error("site `{site}` refused the credentials: {message}")]
    Refused { site: String, message: String },
    #[error("site `{site}`: GET /api/rest/v1/{resource} answered HTTP {status}{hint}")]
    Http {
        site: String,
        resource: &'static str,
        status: u16,
        hint: &'static str,
    },
    #[error("site `{site}`: {reason}")]
    Malformed { site: String, reason: String },
    #[error(
        "site `{site}` has `login = \"soap\"`: a site before XProtect 2021 R1 has no identity \
         provider and no configuration REST API, so its devices cannot be read; set \
         `login = \"idp\"` if the site is 2021 R1 or later"
    )]
    NoRestApi { site: String },
}

impl DiscoveryError {
    /// A problem of the network or the site (as opposed to the config).
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            DiscoveryError::Unreachable { .. } | DiscoveryError::Http { .. }
        )
    }
}

/// Reads the inventory of `client`'s site.
pub async fn fetch_site(
    client: &SoapClient,
    progress: &(dyn Fn(Stage) + Sync),
) -> Result<SiteInventory, DiscoveryError> {
    let site = client.site().to_owned();
    if client.login_kind() == crate::runtime::SiteLogin::Soap {
        return Err(DiscoveryError::NoRestApi { site });
    }
    let unreachable = |error| DiscoveryError::Unreachable {
        site: site.clone(),
        error,
    };
    progress(Stage::Token);
    let bearer = match client.bearer().await.map_err(unreachable)? {
        Bearer::Token(t) => t,
        Bearer::Refused(message) => {
            return Err(DiscoveryError::Refused {
                site: site.clone(),
                message,
            })
        }
    };
    let mut bodies = Vec::with_capacity(3);
    for resource in ["recordingServers", "hardware", "cameras"] {
        progress(Stage::Reading(resource));
        let (status, body) = client
            .rest_get(resource, &bearer)
            .await
            .map_err(unreachable)?;
        if status != 200 {
            return Err(DiscoveryError::Http {
                site: site.clone(),
                resource,
                status,
                hint: match status {
                    404 => " (the configuration REST API needs XProtect 2022 R2 or later)",
                    401 | 403 => " (the user may not read the configuration)",
                    _ => "",
                },
            });
        }
        bodies.push(body);
    }
    let inv = from_rest_json(&bodies[0], &bodies[1], &bodies[2]).map_err(|reason| {
        DiscoveryError::Malformed {
            site: site.clone(),
            reason,
        }
    })?;
    progress(Stage::Done {
        cameras: inv.cameras.len(),
    });
    Ok(inv)
}
