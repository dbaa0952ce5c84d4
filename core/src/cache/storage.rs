//! Where a cache is persisted: the [`CacheStorage`] an app may implement,
//! and [`FileStorage`], a token cache in a file shared safely between
//! processes.
//!
//! * Writes replace the file atomically: the bytes go to a temporary file in
//!   the same directory, which is flushed to disk, renamed over the cache
//!   file, and the directory is flushed too. A reader (or a crash at any
//!   point) sees the old file or the new one, never a torn one; readers need
//!   no lock.
//! * Read-merge-write cycles of [`super::TokenCache::persist`] run under an
//!   exclusive lock on a sibling lock file (`<file>.lock`, never deleted:
//!   deleting a lock file lets two processes lock two different files). The
//!   lock is an OS advisory file lock, released by the OS when a process dies.
//! * Files are created readable by the owner only (Unix): they hold tokens.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

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
}

/// A [`CacheStorage`] in one file. Several instances, in one process or many,
/// may share the same path.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    lock_path: PathBuf,
    tmp_path: PathBuf,
    /// The lock file while this instance holds the lock.
    held: Mutex<Option<File>>,
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
            lock_path: with_suffix(".lock"),
            tmp_path: with_suffix(".tmp"),
            held: Mutex::new(None),
            path,
        }
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
        let mut f = private(OpenOptions::new().write(true).create(true).truncate(true))
            .open(&self.tmp_path)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&self.tmp_path, &self.path)?;
        sync_dir(self.dir())
    }
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
        let f = private(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(&self.lock_path)
        .map_err(|e| describe("cannot open", &self.lock_path, &e))?;
        f.lock()
            .map_err(|e| describe("cannot lock", &self.lock_path, &e))?;
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
        Ok(())
    }

    fn unlock(&self) {
        // Closing the file releases the lock.
        drop(
            self.held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}
