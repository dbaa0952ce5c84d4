//! A request to the emulated platform, read once and defensively: the body is
//! capped, form and query strings are parsed leniently (invalid UTF-8 and
//! stray `%` never fail), and the endpoint is recognised from the path.

use crate::wire::reply::ReplyCtx;
use crate::wire::server::ConnControl;
use axum::http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::SystemTime;

/// Request bodies larger than this are refused with an OAuth error. Real
/// token requests are a few KiB (a client assertion or a claims request at most).
pub const MAX_REQUEST_BODY: usize = 256 * 1024;

/// How many parameter names a request record keeps.
pub const MAX_NAMES: usize = 64;

/// Which endpoint of the platform a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/{tenant}/v2.0/.well-known/openid-configuration`
    OpenidConfiguration,
    /// `/common/discovery/instance`
    InstanceDiscovery,
    /// `/{tenant}/discovery/v2.0/keys`
    Jwks,
    /// `/{tenant}/oauth2/v2.0/authorize`
    Authorize,
    /// `/{tenant}/oauth2/v2.0/token`
    Token,
    /// `/{tenant}/oauth2/v2.0/devicecode`
    Devicecode,
    /// `/{tenant}/oauth2/v2.0/logout`
    Logout,
    /// `/common/userrealm/{username}`
    UserRealm,
    /// `/devicelogin`, the page a device-code user is sent to.
    DeviceLogin,
    /// `/error?code=N`, where `error_uri` points.
    ErrorInfo,
    /// Managed identity: the VM's IMDS (`/metadata/identity/oauth2/token`).
    ManagedIdentityImds,
    /// Managed identity: App Service (`/msi/app_service/token`).
    ManagedIdentityAppService,
    /// Managed identity: Service Fabric (`/msi/service_fabric/token`).
    ManagedIdentityServiceFabric,
    /// Managed identity: the Azure Arc agent (`/msi/azure_arc/token`).
    ManagedIdentityAzureArc,
    /// Managed identity: Cloud Shell (`/msi/cloud_shell/token`).
    ManagedIdentityCloudShell,
    /// Managed identity: Azure Machine Learning (`/msi/machine_learning/token`).
    ManagedIdentityMachineLearning,
    /// Anything else (answered 404).
    Unknown,
}

impl Endpoint {
    /// Recognises a path; returns the endpoint and the tenant segment, if any.
    pub fn route(segments: &[String]) -> (Endpoint, Option<String>) {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let tenant = s.first().map(|t| (*t).to_owned());
        let e = match s.as_slice() {
            ["devicelogin"] => return (Endpoint::DeviceLogin, None),
            ["error"] => return (Endpoint::ErrorInfo, None),
            ["metadata", "identity", "oauth2", "token"] => {
                return (Endpoint::ManagedIdentityImds, None)
            }
            ["msi", source, "token"] => {
                let e = match *source {
                    "app_service" => Endpoint::ManagedIdentityAppService,
                    "service_fabric" => Endpoint::ManagedIdentityServiceFabric,
                    "azure_arc" => Endpoint::ManagedIdentityAzureArc,
                    "cloud_shell" => Endpoint::ManagedIdentityCloudShell,
                    "machine_learning" => Endpoint::ManagedIdentityMachineLearning,
                    _ => Endpoint::Unknown,
                };
                return (e, None);
            }
            [_, "v2.0", ".well-known", "openid-configuration"] => Endpoint::OpenidConfiguration,
            [_, "discovery", "instance"] => Endpoint::InstanceDiscovery,
            [_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"] => Endpoint::Jwks,
            [_, "oauth2", "v2.0", "authorize"] => Endpoint::Authorize,
            [_, "oauth2", "v2.0", "token"] => Endpoint::Token,
            [_, "oauth2", "v2.0", "devicecode"] => Endpoint::Devicecode,
            [_, "oauth2", "v2.0", "logout"] => Endpoint::Logout,
            [_, "userrealm", _] => Endpoint::UserRealm,
            _ => return (Endpoint::Unknown, None),
        };
        (e, tenant)
    }
}

/// Name/value pairs in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` leniently.
    pub fn parse(bytes: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// Parameter names, deduplicated, in arrival order (at most [`MAX_NAMES`]).
    pub fn names(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .filter(|(k, _)| seen.insert(k.as_str()))
            .take(MAX_NAMES)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The first name sent more than once (the platform refuses those).
    pub fn duplicate(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A request as the platform handlers see it.
#[derive(Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub segments: Vec<String>,
    pub query: Params,
    pub form: Params,
    pub headers: HeaderMap,
    pub endpoint: Endpoint,
    pub tenant: Option<String>,
    pub ctx: ReplyCtx,
    /// The connection, so that a fault can drop or reset it.
    pub conn: Option<Arc<ConnControl>>,
    /// The body was over [`MAX_REQUEST_BODY`] (or could not be read); `form` is empty.
    pub body_refused: bool,
}

impl Req {
    /// Reads a request; never fails (an unreadable body is flagged, not an error).
    pub async fn read(request: axum::extract::Request, base_url: &str, now: SystemTime) -> Req {
        let (parts, body) = request.into_parts();
        let conn = parts.extensions.get::<Arc<ConnControl>>().cloned();
        let bytes = axum::body::to_bytes(body, MAX_REQUEST_BODY).await;
        let body_refused = bytes.is_err();
        let form = bytes.map(|b| Params::parse(&b)).unwrap_or_default();
        let path = parts.uri.path().to_owned();
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                url::form_urlencoded::parse(format!("s={}", s.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let query = Params::parse(parts.uri.query().unwrap_or("").as_bytes());
        let (endpoint, tenant) = Endpoint::route(&segments);
        let ctx = ReplyCtx::new(
            base_url,
            &parts.headers,
            query.get("client-request-id"),
            now,
        );
        Req {
            method: parts.method,
            path,
            segments,
            query,
            form,
            headers: parts.headers,
            endpoint,
            tenant,
            ctx,
            conn,
            body_refused,
        }
    }

    /// A parameter from the body (POST) or the query string (GET).
    pub fn param(&self, name: &str) -> Option<&str> {
        if self.method == Method::POST {
            self.form.get(name)
        } else {
            self.query.get(name)
        }
    }

    /// The parameters of this request (body for POST, query for GET).
    pub fn params(&self) -> &Params {
        if self.method == Method::POST {
            &self.form
        } else {
            &self.query
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The grant type, with MSAL.NET's short `device_code` spelling normalised.
    pub fn grant_type(&self) -> Option<&str> {
        self.form
            .get("grant_type")
            .map(crate::grant_types::normalize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_lenient() {
        let p = Params::parse(b"a=1&a=2&b=%zz&c=%FF%FE&=x&d");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.duplicate(), Some("a"));
        assert_eq!(p.get("b"), Some("%zz"));
        assert!(p.get("c").is_some());
        assert_eq!(p.get("d"), None);
        assert_eq!(p.names(), vec!["a", "b", "c", "", "d"]);
    }

    #[test]
    fn routes() {
        let r = |p: &str| Endpoint::route(&p.split('/').map(String::from).collect::<Vec<_>>());
        assert_eq!(
            r("t/oauth2/v2.0/token"),
            (Endpoint::Token, Some("t".into()))
        );
        assert_eq!(r("devicelogin").0, Endpoint::DeviceLogin);
        assert_eq!(r("common/userrealm/a@b").0, Endpoint::UserRealm);
        assert_eq!(r("t/oauth2/token").0, Endpoint::Unknown);
    }
}
