//! On-behalf-of with the cache: the token a web API obtained for an
//! incoming assertion is reused for the next call bringing the same
//! assertion and scopes, in this process (memory) and in every process
//! sharing a partition store (the partition is the assertion's hash).
//!
//! Where the tokens are kept and why MSAL.NET's rule is followed rather
//! than msal Python's: `crate::cache` `on_behalf_of.rs`. Concurrent misses
//! share one request, inside the process and across processes (the same
//! lease as client credentials, `super::distributed`). A claims request
//! always goes to the server (its answer is kept for the calls after it).
//! The refresh token an answer may bring is not kept: the incoming
//! assertion outlives no access token by much, and a new assertion is a new
//! partition anyway.

use super::silent::{cache_result, FlightKey, EXPIRY_BUFFER};
use super::{app_scopes, Engine};
use crate::cache::{AccessTokenQuery, PartitionKey, SaveRequest, TokenCache};
use crate::error::IdFlowError;
use crate::protocol::token::{Account, AuthenticationResult};
use crate::secret::UserAssertion;

impl Engine {
    /// `acquire_token_on_behalf_of`: a valid cached token for this assertion
    /// and scopes, else one request (shared with concurrent callers).
    pub async fn on_behalf_of_cached<S: AsRef<str>>(
        &self,
        user_assertion: &UserAssertion,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = app_scopes(scopes)?;
        if user_assertion.expose().trim().is_empty() {
            // The request path reports it.
            return self.on_behalf_of(user_assertion, &scopes, claims).await;
        }
        let partition = PartitionKey::on_behalf_of(user_assertion);
        let tokens = self.cache.on_behalf_of_tokens();
        if claims.is_some() {
            let r = self.on_behalf_of(user_assertion, &scopes, claims).await;
            if let Ok(fresh) = &r {
                self.keep_on_behalf_of(&tokens, &partition, &scopes, fresh);
                tokens.after_access(&partition).await;
            }
            return r;
        }
        tokens.before_access(&partition, false).await;
        if let Some(hit) = self.on_behalf_of_hit(&tokens, &partition, &scopes) {
            return Ok(hit);
        }
        let key = FlightKey {
            // No home account id looks like this (43 base64url characters
            // behind a prefix no home account id has).
            home_account_id: Some(format!("obo:{}", partition.as_str())),
            scopes: crate::cache::scope_set_key(&scopes),
            claims: None,
            force_refresh: false,
        };
        let scopes_key = key.scopes.clone();
        self.flights
            .run(key, || async {
                if let Some(hit) = self.on_behalf_of_hit(&tokens, &partition, &scopes) {
                    return Ok(hit);
                }
                // The realm the tokens are filed under is the one discovery
                // establishes: settle it before looking across processes.
                self.resolve().await?;
                self.across_processes(
                    &tokens,
                    &partition,
                    &scopes_key,
                    || Ok(self.on_behalf_of_hit(&tokens, &partition, &scopes)),
                    || async {
                        let fresh = self.on_behalf_of(user_assertion, &scopes, None).await?;
                        self.keep_on_behalf_of(&tokens, &partition, &scopes, &fresh);
                        Ok(fresh)
                    },
                )
                .await
            })
            .await
    }

    fn on_behalf_of_hit(
        &self,
        tokens: &TokenCache,
        partition: &PartitionKey,
        scopes: &[String],
    ) -> Option<AuthenticationResult> {
        let now = self.sender.clock.now();
        let q = AccessTokenQuery {
            client_id: &self.client_id,
            environment: &self.environment,
            realm: self.lookup_realm(),
            home_account_id: Some(partition.as_str()),
            scopes,
        };
        let hit = tokens
            .access_token(&q, now)
            .filter(|at| at.expires_on > now + EXPIRY_BUFFER);
        tracing::debug!(
            target: "idflow::cache",
            hit = hit.is_some(),
            "on-behalf-of token cache lookup"
        );
        // The entry is filed under the assertion's hash, not the user's
        // account: a cached answer names no account (as an answer without
        // `client_info` does).
        hit.map(|at| cache_result(at, None))
    }

    /// Files a fresh on-behalf-of answer under the assertion's hash in the
    /// companion cache: the access token only.
    fn keep_on_behalf_of(
        &self,
        tokens: &TokenCache,
        partition: &PartitionKey,
        requested: &[String],
        fresh: &AuthenticationResult,
    ) {
        let realm = self.lookup_realm().to_owned();
        let kept = AuthenticationResult {
            account: Some(Account {
                home_account_id: partition.as_str().to_owned(),
                environment: self.environment.clone(),
                realm: realm.clone(),
                username: String::new(),
                local_account_id: String::new(),
            }),
            refresh_token: None,
            id_token: None,
            id_token_claims: None,
            client_info: None,
            family_id: None,
            ..fresh.clone()
        };
        tokens.save(&SaveRequest {
            client_id: &self.client_id,
            environment: &self.environment,
            realm: &realm,
            requested_scopes: requested,
            result: &kept,
            account_source: None,
            authority_type: "MSSTS",
            now: fresh.received_at,
        });
    }
}
