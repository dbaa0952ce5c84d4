//! Federated tokens for workload identity federation tests: the emulator
//! plays the external issuer (a Kubernetes service-account issuer, a CI
//! system) and signs a token an app registered with a matching federated
//! credential (`federated_credentials` on its registration, with no `keys`)
//! can present as its client assertion.

use super::{Admin, AdminError};
use crate::model::directory::FEDERATED_AUDIENCE;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

/// What `POST /_admin/federated-token` takes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedTokenRequest {
    /// `{base}/federation` unless given.
    #[serde(default)]
    pub issuer: Option<String>,
    pub subject: String,
    /// `api://AzureADTokenExchange` unless given.
    #[serde(default)]
    pub audience: Option<String>,
    /// Seconds from now to `exp` (may be negative, for expired tokens); 3600 unless given.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// The minted token and the issuer it names.
#[derive(Clone, Debug, Serialize)]
pub struct FederatedToken {
    pub token: String,
    pub issuer: String,
}

impl Admin {
    /// The issuer federated tokens name unless told otherwise.
    pub fn federation_issuer(&self) -> String {
        format!("{}/federation", self.app.base_url)
    }

    /// Signs a federated token with the emulator's own key.
    pub fn federated_token(&self, r: FederatedTokenRequest) -> Result<FederatedToken, AdminError> {
        if r.subject.trim().is_empty() {
            return Err(AdminError::BadRequest("subject is required".into()));
        }
        let issuer = r.issuer.unwrap_or_else(|| self.federation_issuer());
        let now = self.app.clock.unix();
        let claims = json!({
            "iss": issuer,
            "sub": r.subject,
            "aud": r.audience.unwrap_or_else(|| FEDERATED_AUDIENCE.to_owned()),
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(r.expires_in.unwrap_or(3600)),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let mut header = Map::new();
        header.insert("kid".into(), json!(self.app.kid));
        let token = self
            .app
            .signer
            .sign_jwt(header, &claims)
            .map_err(AdminError::BadRequest)?;
        Ok(FederatedToken { token, issuer })
    }
}
