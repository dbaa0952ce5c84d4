//! Storage: reload, merges between writers, stale removals, attaching a
//! cache that holds entries.

use super::*;

#[test]
fn file_storage_round_trip_and_reload() {
    let dir = TempDir::new("reload");
    let path = dir.cache_file();
    let a = attached(&path);
    save_app(&a, "one", &["one"]);
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

    let b = attached(&path);
    assert_eq!(app_lookup(&b, &["one"]).as_deref(), Some("one"));
    // Nothing changed: reload is a version check only.
    assert!(!b.reload().unwrap());
    save_app(&a, "two", &["two"]);
    a.persist().unwrap();
    assert!(b.reload().unwrap());
    assert_eq!(app_lookup(&b, &["two"]).as_deref(), Some("two"));

    // A corrupt file is reported by reload, moved aside, and leaves the
    // cache as it was.
    std::fs::write(&path, "{not json").unwrap();
    let e = b.reload().unwrap_err();
    assert_eq!(e.code, "invalid_cache_format");
    assert!(!path.exists());
    assert_eq!(app_lookup(&b, &["two"]).as_deref(), Some("two"));
    // persist writes a new file.
    save_app(&b, "three", &["three"]);
    b.persist().unwrap();
    assert!(value(&std::fs::read_to_string(&path).unwrap())["AccessToken"].is_object());
}

#[test]
fn merge_keeps_other_writers_entries_and_applies_removals() {
    let dir = TempDir::new("merge");
    let path = dir.cache_file();
    let a = attached(&path);
    let b = attached(&path);
    let alice = account("alice", "alice@contoso.com");
    save(&a, &Answer::user("a-at", &["x"], &alice), &["x"]);
    a.persist().unwrap();
    // b has not reloaded: its persist must merge, not overwrite.
    save_app(&b, "b-at", &["y"]);
    b.persist().unwrap();
    let c = attached(&path);
    assert_eq!(c.counts().access_tokens, 2);
    // A removal in one process reaches the file without losing the rest.
    b.reload().unwrap();
    b.remove_account(&alice, CLIENT);
    b.persist().unwrap();
    c.reload().unwrap();
    assert_eq!(c.counts().access_tokens, 1);
    assert_eq!(c.counts().refresh_tokens, 0);
    assert_eq!(app_lookup(&c, &["y"]).as_deref(), Some("b-at"));
}

#[test]
fn stale_removal_does_not_delete_a_newer_token() {
    let dir = TempDir::new("stale");
    let path = dir.cache_file();
    let a = attached(&path);
    let alice = account("alice", "alice@contoso.com");
    let first = Answer::user("at", &["x"], &alice).with_rt("rt-1");
    save(&a, &first, &["x"]);
    a.persist().unwrap();
    let b = attached(&path);
    // a refreshes: same key, new refresh token.
    let second = Answer::user("at2", &["x"], &alice).with_rt("rt-2");
    save(&a, &second, &["x"]);
    a.persist().unwrap();
    // b, not yet reloaded, finds rt-1 rejected and removes it.
    let q = rt_query(&alice.home_account_id, CLIENT, None);
    b.remove_refresh_token(&q, &RefreshToken::new("rt-1"));
    b.persist().unwrap();
    let c = attached(&path);
    assert_eq!(rt_secret(&c, &q).as_deref(), Some("rt-2"));
}

#[test]
fn concurrent_writers_on_one_file_lose_nothing() {
    let dir = TempDir::new("writers");
    let path = dir.cache_file();
    const WRITERS: usize = 4;
    const EACH: usize = 25;
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let path = path.clone();
            s.spawn(move || {
                // Separate caches and storages: as separate processes would be.
                let cache = attached(&path);
                for i in 0..EACH {
                    let name = format!("w{w}-{i}");
                    save_app(&cache, &name, &[&name]);
                    cache.persist().unwrap();
                }
            });
        }
    });
    let cache = attached(&path);
    assert_eq!(cache.counts().access_tokens, WRITERS * EACH);
    for w in 0..WRITERS {
        for i in 0..EACH {
            let name = format!("w{w}-{i}");
            assert_eq!(app_lookup(&cache, &[&name]).as_deref(), Some(name.as_str()));
        }
    }
}

#[test]
fn attach_merges_existing_entries_into_storage() {
    let dir = TempDir::new("attach");
    let path = dir.cache_file();
    let a = attached(&path);
    save_app(&a, "stored", &["s"]);
    a.persist().unwrap();
    let b = TokenCache::new();
    save_app(&b, "memory", &["m"]);
    b.attach_storage(Arc::new(FileStorage::new(&path))).unwrap();
    assert_eq!(b.counts().access_tokens, 2);
    assert!(b.has_state_changed());
    b.persist().unwrap();
    let c = attached(&path);
    assert_eq!(c.counts().access_tokens, 2);
}
