//! `idflow token`: acquires a token from a Microsoft authority or any OpenID
//! provider and prints msal Python's result dict as JSON.
//!
//! Client credentials read the secret from an environment variable (never
//! from argv, where other users of the machine could read it); the device
//! code flow prints its instruction to stderr at once and polls until the
//! user finishes or Ctrl-C. Exit codes: 0 a token; 1 the identity provider
//! (or the network) refused, with msal Python's error dict on stdout; 2 a
//! usage error (`idflow: <message>` on stderr).

use idflow::secret::ClientSecret;
use idflow::{
    AppOptions, Authority, CancelHandle, ClientCredential, ConfidentialClientApplication,
    ErrorKind, IdFlowError, PublicClientApplication,
};
use serde_json::{Map, Value};
use std::process::ExitCode;
use std::time::SystemTime;

/// What `idflow token` was asked to do.
#[derive(Debug)]
pub struct Request {
    pub authority: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub client_secret_env: Option<String>,
    pub device_code: bool,
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

pub fn run(req: Request) -> Result<ExitCode, String> {
    if req.scopes.is_empty() {
        return Err("at least one --scope is needed".into());
    }
    let authority = authority(&req.authority, req.oidc)?;
    let mut options = AppOptions::default();
    if let Some(path) = &req.ca_cert {
        let pem = std::fs::read(path).map_err(|e| format!("--ca-cert {path}: {e}"))?;
        options = options.with_extra_root_certificate(pem);
    }
    let secret = match (&req.client_secret_env, req.device_code) {
        (Some(var), false) => Some(ClientSecret::new(std::env::var(var).map_err(|_| {
            format!("--client-secret-env: the environment variable {var} is not set")
        })?)),
        (None, true) => None,
        _ => return Err("give exactly one of --client-secret-env VAR and --device-code".into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let outcome = runtime.block_on(async {
        match secret {
            Some(secret) => {
                let app = ConfidentialClientApplication::new(
                    &req.client_id,
                    authority,
                    ClientCredential::Secret(secret),
                    options,
                )?;
                app.acquire_token_for_client(&req.scopes, None).await
            }
            None => {
                let app = PublicClientApplication::new(&req.client_id, authority, options)?;
                let flow = app.initiate_device_flow(&req.scopes, None).await?;
                eprintln!("{}", flow.message);
                let cancel = CancelHandle::new();
                let on_ctrl_c = cancel.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        on_ctrl_c.cancel();
                    }
                });
                app.acquire_token_by_device_flow(&flow, &cancel).await
            }
        }
    });
    match outcome {
        Ok(result) => {
            let dict = idflow::idioms::python_token_result(&result, SystemTime::now());
            print(&dict, req.json);
            Ok(ExitCode::SUCCESS)
        }
        // A mistake in the call (a malformed scope, an empty client id) is usage.
        Err(e) if e.kind == ErrorKind::Client => Err(e.to_string()),
        Err(e) => {
            print(&idflow::idioms::python_dict(&e), req.json);
            Ok(ExitCode::from(1))
        }
    }
}

/// `--json`: one compact line (for scripts); otherwise indented.
fn print(dict: &Map<String, Value>, compact: bool) {
    let value = Value::Object(dict.clone());
    let text = if compact {
        value.to_string()
    } else {
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    };
    crate::emit(&text);
}
