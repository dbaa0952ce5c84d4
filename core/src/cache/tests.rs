//! Tests of the token cache: schema compatibility, matching, eviction,
//! accounts, persistence.

use super::*;
use crate::error::ErrorKind;
use crate::protocol::token::TokenSource;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

const ENV: &str = "login.microsoftonline.com";
const CLIENT: &str = "client-a";
const TENANT: &str = "tenant-1";
const T0: u64 = 1_700_000_000;

fn at(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_owned()).collect()
}

fn account(uid: &str, username: &str) -> Account {
    Account {
        home_account_id: format!("{uid}.{TENANT}"),
        environment: ENV.into(),
        realm: TENANT.into(),
        username: username.into(),
        local_account_id: uid.into(),
    }
}

struct Answer {
    token: &'static str,
    granted: Vec<String>,
    expires_in: u64,
    account: Option<Account>,
    rt: Option<&'static str>,
    family: Option<&'static str>,
}

impl Answer {
    fn app(token: &'static str, granted: &[&str]) -> Answer {
        Answer {
            token,
            granted: scopes(granted),
            expires_in: 3600,
            account: None,
            rt: None,
            family: None,
        }
    }
    fn user(token: &'static str, granted: &[&str], acct: &Account) -> Answer {
        Answer {
            account: Some(acct.clone()),
            rt: Some("rt-secret"),
            ..Answer::app(token, granted)
        }
    }
    fn result(&self, now: u64) -> AuthenticationResult {
        AuthenticationResult {
            access_token: AccessToken::new(self.token),
            token_type: "Bearer".into(),
            expires_on: at(now + self.expires_in),
            ext_expires_on: None,
            refresh_on: None,
            scopes: self.granted.clone(),
            refresh_token: self.rt.map(RefreshToken::new),
            id_token: self.account.as_ref().map(|_| IdToken::new("id-token-jwt")),
            id_token_claims: None,
            account: self.account.clone(),
            client_info: None,
            family_id: self.family.map(str::to_owned),
            correlation_id: "corr".into(),
            token_source: TokenSource::IdentityProvider,
            received_at: at(now),
        }
    }
}

fn save_as(cache: &TokenCache, client: &str, a: &Answer, requested: &[&str], now: u64) {
    let result = a.result(now);
    let requested = scopes(requested);
    cache.save(&SaveRequest {
        client_id: client,
        environment: ENV,
        realm: TENANT,
        requested_scopes: &requested,
        result: &result,
        account_source: a.account.as_ref().map(|_| "authorization_code"),
        authority_type: "MSSTS",
        now: at(now),
    });
}

fn save(cache: &TokenCache, a: &Answer, requested: &[&str]) {
    save_as(cache, CLIENT, a, requested, T0);
}

fn lookup(cache: &TokenCache, home: Option<&str>, want: &[&str], now: u64) -> Option<String> {
    let want = scopes(want);
    cache
        .access_token(
            &AccessTokenQuery {
                client_id: CLIENT,
                environment: ENV,
                realm: TENANT,
                home_account_id: home,
                scopes: &want,
            },
            at(now),
        )
        .map(|t| t.secret.expose().to_owned())
}

fn app_lookup(cache: &TokenCache, want: &[&str]) -> Option<String> {
    lookup(cache, None, want, T0 + 10)
}

fn value(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// A cache as msal Python writes it for one user sign-in and one app token,
/// built from the schema's description: string timestamps, `null` home
/// account id for the app token, lower-cased keys, a FOCI refresh token,
/// plus members and a section idflow does not know.
fn msal_document() -> Value {
    json!({
        "AccessToken": {
            "uid.utid-login.microsoftonline.com-accesstoken-client-a-utid-mail.read openid profile user.read": {
                "credential_type": "AccessToken",
                "secret": "user-at",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "Mail.Read openid profile User.Read",
                "realm": "utid",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700003600",
                "extended_expires_on": "1700007200",
                "refresh_on": "1700001800",
                "x_vendor_field": {"nested": [1, 2, 3]}
            },
            "-login.microsoftonline.com-accesstoken-client-a-tenant-1-api://res/.default": {
                "credential_type": "AccessToken",
                "secret": "app-at",
                "home_account_id": null,
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "api://res/.default",
                "realm": "tenant-1",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700003600",
                "extended_expires_on": "1700003600"
            },
            "-login.microsoftonline.com-atext-client-a-tenant-1-api://res/.default-abc": {
                "credential_type": "AccessToken",
                "secret": "fmi-at",
                "home_account_id": null,
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "api://res/.default",
                "realm": "tenant-1",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700009999",
                "extended_expires_on": "1700009999",
                "ext_cache_key": "abc"
            }
        },
        "RefreshToken": {
            "uid.utid-login.microsoftonline.com-refreshtoken-client-a--mail.read openid profile user.read": {
                "credential_type": "RefreshToken",
                "secret": "user-rt",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "Mail.Read openid profile User.Read",
                "last_modification_time": "1700000000",
                "family_id": "1"
            }
        },
        "IdToken": {
            "uid.utid-login.microsoftonline.com-idtoken-client-a-utid-": {
                "credential_type": "IdToken",
                "secret": "header.payload.sig",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "realm": "utid",
                "client_id": "client-a"
            }
        },
        "Account": {
            "uid.utid-login.microsoftonline.com-utid": {
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "realm": "utid",
                "local_account_id": "oid-1",
                "username": "Alice@Contoso.com",
                "authority_type": "MSSTS",
                "account_source": "authorization_code",
                "given_name": "Alice"
            }
        },
        "AppMetadata": {
            "appmetadata-login.microsoftonline.com-client-a": {
                "client_id": "client-a",
                "environment": "login.microsoftonline.com",
                "family_id": "1"
            }
        },
        "x_future_section": {"anything": ["kept", 1, null]}
    })
}

// ---- schema ----

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
    let mut user = Answer::user("user-at", &["User.Read", "openid", "profile"], &alice);
    user.family = Some("1");
    save(
        &cache,
        &Answer::app("app-at", &["api://res/.default"]),
        &["api://res/.default"],
    );
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
    save(&cache, &Answer::app("t", &["a"]), &["a"]);
    assert!(cache.has_state_changed());
    let _ = cache.serialize();
    assert!(!cache.has_state_changed());
    // Evicting an expired token met by a lookup is a change too.
    assert_eq!(lookup(&cache, None, &["a"], T0 + 4000), None);
    assert!(cache.has_state_changed());
    cache.set_state_changed(false);
    assert!(!cache.has_state_changed());
}

// ---- matching ----

#[test]
fn msal_document_is_usable() {
    let cache = TokenCache::new();
    cache.deserialize(&msal_document().to_string()).unwrap();
    let q = |want: &[&str]| {
        let want = scopes(want);
        cache
            .access_token(
                &AccessTokenQuery {
                    client_id: CLIENT,
                    environment: ENV,
                    realm: "utid",
                    home_account_id: Some("uid.utid"),
                    scopes: &want,
                },
                at(T0 + 10),
            )
            .map(|t| (t.secret.expose().to_owned(), t.refresh_on, t.scopes))
    };
    let (secret, refresh_on, granted) = q(&["user.read"]).unwrap();
    assert_eq!(secret, "user-at");
    assert_eq!(refresh_on, Some(at(1_700_001_800)));
    assert_eq!(
        granted,
        scopes(&["Mail.Read", "openid", "profile", "User.Read"])
    );
    // The extended-key token is isolated from plain queries.
    assert_eq!(
        app_lookup(&cache, &["api://res/.default"]).as_deref(),
        Some("app-at")
    );
    let rt = cache
        .refresh_token(&RefreshTokenQuery {
            home_account_id: "uid.utid",
            environment: ENV,
            client_id: "another-family-app",
            family_id: Some("1"),
        })
        .unwrap();
    assert_eq!(rt.secret.expose(), "user-rt");
    assert_eq!(rt.client_id, CLIENT);
    assert_eq!(
        cache
            .id_token("uid.utid", ENV, "utid", CLIENT)
            .map(|t| t.expose().to_owned()),
        Some("header.payload.sig".into())
    );
    let accts = cache.accounts(ENV, CLIENT, Some("alice@contoso.com"));
    assert_eq!(accts.len(), 1);
    assert_eq!(accts[0].username, "Alice@Contoso.com");
    assert_eq!(accts[0].local_account_id, "oid-1");
}

#[test]
fn superset_subset_and_case() {
    let cache = TokenCache::new();
    save(
        &cache,
        &Answer::app("ab", &["Scope.A", "scope.b"]),
        &["Scope.A", "scope.b"],
    );
    assert_eq!(app_lookup(&cache, &["scope.a"]).as_deref(), Some("ab"));
    assert_eq!(
        app_lookup(&cache, &["SCOPE.B", "scope.a", "scope.a"]).as_deref(),
        Some("ab")
    );
    assert_eq!(
        app_lookup(&cache, &["scope.b", "openid", "offline_access"]).as_deref(),
        Some("ab")
    );
    assert_eq!(
        app_lookup(&cache, &["scope.a", "scope.c"]),
        None,
        "not a superset"
    );
    assert_eq!(app_lookup(&cache, &["scope.c"]), None);
    assert_eq!(app_lookup(&cache, &["openid"]), None, "only OIDC scopes");
    // Other partitions do not answer.
    let want = scopes(&["scope.a"]);
    for (client, realm, home) in [
        ("other", TENANT, None),
        (CLIENT, "other-tenant", None),
        (CLIENT, TENANT, Some("u.t")),
    ] {
        let q = AccessTokenQuery {
            client_id: client,
            environment: ENV,
            realm,
            home_account_id: home,
            scopes: &want,
        };
        assert!(
            cache.access_token(&q, at(T0)).is_none(),
            "{client} {realm} {home:?}"
        );
    }
    // Query fields are case-insensitive, like msal's lower-cased keys.
    let q = AccessTokenQuery {
        client_id: "CLIENT-A",
        environment: "LOGIN.microsoftonline.com",
        realm: "Tenant-1",
        home_account_id: None,
        scopes: &want,
    };
    assert!(cache.access_token(&q, at(T0)).is_some());
}

#[test]
fn latest_expiry_wins_among_matches() {
    let cache = TokenCache::new();
    let mut short = Answer::app("short", &["a", "b"]);
    short.expires_in = 100;
    save(&cache, &short, &["a", "b"]);
    save(&cache, &Answer::app("long", &["a", "c"]), &["a", "c"]);
    assert_eq!(app_lookup(&cache, &["a"]).as_deref(), Some("long"));
    assert_eq!(app_lookup(&cache, &["b"]).as_deref(), Some("short"));
}

#[test]
fn repeat_request_hits_its_own_set() {
    let cache = TokenCache::new();
    // The server lists Graph scopes in short form; the request used full URIs.
    let a = Answer::app("graph", &["User.Read", "Mail.Read"]);
    let full = ["https://graph.microsoft.com/User.Read"];
    save(&cache, &a, &full);
    assert_eq!(app_lookup(&cache, &full).as_deref(), Some("graph"));
    assert_eq!(app_lookup(&cache, &["user.read"]).as_deref(), Some("graph"));
    // The requested set survives serialization (idflow's own member).
    let copy = TokenCache::new();
    copy.deserialize(&cache.serialize()).unwrap();
    assert_eq!(app_lookup(&copy, &full).as_deref(), Some("graph"));
    // A request the server did not grant is not indexed.
    save(
        &cache,
        &Answer::app("declined", &["x.read"]),
        &["x.read", "x.write"],
    );
    assert_eq!(app_lookup(&cache, &["x.read", "x.write"]), None);
}

#[test]
fn default_scope_rules() {
    let cache = TokenCache::new();
    // Saved for the same .default request, whatever the granted scopes.
    let expanded = Answer::app("graph-default", &["User.Read", "Mail.Read"]);
    save(&cache, &expanded, &["https://graph.microsoft.com/.default"]);
    assert_eq!(
        app_lookup(&cache, &["https://graph.microsoft.com/.default"]).as_deref(),
        Some("graph-default")
    );
    // A token whose granted scopes all lie on the resource.
    save(
        &cache,
        &Answer::app("api-x", &["api://x/read", "api://x/write"]),
        &["api://x/read", "api://x/write"],
    );
    assert_eq!(
        app_lookup(&cache, &["api://X/.default"]).as_deref(),
        Some("api-x")
    );
    // Mixed resources never answer a .default request.
    save(
        &cache,
        &Answer::app("mixed", &["api://y/read", "api://z/read"]),
        &["api://y/read", "api://z/read"],
    );
    assert_eq!(app_lookup(&cache, &["api://y/.default"]), None);
    // Client credentials: the target is the .default scope itself.
    save(
        &cache,
        &Answer::app("cc", &["api://w/.default"]),
        &["api://w/.default"],
    );
    assert_eq!(
        app_lookup(&cache, &["api://w/.default"]).as_deref(),
        Some("cc")
    );
}

// ---- expiry and bound ----

#[test]
fn expired_tokens_are_dropped_when_met() {
    let cache = TokenCache::new();
    let mut a = Answer::app("soon", &["a"]);
    a.expires_in = 100;
    save(&cache, &a, &["a"]);
    save(&cache, &Answer::app("later", &["b"]), &["b"]);
    assert_eq!(
        lookup(&cache, None, &["a"], T0 + 99).as_deref(),
        Some("soon")
    );
    assert_eq!(cache.counts().access_tokens, 2);
    // expires_on == now is expired.
    assert_eq!(lookup(&cache, None, &["a"], T0 + 100), None);
    assert_eq!(cache.counts().access_tokens, 1);
    assert_eq!(
        lookup(&cache, None, &["b"], T0 + 100).as_deref(),
        Some("later")
    );
}

#[test]
fn saves_drop_expired_tokens() {
    let cache = TokenCache::new();
    let mut a = Answer::app("old", &["a"]);
    a.expires_in = 100;
    save(&cache, &a, &["a"]);
    save_as(
        &cache,
        CLIENT,
        &Answer::app("new", &["b"]),
        &["b"],
        T0 + 200,
    );
    assert_eq!(cache.counts().access_tokens, 1);
    assert_eq!(
        lookup(&cache, None, &["b"], T0 + 201).as_deref(),
        Some("new")
    );
}

#[test]
fn bound_evicts_soonest_expiring_first() {
    let cache = TokenCache::with_options(CacheOptions {
        max_access_tokens: Some(3),
    });
    let names = ["t0", "t1", "t2", "t3", "t4"];
    // Lifetimes 500, 100, 400, 200, 300.
    for (i, life) in [500u64, 100, 400, 200, 300].into_iter().enumerate() {
        let mut a = Answer::app(names[i], &[names[i]]);
        a.expires_in = life;
        save(&cache, &a, &[names[i]]);
    }
    assert_eq!(cache.counts().access_tokens, 3);
    let held: Vec<_> = names
        .iter()
        .filter(|n| app_lookup(&cache, &[n]).is_some())
        .collect();
    assert_eq!(held, [&"t0", &"t2", &"t4"]);
}

#[test]
fn replacing_an_entry_keeps_indexes_consistent() {
    let cache = TokenCache::new();
    save(&cache, &Answer::app("v1", &["a", "b"]), &["a", "b"]);
    save(&cache, &Answer::app("v2", &["a", "b"]), &["a", "b"]);
    assert_eq!(cache.counts().access_tokens, 1);
    assert_eq!(app_lookup(&cache, &["b"]).as_deref(), Some("v2"));
    assert_eq!(app_lookup(&cache, &["a", "b"]).as_deref(), Some("v2"));
}

// ---- accounts and refresh tokens ----

#[test]
fn accounts_by_client_family_and_username() {
    let cache = TokenCache::new();
    let alice = account("alice", "Alice@Contoso.com");
    let bob = account("bob", "bob@contoso.com");
    save(&cache, &Answer::user("a1", &["x"], &alice), &["x"]);
    let mut fam = Answer::user("b1", &["x"], &bob);
    fam.family = Some("1");
    save_as(&cache, "family-app", &fam, &["x"], T0);
    // An app token makes no account.
    save(&cache, &Answer::app("app", &["y"]), &["y"]);

    let names = |c: &str, u: Option<&str>| {
        cache
            .accounts(ENV, c, u)
            .into_iter()
            .map(|a| a.username)
            .collect::<Vec<_>>()
    };
    // client-a has no metadata saying it is outside the family → tries family "1".
    assert_eq!(names(CLIENT, None), ["Alice@Contoso.com"]);
    cache.set_app_family(ENV, CLIENT, Some("1"));
    assert_eq!(
        names(CLIENT, None),
        ["Alice@Contoso.com", "bob@contoso.com"]
    );
    assert_eq!(
        names(CLIENT, Some("ALICE@contoso.com")),
        ["Alice@Contoso.com"]
    );
    assert_eq!(
        names(CLIENT, Some("carol@contoso.com")),
        Vec::<String>::new()
    );
    assert_eq!(names("family-app", None), ["bob@contoso.com"]);
    // A client with no tokens and no family sees nothing.
    cache.set_app_family(ENV, "stranger", None);
    assert!(names("stranger", None).is_empty());
    // Other environments see nothing.
    assert!(cache.accounts("login.example.com", CLIENT, None).is_empty());
}

#[test]
fn username_filter_follows_saves_and_removals() {
    let cache = TokenCache::new();
    let alice = account("alice", "Alice@Contoso.com");
    // Two accounts sharing a username (two home accounts), and a user
    // signed in once more under a new username (the record is replaced).
    let alice2 = account("alice2", "alice@contoso.com");
    let bob = account("bob", "bob@contoso.com");
    save(&cache, &Answer::user("a1", &["x"], &alice), &["x"]);
    save(&cache, &Answer::user("a2", &["x"], &alice2), &["x"]);
    save(&cache, &Answer::user("b1", &["x"], &bob), &["x"]);
    let homes = |u: &str| {
        cache
            .accounts(ENV, CLIENT, Some(u))
            .into_iter()
            .map(|a| a.local_account_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(homes("ALICE@contoso.COM"), ["alice", "alice2"]);
    let g = cache.generation();
    assert_eq!(cache.generation(), g, "reading changes nothing");
    let renamed = account("bob", "robert@contoso.com");
    save(&cache, &Answer::user("b2", &["y"], &renamed), &["y"]);
    assert!(homes("bob@contoso.com").is_empty());
    assert_eq!(homes("Robert@contoso.com"), ["bob"]);
    assert!(cache.generation() > g, "a save moves the generation");
    let g = cache.generation();
    cache.remove_account(&alice, CLIENT);
    assert!(cache.generation() > g, "a removal moves the generation");
    assert_eq!(homes("alice@contoso.com"), ["alice2"]);
    // Only accounts with a refresh token this client can use.
    assert!(cache
        .accounts(ENV, "other-app", Some("alice@contoso.com"))
        .is_empty());
    // The same after a round trip through the unified schema.
    let copy = TokenCache::new();
    copy.deserialize_utf8(cache.serialize().as_bytes()).unwrap();
    assert_eq!(
        copy.accounts(ENV, CLIENT, Some("alice@contoso.com")),
        cache.accounts(ENV, CLIENT, Some("alice@contoso.com"))
    );
    assert_eq!(
        copy.accounts(ENV, CLIENT, None),
        cache.accounts(ENV, CLIENT, None)
    );
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
fn family_refresh_token_lookup_newest_first() {
    let cache = TokenCache::new();
    let alice = account("alice", "alice@contoso.com");
    let mut first = Answer::user("a1", &["x"], &alice);
    first.family = Some("1");
    first.rt = Some("rt-old");
    save_as(&cache, "app-1", &first, &["x"], T0);
    let mut second = Answer::user("a2", &["y"], &alice);
    second.family = Some("1");
    second.rt = Some("rt-new");
    save_as(&cache, "app-2", &second, &["y"], T0 + 5);
    let q = |client: &str, family: Option<&str>| {
        cache
            .refresh_token(&RefreshTokenQuery {
                home_account_id: &alice.home_account_id,
                environment: ENV,
                client_id: client,
                family_id: family,
            })
            .map(|r| (r.secret.expose().to_owned(), r.client_id, r.family_id))
    };
    assert_eq!(
        q("app-3", Some("1")),
        Some(("rt-new".into(), "app-2".into(), Some("1".into())))
    );
    assert_eq!(
        q("app-1", None),
        Some(("rt-old".into(), "app-1".into(), Some("1".into())))
    );
    assert_eq!(q("app-3", None), None);
    assert_eq!(q("app-3", Some("2")), None);
    assert_eq!(
        cache.app_metadata(ENV, "app-2"),
        Some(AppMetadata {
            family_id: Some("1".into())
        })
    );

    // Removing needs the exact secret: a newer token is left alone.
    let query = RefreshTokenQuery {
        home_account_id: &alice.home_account_id,
        environment: ENV,
        client_id: "app-2",
        family_id: None,
    };
    cache.remove_refresh_token(&query, &RefreshToken::new("rt-old"));
    assert_eq!(cache.counts().refresh_tokens, 2);
    cache.remove_refresh_token(&query, &RefreshToken::new("rt-new"));
    assert_eq!(cache.counts().refresh_tokens, 1);
    assert_eq!(
        q("app-3", Some("1")).map(|r| r.0).as_deref(),
        Some("rt-old")
    );
}

#[test]
fn remove_account_removes_its_tokens() {
    let cache = TokenCache::new();
    let alice = account("alice", "alice@contoso.com");
    let bob = account("bob", "bob@contoso.com");
    save(&cache, &Answer::user("a1", &["x"], &alice), &["x"]);
    save(&cache, &Answer::user("a2", &["y"], &alice), &["y"]);
    save_as(
        &cache,
        "unrelated-app",
        &Answer::user("a3", &["z"], &alice),
        &["z"],
        T0,
    );
    save(&cache, &Answer::user("b1", &["x"], &bob), &["x"]);
    save(&cache, &Answer::app("app", &["x"]), &["x"]);
    assert_eq!(cache.counts().access_tokens, 5);

    cache.set_state_changed(false);
    cache.remove_account(&alice, CLIENT);
    assert!(cache.has_state_changed());
    let c = cache.counts();
    // All of alice's ATs (msal removes them for every client), her id tokens
    // and account records; only the unrelated app's refresh token stays.
    assert_eq!(c.access_tokens, 2);
    assert_eq!(c.refresh_tokens, 2);
    assert_eq!(c.accounts, 1);
    assert_eq!(c.id_tokens, 1);
    assert_eq!(
        lookup(&cache, Some(&alice.home_account_id), &["x"], T0),
        None
    );
    assert_eq!(
        lookup(&cache, Some(&bob.home_account_id), &["x"], T0).as_deref(),
        Some("b1")
    );
    assert_eq!(app_lookup(&cache, &["x"]).as_deref(), Some("app"));
    assert!(cache
        .id_token(&alice.home_account_id, ENV, TENANT, CLIENT)
        .is_none());
    assert!(cache
        .id_token(&bob.home_account_id, ENV, TENANT, CLIENT)
        .is_some());
    assert_eq!(cache.accounts(ENV, CLIENT, None).len(), 1);
}

#[test]
fn concurrent_readers_and_writers() {
    let cache = TokenCache::new();
    save(&cache, &Answer::app("base", &["base"]), &["base"]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let cache = cache.clone();
            s.spawn(move || {
                for i in 0..200 {
                    if t == 0 {
                        let name: &'static str = Box::leak(format!("w{i}").into_boxed_str());
                        save(&cache, &Answer::app(name, &[name]), &[name]);
                    } else {
                        assert_eq!(app_lookup(&cache, &["base"]).as_deref(), Some("base"));
                    }
                }
            });
        }
    });
    assert_eq!(cache.counts().access_tokens, 201);
}

// ---- persistence ----

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("idflow-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn file_storage_round_trip_and_reload() {
    let dir = temp_dir("reload");
    let path = dir.join("cache.json");
    let a = TokenCache::new();
    a.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    save(&a, &Answer::app("one", &["one"]), &["one"]);
    a.persist().unwrap();
    assert!(!a.has_state_changed());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let b = TokenCache::new();
    b.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(app_lookup(&b, &["one"]).as_deref(), Some("one"));
    // Nothing changed: reload is a version check only.
    assert!(!b.reload().unwrap());
    save(&a, &Answer::app("two", &["two"]), &["two"]);
    a.persist().unwrap();
    assert!(b.reload().unwrap());
    assert_eq!(app_lookup(&b, &["two"]).as_deref(), Some("two"));

    // A corrupt file is reported by reload and leaves the cache as it was.
    std::fs::write(&path, "{not json").unwrap();
    let e = b.reload().unwrap_err();
    assert_eq!(e.code, "invalid_cache_format");
    assert_eq!(app_lookup(&b, &["two"]).as_deref(), Some("two"));
    // persist heals it.
    save(&b, &Answer::app("three", &["three"]), &["three"]);
    b.persist().unwrap();
    assert!(value(&std::fs::read_to_string(&path).unwrap())["AccessToken"].is_object());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_keeps_other_writers_entries_and_applies_removals() {
    let dir = temp_dir("merge");
    let path = dir.join("cache.json");
    let a = TokenCache::new();
    let b = TokenCache::new();
    a.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    b.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    let alice = account("alice", "alice@contoso.com");
    save(&a, &Answer::user("a-at", &["x"], &alice), &["x"]);
    a.persist().unwrap();
    // b has not reloaded: its persist must merge, not overwrite.
    save(&b, &Answer::app("b-at", &["y"]), &["y"]);
    b.persist().unwrap();
    let c = TokenCache::new();
    c.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(c.counts().access_tokens, 2);
    // A removal in one process reaches the file without losing the rest.
    b.reload().unwrap();
    b.remove_account(&alice, CLIENT);
    b.persist().unwrap();
    c.reload().unwrap();
    assert_eq!(c.counts().access_tokens, 1);
    assert_eq!(c.counts().refresh_tokens, 0);
    assert_eq!(app_lookup(&c, &["y"]).as_deref(), Some("b-at"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stale_removal_does_not_delete_a_newer_token() {
    let dir = temp_dir("stale");
    let path = dir.join("cache.json");
    let a = TokenCache::new();
    let b = TokenCache::new();
    a.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    let alice = account("alice", "alice@contoso.com");
    let mut first = Answer::user("at", &["x"], &alice);
    first.rt = Some("rt-1");
    save(&a, &first, &["x"]);
    a.persist().unwrap();
    b.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    // a refreshes: same key, new refresh token.
    let mut second = Answer::user("at2", &["x"], &alice);
    second.rt = Some("rt-2");
    save(&a, &second, &["x"]);
    a.persist().unwrap();
    // b, not yet reloaded, finds rt-1 rejected and removes it.
    let q = RefreshTokenQuery {
        home_account_id: &alice.home_account_id,
        environment: ENV,
        client_id: CLIENT,
        family_id: None,
    };
    b.remove_refresh_token(&q, &RefreshToken::new("rt-1"));
    b.persist().unwrap();
    let c = TokenCache::new();
    c.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(
        c.refresh_token(&q)
            .map(|r| r.secret.expose().to_owned())
            .as_deref(),
        Some("rt-2")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_writers_on_one_file_lose_nothing() {
    let dir = temp_dir("writers");
    let path = dir.join("cache.json");
    const WRITERS: usize = 4;
    const EACH: usize = 25;
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let path = path.clone();
            s.spawn(move || {
                // Separate caches and storages: as separate processes would be.
                let cache = TokenCache::new();
                cache
                    .attach_storage(Arc::new(FileStorage::new(&path)))
                    .unwrap();
                for i in 0..EACH {
                    let name: &'static str = Box::leak(format!("w{w}-{i}").into_boxed_str());
                    save(&cache, &Answer::app(name, &[name]), &[name]);
                    cache.persist().unwrap();
                }
            });
        }
    });
    let cache = TokenCache::new();
    cache
        .attach_storage(Arc::new(FileStorage::new(&path)))
        .unwrap();
    assert_eq!(cache.counts().access_tokens, WRITERS * EACH);
    for w in 0..WRITERS {
        for i in 0..EACH {
            let name = format!("w{w}-{i}");
            assert_eq!(app_lookup(&cache, &[&name]).as_deref(), Some(name.as_str()));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attach_merges_existing_entries_into_storage() {
    let dir = temp_dir("attach");
    let path = dir.join("cache.json");
    let a = TokenCache::new();
    a.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    save(&a, &Answer::app("stored", &["s"]), &["s"]);
    a.persist().unwrap();
    let b = TokenCache::new();
    save(&b, &Answer::app("memory", &["m"]), &["m"]);
    b.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(b.counts().access_tokens, 2);
    assert!(b.has_state_changed());
    b.persist().unwrap();
    let c = TokenCache::new();
    c.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(c.counts().access_tokens, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- crash safety ----

const CRASH_PATH: &str = "IDFLOW_CACHE_CRASH_PATH";
const CRASH_FIRST: &str = "IDFLOW_CACHE_CRASH_FIRST";

/// The writer half of `killed_writers_lose_no_committed_entry`, run in a
/// child process it spawns (ignored otherwise): saves and persists tokens
/// one by one, printing each id once persist returned, until killed.
#[test]
#[ignore = "child process of killed_writers_lose_no_committed_entry"]
fn crash_writer_child() {
    let path = std::env::var(CRASH_PATH).expect("spawned by the crash test");
    let first: u64 = std::env::var(CRASH_FIRST).unwrap().parse().unwrap();
    let cache = TokenCache::new();
    cache
        .attach_storage(Arc::new(FileStorage::new(path)))
        .unwrap();
    for id in first.. {
        let name: &'static str = Box::leak(format!("c{id}").into_boxed_str());
        save(&cache, &Answer::app(name, &[name]), &[name]);
        cache.persist().unwrap();
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed {id}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
#[cfg(unix)]
fn killed_writers_lose_no_committed_entry() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = temp_dir("crash");
    let path = dir.join("cache.json");
    let exe = std::env::current_exe().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // A reader loading the file all along: it must never see a torn file.
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut loads = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    TokenCache::new().deserialize(&text).unwrap();
                    loads += 1;
                }
            }
            loads
        })
    };
    let mut committed = Vec::new();
    for k in 0..20u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "cache::tests::crash_writer_child",
                "--ignored",
                "--nocapture",
            ])
            .env(CRASH_PATH, &path)
            .env(CRASH_FIRST, (k * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        let forward = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("committed ") {
                    let _ = tx.send(id.parse::<u64>().unwrap());
                }
            }
        });
        // Kill at a varying moment after the first commit: mid-save,
        // mid-write or mid-rename as it happens.
        committed.push(rx.recv_timeout(Duration::from_secs(30)).unwrap());
        std::thread::sleep(Duration::from_micros(500 + (k * 7919) % 15_000));
        child.kill().unwrap();
        child.wait().unwrap();
        forward.join().unwrap();
        committed.extend(rx.try_iter());

        let cache = TokenCache::new();
        cache
            .attach_storage(Arc::new(FileStorage::new(&path)))
            .unwrap();
        for id in &committed {
            let name = format!("c{id}");
            assert_eq!(
                app_lookup(&cache, &[&name]).as_deref(),
                Some(name.as_str()),
                "after kill {k}"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert!(committed.len() > 20);
    let _ = std::fs::remove_dir_all(&dir);
}
