//! The Microsoft clouds whose metadata is built in, and the authority
//! resolved offline for them: no request before the first token.
//!
//! An Entra ID authority on a well-known host has fixed endpoints
//! (`{authority}/oauth2/v2.0/{authorize,token,devicecode}`), a fixed key set
//! (`{authority}/discovery/v2.0/keys`) and a fixed issuer form
//! (`https://{host}/{tenant id}/v2.0`), so fetching the OpenID configuration
//! first only adds a round trip. MSAL.NET builds these endpoints from the
//! authority as well (`AadAuthority`,
//! AzureAD/microsoft-authentication-library-for-dotnet
//! src/client/Microsoft.Identity.Client/Instance/AadAuthority.cs) and keeps
//! the same list of known hosts
//! (src/client/Microsoft.Identity.Client/Instance/Discovery/KnownMetadataProvider.cs).
//! The signing keys are fetched only when an id token is checked
//! ([`crate::protocol::id_token::validate`]), so a client-credentials token
//! costs exactly one request.
//!
//! B2C, CIAM, unknown Entra hosts (ADFS, private clouds) and other OpenID
//! providers keep discovery: their endpoints or issuer are theirs to say.

use super::{InstanceMetadata, ResolvedAuthority};
use crate::protocol::authority::{Authority, AuthorityKind, Endpoints};

/// Clouds whose metadata is built in: (preferred network host, preferred
/// cache host, aliases). Public facts about the Microsoft clouds, the same
/// hosts as MSAL.NET's `KnownMetadataProvider`.
pub(super) const KNOWN_CLOUDS: &[(&str, &str, &[&str])] = &[
    (
        "login.microsoftonline.com",
        "login.windows.net",
        &[
            "login.microsoftonline.com",
            "login.windows.net",
            "login.microsoft.com",
            "sts.windows.net",
        ],
    ),
    (
        "login.partner.microsoftonline.cn",
        "login.partner.microsoftonline.cn",
        &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
    ),
    (
        "login.microsoftonline.de",
        "login.microsoftonline.de",
        &["login.microsoftonline.de"],
    ),
    (
        "login.microsoftonline.us",
        "login.microsoftonline.us",
        &["login.microsoftonline.us", "login.usgovcloudapi.net"],
    ),
    (
        "login-us.microsoftonline.com",
        "login-us.microsoftonline.com",
        &["login-us.microsoftonline.com"],
    ),
    (
        "login.windows-ppe.net",
        "login.windows-ppe.net",
        &[
            "login.windows-ppe.net",
            "sts.windows-ppe.net",
            "login.microsoft-ppe.com",
        ],
    ),
    (
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.fr",
        &["login.sovcloud-identity.fr"],
    ),
    (
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.de",
        &["login.sovcloud-identity.de"],
    ),
    (
        "login.sovcloud-identity.sg",
        "login.sovcloud-identity.sg",
        &["login.sovcloud-identity.sg"],
    ),
];

/// The authority resolved without a request, when it is an Entra ID
/// authority on a well-known cloud host (or, with `loopback_as_known`, on a
/// loopback host: an emulator standing in for a cloud in tests). `None`
/// means discovery must run.
pub(super) fn resolve_offline(
    authority: &Authority,
    loopback_as_known: bool,
) -> Option<ResolvedAuthority> {
    if authority.kind() != AuthorityKind::Aad {
        return None;
    }
    let host = authority.host();
    let instance = match InstanceMetadata::known(&host) {
        Some(known) => known,
        None if loopback_as_known && authority.is_loopback() => InstanceMetadata::single(&host),
        None => return None,
    };
    let tenant = authority.tenant()?.to_owned();
    // Requests go to the cloud's preferred network host, as MSAL.NET sends
    // them; the cache keeps the authority's own host (its `environment`).
    let mut base = authority.url().clone();
    if InstanceMetadata::known(&host).is_some()
        && base.host_str() != Some(instance.preferred_network.as_str())
    {
        base.set_host(Some(&instance.preferred_network)).ok()?;
    }
    let root = base.as_str().trim_end_matches('/').to_owned();
    let join = |suffix: &str| url::Url::parse(&format!("{root}{suffix}")).ok();
    // Entra issues `https://{host}/{tenant id}/v2.0`. A tenant named by its
    // id is that issuer; `common`, `organizations`, `consumers` or a domain
    // is resolved per token from its `tid`, as the `{tenantid}` template of
    // the multi-tenant discovery documents is.
    let origin = base.origin().ascii_serialization();
    let issuer_tenant = if is_guid(&tenant) {
        tenant.to_ascii_lowercase()
    } else {
        "{tenantid}".to_owned()
    };
    Some(ResolvedAuthority {
        authority: authority.clone(),
        endpoints: Endpoints {
            authorization: join("/oauth2/v2.0/authorize")?,
            token: join("/oauth2/v2.0/token")?,
            device_authorization: join("/oauth2/v2.0/devicecode"),
        },
        issuer: format!("{origin}/{issuer_tenant}/v2.0"),
        jwks_uri: join("/discovery/v2.0/keys"),
        tenant: Some(tenant),
        // Entra does not advertise RFC 9207's `iss` in authorization
        // responses; one that arrives is still checked against the issuer.
        iss_parameter_supported: false,
        instance,
    })
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok()
}
