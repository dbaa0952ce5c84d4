//! Instance discovery and OpenID Connect discovery, cached per authority.
//!
//! An Entra ID authority on a well-known cloud host is resolved offline
//! (`known_cloud`): endpoints, issuer and key set follow from the authority,
//! so the first token costs one request. For other Microsoft authorities on
//! a well-known host, instance metadata (the host's aliases) is built in. An unknown Entra host
//! is validated by network instance discovery when validation is on, and the
//! check fails closed: `invalid_instance`, a failed request, or an answer
//! that does not vouch for the host (no `tenant_discovery_endpoint`) each end
//! the flow, as in msal Python (`_initialize_entra_authority` in
//! msal/authority.py, AzureAD/microsoft-authentication-library-for-python,
//! lets every failure of `_instance_discovery` propagate). MSAL.NET
//! (`InstanceDiscoveryManager.FetchNetworkMetadataOrFallbackAsync`) would
//! continue with the unvalidated host after a network failure; idflow does
//! not, since that host then receives the user's credentials. Loopback
//! authorities (emulators) are asked themselves instead of
//! `login.microsoftonline.com`.
//!
//! Then the OIDC document gives the endpoints, issuer and JWKS URI; the
//! tenant is read from the discovered token endpoint. Its endpoints must be
//! https unless the authority itself is loopback, and its `issuer` must be
//! the authority's (OpenID Connect Discovery 1.0 §4.3; see [`check_issuer`]). Both results are kept
//! for the life of the app (one [`Discovery`] per app).

use crate::error::{IdFlowError, LocalCode};
use crate::net::sender::Sender;
use crate::protocol::authority::{is_loopback_host, Authority, AuthorityKind, Endpoints};
use crate::protocol::jwt::Jwk;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

mod known_cloud;
use known_cloud::KNOWN_CLOUDS;

/// The host that answers instance discovery for non-loopback authorities.
pub const INSTANCE_DISCOVERY_HOST: &str = "login.microsoftonline.com";

/// What instance discovery says about a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub preferred_network: String,
    pub preferred_cache: String,
    /// Hosts that share tokens with this one (a cached refresh token from any
    /// alias may be used).
    pub aliases: Vec<String>,
}

impl InstanceMetadata {
    /// Built-in metadata for a well-known host, if it is one.
    pub fn known(host: &str) -> Option<InstanceMetadata> {
        let host = host.to_ascii_lowercase();
        KNOWN_CLOUDS
            .iter()
            .find(|(_, _, aliases)| aliases.contains(&host.as_str()))
            .map(|(net, cache, aliases)| InstanceMetadata {
                preferred_network: (*net).to_owned(),
                preferred_cache: (*cache).to_owned(),
                aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            })
    }

    /// A host on its own (B2C, CIAM, OIDC, or when discovery gave nothing).
    pub fn single(host: &str) -> InstanceMetadata {
        InstanceMetadata {
            preferred_network: host.to_owned(),
            preferred_cache: host.to_owned(),
            aliases: vec![host.to_owned()],
        }
    }
}

/// Everything a flow needs to know about its authority, after discovery.
#[derive(Clone, Debug)]
pub struct ResolvedAuthority {
    pub authority: Authority,
    pub endpoints: Endpoints,
    /// The `issuer` of the discovery document; for Microsoft multi-tenant
    /// authorities it holds a `{tenantid}` template resolved per token.
    pub issuer: String,
    pub jwks_uri: Option<Url>,
    /// The tenant segment of the discovered token endpoint (Microsoft only).
    pub tenant: Option<String>,
    /// The provider puts `iss` in its authorization responses (RFC 9207's
    /// `authorization_response_iss_parameter_supported`).
    pub iss_parameter_supported: bool,
    pub instance: InstanceMetadata,
}

/// The per-app discovery cache.
#[derive(Debug, Default)]
pub struct Discovery {
    resolved: Mutex<HashMap<String, Arc<ResolvedAuthority>>>,
    jwks: Mutex<HashMap<String, Arc<Vec<Jwk>>>>,
    /// A loopback Entra authority counts as a well-known cloud (tests only:
    /// an emulator standing in for `login.microsoftonline.com`).
    loopback_as_known_cloud: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps hold only complete entries; a panic elsewhere cannot leave
    // one half-written, so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Discovery {
    pub fn new() -> Self {
        Discovery::default()
    }

    /// A discovery cache that resolves a loopback Entra authority offline,
    /// as it does a well-known cloud's (the test-only
    /// `AppOptions::loopback_as_known_cloud`).
    pub fn with_loopback_as_known_cloud() -> Self {
        Discovery {
            loopback_as_known_cloud: true,
            ..Discovery::default()
        }
    }

    /// Whether a loopback Entra authority resolves offline (see
    /// [`Self::with_loopback_as_known_cloud`]).
    pub fn loopback_as_known_cloud(&self) -> bool {
        self.loopback_as_known_cloud
    }

    /// Files a well-known cloud's authority, resolved offline, in the cache
    /// now: the app's constructor calls it, so that its first token request
    /// finds the endpoints built (the same entry [`Self::resolve`] would
    /// build on that request; nothing else changes). Any other authority is
    /// left for `resolve`.
    pub fn prime_known_cloud(&self, authority: &Authority) {
        if let Some(offline) = known_cloud::resolve_offline(authority, self.loopback_as_known_cloud)
        {
            tracing::debug!(
                target: "idflow::discovery",
                pii = crate::logging::pii_logging_enabled(),
                authority = %crate::logging::url_for_log(authority.url()),
                token_endpoint = %crate::logging::url_for_log(&offline.endpoints.token),
                "authority resolved offline (a well-known cloud)"
            );
            lock(&self.resolved).insert(authority.as_str().to_owned(), Arc::new(offline));
        }
    }

    /// The authority's endpoints and metadata, from the cache or the network.
    /// `validate` runs instance discovery for unknown Microsoft hosts (msal's
    /// `validate_authority` / `instance_discovery`).
    pub async fn resolve(
        &self,
        sender: &Sender,
        authority: &Authority,
        validate: bool,
    ) -> Result<Arc<ResolvedAuthority>, IdFlowError> {
        let pii = crate::logging::pii_logging_enabled();
        if let Some(hit) = lock(&self.resolved).get(authority.as_str()) {
            tracing::trace!(
                target: "idflow::discovery",
                pii,
                authority = %crate::logging::url_for_log(hit.authority.url()),
                "authority metadata from the cache"
            );
            return Ok(hit.clone());
        }
        if let Some(offline) = known_cloud::resolve_offline(authority, self.loopback_as_known_cloud)
        {
            tracing::debug!(
                target: "idflow::discovery",
                pii,
                authority = %crate::logging::url_for_log(authority.url()),
                token_endpoint = %crate::logging::url_for_log(&offline.endpoints.token),
                "authority resolved offline (a well-known cloud)"
            );
            let offline = Arc::new(offline);
            lock(&self.resolved).insert(authority.as_str().to_owned(), offline.clone());
            return Ok(offline);
        }
        let instance = self.instance(sender, authority, validate).await?;
        let (doc, exchange) = sender
            .get_json(authority.discovery_url(), "OpenID discovery")
            .await?;
        let bad_doc = |why: String| {
            exchange.local(
                LocalCode::InvalidAuthority,
                format!("OpenID discovery for {}: {why}", authority.as_str()),
            )
        };
        let loopback = authority.is_loopback();
        let url_field = |key: &str| -> Result<Option<Url>, IdFlowError> {
            match doc.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => endpoint_url(s, loopback)
                    .map(Some)
                    .map_err(|why| bad_doc(format!("{key} {why}"))),
                Some(_) => Err(bad_doc(format!("{key} is not a string"))),
            }
        };
        let derived = authority.derived_endpoints();
        let token = url_field("token_endpoint")?
            .or_else(|| derived.as_ref().map(|d| d.token.clone()))
            .ok_or_else(|| bad_doc("no token_endpoint".into()))?;
        let authorization = url_field("authorization_endpoint")?
            .or_else(|| derived.as_ref().map(|d| d.authorization.clone()))
            .ok_or_else(|| bad_doc("no authorization_endpoint".into()))?;
        let device_authorization = url_field("device_authorization_endpoint")?
            .or_else(|| derived.and_then(|d| d.device_authorization));
        let issuer = match doc.get("issuer") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad_doc("no issuer".into())),
        };
        let token_tenant = tenant_of(&token);
        check_issuer(authority, &issuer, &instance, token_tenant.as_deref()).map_err(|why| {
            bad_doc(format!(
                "the issuer '{}' is not this authority's ({why})",
                issuer.chars().take(200).collect::<String>()
            ))
        })?;
        let tenant = if authority.is_microsoft() {
            token_tenant.or_else(|| authority.tenant().map(str::to_owned))
        } else {
            None
        };
        let resolved = Arc::new(ResolvedAuthority {
            authority: authority.clone(),
            endpoints: Endpoints {
                authorization,
                token,
                device_authorization,
            },
            issuer,
            jwks_uri: url_field("jwks_uri")?,
            tenant,
            iss_parameter_supported: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            instance,
        });
        tracing::debug!(
            target: "idflow::discovery",
            pii,
            authority = %crate::logging::url_for_log(authority.url()),
            token_endpoint = %crate::logging::url_for_log(&resolved.endpoints.token),
            device_code = resolved.endpoints.device_authorization.is_some(),
            aliases = resolved.instance.aliases.len(),
            "authority resolved"
        );
        lock(&self.resolved).insert(authority.as_str().to_owned(), resolved.clone());
        Ok(resolved)
    }

    async fn instance(
        &self,
        sender: &Sender,
        authority: &Authority,
        validate: bool,
    ) -> Result<InstanceMetadata, IdFlowError> {
        let host = authority.host();
        if let Some(known) = InstanceMetadata::known(&host) {
            return Ok(known);
        }
        if authority.kind() != AuthorityKind::Aad || !validate {
            return Ok(InstanceMetadata::single(&host));
        }
        let url = instance_discovery_url(authority);
        // Any failure ends the flow (see the module docs): the classified
        // error says what went wrong, its message names instance discovery.
        let (doc, exchange) = sender
            .get_json(url, "instance discovery")
            .await
            .inspect_err(|e| {
                tracing::debug!(
                    target: "idflow::discovery",
                    code = %e.code,
                    correlation_id = ?e.correlation_id,
                    "instance discovery failed; the authority is not validated"
                );
            })?;
        match doc.get("tenant_discovery_endpoint") {
            Some(Value::String(s)) if !s.is_empty() => Ok(parse_instance(&doc, &host)),
            _ => Err(exchange.local(
                LocalCode::InvalidAuthority,
                format!(
                    "instance discovery did not validate the authority host {host} \
                     (no tenant_discovery_endpoint in its answer); turn authority \
                     validation off only for a host you control"
                ),
            )),
        }
    }

    /// The provider's signing keys, cached per JWKS URI. `refresh` refetches
    /// them (once, when a token names a key the cache does not hold: keys
    /// roll over).
    pub async fn jwks(
        &self,
        sender: &Sender,
        uri: &Url,
        refresh: bool,
    ) -> Result<Arc<Vec<Jwk>>, IdFlowError> {
        if !refresh {
            if let Some(hit) = lock(&self.jwks).get(uri.as_str()) {
                return Ok(hit.clone());
            }
        }
        tracing::debug!(
            target: "idflow::discovery",
            refresh,
            "fetching signing keys"
        );
        let (doc, _) = sender.get_json(uri.clone(), "JWKS").await?;
        let keys: Vec<Jwk> = match doc.get("keys") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|k| serde_json::from_value(k.clone()).ok())
                .collect(),
            _ => Vec::new(),
        };
        let keys = Arc::new(keys);
        lock(&self.jwks).insert(uri.as_str().to_owned(), keys.clone());
        Ok(keys)
    }
}

/// `GET https://login.microsoftonline.com/common/discovery/instance?...`, or
/// the same path on the authority itself when it is a loopback host.
/// The other hosts of a well-known Microsoft cloud (`login.windows.net`
/// for `login.microsoftonline.com` ...), from the built-in metadata; empty
/// for any other host. What instance discovery would answer for them.
pub fn known_aliases(host: &str) -> Vec<&'static str> {
    known_cloud::KNOWN_CLOUDS
        .iter()
        .find(|(_, _, aliases)| aliases.iter().any(|a| a.eq_ignore_ascii_case(host)))
        .map(|(_, _, aliases)| {
            aliases
                .iter()
                .copied()
                .filter(|a| !a.eq_ignore_ascii_case(host))
                .collect()
        })
        .unwrap_or_default()
}

pub fn instance_discovery_url(authority: &Authority) -> Url {
    let mut url = authority.url().clone();
    if !authority.is_loopback() {
        // Setting a fixed, valid host on an https URL cannot fail.
        let _ = url.set_scheme("https");
        let _ = url.set_host(Some(INSTANCE_DISCOVERY_HOST));
        let _ = url.set_port(None);
    }
    url.set_path("/common/discovery/instance");
    let authorize =
        authority.url().as_str().trim_end_matches('/').to_owned() + "/oauth2/v2.0/authorize";
    url.query_pairs_mut()
        .append_pair("api-version", "1.1")
        .append_pair("authorization_endpoint", &authorize);
    url
}

fn parse_instance(doc: &Map<String, Value>, host: &str) -> InstanceMetadata {
    let entries = doc.get("metadata").and_then(Value::as_array);
    let text_list = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    entries
        .into_iter()
        .flatten()
        .find_map(|entry| {
            let aliases = text_list(entry.get("aliases"));
            if !aliases.iter().any(|a| a.eq_ignore_ascii_case(host)) {
                return None;
            }
            let text = |k: &str| {
                entry
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or(host)
                    .to_owned()
            };
            Some(InstanceMetadata {
                preferred_network: text("preferred_network"),
                preferred_cache: text("preferred_cache"),
                aliases,
            })
        })
        .unwrap_or_else(|| InstanceMetadata::single(host))
}

/// A discovered endpoint must be https; http only on a loopback host and
/// only when the authority itself is loopback (an emulator or a local test
/// provider). An https authority's document naming `http://localhost/...`
/// would otherwise send codes and client secrets in cleartext to whatever
/// listens on this machine.
fn endpoint_url(s: &str, loopback_authority: bool) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|_| "is not a URL".to_owned())?;
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(url),
        ("http", Some(h)) if loopback_authority && is_loopback_host(&h) => Ok(url),
        _ if loopback_authority => {
            Err("must be an https URL (or http on a loopback host)".to_owned())
        }
        _ => Err("must be an https URL, as the authority is".to_owned()),
    }
}

/// Checks the discovery document's `issuer` against the authority (OpenID
/// Connect Discovery 1.0 §4.3: it must be the issuer the client was given).
///
/// - Any OpenID provider: the same URL as the authority (one trailing slash
///   aside).
/// - Microsoft authorities: the issuer names a tenant, not the URL the app
///   gave (`…/contoso.com` is issued by `…/{tenant id}/v2.0`), so the rule is
///   the one MSAL.NET applies (`OidcRetrieverWithCache.ValidateIssuer`,
///   AzureAD/microsoft-authentication-library-for-dotnet
///   src/client/Microsoft.Identity.Client/Instance/Oidc/OidcRetrieverWithCache.cs:
///   the authority's scheme and host, a host of the same cloud, or for CIAM
///   `{tenant}.ciamlogin.com`), made stricter on the path: `/{tenant}/v2.0`
///   where the tenant is the authority's own, the discovered token
///   endpoint's, Entra's `{tenantid}` template for `common` and
///   `organizations` (filled in per token from its `tid`), or any tenant id
///   when the authority named its tenant by domain or as `consumers`. B2C may
///   also use `/tfp/{tenant}/{policy}/v2.0`.
pub fn check_issuer(
    authority: &Authority,
    issuer: &str,
    instance: &InstanceMetadata,
    token_tenant: Option<&str>,
) -> Result<(), String> {
    let url = Url::parse(issuer).map_err(|_| "it is not a URL".to_owned())?;
    let a = authority.url();
    let host_port = |u: &Url| match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}").to_ascii_lowercase(),
        (Some(h), None) => h.to_ascii_lowercase(),
        _ => String::new(),
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err("an issuer has no query or fragment".into());
    }
    if authority.kind() == AuthorityKind::Oidc {
        let same = url.scheme() == a.scheme()
            && host_port(&url) == host_port(a)
            && url.path().trim_end_matches('/') == a.path().trim_end_matches('/');
        return if same {
            Ok(())
        } else {
            Err(format!("expected {}", authority.as_str()))
        };
    }
    if url.scheme() != a.scheme() {
        return Err(format!("expected the {} scheme", a.scheme()));
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let (tenant, rest) = match segments.as_slice() {
        [tenant, "v2.0"] => (*tenant, None),
        [tfp, tenant, policy, "v2.0"]
            if authority.kind() == AuthorityKind::B2c && tfp.eq_ignore_ascii_case("tfp") =>
        {
            (*tenant, Some(*policy))
        }
        _ => return Err("expected {host}/{tenant}/v2.0".into()),
    };
    if let Some(policy) = rest {
        if !authority
            .policy()
            .is_some_and(|p| p.eq_ignore_ascii_case(policy))
        {
            return Err("its policy is not the authority's".into());
        }
    }
    let host = host_port(&url);
    let https = url.scheme() == "https";
    let same_cloud = host == authority.host().to_ascii_lowercase()
        || instance.aliases.iter().any(|h| h.eq_ignore_ascii_case(&host))
        // A custom host in front of a Microsoft cloud: that cloud's issuer.
        || (https
            && InstanceMetadata::known(&host).is_some()
            && InstanceMetadata::known(&authority.host()).is_none())
        || (https
            && authority.kind() == AuthorityKind::Ciam
            && host.strip_suffix(".ciamlogin.com").is_some_and(|label| label.eq_ignore_ascii_case(tenant)));
    if !same_cloud {
        return Err(format!("its host is not {}", authority.host()));
    }
    let configured = authority.tenant().unwrap_or_default();
    let multi = ["common", "organizations"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(configured));
    // The URL parser percent-encodes the braces of Entra's template.
    let tenant_ok = if tenant == "{tenantid}" || tenant.eq_ignore_ascii_case("%7Btenantid%7D") {
        multi
    } else {
        tenant.eq_ignore_ascii_case(configured)
            || token_tenant.is_some_and(|t| t.eq_ignore_ascii_case(tenant))
            || (is_guid(tenant) && !is_guid(configured))
    };
    if tenant_ok {
        Ok(())
    } else {
        Err(format!("its tenant is not {configured}"))
    }
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok()
}

/// The tenant is the first path segment of a Microsoft token endpoint
/// (`/{tenant}/oauth2/v2.0/token`); B2C's starts with `tfp` in the old form.
fn tenant_of(token: &Url) -> Option<String> {
    let mut segments = token.path_segments()?.filter(|s| !s.is_empty());
    let first = segments.next()?;
    let tenant = if first.eq_ignore_ascii_case("tfp") {
        segments.next()?
    } else {
        first
    };
    (!tenant.eq_ignore_ascii_case("oauth2")).then(|| tenant.to_owned())
}

#[cfg(test)]
mod tests;
