//! `idflow token --managed-identity SPEC --resource R`: a managed identity
//! token from whichever source the environment names (App Service, Service
//! Fabric, Azure Arc, Cloud Shell, Azure Machine Learning, IMDS), printed as
//! msal Python's result dict. SPEC is `system`, `client_id=ID`,
//! `resource_id=ID` or `object_id=ID`.

use crate::exit;
use crate::token::{file_cache, print, runtime};
use idflow::{
    AppOptions, ErrorKind, ManagedIdentity, ManagedIdentityClient, ManagedIdentityOptions,
};
use serde_json::Value;
use std::process::ExitCode;

/// The identity a SPEC names.
pub fn identity(spec: &str) -> Result<ManagedIdentity, String> {
    let bad = || {
        format!(
            "--managed-identity {spec}: expected system, client_id=ID, resource_id=ID or object_id=ID"
        )
    };
    if spec.eq_ignore_ascii_case("system") {
        return Ok(ManagedIdentity::SystemAssigned);
    }
    let (kind, id) = spec.split_once('=').ok_or_else(bad)?;
    if id.trim().is_empty() {
        return Err(bad());
    }
    let id = id.trim().to_owned();
    match kind.trim() {
        "client_id" => Ok(ManagedIdentity::ClientId(id)),
        "resource_id" => Ok(ManagedIdentity::ResourceId(id)),
        "object_id" => Ok(ManagedIdentity::ObjectId(id)),
        _ => Err(bad()),
    }
}

pub fn run(
    spec: &str,
    resource: &str,
    cache: Option<&str>,
    json: bool,
) -> Result<ExitCode, String> {
    if resource.trim().is_empty() {
        return Err("--resource must not be empty".into());
    }
    let mut app = AppOptions::default();
    if let Some(path) = cache {
        app = app.with_token_cache(file_cache(path)?);
    }
    let client = ManagedIdentityClient::new(
        identity(spec)?,
        ManagedIdentityOptions {
            app,
            ..ManagedIdentityOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let outcome = runtime()?.block_on(client.acquire_token_for_client(resource, None));
    match outcome {
        Ok(result) => {
            print(&Value::Object(result.python_dict()), json);
            Ok(ExitCode::from(exit::OK))
        }
        Err(e) if e.kind == ErrorKind::Client => Err(e.to_string()),
        Err(e) => {
            print(&Value::Object(idflow::idioms::python_dict(&e)), json);
            Ok(ExitCode::from(exit::for_error(&e)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(identity("system").unwrap(), ManagedIdentity::SystemAssigned);
        assert_eq!(
            identity("client_id=abc").unwrap(),
            ManagedIdentity::ClientId("abc".into())
        );
        assert_eq!(
            identity("resource_id=/subscriptions/x").unwrap(),
            ManagedIdentity::ResourceId("/subscriptions/x".into())
        );
        assert_eq!(
            identity("object_id=o").unwrap(),
            ManagedIdentity::ObjectId("o".into())
        );
        for bad in ["", "user", "client_id=", "tenant_id=x"] {
            assert!(identity(bad).is_err(), "{bad}");
        }
    }
}
