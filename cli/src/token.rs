//! `idflow token` and `idflow accounts`: acquire a token from a Microsoft
//! authority or any OpenID provider and print msal Python's result dict as
//! JSON; list the accounts a token cache file holds.
//!
//! Secrets never come from argv (other users of the machine can read it): a
//! client secret is read from a named environment variable, a certificate's
//! private key from a file. With `--cache FILE` tokens are kept in that file
//! (msal's cache format) and reused: client credentials answer from a valid
//! cached token, and a user sign-in first tries the cached account silently.
//! The device code flow prints its instruction to stderr at once, shows a
//! progress line with the time left while polling (only when stderr is a
//! terminal), and stops cleanly on Ctrl-C. Exit codes: [`crate::exit`].

use crate::exit;
use idflow::secret::ClientSecret;
use idflow::{
    Account, AppOptions, AuthenticationResult, Authority, CancelHandle, ClientCertificate,
    ClientCredential, ConfidentialClientApplication, DeviceFlow, ErrorKind, IdFlowError,
    PublicClientApplication,
};
use idflow::{FileStorage, TokenCache};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What `idflow token` was asked to do.
#[derive(Debug)]
pub struct Request {
    pub authority: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub client_secret_env: Option<String>,
    pub certificate: Option<String>,
    pub device_code: bool,
    pub cache: Option<String>,
    /// Where the key sealing a Redis cache is (never the key itself).
    pub cache_key: Option<crate::cache_key::KeySource>,
    pub oidc: bool,
    pub ca_cert: Option<String>,
    pub json: bool,
}

/// Hosts of the Microsoft identity platform's public and national clouds.
const MICROSOFT_HOSTS: [&str; 7] = [
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "sts.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// Microsoft when the host is one of the platform's (or B2C/CIAM), or a
/// loopback host with one tenant segment (the local emulator); otherwise an
/// OpenID issuer.
fn authority(raw: &str, oidc: bool) -> Result<Authority, String> {
    let bad = |e: IdFlowError| format!("--authority {raw}: {}", e.message);
    if oidc {
        return Authority::oidc(raw).map_err(bad);
    }
    let url = url::Url::parse(raw).map_err(|e| format!("--authority {raw}: {e}"))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments = url
        .path_segments()
        .map_or(0, |s| s.filter(|p| !p.is_empty()).count());
    let microsoft = MICROSOFT_HOSTS.contains(&host.as_str())
        || host.ends_with(".b2clogin.com")
        || host.ends_with(".ciamlogin.com");
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    if microsoft || (loopback && segments == 1) {
        Authority::parse(raw).map_err(bad)
    } else {
        Authority::oidc(raw).map_err(bad)
    }
}

/// The confidential credential asked for, if any.
fn credential(req: &Request) -> Result<Option<ClientCredential>, String> {
    let given = [
        req.client_secret_env.is_some(),
        req.certificate.is_some(),
        req.device_code,
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(
            "give exactly one of --client-secret-env VAR, --certificate PEM and --device-code"
                .into(),
        );
    }
    if let Some(var) = &req.client_secret_env {
        let secret = std::env::var(var).map_err(|_| {
            format!("--client-secret-env: the environment variable {var} is not set")
        })?;
        return Ok(Some(ClientCredential::Secret(ClientSecret::new(secret))));
    }
    if let Some(path) = &req.certificate {
        let pem =
            std::fs::read_to_string(path).map_err(|e| format!("--certificate {path}: {e}"))?;
        let cert = ClientCertificate::from_pem(&pem, &pem)
            .map_err(|e| format!("--certificate {path}: {}", e.message))?;
        return Ok(Some(ClientCredential::Certificate(cert)));
    }
    Ok(None)
}

/// A token cache kept in `path` (created at the first token).
pub fn file_cache(path: &str) -> Result<TokenCache, String> {
    let cache = TokenCache::new();
    cache
        .attach_storage(Arc::new(FileStorage::new(path)))
        .map_err(|e| format!("--cache {path}: {}", e.message))?;
    Ok(cache)
}

/// A token cache on Redis (`--cache redis://host:port/db`): the partition
/// this call touches is read and written there, shared with every other
/// process using that Redis. A Redis that does not answer never fails the
/// command (the token is then fetched as without a cache).
pub fn redis_cache(url: &str, encryption_key: Option<Vec<u8>>) -> Result<TokenCache, String> {
    let options = idflow::RedisOptions {
        encryption_key,
        ..idflow::RedisOptions::default()
    };
    let store = idflow::RedisStore::new(&[url], options).map_err(|e| format!("--cache: {e}"))?;
    let cache = TokenCache::new();
    cache.attach_partitioned(Arc::new(store), idflow::PartitionOptions::default());
    Ok(cache)
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

pub fn run(req: Request) -> Result<ExitCode, String> {
    if req.scopes.is_empty() {
        return Err("at least one --scope is needed".into());
    }
    let authority = authority(&req.authority, req.oidc)?;
    let credential = credential(&req)?;
    let mut options = AppOptions::default();
    if let Some(path) = &req.ca_cert {
        let pem = std::fs::read(path).map_err(|e| format!("--ca-cert {path}: {e}"))?;
        options = options.with_extra_root_certificate(pem);
    }
    if let Some(path) = &req.cache {
        let cache = if path.starts_with("redis://") || path.starts_with("rediss://") {
            let key = req
                .cache_key
                .as_ref()
                .map(crate::cache_key::read)
                .transpose()?;
            redis_cache(path, key)?
        } else if req.cache_key.is_some() {
            return Err(
                "--cache-key-env / --cache-key-file seal a redis:// cache; a cache file is \
                 protected by its permissions"
                    .into(),
            );
        } else {
            file_cache(path)?
        };
        options = options.with_token_cache(cache);
    }
    let outcome = runtime()?.block_on(async {
        match credential {
            Some(credential) => {
                let app = ConfidentialClientApplication::new(
                    &req.client_id,
                    authority,
                    credential,
                    options,
                )?;
                app.acquire_token_for_client(&req.scopes, None).await
            }
            None => {
                let app = PublicClientApplication::new(&req.client_id, authority, options)?;
                if req.cache.is_some() {
                    if let Some(result) = silent(&app, &req.scopes).await? {
                        return Ok(result);
                    }
                }
                let flow = app.initiate_device_flow(&req.scopes, None).await?;
                device_code(&app, &flow).await
            }
        }
    });
    match outcome {
        Ok(result) => {
            let dict = idflow::idioms::python_token_result(&result, SystemTime::now());
            print(&Value::Object(dict), req.json);
            Ok(ExitCode::from(exit::OK))
        }
        // A mistake in the call (a malformed scope, an empty client id) is usage.
        Err(e) if e.kind == ErrorKind::Client => Err(e.to_string()),
        Err(e) => {
            let code = exit::for_error(&e);
            if code == exit::CANCELLED {
                eprintln!("idflow: cancelled");
            }
            print(&Value::Object(idflow::idioms::python_dict(&e)), req.json);
            Ok(ExitCode::from(code))
        }
    }
}

/// The cached account's token without user interaction, when there is exactly
/// one account and its refresh token still works. `None` when a sign-in is
/// needed (nothing cached, several accounts, or interaction required); other
/// failures (the network, the service) end the command.
async fn silent(
    app: &PublicClientApplication,
    scopes: &[String],
) -> Result<Option<AuthenticationResult>, IdFlowError> {
    let accounts = app.get_accounts(None)?;
    let [account]: [Account; 1] = match accounts.try_into() {
        Ok(one) => one,
        Err(many) => {
            if !many.is_empty() {
                eprintln!(
                    "idflow: the cache holds {} accounts; signing in again",
                    many.len()
                );
            }
            return Ok(None);
        }
    };
    match app
        .acquire_token_silent(scopes, Some(&account), None, false)
        .await
    {
        Ok(result) => Ok(Some(result)),
        Err(e) if e.kind == ErrorKind::InteractionRequired => {
            eprintln!(
                "idflow: the cached sign-in cannot be used ({}); signing in again",
                crate::terminal::inert(&e.code)
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Polls a device-code sign-in: the instruction at once on stderr, a progress
/// line while waiting (on a terminal), and Ctrl-C cancels (exit 130).
async fn device_code(
    app: &PublicClientApplication,
    flow: &DeviceFlow,
) -> Result<AuthenticationResult, IdFlowError> {
    eprintln!("{}", crate::terminal::inert(&flow.message));
    let cancel = CancelHandle::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| tokio::spawn(progress_line(flow.expires_at)));
    let result = app.acquire_token_by_device_flow(flow, &cancel).await;
    if let Some(task) = progress {
        task.abort();
        let _ = task.await;
        // Clear the progress line.
        eprint!("\r\x1b[2K");
    }
    result
}

/// Redraws `⠋ waiting for the sign-in · 14:32 left (Ctrl-C cancels)` until aborted.
async fn progress_line(expires_at: SystemTime) {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    for frame in FRAMES.iter().cycle() {
        tick.tick().await;
        let left = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .as_secs();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{frame} waiting for the sign-in · {}:{:02} left (Ctrl-C cancels)",
            left / 60,
            left % 60
        );
        let _ = err.flush();
    }
}

/// `idflow accounts`: the accounts a cache file holds, as JSON.
pub fn accounts(path: &str, compact: bool) -> Result<ExitCode, String> {
    if !std::path::Path::new(path).exists() {
        return Err(format!("--cache {path}: no such file"));
    }
    let cache = file_cache(path)?;
    let state: Value =
        serde_json::from_str(&cache.serialize()).map_err(|e| format!("--cache {path}: {e}"))?;
    let mut list: Vec<Value> = state
        .get("Account")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .map(|a| {
                    let field = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
                    json!({
                        "username": field("username"),
                        "home_account_id": field("home_account_id"),
                        "environment": field("environment"),
                        "realm": field("realm"),
                        "local_account_id": field("local_account_id"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    list.sort_by_key(|a| a["home_account_id"].as_str().unwrap_or_default().to_owned());
    print(&Value::Array(list), compact);
    Ok(ExitCode::SUCCESS)
}

/// `--json`: one compact line (for scripts); otherwise indented.
pub fn print(value: &Value, compact: bool) {
    let text = if compact {
        value.to_string()
    } else {
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    };
    crate::emit(&text);
}
