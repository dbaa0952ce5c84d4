//! Loading big documents: the sections of a cache past the threading
//! threshold are built on threads of their own while the parse goes on, and
//! the result is the same cache a section-by-section load gives.

use super::*;

/// A document of `n` users (access, refresh and id token and account each),
/// past the size at which sections are built on their own threads.
pub(super) fn users_document(n: usize) -> Value {
    let mut at = serde_json::Map::new();
    let mut rt = serde_json::Map::new();
    let mut idt = serde_json::Map::new();
    let mut acct = serde_json::Map::new();
    for i in 0..n {
        let home = format!("uid{i}.{TENANT}");
        at.insert(
            format!("{home}-{ENV}-accesstoken-{CLIENT}-{TENANT}-user.read"),
            json!({"credential_type": "AccessToken", "secret": format!("at-{i}"),
                   "home_account_id": home, "environment": ENV, "client_id": CLIENT,
                   "realm": TENANT, "target": "User.Read", "token_type": "Bearer",
                   "cached_at": T0.to_string(), "expires_on": (T0 + 3600).to_string()}),
        );
        rt.insert(
            format!("{home}-{ENV}-refreshtoken-{CLIENT}--"),
            json!({"credential_type": "RefreshToken", "secret": format!("rt-{i}"),
                   "home_account_id": home, "environment": ENV, "client_id": CLIENT}),
        );
        idt.insert(
            format!("{home}-{ENV}-idtoken-{CLIENT}-{TENANT}-"),
            json!({"credential_type": "IdToken", "secret": format!("idt-{i}"),
                   "home_account_id": home, "environment": ENV, "client_id": CLIENT,
                   "realm": TENANT}),
        );
        acct.insert(
            format!("{home}-{ENV}-{TENANT}"),
            json!({"home_account_id": home, "environment": ENV, "realm": TENANT,
                   "local_account_id": format!("uid{i}"), "username": format!("user{i}@example.com"),
                   "authority_type": "MSSTS"}),
        );
    }
    json!({"AccessToken": at, "RefreshToken": rt, "IdToken": idt, "Account": acct,
           "AppMetadata": {}, "x_other": [1, "two"]})
}

const USERS: usize = store::LOAD_THREADED + 100;

#[test]
fn a_big_document_loads_whole_and_writes_back_unchanged() {
    let doc = users_document(USERS);
    let cache = TokenCache::new();
    cache.deserialize(&doc.to_string()).unwrap();
    assert_eq!(
        cache.counts(),
        CacheCounts {
            access_tokens: USERS,
            refresh_tokens: USERS,
            id_tokens: USERS,
            accounts: USERS,
            app_metadata: 0
        }
    );
    assert_eq!(value(&cache.serialize()), doc);
    for i in [0, USERS / 2, USERS - 1] {
        let home = format!("uid{i}.{TENANT}");
        assert_eq!(
            lookup(&cache, Some(&home), &["user.read"], T0 + 10),
            Some(format!("at-{i}"))
        );
    }
    assert_eq!(cache.accounts(ENV, CLIENT, None).len(), USERS);
}

#[test]
fn a_key_given_twice_keeps_its_last_entry_in_a_big_section() {
    let mut text = users_document(USERS).to_string();
    let key = format!("uid0.{TENANT}-{ENV}-accesstoken-{CLIENT}-{TENANT}-user.read");
    let again = format!(
        "\"{key}\":{{\"credential_type\":\"AccessToken\",\"secret\":\"at-again\",\
         \"home_account_id\":\"uid0.{TENANT}\",\"environment\":\"{ENV}\",\
         \"client_id\":\"{CLIENT}\",\"realm\":\"{TENANT}\",\"target\":\"User.Read\",\
         \"token_type\":\"Bearer\",\"expires_on\":\"{}\"}},",
        T0 + 3600
    );
    let at = "\"AccessToken\":{";
    let pos = text.find(at).unwrap() + at.len();
    // The repeated key right after the section's first entry, uid0's own
    // (keys are written in order).
    let end = pos + text[pos..].find("},\"").unwrap() + 1;
    assert!(text[pos..end].contains("\"at-0\""));
    text.insert_str(end, &format!(",{}", again.trim_end_matches(',')));
    let cache = TokenCache::new();
    cache.deserialize(&text).unwrap();
    assert_eq!(cache.counts().access_tokens, USERS);
    let home = format!("uid0.{TENANT}");
    assert_eq!(
        lookup(&cache, Some(&home), &["user.read"], T0 + 10).as_deref(),
        Some("at-again")
    );
}

#[test]
fn bad_json_after_a_big_section_changes_nothing() {
    let cache = TokenCache::new();
    cache.deserialize(&msal_document().to_string()).unwrap();
    let before = cache.serialize();
    let mut doc = users_document(USERS);
    // The access tokens (a big section, built on its own thread) are read
    // before the section that is not an object of entries.
    doc["IdToken"] = json!(["not", "entries"]);
    let e = cache.deserialize(&doc.to_string()).unwrap_err();
    assert_eq!(e.code, "invalid_cache_format");
    assert!(!e.message.contains("at-1"), "{}", e.message);
    assert_eq!(cache.serialize(), before);
    // Trailing text after a whole big document is an error too.
    let e = cache
        .deserialize(&format!("{} x", users_document(USERS)))
        .unwrap_err();
    assert_eq!(e.code, "invalid_cache_format");
    assert_eq!(cache.serialize(), before);
}

#[test]
fn replacing_a_big_cache_leaves_only_the_new_content() {
    let cache = TokenCache::new();
    cache
        .deserialize(&users_document(USERS).to_string())
        .unwrap();
    // The big store replaced here is freed on a thread of its own.
    cache.deserialize(&msal_document().to_string()).unwrap();
    assert_eq!(value(&cache.serialize()), msal_document());
    assert_eq!(cache.counts().access_tokens, 3);
}

/// A load builds its access tokens' expiry order once all are in, not token
/// by token: a save after it must still evict by that order, the
/// soonest-expiring first, whether the section was built on the calling
/// thread (a small document) or on one of its own (a big one).
#[test]
fn a_loaded_cache_evicts_the_soonest_expiring_first() {
    for n in [40, USERS] {
        // User i's token lives 1,000 s plus a shuffle of 0..n (7,919 is a
        // prime that divides neither size).
        let life = |i: usize| 1_000 + (i * 7_919 % n) as u64;
        let mut doc = users_document(n);
        for entry in doc["AccessToken"].as_object_mut().unwrap().values_mut() {
            let i: usize = entry["secret"].as_str().unwrap()[3..].parse().unwrap();
            entry["expires_on"] = json!((T0 + life(i)).to_string());
        }
        let cache = TokenCache::with_options(CacheOptions {
            max_access_tokens: Some(n - 5),
        });
        cache.deserialize(&doc.to_string()).unwrap();
        // One more token (an hour's): over the bound by six, the save
        // evicts the six soonest-expiring, all loaded ones.
        save(&cache, &Answer::app("extra", &["extra"]), &["extra"]);
        assert_eq!(cache.counts().access_tokens, n - 5, "{n} users");
        for i in 0..n {
            let home = format!("uid{i}.{TENANT}");
            let held = lookup(&cache, Some(&home), &["user.read"], T0 + 10).is_some();
            assert_eq!(held, life(i) >= 1_006, "user {i} of {n}");
        }
        assert_eq!(app_lookup(&cache, &["extra"]).as_deref(), Some("extra"));
    }
}

/// Whether an entry's key is the computed one is found on the parsing
/// thread and handed to the section's own thread with the entries: a key
/// that is not (another library's) is kept as the document gave it, and
/// written back so, in a big section as in a small one.
#[test]
fn keys_other_than_the_computed_ones_are_kept_in_a_big_section() {
    let mut doc = users_document(USERS);
    let at = doc["AccessToken"].as_object_mut().unwrap();
    let keys: Vec<String> = at.keys().cloned().collect();
    for (n, i) in [0, 1, USERS / 2, USERS - 1].into_iter().enumerate() {
        let entry = at.remove(&keys[i]).unwrap();
        at.insert(format!("kept-key-{n}"), entry);
    }
    let cache = TokenCache::new();
    cache.deserialize(&doc.to_string()).unwrap();
    assert_eq!(cache.counts().access_tokens, USERS);
    assert_eq!(value(&cache.serialize()), doc);
}
