//! On-behalf-of tokens, kept beside the cache rather than in it.
//!
//! A web API's on-behalf-of token is found again by the incoming assertion,
//! not by an account: the API has no account to ask with, only the token it
//! was called with. MSAL.NET files such tokens under the assertion's hash
//! and looks them up by it (its cache entries carry a `user_assertion_hash`,
//! and `SuggestedWebCacheKeyFactory.cs` in
//! AzureAD/microsoft-authentication-library-for-dotnet
//! `src/client/Microsoft.Identity.Client/Cache/` suggests that hash as the
//! partition). msal Python 1.39 writes the answer under the user's account
//! and never reads it back for the next on-behalf-of call
//! (AzureAD/microsoft-authentication-library-for-python
//! `msal/application.py` `acquire_token_on_behalf_of` sends every call).
//! idflow follows MSAL.NET: a second call with the same assertion and scopes
//! is served from here with no request.
//!
//! The tokens live in a companion [`TokenCache`] whose entries are filed
//! under the assertion's hash ([`super::PartitionKey::on_behalf_of`]) in place of a
//! home account id. That keeps them out of [`TokenCache::accounts`] and out
//! of the user partitions, and makes the hash their partition in an attached
//! [`super::PartitionStore`] (the companion shares the app cache's store).
//! They are not part of [`TokenCache::serialize`]: an incoming assertion
//! lives an hour, and a serialized cache is for tokens that outlive it.

use super::TokenCache;
use std::sync::{Arc, PoisonError};

impl TokenCache {
    /// The companion cache holding this cache's on-behalf-of tokens, sharing
    /// its partition store (attached or replaced since: it follows).
    pub(crate) fn on_behalf_of_tokens(&self) -> TokenCache {
        let obo = self
            .inner
            .on_behalf_of
            .get_or_init(|| TokenCache::with_options(self.inner.options.clone()))
            .clone();
        let mine = self.partitions();
        let same = match (&mine, &obo.partitions()) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            if mine.is_some() {
                let mut s = obo.write();
                if s.journal.is_none() {
                    s.journal_everything();
                }
            }
            *obo.inner
                .partitions
                .write()
                .unwrap_or_else(PoisonError::into_inner) = mine;
        }
        obo
    }

    /// The number of on-behalf-of access tokens held in memory.
    pub fn on_behalf_of_token_count(&self) -> usize {
        self.inner
            .on_behalf_of
            .get()
            .map_or(0, |c| c.counts().access_tokens)
    }
}
