//! An account list kept up to date by steps (`update_accounts_view`): the
//! copy a caller builds from them is always the list read whole, and after
//! an ordinary change it takes the changed accounts only.

use super::*;
use crate::{AccountRef, AccountsView, ViewStep};

type Row = [String; 5];

fn row(a: AccountRef<'_>) -> Row {
    [
        a.home_account_id,
        a.environment,
        a.realm,
        a.username,
        a.local_account_id,
    ]
    .map(str::to_owned)
}

fn whole(cache: &TokenCache, client: &str) -> Vec<Row> {
    let mut out = Vec::new();
    cache.for_each_account(ENV, client, None, |a| out.push(row(a)));
    out
}

/// What the caller does with the steps, as a binding would: one pass over
/// its old list, which the steps' indexes (never decreasing) allow.
/// Returns whether the list was read whole, and how many steps came.
fn update(
    cache: &TokenCache,
    client: &str,
    view: &mut AccountsView,
    copy: &mut Vec<Row>,
) -> (bool, usize) {
    let old = std::mem::take(copy);
    let mut old = old.into_iter();
    let (mut reset, mut steps) = (false, 0);
    let mut last = 0;
    cache.update_accounts_view(ENV, client, view, |step| {
        steps += 1;
        let at = match step {
            ViewStep::Reset => {
                reset = true;
                old.by_ref().for_each(drop);
                return;
            }
            ViewStep::Remove(i) | ViewStep::Insert(i, _) => i,
        };
        assert!(at >= last, "the steps' indexes never decrease");
        last = at;
        while copy.len() < at {
            copy.push(old.next().expect("an index inside the list"));
        }
        match step {
            ViewStep::Remove(_) => {
                old.next().expect("a removed account");
            }
            ViewStep::Insert(_, a) => copy.push(row(a)),
            ViewStep::Reset => unreachable!(),
        }
    });
    copy.extend(old);
    (reset, steps)
}

/// A sign-in among many accounts is one step; a token refresh none; a
/// sign-out one; a load reads the list whole.
#[test]
fn a_sign_in_is_one_step() {
    let cache = TokenCache::new();
    for i in 0..50 {
        let a = account(&format!("user{i:02}"), &format!("u{i}@contoso.com"));
        save(&cache, &Answer::user("at", &["x"], &a), &["x"]);
    }
    let (mut view, mut copy) = (AccountsView::default(), Vec::new());
    assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (true, 51));
    assert_eq!(copy, whole(&cache, CLIENT));
    assert_eq!(view.len(), 50);

    let newcomer = account("user25b", "newcomer@contoso.com");
    save(&cache, &Answer::user("at", &["x"], &newcomer), &["x"]);
    assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (false, 1));
    assert_eq!(copy, whole(&cache, CLIENT));
    assert_eq!(copy[26][3], "newcomer@contoso.com");

    let refreshed = Answer::user("at2", &["x"], &newcomer).with_rt("rt-next");
    save_as(&cache, CLIENT, &refreshed, &["x"], T0 + 60);
    assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (false, 0));

    cache.remove_account(&account("user03", "u3@contoso.com"), CLIENT);
    assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (false, 1));
    assert_eq!(copy, whole(&cache, CLIENT));

    cache.deserialize(&cache.serialize()).unwrap();
    assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (true, 51));
    assert_eq!(copy, whole(&cache, CLIENT));
}

/// More changes than the sections remember: the list is read whole.
#[test]
fn a_view_older_than_the_log_reads_the_list_whole() {
    let cache = TokenCache::new();
    let (mut view, mut copy) = (AccountsView::default(), Vec::new());
    update(&cache, CLIENT, &mut view, &mut copy);
    for i in 0..400 {
        let a = account(&format!("user{i:03}"), "same@contoso.com");
        save(&cache, &Answer::user("at", &["x"], &a), &["x"]);
    }
    let (reset, _) = update(&cache, CLIENT, &mut view, &mut copy);
    assert!(reset, "400 sign-ins are more than the log holds");
    assert_eq!(copy, whole(&cache, CLIENT));
}

/// Whatever happens to the cache (the random changes of
/// `an_unchanged_accounts_generation_means_an_unchanged_list`), each
/// client's copy kept by steps equals its list read whole; both kinds of
/// update happen (a load or a family change reads the list whole).
#[test]
fn a_view_kept_by_steps_is_the_list_read_whole() {
    use super::accounts::{random_change, xorshift, LISTED_CLIENTS};
    let cache = TokenCache::new();
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut views = [AccountsView::default(), AccountsView::default()];
    let mut copies = [Vec::new(), Vec::new()];
    let (mut stepped, mut whole_reads) = (0, 0);
    for step in 0..3_000u64 {
        random_change(&cache, &mut next, step);
        // Each client's view is brought up to date now and then, so that
        // one update may span several changes.
        for (i, c) in LISTED_CLIENTS.iter().enumerate() {
            if next(3) == 0 {
                continue;
            }
            let (reset, _) = update(&cache, c, &mut views[i], &mut copies[i]);
            if reset {
                whole_reads += 1;
            } else {
                stepped += 1;
            }
            assert_eq!(copies[i], whole(&cache, c), "step {step}, client {c}");
        }
    }
    assert!(
        stepped > 1_000 && whole_reads > 100,
        "stepped {stepped}, read whole {whole_reads}"
    );
}

/// An account record rewritten in place (msal's `modify`) with another
/// username: the account is removed and inserted again, two steps.
#[test]
fn a_renamed_account_is_two_steps() {
    let cache = TokenCache::new();
    for i in 0..20 {
        let a = account(&format!("user{i:02}"), &format!("u{i}@contoso.com"));
        save(&cache, &Answer::user("at", &["x"], &a), &["x"]);
    }
    cache.deserialize(&cache.serialize()).unwrap();
    let (mut view, mut copy) = (AccountsView::default(), Vec::new());
    update(&cache, CLIENT, &mut view, &mut copy);
    let doc: Value = serde_json::from_str(&cache.serialize()).unwrap();
    let (_, record) = doc["Account"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v["username"] == "u7@contoso.com")
        .unwrap();
    let record = record.as_object().unwrap().clone();
    for name in ["renamed@contoso.com", "again@contoso.com"] {
        let patch = json!({ "username": name });
        cache
            .modify_entry(
                CredentialType::Account,
                &record,
                Some(patch.as_object().unwrap()),
            )
            .unwrap();
        assert_eq!(update(&cache, CLIENT, &mut view, &mut copy), (false, 2));
        assert_eq!(copy, whole(&cache, CLIENT));
        assert_eq!(copy[7][3], name);
    }
}
