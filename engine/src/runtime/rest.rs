//! The configuration REST API of a site's management server (XProtect
//! 2022 R2 and later): a bearer token from the identity provider, then
//! `GET /api/rest/v1/…` answering JSON.
//!
//! This file only moves bytes: what the JSON means is
//! [`crate::discovery`]'s business. Never logs the bearer token.

use reqwest::header::{ACCEPT, AUTHORIZATION};

use xprotect::AccessToken;

use super::client::{classify, SoapClient};
use crate::core::{Reply, TransportError};

/// Path prefix of the configuration REST API on the management server.
pub const REST_API_PREFIX: &str = "/api/rest/v1/";

/// A bearer token for the REST API, or why the site would not give one.
#[derive(Debug, Clone)]
pub enum Bearer {
    Token(String),
    /// The identity provider refused the credentials (or answered a fault).
    Refused(String),
}

impl SoapClient {
    /// Asks the site's identity provider for a bearer token with the site's
    /// credentials (password grant, or NTLM for Windows users).
    pub async fn bearer(&self) -> Result<Bearer, TransportError> {
        let password = self.current_password();
        let user = self.inner().endpoint.username.clone();
        Ok(match self.idp_token(&user, &password).await? {
            Ok(AccessToken { access_token, .. }) => Bearer::Token(access_token),
            Err(Reply::CredentialsRejected { message }) => Bearer::Refused(message),
            Err(other) => Bearer::Refused(format!("{other:?}")),
        })
    }

    /// `GET {management_url}/api/rest/v1/{resource}` with the bearer token;
    /// the status and body of any answer.
    pub async fn rest_get(
        &self,
        resource: &str,
        bearer: &str,
    ) -> Result<(u16, String), TransportError> {
        let inner = self.inner();
        let url = format!(
            "{}{REST_API_PREFIX}{resource}",
            inner.endpoint.management_url.trim_end_matches('/')
        );
        let request = inner
            .http
            .get(&url)
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, format!("Bearer {bearer}"));
        let response = self.send(request).await?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| classify(&inner.site, &e))?;
        Ok((status, text))
    }
}
