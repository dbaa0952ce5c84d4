//! The unified schema: msal's documents read and written back unchanged,
//! what idflow writes, bad input.

use super::*;

#[test]
fn msal_document_round_trips_unchanged() {
    let doc = msal_document();
    let cache = TokenCache::new();
    cache.deserialize(&doc.to_string()).unwrap();
    assert_eq!(
        cache.counts(),
        CacheCounts {
            access_tokens: 3,
            refresh_tokens: 1,
            id_tokens: 1,
            accounts: 1,
            app_metadata: 1
        }
    );
    assert_eq!(value(&cache.serialize()), doc);
}

#[test]
fn odd_values_are_kept_verbatim() {
    // Known fields of another JSON type, and timestamps that would not
    // round-trip as numbers, stay exactly as they were.
    let doc = json!({
        "AccessToken": {
            "k1": {"secret": "s", "expires_on": 1700003600, "cached_at": "0017", "target": null,
                   "realm": "r", "client_id": "c", "environment": "e"},
            "k2": {"secret": "t", "expires_on": "1700003600.5", "home_account_id": 7}
        },
        "RefreshToken": {}, "IdToken": {}, "Account": {}, "AppMetadata": {}
    });
    let cache = TokenCache::new();
    cache.deserialize(&doc.to_string()).unwrap();
    assert_eq!(value(&cache.serialize()), doc);
    // A token without a usable expiry is never returned.
    assert_eq!(cache.counts().access_tokens, 2);
}

#[test]
fn sections_missing_or_empty_input() {
    let cache = TokenCache::new();
    cache.deserialize(r#"{"AccessToken": {}}"#).unwrap();
    assert_eq!(cache.counts(), CacheCounts::default());
    cache.deserialize("").unwrap();
    assert_eq!(cache.counts(), CacheCounts::default());
    let out = value(&cache.serialize());
    for s in [
        "AccessToken",
        "RefreshToken",
        "IdToken",
        "Account",
        "AppMetadata",
    ] {
        assert_eq!(out[s], json!({}), "{s}");
    }
}

#[test]
fn bad_json_is_a_client_error_and_changes_nothing() {
    let cache = TokenCache::new();
    cache.deserialize(&msal_document().to_string()).unwrap();
    cache.set_state_changed(true);
    let before = cache.serialize();
    cache.set_state_changed(true);
    for bad in [
        "{",
        "[]",
        "null",
        r#"{"AccessToken": []}"#,
        r#"{"AccessToken": {"k": "at-secret-value"}}"#,
        r#"{"RefreshToken": {"k": {"secret": "x"}}, "RefreshToken": {}}"#,
        "{\"AccessToken\": {\"k\": {\"secret\": \"at-secret-value\"}}} trailing",
    ] {
        let e = cache.deserialize(bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Client, "{bad}");
        assert_eq!(e.code, "invalid_cache_format");
        assert!(!e.message.contains("at-secret-value"), "{}", e.message);
        assert_eq!(cache.serialize(), before);
        assert_eq!(cache.counts().access_tokens, 3);
    }
    let spec = LocalCode::InvalidCacheFormat.spec();
    assert_eq!(spec.python, crate::error::PythonForm::ValueError);
}

#[test]
fn idflow_writes_what_msal_reads() {
    let cache = TokenCache::new();
    let alice = account("uid", "alice@contoso.com");
    let user = Answer::user("user-at", &["User.Read", "openid", "profile"], &alice).in_family("1");
    save_app(&cache, "app-at", &["api://res/.default"]);
    // Saved last: as in msal, each answer rewrites the app's metadata.
    save(&cache, &user, &["User.Read"]);
    let out = value(&cache.serialize());
    let home = "uid.tenant-1";

    // The target is sorted case-sensitively (as Python sorts), then the key is lower-cased.
    let at_key = format!("{home}-{ENV}-accesstoken-{CLIENT}-{TENANT}-user.read openid profile");
    let at = &out["AccessToken"][&at_key];
    assert_eq!(at["credential_type"], "AccessToken");
    assert_eq!(at["secret"], "user-at");
    assert_eq!(at["target"], "User.Read openid profile");
    assert_eq!(at["cached_at"], T0.to_string());
    assert_eq!(at["expires_on"], (T0 + 3600).to_string());
    assert_eq!(at["extended_expires_on"], (T0 + 3600).to_string());
    assert_eq!(at["token_type"], "Bearer");
    assert!(at.get("refresh_on").is_none());

    let app =
        &out["AccessToken"][&format!("-{ENV}-accesstoken-{CLIENT}-{TENANT}-api://res/.default")];
    assert_eq!(
        app["home_account_id"],
        Value::Null,
        "msal matches app tokens on null"
    );
    assert_eq!(app["secret"], "app-at");

    let rt = &out["RefreshToken"]
        [&format!("{home}-{ENV}-refreshtoken-{CLIENT}--user.read openid profile")];
    assert_eq!(rt["secret"], "rt-secret");
    assert_eq!(rt["family_id"], "1");
    assert_eq!(rt["last_modification_time"], T0.to_string());
    let idt = &out["IdToken"][&format!("{home}-{ENV}-idtoken-{CLIENT}-{TENANT}-")];
    assert_eq!(idt["secret"], "id-token-jwt");
    let acct = &out["Account"][&format!("{home}-{ENV}-{TENANT}")];
    assert_eq!(acct["username"], "alice@contoso.com");
    assert_eq!(acct["authority_type"], "MSSTS");
    assert_eq!(acct["account_source"], "authorization_code");
    assert_eq!(acct["local_account_id"], "uid");
    let md = &out["AppMetadata"][&format!("appmetadata-{ENV}-{CLIENT}")];
    assert_eq!(md["family_id"], "1");
}

#[test]
fn deserialize_utf8_rejects_bytes_that_are_not_utf8() {
    let cache = TokenCache::new();
    cache.deserialize(&msal_document().to_string()).unwrap();
    let before = cache.serialize();
    let e = cache
        .deserialize_utf8(b"{\"AccessToken\": {\"\xff\": {}}}")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Client);
    assert_eq!(e.code, "invalid_cache_format");
    assert_eq!(cache.serialize(), before);
    cache.deserialize_utf8(b"").unwrap();
    assert_eq!(cache.counts().access_tokens, 0);
}

#[test]
fn bytes_load_as_their_text_loads_and_bad_bytes_are_named_by_offset() {
    let doc = msal_document().to_string();
    let (by_text, by_bytes) = (TokenCache::new(), TokenCache::new());
    by_text.deserialize(&doc).unwrap();
    by_bytes.deserialize_utf8(doc.as_bytes()).unwrap();
    assert_eq!(by_bytes.serialize(), by_text.serialize());
    // Blank (ASCII or Unicode whitespace) is empty, as for text.
    for blank in [&b" \n\t"[..], "\u{3000}\u{a0}".as_bytes()] {
        by_bytes.deserialize_utf8(blank).unwrap();
        assert_eq!(by_bytes.counts().access_tokens, 0);
    }
    // A bad byte in a value, in a key and between members: each an
    // `invalid_cache_format` naming its offset, and the cache unchanged.
    by_bytes.deserialize_utf8(doc.as_bytes()).unwrap();
    let before = by_bytes.serialize();
    for bad in [
        &b"{\"Account\": {\"k\": {\"username\": \"a\xc3\"}}}"[..],
        &b"{\"Account\": {\"\xe2\x82\": {}}}"[..],
        &b"{\"Account\": {} \xff}"[..],
    ] {
        let e = by_bytes.deserialize_utf8(bad).unwrap_err();
        assert_eq!(e.code, "invalid_cache_format");
        let offset = std::str::from_utf8(bad).unwrap_err().valid_up_to();
        assert!(
            e.message
                .contains(&format!("not UTF-8 text (invalid byte at offset {offset})")),
            "{}",
            e.message
        );
        assert_eq!(by_bytes.serialize(), before);
    }
    // Bad JSON that is UTF-8 is named as JSON.
    let e = by_bytes.deserialize_utf8(b"{\"Account\": [}").unwrap_err();
    assert!(e.message.contains("not a JSON document"), "{}", e.message);
}

#[test]
fn app_metadata_key_keeps_case() {
    let cache = TokenCache::new();
    save_as(&cache, "Client-B", &Answer::app("t", &["a"]), &["a"], T0);
    let out = value(&cache.serialize());
    assert!(
        out["AppMetadata"]
            .get(format!("appmetadata-{ENV}-Client-B"))
            .is_some(),
        "{out}"
    );
    assert!(out["AccessToken"]
        .get(format!("-{ENV}-accesstoken-client-b-{TENANT}-a"))
        .is_some());
    assert_eq!(
        cache.app_metadata(ENV, "Client-B"),
        Some(AppMetadata { family_id: None })
    );
}

#[test]
fn state_changed_flag() {
    let cache = TokenCache::new();
    assert!(!cache.has_state_changed());
    save_app(&cache, "t", &["a"]);
    assert!(cache.has_state_changed());
    let _ = cache.serialize();
    assert!(!cache.has_state_changed());
    // Evicting an expired token met by a lookup is a change too.
    assert_eq!(lookup(&cache, None, &["a"], T0 + 4000), None);
    assert!(cache.has_state_changed());
    cache.set_state_changed(false);
    assert!(!cache.has_state_changed());
}

/// A cache file's times are accepted up to 19 digits, past what a
/// `SystemTime` holds: `9999999999999999999` once panicked on every lookup.
/// Such a time reads as the last second of the year 9999.
#[test]
fn a_far_future_expiry_in_a_file_is_looked_up_without_a_panic() {
    let mut doc = msal_document();
    let entry = &mut doc["AccessToken"]
        ["-login.microsoftonline.com-accesstoken-client-a-tenant-1-api://res/.default"];
    for field in [
        "expires_on",
        "extended_expires_on",
        "refresh_on",
        "cached_at",
    ] {
        entry[field] = json!("9999999999999999999");
    }
    let text = doc.to_string();
    let cache = TokenCache::new();
    cache.deserialize(&text).unwrap();
    let t = find(&cache, TENANT, None, &["api://res/.default"], T0 + 10).unwrap();
    assert_eq!(t.secret.expose(), "app-at");
    let last = UNIX_EPOCH + Duration::from_secs(MAX_CACHE_TIME_SECS);
    assert_eq!(t.expires_on, last);
    assert_eq!(t.ext_expires_on, Some(last));
    assert_eq!(t.refresh_on, Some(last));
    assert_eq!(t.cached_at, last);
    // The entry itself is kept as read.
    assert!(cache.serialize().contains("9999999999999999999"));
}

/// A string field the document gives as `null` (msal writes an app token's
/// `home_account_id` so) reads as absent and is written back as `null`,
/// among the entry's other members, after a reload as after the first load.
#[test]
fn string_fields_given_as_null_are_written_back_as_null() {
    let doc = json!({
        "AccessToken": {
            "k": {"credential_type": "AccessToken", "secret": "s", "home_account_id": null,
                  "x_before": 1, "environment": ENV, "client_id": CLIENT, "realm": TENANT,
                  "target": "a", "key_id": null, "expires_on": (T0 + 3600).to_string(),
                  "x_after": [null], "cached_at": null}
        },
        "RefreshToken": {}, "IdToken": {}, "Account": {},
        "AppMetadata": {"m": {"client_id": null, "environment": ENV}}
    });
    let cache = TokenCache::new();
    cache.deserialize(&doc.to_string()).unwrap();
    assert_eq!(app_lookup(&cache, &["a"]).as_deref(), Some("s"));
    let once = cache.serialize();
    assert_eq!(value(&once), doc);
    cache.deserialize(&once).unwrap();
    assert_eq!(cache.serialize(), once);
}
