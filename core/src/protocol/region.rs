//! Regional token endpoints (ESTS-R) for app-only tokens: which region an
//! app uses, how it is detected, and the endpoint it turns into.
//!
//! As msal Python 1.39 decides it (AzureAD/microsoft-authentication-library-for-python
//! `msal/application.py` `_get_regional_authority`, `msal/region.py`):
//!
//! - a named region is used as given (it must be a lowercase DNS label);
//! - [`AzureRegion::AutoDetect`] (msal's `ATTEMPT_REGION_DISCOVERY`, MSAL.NET's
//!   `TryAutoDetect`) reads `REGION_NAME`, then asks the instance metadata
//!   service (IMDS) for the VM's `location`; when neither answers, the app
//!   silently keeps the global endpoint;
//! - no configuration at all takes `MSAL_FORCE_REGION` from the environment
//!   (confidential clients only); [`AzureRegion::Disabled`] (msal's
//!   `azure_region=False`) turns that off too.
//!
//! The regional host is `{region}.login.microsoft.com` for the public
//! cloud's hosts and `{region}.{host}` for any other cloud. Only the token
//! request of client credentials goes there; the cache keeps the global
//! host as its `environment`, and a certificate assertion keeps the global
//! token endpoint as its audience (msal builds both from the central authority).

use crate::error::{IdFlowError, LocalCode};
use crate::net::http::HttpRequest;
use crate::net::sender::Sender;
use std::time::Duration;
use url::Url;

/// msal's IMDS compute metadata query (`msal/region.py` `_IMDS_API_VERSION`).
pub const IMDS_REGION_ENDPOINT: &str =
    "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01";

/// How long region detection waits for IMDS before using the global
/// endpoint. msal Python sets no bound (its docs warn it may hang outside
/// Azure); MSAL.NET gives IMDS 2 s (`Instance/Region/RegionManager.cs`).
pub const IMDS_REGION_TIMEOUT: Duration = Duration::from_secs(2);

/// The public cloud's hosts, whose regional host is under
/// `login.microsoft.com` (msal/application.py `_get_regional_authority`).
const PUBLIC_CLOUD_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "sts.windows.net",
];

/// An app's choice of Azure region for its app-only token requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AzureRegion {
    /// This region (e.g. `westus2`), as given.
    Named(String),
    /// Detect the region (`REGION_NAME`, then IMDS); global when unknown.
    AutoDetect,
    /// No region, whatever `MSAL_FORCE_REGION` says.
    Disabled,
}

/// Where region detection looks: the two environment variables (read once
/// from the process by default; tests give their own) and the IMDS endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionEnvironment {
    /// `REGION_NAME`: the region an Azure host announces.
    pub region_name: Option<String>,
    /// `MSAL_FORCE_REGION`: the region an operator imposes on apps that
    /// configured none.
    pub force_region: Option<String>,
    /// The IMDS compute metadata URL ([`IMDS_REGION_ENDPOINT`]); tests
    /// point it at a loopback stand-in.
    pub imds_endpoint: String,
    /// How long to wait for IMDS ([`IMDS_REGION_TIMEOUT`]).
    pub imds_timeout: Duration,
}

impl RegionEnvironment {
    /// The process's `REGION_NAME` and `MSAL_FORCE_REGION`, msal's IMDS endpoint.
    pub fn from_process() -> Self {
        RegionEnvironment {
            region_name: std::env::var("REGION_NAME").ok(),
            force_region: std::env::var("MSAL_FORCE_REGION").ok(),
            ..RegionEnvironment::empty()
        }
    }

    /// No variables set, msal's IMDS endpoint.
    pub fn empty() -> Self {
        RegionEnvironment {
            region_name: None,
            force_region: None,
            imds_endpoint: IMDS_REGION_ENDPOINT.to_owned(),
            imds_timeout: IMDS_REGION_TIMEOUT,
        }
    }
}

impl Default for RegionEnvironment {
    fn default() -> Self {
        RegionEnvironment::from_process()
    }
}

/// True for a lowercase DNS label that starts with a letter (msal/region.py
/// `_VALID_REGION_RE`): letters, digits and inner hyphens, at most 63.
pub fn is_valid_region(region: &str) -> bool {
    let b = region.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// What an app will do, decided at construction: a region fixed by
/// configuration, detection on first use, or none. An invalid named region
/// (or `MSAL_FORCE_REGION`) fails with `invalid_parameter`, as msal raises
/// `ValueError` (msal/application.py `_validate_explicit_region`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionPlan {
    None,
    Fixed(String),
    Detect,
}

impl RegionPlan {
    pub fn decide(
        configured: Option<&AzureRegion>,
        confidential: bool,
        env: &RegionEnvironment,
    ) -> Result<RegionPlan, IdFlowError> {
        let named = |region: &str, source: &str| {
            if is_valid_region(region) {
                Ok(RegionPlan::Fixed(region.to_owned()))
            } else {
                Err(IdFlowError::local(
                    LocalCode::InvalidParameter,
                    format!(
                        "{source}='{}' is not an Azure region: it must be a lowercase DNS \
                         label that starts with a letter (letters, digits, inner hyphens, at \
                         most 63), e.g. 'westus2'",
                        region.chars().take(70).collect::<String>()
                    ),
                ))
            }
        };
        if !confidential {
            // Only confidential clients' client credentials go to a region.
            return Ok(RegionPlan::None);
        }
        match configured {
            Some(AzureRegion::Named(r)) => named(r, "azure_region"),
            Some(AzureRegion::AutoDetect) => Ok(RegionPlan::Detect),
            Some(AzureRegion::Disabled) => Ok(RegionPlan::None),
            None => match env.force_region.as_deref() {
                Some(r) => named(r, "MSAL_FORCE_REGION"),
                None => Ok(RegionPlan::None),
            },
        }
    }
}

/// The regional host for `region` in the cloud of `host`.
pub fn regional_host(region: &str, host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if PUBLIC_CLOUD_HOSTS.contains(&host.as_str()) {
        format!("{region}.login.microsoft.com")
    } else {
        format!("{region}.{host}")
    }
}

/// The global token endpoint moved to `region`'s host (same scheme, port
/// and path: `/{tenant}/oauth2/v2.0/token`); `None` if the URL has no host.
pub fn regional_token_endpoint(region: &str, global: &Url) -> Option<Url> {
    let host = global.host_str()?;
    let mut url = global.clone();
    url.set_host(Some(&regional_host(region, host))).ok()?;
    Some(url)
}

/// The region this machine is in, or `None`: `REGION_NAME`, else the
/// `location` IMDS answers within the timeout. Never fails: any problem
/// (no answer, an error status, a body that is not JSON with a valid
/// `location`) means "unknown", as in msal/region.py `_detect_region`. The
/// IMDS request goes through the app's HTTP client with only the
/// `Metadata: true` header, as msal sends it.
pub async fn detect(sender: &Sender, env: &RegionEnvironment) -> Option<String> {
    if let Some(name) = env.region_name.as_deref().filter(|n| !n.is_empty()) {
        let valid = is_valid_region(name);
        if !valid {
            tracing::warn!(target: "idflow::region", "REGION_NAME is not a valid region: ignored");
        }
        return valid.then(|| name.to_owned());
    }
    let Ok(url) = Url::parse(&env.imds_endpoint) else {
        tracing::warn!(target: "idflow::region", "the IMDS endpoint is not a URL: no region");
        return None;
    };
    let request = HttpRequest::get(url).with_header("Metadata", "true");
    let answer = tokio::select! {
        // An answer already there wins over a timer that fires at once (a
        // manual clock in tests).
        biased;
        r = sender.http.send(request) => r.ok(),
        _ = sender.sleeper.sleep(env.imds_timeout) => None,
    };
    let location = answer
        .filter(|r| (200..300).contains(&r.status))
        .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .and_then(|v| v.get("location")?.as_str().map(str::to_owned))
        .filter(|l| is_valid_region(l));
    match &location {
        Some(l) => tracing::info!(target: "idflow::region", region = %l, "region detected by IMDS"),
        None => tracing::info!(
            target: "idflow::region",
            "no region from IMDS (not on an Azure VM?): the global endpoint is used"
        ),
    }
    location
}

#[cfg(test)]
mod tests;
