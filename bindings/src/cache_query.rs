//! msal Python's entry-level cache API (`search`, `modify`) and
//! `remove_tokens_for_client`: entries cross as msal's dicts in JSON.

use crate::cache::TokenCache;
use crate::clients::ConfidentialClientApplication;
use crate::guard::call;
use crate::types::AuthError;
use idflow::error::{IdFlowError, LocalCode};
use idflow::{CacheEntry, CredentialType};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn credential_type(name: &str) -> Result<CredentialType, IdFlowError> {
    CredentialType::parse(name).ok_or_else(|| {
        IdFlowError::local(
            LocalCode::InvalidParameter,
            "credential_type must be one of AccessToken, RefreshToken, IdToken, Account, AppMetadata",
        )
    })
}

/// A JSON object from the caller; the error names what was expected, never the text.
fn object(json: &str, what: &str) -> Result<CacheEntry, IdFlowError> {
    serde_json::from_str(json).map_err(|_| {
        IdFlowError::local(
            LocalCode::InvalidParameter,
            format!("{what} must be a JSON object"),
        )
    })
}

#[uniffi::export]
impl TokenCache {
    /// msal's `search`: the matching entries of one section, as a JSON
    /// array of msal's dicts. `query_json` is a JSON object or `None`;
    /// `now_secs` is the time in epoch seconds (`None`: the system clock).
    pub fn search_json(
        &self,
        credential_type_name: String,
        target: Vec<String>,
        query_json: Option<String>,
        now_secs: Option<u64>,
    ) -> Result<String, AuthError> {
        call(
            || {
                let ct = credential_type(&credential_type_name)?;
                let query = query_json
                    .as_deref()
                    .map(|q| object(q, "query"))
                    .transpose()?;
                let now = now_secs.map_or_else(SystemTime::now, |s| {
                    UNIX_EPOCH + Duration::from_secs(s.min(idflow_max_secs()))
                });
                let found = self.core().search_entries(ct, &target, query.as_ref(), now);
                Ok(serde_json::to_string(&found).unwrap_or_else(|_| "[]".into()))
            },
            |s| s,
        )
    }

    /// msal's `modify`: the entry under `old_json`'s key becomes it updated
    /// with `new_json`'s members, or is removed when `new_json` is `None`
    /// or `{}`.
    pub fn modify_json(
        &self,
        credential_type_name: String,
        old_json: String,
        new_json: Option<String>,
    ) -> Result<(), AuthError> {
        call(
            || {
                let ct = credential_type(&credential_type_name)?;
                let old = object(&old_json, "old_entry")?;
                let new = new_json
                    .as_deref()
                    .map(|n| object(n, "new_key_value_pairs"))
                    .transpose()?;
                self.core().modify_entry(ct, &old, new.as_ref())
            },
            |()| (),
        )
    }
}

/// The latest time a cache entry is read as (the year 9999).
fn idflow_max_secs() -> u64 {
    253_402_300_799
}

#[uniffi::export]
impl ConfidentialClientApplication {
    /// msal's `remove_tokens_for_client`: this client's app-only tokens
    /// leave the cache. Returns how many were removed.
    pub fn remove_tokens_for_client(&self) -> Result<u64, AuthError> {
        call(|| Ok(self.core().remove_tokens_for_client()), |n| n as u64)
    }
}
