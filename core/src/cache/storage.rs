//! Where a cache is persisted: the [`CacheStorage`] an app may implement,
//! and [`FileStorage`], a token cache in a file shared safely between
//! processes, and with msal-extensions' `PersistedTokenCache` on that file.
//!
//! * Writes replace the file atomically: the bytes go to a new temporary file
//!   in the same directory (a random name, created exclusively, never through
//!   a symbolic link, owner-only from its creation on), which is flushed to
//!   disk, renamed over the cache file, and the directory is flushed too. A
//!   reader (or a crash at any point) sees the old file or the new one, never
//!   a torn one; readers need no lock.
//! * Read-merge-write cycles of [`super::TokenCache::persist`] run under the
//!   lock msal-extensions takes (`CrossPlatLock` in
//!   AzureAD/microsoft-authentication-extensions-for-python,
//!   `msal_extensions/cache_lock.py`): the sibling `<file>.lockfile` is created
//!   exclusively (retried while it exists), then locked exclusively with an
//!   OS advisory lock (retried, non-blocking), and removed on release. A lock
//!   file nobody holds a lock on and untouched for a while was left by a
//!   process that died holding it, and is taken over. Waiting is bounded
//!   ([`FileStorage::with_lock_timeout`]): past it, the lock fails.
//! * A file that cannot be read as a cache is never overwritten: it is
//!   renamed to `<file>.corrupt-<unix time>` (see [`CacheStorage::set_aside`]).
//! * Files are created readable by the owner only (Unix): they hold tokens.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long [`FileStorage`] waits for the lock by default: the five seconds
/// msal-extensions tries to create the lock file plus the five its lock
/// library tries to lock it.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause between two attempts at the lock (msal-extensions waits 0.25 s; a
/// shorter pause lets a waiting idflow process in sooner).
const LOCK_POLL: Duration = Duration::from_millis(20);

/// A lock file that nobody holds a lock on and that was not written for this
/// long was left by a process that died holding it. (A live holder locks its
/// lock file right after creating it.)
const STALE_LOCK_AFTER: Duration = Duration::from_secs(1);

/// Where a cache is persisted. [`FileStorage`] is the file implementation;
/// apps may supply their own (a keychain item, a database row).
pub trait CacheStorage: Send + Sync + std::fmt::Debug {
    /// The last saved bytes, or `None` when nothing was saved yet.
    fn load(&self) -> Result<Option<Vec<u8>>, String>;
    /// Replaces the stored bytes atomically (a reader sees the old or the new
    /// bytes, never a mix).
    fn save(&self, data: &[u8]) -> Result<(), String>;
    /// A cheap value that changes whenever the stored bytes change (for a
    /// file: device, inode, length, modification time). `None` when the
    /// storage cannot tell: the cache then re-reads on every
    /// [`TokenCache::reload`](super::TokenCache::reload) and merges on
    /// every [`TokenCache::persist`](super::TokenCache::persist).
    fn version(&self) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// Takes the exclusive lock that other processes sharing this storage
    /// also take (blocking). The cache holds it from reading the stored state
    /// to writing the merged one.
    fn lock(&self) -> Result<(), String> {
        Ok(())
    }
    /// Releases what [`CacheStorage::lock`] took.
    fn unlock(&self) {}
    /// Moves stored bytes that cannot be read as a cache out of the way,
    /// keeping them, and says where they went. `None` when this storage
    /// cannot: the cache then saves nothing over them.
    fn set_aside(&self) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// A [`CacheStorage`] in one file. Several instances, in one process or many,
/// may share the same path.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    lock_path: PathBuf,
    lock_timeout: Duration,
    /// How old an unlocked lock file must be to be taken for a dead
    /// process's ([`STALE_LOCK_AFTER`]; shorter in tests where only one live
    /// process ever locks at a time).
    stale_after: Duration,
    /// The lock file while this instance holds the lock.
    held: Mutex<Option<File>>,
    /// Set when the lock was taken over from a dead process, whose temporary
    /// file may be left: the next write removes it.
    sweep: std::sync::atomic::AtomicBool,
}

impl FileStorage {
    /// Storage in `path` (created at the first save; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let with_suffix = |suffix: &str| {
            let mut name = path
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            name.push(suffix);
            path.with_file_name(name)
        };
        FileStorage {
            lock_path: with_suffix(".lockfile"),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            stale_after: STALE_LOCK_AFTER,
            held: Mutex::new(None),
            sweep: std::sync::atomic::AtomicBool::new(false),
            path,
        }
    }

    /// How long [`CacheStorage::lock`] waits for another process to release
    /// the lock before failing ([`DEFAULT_LOCK_TIMEOUT`] otherwise).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Takes an unlocked lock file for a dead process's after `after`
    /// instead of [`STALE_LOCK_AFTER`]: for tests that kill lock holders
    /// one after another, with no other live process locking meanwhile.
    #[cfg(test)]
    pub(crate) fn with_stale_lock_after(mut self, after: Duration) -> Self {
        self.stale_after = after;
        self
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn is_held(&self) -> bool {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    fn write_replace(&self, data: &[u8]) -> std::io::Result<()> {
        if self.sweep.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.remove_left_temp_files();
        }
        let (mut f, tmp) = self.new_temp_file()?;
        let written = f
            .write_all(data)
            .and_then(|()| f.sync_all())
            .and_then(|()| {
                drop(f);
                fs::rename(&tmp, &self.path)
            });
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        sync_dir(self.dir())
    }

    /// Removes temporary files a writer that died left behind. Runs under
    /// the lock, which every writer holds while its temporary file exists.
    fn remove_left_temp_files(&self) {
        let Some(name) = self.path.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let prefix = format!("{name}.tmp-");
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                // A link is removed itself; its target is never touched.
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// A temporary file of a random name beside the cache file, created by
    /// this call (never one planted there, never through a link).
    fn new_temp_file(&self) -> std::io::Result<(File, PathBuf)> {
        let mut last = None;
        for _ in 0..8 {
            let tmp = self.sibling(&format!(".tmp-{}", random_hex()));
            match create_private(&tmp) {
                Ok(f) => return Ok((f, tmp)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ErrorKind::AlreadyExists.into()))
    }

    /// The lock file when it was left by a process that died holding it:
    /// nobody holds a lock on it and it was not written for a while. It is
    /// returned locked.
    fn take_stale_lock(&self) -> Option<File> {
        let f = no_follow(OpenOptions::new().read(true).write(true))
            .open(&self.lock_path)
            .ok()?;
        f.try_lock().ok()?;
        let meta = f.metadata().ok()?;
        let age = meta.modified().ok()?.elapsed().unwrap_or_default();
        (age >= self.stale_after && same_file(&meta, &self.lock_path)).then_some(f)
    }
}

/// 128 random bits as hex (a temporary file name nobody can predict).
fn random_hex() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // Unpredictability is defence in depth only: the file is created
        // exclusively and without following links whatever its name.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = (nanos ^ u128::from(std::process::id())).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the open file `meta` describes is still the one at `path` (not
/// removed and created anew by another process meanwhile).
fn same_file(meta: &fs::Metadata, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        fs::symlink_metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        path.exists()
    }
}

/// Creates `path`, which must not exist yet (a planted file or link is an
/// error), owner-only from its creation on and without following a link.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    no_follow(private(OpenOptions::new().write(true).create_new(true))).open(path)
}

/// Never opens through a symbolic link at the last path component (Unix).
fn no_follow(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    o
}

/// Owner-only permissions for files this storage creates.
fn private(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Flushes a directory entry change (the rename) to disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a directory as a file; its rename is flushed
        // with the file system's metadata journal.
        let _ = dir;
        Ok(())
    }
}

fn describe(what: &str, path: &Path, e: &std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

impl CacheStorage for FileStorage {
    fn load(&self) -> Result<Option<Vec<u8>>, String> {
        match fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(describe("cannot read", &self.path, &e)),
        }
    }

    /// Writes under the lock (taking it for this write when the caller does
    /// not hold it), so the one temporary file is never shared.
    fn save(&self, data: &[u8]) -> Result<(), String> {
        let took = !self.is_held();
        if took {
            self.lock()?;
        }
        let r = self
            .write_replace(data)
            .map_err(|e| describe("cannot write", &self.path, &e));
        if took {
            self.unlock();
        }
        r
    }

    fn version(&self) -> Result<Option<String>, String> {
        match fs::metadata(&self.path) {
            Ok(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                #[cfg(unix)]
                let id = {
                    use std::os::unix::fs::MetadataExt;
                    format!("{}:{}", m.dev(), m.ino())
                };
                #[cfg(not(unix))]
                let id = String::new();
                Ok(Some(format!("{id}:{}:{mtime}", m.len())))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Some("absent".into())),
            Err(e) => Err(describe("cannot stat", &self.path, &e)),
        }
    }

    fn lock(&self) -> Result<(), String> {
        let deadline = Instant::now() + self.lock_timeout;
        let timed_out = || {
            format!(
                "timed out after {:?} waiting for the lock {} (another process holds it)",
                self.lock_timeout,
                self.lock_path.display()
            )
        };
        // First the exclusive creation of the lock file...
        let f = loop {
            match create_private(&self.lock_path) {
                Ok(f) => break f,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if let Some(f) = self.take_stale_lock() {
                        self.sweep.store(true, std::sync::atomic::Ordering::Release);
                        break f;
                    }
                    if Instant::now() >= deadline {
                        return Err(timed_out());
                    }
                    std::thread::sleep(LOCK_POLL);
                }
                Err(e) => return Err(describe("cannot create", &self.lock_path, &e)),
            }
        };
        // ...then the exclusive lock on it.
        loop {
            match f.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(LOCK_POLL);
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(timed_out()),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(describe("cannot lock", &self.lock_path, &e))
                }
            }
        }
        // Who holds it, as msal-extensions writes it (and a fresh time
        // stamp, so the file is not taken for a stale one).
        let _ = (&f).write_all(format!("{} idflow", std::process::id()).as_bytes());
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
        Ok(())
    }

    fn unlock(&self) {
        let held = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(f) = held {
            // Removed while still locked, and only when it is still ours.
            if f.metadata().is_ok_and(|m| same_file(&m, &self.lock_path)) {
                let _ = fs::remove_file(&self.lock_path);
            }
            // Closing the file releases the lock.
            drop(f);
        }
    }

    fn set_aside(&self) -> Result<Option<String>, String> {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for n in 0..100u32 {
            let suffix = if n == 0 {
                format!(".corrupt-{secs}")
            } else {
                format!(".corrupt-{secs}-{n}")
            };
            let aside = self.sibling(&suffix);
            if fs::symlink_metadata(&aside).is_ok() {
                continue;
            }
            return match fs::rename(&self.path, &aside) {
                Ok(()) => {
                    let _ = sync_dir(self.dir());
                    Ok(Some(aside.display().to_string()))
                }
                Err(e) => Err(describe("cannot move aside", &self.path, &e)),
            };
        }
        Ok(None)
    }
}
