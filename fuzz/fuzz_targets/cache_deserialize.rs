//! A serialized token cache, any text (a file another process wrote, a
//! corrupted download): deserializing either succeeds and round-trips, or
//! fails as `invalid_cache_format` and leaves the cache as it was. Lookups
//! in what was read (access, refresh and id tokens, at several times) never
//! panic, whatever times the entries hold.
#![no_main]

use idflow::{AccessTokenQuery, RefreshTokenQuery, TokenCache};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

/// Looks up what a cache holds for the seed's client, user and tenant, and
/// for an app token, at a few times.
fn look_up(cache: &TokenCache) {
    let env = "login.microsoftonline.com";
    let scopes = ["User.Read".to_owned()];
    let times = [
        UNIX_EPOCH,
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        UNIX_EPOCH + Duration::from_secs(253_402_300_799),
    ];
    for now in times {
        for home in [Some("uid.utid"), None] {
            let q = AccessTokenQuery {
                client_id: "client",
                environment: env,
                realm: "utid",
                home_account_id: home,
                scopes: &scopes,
            };
            if let Some(at) = cache.access_token(&q, now) {
                let _ = (at.expires_on, at.ext_expires_on, at.refresh_on);
                // Only unexpired tokens (times read past the year 9999 are capped there).
                assert!(at.expires_on >= now);
            }
        }
    }
    for family_id in [None, Some("1")] {
        let _ = cache.refresh_token(&RefreshTokenQuery {
            home_account_id: "uid.utid",
            environment: env,
            client_id: "client",
            family_id,
        });
    }
    let _ = cache.id_token("uid.utid", env, "utid", "client");
}

const KNOWN: &str =
    r#"{"AccessToken":{},"RefreshToken":{},"IdToken":{},"Account":{},"AppMetadata":{}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cache = TokenCache::new();
    cache.deserialize(KNOWN).expect("the empty cache loads");
    let before = cache.serialize();
    match cache.deserialize(text) {
        Ok(()) => {
            let once = cache.serialize();
            let again = TokenCache::new();
            again
                .deserialize(&once)
                .expect("what idflow writes, it reads");
            assert_eq!(again.serialize(), once, "serialization is stable");
            let _ = cache.counts();
            look_up(&cache);
            look_up(&again);
            for env in ["login.microsoftonline.com", ""] {
                let _ = cache.accounts(env, "client", None);
                let _ = cache.app_metadata(env, "client");
            }
        }
        Err(e) => {
            assert_eq!(e.code, "invalid_cache_format");
            assert_eq!(cache.serialize(), before, "a failed load changes nothing");
        }
    }
});
