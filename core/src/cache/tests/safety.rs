//! Data safety of the cache file: what cannot be read is moved aside, never
//! overwritten; the temporary file is private, new and never a symlink; the
//! cross-process lock follows msal-extensions' protocol and times out.

use super::*;

fn corrupt_copies(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cache.json.corrupt-"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn persist_moves_an_unparsable_file_aside_instead_of_overwriting_it() {
    let dir = TempDir::new("corrupt-persist");
    let path = dir.cache_file();
    let a = attached(&path);
    std::fs::write(&path, "{\"AccessToken\": {\"from another app\": ").unwrap();
    save_app(&a, "mine", &["mine"]);
    let e = a.persist().unwrap_err();
    assert_eq!(e.code, "invalid_cache_format", "{e:?}");
    assert!(e.message.contains(".corrupt-"), "{}", e.message);
    let copies = corrupt_copies(&dir.0);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        std::fs::read_to_string(&copies[0]).unwrap(),
        "{\"AccessToken\": {\"from another app\": "
    );
    // The change is kept and written at the next persist.
    assert!(a.has_state_changed());
    a.persist().unwrap();
    let b = attached(&path);
    assert_eq!(app_lookup(&b, &["mine"]).as_deref(), Some("mine"));
}

#[test]
fn non_utf8_bytes_are_an_error_and_the_file_is_kept() {
    let dir = TempDir::new("non-utf8");
    let path = dir.cache_file();
    let a = attached(&path);
    // Valid JSON but for one byte that is not UTF-8 (a lossy decode turns it
    // into U+FFFD and would write the altered secret back).
    let bytes = b"{\"AccessToken\": {}, \"x\": \"\xff\"}".to_vec();
    std::fs::write(&path, &bytes).unwrap();
    let e = a.reload().unwrap_err();
    assert_eq!(e.code, "invalid_cache_format", "{e:?}");
    assert!(e.message.contains("UTF-8"), "{}", e.message);
    let copies = corrupt_copies(&dir.0);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(std::fs::read(&copies[0]).unwrap(), bytes);
}

#[test]
fn a_failed_attach_leaves_no_storage_attached() {
    let dir = TempDir::new("attach-fail");
    let path = dir.cache_file();
    std::fs::write(&path, "not json").unwrap();
    let cache = TokenCache::new();
    let e = cache
        .attach_storage(Arc::new(FileStorage::new(&path)))
        .unwrap_err();
    assert_eq!(e.code, "invalid_cache_format", "{e:?}");
    assert!(cache.storage().is_none());
    // The cache works in memory and writes nothing.
    save_app(&cache, "mem", &["mem"]);
    cache.persist().unwrap();
    assert!(!path.exists());
    assert_eq!(corrupt_copies(&dir.0).len(), 1);
}

#[test]
fn persist_merges_even_when_the_version_looks_unchanged() {
    // A storage that cannot tell versions apart (always the same value):
    // persist must still read what another writer stored.
    #[derive(Debug, Default)]
    struct Fixed(std::sync::Mutex<Option<Vec<u8>>>);
    impl CacheStorage for Fixed {
        fn load(&self) -> Result<Option<Vec<u8>>, String> {
            Ok(self.0.lock().unwrap().clone())
        }
        fn save(&self, data: &[u8]) -> Result<(), String> {
            *self.0.lock().unwrap() = Some(data.to_vec());
            Ok(())
        }
        fn version(&self) -> Result<Option<String>, String> {
            Ok(Some("v".into()))
        }
    }
    let st = Arc::new(Fixed::default());
    let a = TokenCache::new();
    a.attach_storage(st.clone()).unwrap();
    let other = TokenCache::new();
    save_app(&other, "theirs", &["theirs"]);
    *st.0.lock().unwrap() = Some(other.serialize().into_bytes());
    save_app(&a, "mine", &["mine"]);
    a.persist().unwrap();
    let stored = TokenCache::new();
    stored
        .deserialize(&String::from_utf8(st.0.lock().unwrap().clone().unwrap()).unwrap())
        .unwrap();
    assert_eq!(app_lookup(&stored, &["theirs"]).as_deref(), Some("theirs"));
    assert_eq!(app_lookup(&stored, &["mine"]).as_deref(), Some("mine"));
}

#[test]
#[cfg(unix)]
fn a_symlink_at_the_old_temp_path_is_not_followed() {
    let dir = TempDir::new("tmp-symlink");
    let path = dir.cache_file();
    let target = dir.0.join("attacker-owned");
    std::fs::write(&target, "untouched").unwrap();
    std::os::unix::fs::symlink(&target, dir.0.join("cache.json.tmp")).unwrap();
    let a = attached(&path);
    save_app(&a, "secret-token", &["s"]);
    a.persist().unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
    assert!(!std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
#[cfg(unix)]
fn a_planted_temp_file_does_not_give_the_cache_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("tmp-mode");
    let path = dir.cache_file();
    let planted = dir.0.join("cache.json.tmp");
    std::fs::write(&planted, "").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    let a = attached(&path);
    save_app(&a, "secret-token", &["s"]);
    a.persist().unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
#[cfg(unix)]
fn the_temp_file_is_created_new_private_and_without_following_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("tmp-create");
    let link = dir.0.join("link");
    let target = dir.0.join("target");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(crate::cache::storage::create_private(&link).is_err());
    assert!(!target.exists());
    let plain = dir.0.join("plain");
    std::fs::write(&plain, "x").unwrap();
    assert!(crate::cache::storage::create_private(&plain).is_err());
    let fresh = dir.0.join("fresh");
    drop(crate::cache::storage::create_private(&fresh).unwrap());
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_held_lock_times_out_with_a_classified_error() {
    let dir = TempDir::new("lock-timeout");
    let path = dir.cache_file();
    let holder = FileStorage::new(&path);
    holder.lock().unwrap();
    // msal-extensions' lock file, beside the cache file.
    assert!(dir.0.join("cache.json.lockfile").exists());
    let waiter = FileStorage::new(&path).with_lock_timeout(Duration::from_millis(300));
    let cache = TokenCache::new();
    cache.attach_storage(Arc::new(waiter)).unwrap();
    save_app(&cache, "t", &["t"]);
    let (tx, rx) = std::sync::mpsc::channel();
    let c = cache.clone();
    std::thread::spawn(move || {
        let _ = tx.send(c.persist());
    });
    let r = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("persist waited on the lock without a timeout");
    let e = r.unwrap_err();
    assert_eq!(e.code, "cache_storage_failed", "{e:?}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    holder.unlock();
    // Released: the lock file is gone (msal-extensions removes it too), and
    // the change was kept for the next persist.
    assert!(!dir.0.join("cache.json.lockfile").exists());
    cache.persist().unwrap();
}

#[test]
fn a_stale_lock_file_left_by_a_dead_process_does_not_block_forever() {
    let dir = TempDir::new("lock-stale");
    let path = dir.cache_file();
    // Left behind by a process killed while holding the lock: it exists but
    // nobody holds a lock on it.
    std::fs::write(dir.0.join("cache.json.lockfile"), "1 dead").unwrap();
    let st = FileStorage::new(&path).with_lock_timeout(Duration::from_secs(20));
    let started = std::time::Instant::now();
    st.lock().unwrap();
    st.unlock();
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_dead_writers_temp_file_is_removed_with_its_stale_lock() {
    let dir = TempDir::new("tmp-left");
    let path = dir.cache_file();
    let left = dir.0.join("cache.json.tmp-0123456789abcdef");
    std::fs::write(&left, "half a token cache").unwrap();
    std::fs::write(dir.0.join("cache.json.lockfile"), "1 dead").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let a = attached(&path);
    save_app(&a, "t", &["t"]);
    a.persist().unwrap();
    assert!(!left.exists());
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["cache.json"]);
}
