//! Accounts, refresh tokens, signing out, and readers beside a writer.

use super::*;

#[test]
fn accounts_by_client_family_and_username() {
    let cache = TokenCache::new();
    let alice = account("alice", "Alice@Contoso.com");
    let bob = account("bob", "bob@contoso.com");
    save(&cache, &Answer::user("a1", &["x"], &alice), &["x"]);
    let fam = Answer::user("b1", &["x"], &bob).in_family("1");
    save_as(&cache, "family-app", &fam, &["x"], T0);
    // An app token makes no account.
    save_app(&cache, "app", &["y"]);

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
fn family_refresh_token_lookup_newest_first() {
    let cache = TokenCache::new();
    let alice = account("alice", "alice@contoso.com");
    let first = Answer::user("a1", &["x"], &alice)
        .in_family("1")
        .with_rt("rt-old");
    save_as(&cache, "app-1", &first, &["x"], T0);
    let second = Answer::user("a2", &["y"], &alice)
        .in_family("1")
        .with_rt("rt-new");
    save_as(&cache, "app-2", &second, &["y"], T0 + 5);
    let q = |client: &str, family: Option<&str>| {
        cache
            .refresh_token(&rt_query(&alice.home_account_id, client, family))
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
    let query = rt_query(&alice.home_account_id, "app-2", None);
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
    save_app(&cache, "app", &["x"]);
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
    save_app(&cache, "base", &["base"]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let cache = cache.clone();
            s.spawn(move || {
                for i in 0..200 {
                    if t == 0 {
                        let name = format!("w{i}");
                        save_app(&cache, &name, &[&name]);
                    } else {
                        assert_eq!(app_lookup(&cache, &["base"]).as_deref(), Some("base"));
                    }
                }
            });
        }
    });
    assert_eq!(cache.counts().access_tokens, 201);
}
