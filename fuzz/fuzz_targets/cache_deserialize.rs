//! A serialized token cache, any text (a file another process wrote, a
//! corrupted download): deserializing either succeeds and round-trips, or
//! fails as `invalid_cache_format` and leaves the cache as it was.
#![no_main]

use idflow::TokenCache;
use libfuzzer_sys::fuzz_target;

const KNOWN: &str = r#"{"AccessToken":{},"RefreshToken":{},"IdToken":{},"Account":{},"AppMetadata":{}}"#;

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
            again.deserialize(&once).expect("what idflow writes, it reads");
            assert_eq!(again.serialize(), once, "serialization is stable");
            let _ = cache.counts();
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
