//! Authorities: who issues the tokens, parsed and validated offline.
//!
//! Two entry points, as in msal Python: [`Authority::parse`] for the Microsoft
//! identity platform (Entra ID and its sovereign clouds, B2C, CIAM — the kind
//! follows from the URL) and [`Authority::oidc`] for any other OpenID
//! provider, named by its issuer. Parsing never touches the network; the
//! endpoints of a Microsoft authority are derivable offline
//! ([`Authority::derived_endpoints`]) so a cache hit needs no discovery; on a
//! well-known cloud the first token needs none either, while elsewhere
//! [`crate::protocol::discovery`] confirms them (and finds OIDC endpoints)
//! when a flow runs.

use crate::error::{IdFlowError, LocalCode};
use std::net::IpAddr;
use url::{Host, Url};

/// Which family an authority belongs to; it decides discovery and endpoint paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthorityKind {
    /// Entra ID (`login.microsoftonline.com/{tenant}`, sovereign clouds, or
    /// another host validated by instance discovery).
    Aad,
    /// Azure AD B2C (`{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}`).
    B2c,
    /// Entra External ID for customers (`{tenant}.ciamlogin.com`).
    Ciam,
    /// Any OpenID provider, by issuer URL.
    Oidc,
}

/// A validated authority URL. Compare and hash it by its canonical URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Authority {
    kind: AuthorityKind,
    /// Canonical: no trailing slash, no query or fragment, host lower-case.
    url: Url,
    tenant: Option<String>,
    policy: Option<String>,
}

/// Endpoints of an authority, derived or discovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: Url,
    pub token: Url,
    /// RFC 8628 device authorization endpoint, when the provider has one.
    pub device_authorization: Option<Url>,
}

impl Authority {
    /// Parses a Microsoft identity platform authority: `https://{host}/{tenant}`
    /// (tenant a GUID, a domain, `common`, `organizations` or `consumers`),
    /// a B2C policy URL on a B2C host
    /// (`https://{x}.b2clogin.com/[tfp/]{tenant}/{policy}`), or a CIAM URL
    /// (`https://{x}.ciamlogin.com[/{tenant}]`).
    ///
    /// B2C is recognised by its host only, as msal Python does
    /// (`WELL_KNOWN_B2C_HOSTS` in msal/authority.py,
    /// AzureAD/microsoft-authentication-library-for-python): a B2C authority
    /// skips instance discovery, so a `/tfp/` path must not turn an arbitrary
    /// host into one. A B2C tenant on a custom domain is declared with
    /// [`Authority::b2c`] (MSAL.NET's `WithB2CAuthority`).
    ///
    /// Fails with `authority_uri_insecure` for http on a non-loopback host and
    /// `invalid_authority` for anything malformed. Unknown hosts are accepted
    /// here and validated by instance discovery when a flow runs.
    pub fn parse(authority: &str) -> Result<Authority, IdFlowError> {
        let url = base_url(authority)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let segments = path_segments(&url);
        let origin = url.origin().ascii_serialization();
        let invalid = |why: &str| {
            IdFlowError::local(
                LocalCode::InvalidAuthority,
                format!("authority {origin}: {why}"),
            )
        };
        if is_b2c_host(&host) {
            return b2c_from(url, &segments);
        }
        if segments
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("tfp"))
        {
            return Err(invalid(
                "a /tfp/{tenant}/{policy} path is B2C, but the host is not a B2C host \
                 (*.b2clogin.com); declare a B2C authority on a custom domain as B2C \
                 (Authority::b2c) so that it is not taken for an Entra ID tenant",
            ));
        }
        let (kind, path, tenant, policy) = if host.ends_with(".ciamlogin.com") {
            let tenant = match segments.as_slice() {
                [] => {
                    let label = host.split('.').next().unwrap_or_default();
                    format!("{label}.onmicrosoft.com")
                }
                [tenant] => tenant.clone(),
                _ => {
                    return Err(invalid(
                        "a CIAM authority is https://{x}.ciamlogin.com/{tenant}",
                    ))
                }
            };
            (AuthorityKind::Ciam, tenant.clone(), tenant, None)
        } else {
            let [tenant] = segments.as_slice() else {
                return Err(invalid(
                    "expected https://{host}/{tenant} with exactly one path segment \
                     (a tenant id or domain, common, organizations or consumers)",
                ));
            };
            (AuthorityKind::Aad, tenant.clone(), tenant.clone(), None)
        };
        Ok(Authority {
            kind,
            url: with_path(&url, &path),
            tenant: Some(tenant),
            policy,
        })
    }

    /// An Azure AD B2C authority the app declares as such, on any host (a B2C
    /// custom domain): `https://{host}/[tfp/]{tenant}/{policy}`. Like MSAL.NET
    /// (`AuthorityInfo.FromAuthorityUri` turns validation off for B2C,
    /// AzureAD/microsoft-authentication-library-for-dotnet
    /// src/client/Microsoft.Identity.Client/AppConfig/AuthorityInfo.cs), the
    /// host is trusted as the app's own and instance discovery is skipped.
    pub fn b2c(authority: &str) -> Result<Authority, IdFlowError> {
        let url = base_url(authority)?;
        let segments = path_segments(&url);
        b2c_from(url, &segments)
    }

    /// Any OpenID provider, named by its issuer URL (msal's `oidc_authority`).
    /// Its endpoints come from `{issuer}/.well-known/openid-configuration`.
    pub fn oidc(issuer: &str) -> Result<Authority, IdFlowError> {
        let url = base_url(issuer)?;
        let path = url.path().trim_matches('/').to_owned();
        Ok(Authority {
            kind: AuthorityKind::Oidc,
            url: with_path(&url, &path),
            tenant: None,
            policy: None,
        })
    }

    pub fn kind(&self) -> AuthorityKind {
        self.kind
    }

    /// The canonical URL, without a trailing slash.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The canonical URL as text (what the cache and the logs show).
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    /// The host (the cache's `environment`), with the port when there is one.
    pub fn host(&self) -> String {
        match (self.url.host_str(), self.url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        }
    }

    /// The tenant path segment of a Microsoft authority (`common`, a GUID, a
    /// domain); `None` for OIDC authorities.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The B2C policy (user flow), if any.
    pub fn policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }

    /// Whether this is a Microsoft identity platform authority (client_info,
    /// `.default` scopes and `uid.utid` account ids apply).
    pub fn is_microsoft(&self) -> bool {
        self.kind != AuthorityKind::Oidc
    }

    /// Whether the host is a loopback address (a local emulator or test server).
    pub fn is_loopback(&self) -> bool {
        self.url.host().is_some_and(|h| is_loopback_host(&h))
    }

    /// The OIDC discovery document's URL.
    pub fn discovery_url(&self) -> Url {
        let suffix = match self.kind {
            AuthorityKind::Oidc => "/.well-known/openid-configuration",
            _ => "/v2.0/.well-known/openid-configuration",
        };
        self.join(suffix)
    }

    /// The endpoints of a Microsoft authority, without any network call
    /// (`{authority}/oauth2/v2.0/{authorize,token,devicecode}`). `None` for
    /// OIDC authorities, whose endpoints only discovery can tell.
    pub fn derived_endpoints(&self) -> Option<Endpoints> {
        if !self.is_microsoft() {
            return None;
        }
        Some(Endpoints {
            authorization: self.join("/oauth2/v2.0/authorize"),
            token: self.join("/oauth2/v2.0/token"),
            device_authorization: Some(self.join("/oauth2/v2.0/devicecode")),
        })
    }

    fn join(&self, suffix: &str) -> Url {
        let mut url = self.url.clone();
        let path = format!("{}{suffix}", self.url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

/// Hosts that are B2C by name (msal Python's `WELL_KNOWN_B2C_HOSTS`,
/// msal/authority.py; `ciamlogin.com` is CIAM here, its own kind).
const B2C_HOST_SUFFIXES: &[&str] = &[
    ".b2clogin.com",
    ".b2clogin.cn",
    ".b2clogin.us",
    ".b2clogin.de",
];

/// Whether `host` is a well-known B2C host.
pub fn is_b2c_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    B2C_HOST_SUFFIXES.iter().any(|s| host.ends_with(s))
}

fn path_segments(url: &Url) -> Vec<String> {
    url.path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A B2C authority from `[tfp/]{tenant}/{policy}`.
fn b2c_from(url: Url, segments: &[String]) -> Result<Authority, IdFlowError> {
    let tfp = segments
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case("tfp"));
    let rest = if tfp { &segments[1..] } else { segments };
    let [tenant, policy] = rest else {
        return Err(IdFlowError::local(
            LocalCode::InvalidAuthority,
            format!(
                "authority {}: a B2C authority is https://{{host}}/{{tenant}}/{{policy}}",
                url.origin().ascii_serialization()
            ),
        ));
    };
    Ok(Authority {
        kind: AuthorityKind::B2c,
        url: with_path(&url, &segments.join("/")),
        tenant: Some(tenant.clone()),
        policy: Some(policy.clone()),
    })
}

/// Whether a host is a loopback address or `localhost`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Parses and checks what every authority needs: an absolute https URL (http
/// only for loopback), a host, no credentials, query or fragment.
fn base_url(input: &str) -> Result<Url, IdFlowError> {
    // Never echo credentials embedded in the URL back into an error message.
    let shown: String = match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://{}", &input[..s], &input[at + 1..]),
        _ => input.to_owned(),
    }
    .chars()
    .take(200)
    .collect();
    let invalid = |why: &str| {
        IdFlowError::local(
            LocalCode::InvalidAuthority,
            format!("authority '{shown}': {why}"),
        )
    };
    let url = Url::parse(input.trim()).map_err(|e| invalid(&format!("not a URL ({e})")))?;
    let Some(host) = url.host() else {
        return Err(invalid("no host"));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(IdFlowError::local(
                LocalCode::InsecureAuthority,
                format!(
                    "authority '{shown}' must use https (http is allowed only for loopback hosts)"
                ),
            ))
        }
        _ => return Err(invalid("the scheme must be https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not allowed"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a query or fragment is not allowed"));
    }
    Ok(url)
}

fn with_path(url: &Url, path: &str) -> Url {
    let mut u = url.clone();
    u.set_path(&format!("/{path}"));
    u
}

#[cfg(test)]
mod tests;
