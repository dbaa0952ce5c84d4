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

/// What an app's account list shows: every field of every account, in order.
fn listing(cache: &TokenCache, client: &str) -> Vec<Account> {
    cache.accounts(ENV, client, None)
}

/// A token refresh rewrites the account's access, refresh and id token,
/// its account record and the app's metadata: the cache's generation moves,
/// the accounts generation does not, so an account list read before stays
/// current. A change of who is listed, or how, moves it.
#[test]
fn accounts_generation_moves_with_the_list_not_with_a_refresh() {
    let cache = TokenCache::new();
    let alice = account("alice", "alice@contoso.com");
    save(&cache, &Answer::user("a1", &["x"], &alice), &["x"]);
    let (g, a) = (cache.generation(), cache.accounts_generation());
    let refreshed = Answer::user("a2", &["x"], &alice).with_rt("rt-next");
    save_as(&cache, CLIENT, &refreshed, &["x"], T0 + 60);
    assert!(cache.generation() > g);
    assert_eq!(cache.accounts_generation(), a, "a refresh keeps the list");
    save_app(&cache, "app", &["y"]);
    assert_eq!(cache.accounts_generation(), a, "an app token lists nobody");

    let last = std::cell::Cell::new(a);
    let moved = |cache: &TokenCache, what: &str| {
        let now = cache.accounts_generation();
        assert_ne!(now, last.get(), "{what} must move the accounts generation");
        last.set(now);
    };
    save(
        &cache,
        &Answer::user("b1", &["x"], &account("bob", "bob@contoso.com")),
        &["x"],
    );
    moved(&cache, "a new account");
    let renamed = account("alice", "alice.smith@contoso.com");
    save(&cache, &Answer::user("a3", &["x"], &renamed), &["x"]);
    moved(&cache, "a new username");
    save_as(
        &cache,
        "client-b",
        &Answer::user("a4", &["x"], &renamed),
        &["x"],
        T0,
    );
    moved(&cache, "another client's refresh token");
    cache.set_app_family(ENV, CLIENT, Some("1"));
    moved(&cache, "the app joining a family");
    cache.set_app_family(ENV, CLIENT, Some("1"));
    assert_eq!(
        cache.accounts_generation(),
        last.get(),
        "the same family again"
    );
    cache.remove_refresh_token(
        &rt_query(&renamed.home_account_id, CLIENT, None),
        &RefreshToken::new("rt-secret"),
    );
    moved(&cache, "a refresh token removed");
    cache.remove_account(&renamed, CLIENT);
    moved(&cache, "an account removed");
    cache.deserialize(&cache.serialize()).unwrap();
    moved(&cache, "a load");
}

/// Whatever happens to the cache, a list read while the accounts generation
/// had some value is the list every later read gives while it keeps that
/// value. Random changes ([`random_change`]), checked after each against
/// both clients' lists.
#[test]
fn an_unchanged_accounts_generation_means_an_unchanged_list() {
    let cache = TokenCache::new();
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let (mut kept, mut changed) = (0, 0);
    let mut before = (
        cache.accounts_generation(),
        LISTED_CLIENTS.map(|c| listing(&cache, c)),
    );
    for step in 0..3_000u64 {
        random_change(&cache, &mut next, step);
        let now = (
            cache.accounts_generation(),
            LISTED_CLIENTS.map(|c| listing(&cache, c)),
        );
        if now.0 == before.0 {
            assert_eq!(
                now.1, before.1,
                "step {step}: the same generation, another list"
            );
            kept += 1;
        } else {
            changed += 1;
        }
        before = now;
    }
    // Both outcomes are exercised, so the check above can fail.
    assert!(
        kept > 300 && changed > 300,
        "kept {kept}, changed {changed}"
    );
}

/// The two clients whose lists the random changes move.
pub(super) const LISTED_CLIENTS: [&str; 2] = [CLIENT, "client-b"];

/// A small deterministic generator: `next(n)` is in `0..n`.
pub(super) fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// One random change of what account lists read: saves (refreshes, new
/// users, renames, other clients, families), removals of accounts and of
/// refresh tokens, family changes, app tokens, reloads, and records of a
/// second tenant.
pub(super) fn random_change(cache: &TokenCache, next: &mut impl FnMut(u64) -> u64, step: u64) {
    let users = ["u0", "u1", "u2", "u3"];
    let names = ["one@contoso.com", "two@contoso.com"];
    let rts = ["rt-1", "rt-2", "rt-3"];
    let client = LISTED_CLIENTS[next(2) as usize];
    let user = account(users[next(4) as usize], names[next(2) as usize]);
    match next(10) {
        0..=3 => {
            let mut a = Answer::user("at", &["x"], &user).with_rt(rts[next(3) as usize]);
            if next(3) == 0 {
                a = a.in_family("1");
            }
            save_as(cache, client, &a, &["x"], T0 + step);
        }
        4 => cache.remove_account(&user, client),
        5 => {
            let q = rt_query(&user.home_account_id, client, None);
            cache.remove_refresh_token(&q, &RefreshToken::new(rts[next(3) as usize]));
        }
        6 => cache.set_app_family(ENV, client, [None, Some("1")][next(2) as usize]),
        7 => save_app(cache, "app", &["y"]),
        8 => cache.deserialize(&cache.serialize()).unwrap(),
        _ => {
            // A record of the account in a second tenant (a guest), as
            // another library's document may hold: then which record
            // the list shows must not depend on the order of saves.
            let mut doc: Value = serde_json::from_str(&cache.serialize()).unwrap();
            let realm = ["tenant-2", "tenant-3"][next(2) as usize];
            let key = format!("{}-{ENV}-{realm}", user.home_account_id);
            doc["Account"][key] = json!({
                "home_account_id": user.home_account_id,
                "environment": ENV,
                "realm": realm,
                "local_account_id": format!("guest-{realm}"),
                "username": user.username,
                "authority_type": "MSSTS",
            });
            cache.deserialize(&doc.to_string()).unwrap();
        }
    }
}
