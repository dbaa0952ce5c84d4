//! Azure Arc's challenge: the agent answers the first request with 401 and
//! `WWW-Authenticate: Basic realm=<path of a key file>`; the second request
//! sends the file's content as `Authorization: Basic <content>`.
//!
//! The file is read only when it is safe to: its path must lie directly in
//! the agent's token directory, end in `.key` and be at most
//! [`MAX_KEY_FILE_BYTES`] (checked before reading) — as MSAL.NET's
//! `AzureArcManagedIdentitySource.cs` validates it and msal Python's
//! `_obtain_token_on_arc` bounds its size. Anything else is
//! `managed_identity_request_failed`, and nothing is read.

use crate::error::{IdFlowError, LocalCode};
use crate::secret::ClientSecret;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest key file read (msal Python: "shall not be larger than 4KB").
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

/// The agent's token directory on Linux (msal Python's
/// `_supported_arc_platforms_and_their_prefixes`); on Windows it is
/// `%ProgramData%\AzureConnectedMachineAgent\Tokens`.
pub const SUPPORTED_ARC_KEY_DIRECTORY: &str = "/var/opt/azcmagent/tokens";

/// The token directory of this platform, `None` where Arc does not run.
pub fn default_key_directory() -> Option<PathBuf> {
    if cfg!(target_os = "linux") {
        Some(PathBuf::from(SUPPORTED_ARC_KEY_DIRECTORY))
    } else if cfg!(windows) {
        std::env::var_os("ProgramData").map(|p| {
            PathBuf::from(p)
                .join("AzureConnectedMachineAgent")
                .join("Tokens")
        })
    } else {
        None
    }
}

fn failed(message: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::ManagedIdentityRequestFailed, message)
}

/// The key file a `WWW-Authenticate` value names (`Basic realm=<path>`).
pub(crate) fn challenge_path(www_authenticate: Option<&str>) -> Result<PathBuf, IdFlowError> {
    let value = www_authenticate.unwrap_or("");
    let (scheme, path) = value
        .split_once('=')
        .filter(|(s, p)| s.trim().eq_ignore_ascii_case("basic realm") && !p.is_empty() && !p.contains('='))
        .ok_or_else(|| failed("the Azure Arc endpoint's 401 has no recognizable WWW-Authenticate: Basic realm=<key file> challenge"))?;
    let _ = scheme;
    Ok(PathBuf::from(path.trim()))
}

/// Reads the key file at `path` after checking it lies in `directory`,
/// ends in `.key` and is small.
pub(crate) fn read_key(path: &Path, directory: Option<&Path>) -> Result<ClientSecret, IdFlowError> {
    let directory = directory.ok_or_else(|| {
        failed("Azure Arc's key file challenge is supported only on Linux and Windows")
    })?;
    if path.extension().and_then(|e| e.to_str()) != Some("key") {
        return Err(failed(
            "the Azure Arc challenge names a file that does not end in .key",
        ));
    }
    let in_directory = |p: &Path, dir: &Path| p.parent().is_some_and(|parent| parent == dir);
    if !in_directory(path, directory) {
        return Err(failed(
            "the Azure Arc challenge names a key file outside the agent's token directory",
        ));
    }
    // Resolve links: the file itself must also be in the (resolved) directory.
    let real = std::fs::canonicalize(path).map_err(|e| {
        failed(format!(
            "the Azure Arc key file cannot be opened: {}",
            e.kind()
        ))
    })?;
    let real_dir = std::fs::canonicalize(directory).map_err(|e| {
        failed(format!(
            "the Azure Arc token directory cannot be opened: {}",
            e.kind()
        ))
    })?;
    if !in_directory(&real, &real_dir) {
        return Err(failed(
            "the Azure Arc key file links outside the agent's token directory",
        ));
    }
    let meta = std::fs::metadata(&real).map_err(|e| {
        failed(format!(
            "the Azure Arc key file cannot be read: {}",
            e.kind()
        ))
    })?;
    if !meta.is_file() {
        return Err(failed("the Azure Arc key file is not a regular file"));
    }
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(failed(format!(
            "the Azure Arc key file is larger than {MAX_KEY_FILE_BYTES} bytes"
        )));
    }
    let mut content = String::new();
    std::fs::File::open(&real)
        .and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_string(&mut content))
        .map_err(|e| {
            failed(format!(
                "the Azure Arc key file cannot be read: {}",
                e.kind()
            ))
        })?;
    Ok(ClientSecret::new(content))
}

#[cfg(test)]
mod unit {
    use super::*;

    /// A fresh directory under the system's temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> Self {
            let p = std::env::temp_dir().join(format!("idflow-arc-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir(&p).unwrap();
            TempDir(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn challenge_must_be_basic_realm() {
        assert_eq!(
            challenge_path(Some("Basic realm=/var/opt/azcmagent/tokens/a.key")).unwrap(),
            PathBuf::from("/var/opt/azcmagent/tokens/a.key")
        );
        for bad in [
            None,
            Some(""),
            Some("Bearer realm=x"),
            Some("Basic realm="),
            Some("Basic realm=a=b"),
        ] {
            assert_eq!(
                challenge_path(bad).unwrap_err().code,
                "managed_identity_request_failed"
            );
        }
    }

    #[test]
    fn key_file_checks_come_before_reading() {
        let dir = TempDir::new();
        let other = TempDir::new();
        let good = dir.path().join("a.key");
        std::fs::write(&good, "s3cret").unwrap();
        assert_eq!(
            read_key(&good, Some(dir.path())).unwrap().expose(),
            "s3cret"
        );

        let txt = dir.path().join("a.txt");
        std::fs::write(&txt, "x").unwrap();
        let outside = other.path().join("b.key");
        std::fs::write(&outside, "x").unwrap();
        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'x'; 5000]).unwrap();
        let nested = dir.path().join("sub");
        std::fs::create_dir(&nested).unwrap();
        std::fs::write(nested.join("c.key"), "x").unwrap();
        for (p, what) in [
            (txt, ".key"),
            (outside, "outside"),
            (big, "larger"),
            (nested.join("c.key"), "outside"),
            (dir.path().join("..").join("x.key"), "outside"),
        ] {
            let e = read_key(&p, Some(dir.path())).unwrap_err();
            assert_eq!(e.code, "managed_identity_request_failed");
            assert!(e.message.contains(what), "{p:?}: {}", e.message);
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("link.key");
            std::os::unix::fs::symlink(other.path().join("b.key"), &link).unwrap();
            assert!(read_key(&link, Some(dir.path()))
                .unwrap_err()
                .message
                .contains("links outside"));
        }
        assert!(read_key(&good, None).is_err());
    }
}
