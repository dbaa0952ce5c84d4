//! Which access token answers a query: scopes, partitions, `.default`,
//! expiry and the bound.

use super::*;

#[test]
fn msal_document_is_usable() {
    let cache = TokenCache::new();
    cache.deserialize(&msal_document().to_string()).unwrap();
    let q = |want: &[&str]| {
        find(&cache, "utid", Some("uid.utid"), want, T0 + 10)
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
        .refresh_token(&rt_query("uid.utid", "another-family-app", Some("1")))
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
    save_app(&cache, "ab", &["Scope.A", "scope.b"]);
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
    let short = Answer::app("short", &["a", "b"]).expiring_in(100);
    save(&cache, &short, &["a", "b"]);
    save_app(&cache, "long", &["a", "c"]);
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
    save_app(&cache, "api-x", &["api://x/read", "api://x/write"]);
    assert_eq!(
        app_lookup(&cache, &["api://X/.default"]).as_deref(),
        Some("api-x")
    );
    // Mixed resources never answer a .default request.
    save_app(&cache, "mixed", &["api://y/read", "api://z/read"]);
    assert_eq!(app_lookup(&cache, &["api://y/.default"]), None);
    // Client credentials: the target is the .default scope itself.
    save_app(&cache, "cc", &["api://w/.default"]);
    assert_eq!(
        app_lookup(&cache, &["api://w/.default"]).as_deref(),
        Some("cc")
    );
}

// ---- expiry and bound ----

#[test]
fn expired_tokens_are_dropped_when_met() {
    let cache = TokenCache::new();
    let a = Answer::app("soon", &["a"]).expiring_in(100);
    save(&cache, &a, &["a"]);
    save_app(&cache, "later", &["b"]);
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
    let a = Answer::app("old", &["a"]).expiring_in(100);
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
        let a = Answer::app(names[i], &[names[i]]).expiring_in(life);
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
    save_app(&cache, "v1", &["a", "b"]);
    save_app(&cache, "v2", &["a", "b"]);
    assert_eq!(cache.counts().access_tokens, 1);
    assert_eq!(app_lookup(&cache, &["b"]).as_deref(), Some("v2"));
    assert_eq!(app_lookup(&cache, &["a", "b"]).as_deref(), Some("v2"));
}
