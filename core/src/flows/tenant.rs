//! A per-call tenant for multi-tenant apps: the same cloud, another tenant.
//!
//! MSAL.NET's `WithTenantId` on a request builder
//! (AzureAD/microsoft-authentication-library-for-dotnet
//! `src/client/Microsoft.Identity.Client/ApiConfig/AbstractAcquireTokenParameterBuilder.cs`)
//! and MSAL for Java's `tenant(...)` on `ClientCredentialParameters`,
//! `SilentParameters`, `OnBehalfOfParameters` and
//! `AuthorizationCodeParameters`
//! (AzureAD/microsoft-authentication-library-for-java
//! `msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/ClientCredentialParameters.java`,
//! applied in `AbstractClientApplicationBase.java`) keep the app's host and
//! swap its tenant segment for the request. The request's tokens are then
//! filed under that tenant's realm, so a silent call for a tenant answers
//! only from that tenant's tokens and refreshes against it with the
//! account's refresh token (refresh tokens carry no realm).
//!
//! Here a tenant gets its own [`Engine`] view over the app's shared parts
//! (sender, credential, token cache, options): its authority, discovery and
//! realm are the tenant's, so every flow takes the tenant without knowing
//! of it. Views are kept per tenant for the app's lifetime, so discovery
//! and single flight work per tenant as they do for the app.
//!
//! Refused, as MSAL refuses: B2C (a policy authority has no tenant to swap:
//! `Instance/B2CAuthority.cs` throws on a tenant override), ADFS
//! (`Instance/AdfsAuthority.cs`) and a generic OpenID provider (no tenant
//! segment to replace).

use super::{Engine, Regional};
use crate::error::{IdFlowError, LocalCode};
use crate::protocol::authority::{Authority, AuthorityKind};
use crate::protocol::discovery::Discovery;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The tenant views an app has created, by tenant (lower-case).
#[derive(Debug, Default)]
pub(crate) struct TenantViews {
    views: Mutex<HashMap<String, Arc<Engine>>>,
}

/// The app's authority with `tenant` in place of its tenant segment, or a
/// clear `invalid_parameter` error for an authority that has no tenant to
/// replace or a malformed tenant.
pub(crate) fn tenanted_authority(app: &Authority, tenant: &str) -> Result<Authority, IdFlowError> {
    let refuse = |why: String| IdFlowError::local(LocalCode::InvalidParameter, why);
    let tenant = tenant.trim();
    if tenant.is_empty()
        || tenant
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '?' | '#' | '%' | '@') || c.is_whitespace())
    {
        return Err(refuse(
            "the tenant must be a tenant id or domain (one path segment), e.g. \
             contoso.onmicrosoft.com or a GUID"
                .to_owned(),
        ));
    }
    match app.kind() {
        AuthorityKind::Aad | AuthorityKind::Ciam => {}
        AuthorityKind::B2c => {
            return Err(refuse(
                "a tenant cannot be set per request on a B2C authority: its path names a \
                 policy; create an app for the other B2C tenant instead"
                    .to_owned(),
            ))
        }
        AuthorityKind::Oidc => {
            return Err(refuse(
                "a tenant can be set per request only on a Microsoft Entra authority \
                 (https://{host}/{tenant}); this OpenID provider has no tenant segment"
                    .to_owned(),
            ))
        }
    }
    if app.tenant().is_some_and(|t| t.eq_ignore_ascii_case("adfs")) {
        return Err(refuse(
            "a tenant cannot be set per request on an ADFS authority".to_owned(),
        ));
    }
    let origin = app.url().origin().ascii_serialization();
    Authority::parse(&format!("{origin}/{tenant}"))
}

impl Engine {
    /// This app's view for `tenant`: itself when the tenant is the app's
    /// own, else the (kept) view whose authority names `tenant`.
    pub(crate) fn for_tenant(&self, tenant: &str) -> Result<Option<Arc<Engine>>, IdFlowError> {
        let authority = tenanted_authority(&self.authority, tenant)?;
        if authority == self.authority {
            return Ok(None);
        }
        let key = tenant.trim().to_ascii_lowercase();
        let mut views = self.tenants.views.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(view) = views.get(&key) {
            return Ok(Some(view.clone()));
        }
        let mut view = Engine::new(
            self.client_id.clone(),
            authority,
            self.sender.clone(),
            self.validate_authority,
            self.credential.clone(),
            self.cache.clone(),
            self.client_capabilities.clone(),
        );
        view.region = Regional::new(self.region.plan.clone(), self.region.environment.clone());
        view.app_headers = self.app_headers.clone();
        view.exclude_scopes = self.exclude_scopes.clone();
        if self.discovery.loopback_as_known_cloud() {
            view.discovery = Discovery::with_loopback_as_known_cloud();
        }
        let view = Arc::new(view);
        views.insert(key, view.clone());
        Ok(Some(view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_replaces_the_app_tenant_on_the_same_host() {
        let app = Authority::parse("https://login.microsoftonline.com/common").unwrap();
        let t = tenanted_authority(&app, "contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            t.as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com"
        );
        assert_eq!(t.tenant(), Some("contoso.onmicrosoft.com"));
    }

    #[test]
    fn b2c_adfs_oidc_and_malformed_tenants_are_refused() {
        let refused = |authority: Authority, tenant: &str| {
            let e = tenanted_authority(&authority, tenant).unwrap_err();
            assert_eq!(e.code, LocalCode::InvalidParameter.as_str(), "{e}");
        };
        refused(
            Authority::parse("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin")
                .unwrap(),
            "fabrikam",
        );
        refused(
            Authority::parse("https://adfs.contoso.com/adfs").unwrap(),
            "fabrikam",
        );
        refused(
            Authority::oidc("https://accounts.example.com").unwrap(),
            "fabrikam",
        );
        let aad = Authority::parse("https://login.microsoftonline.com/common").unwrap();
        for bad in ["", " ", "a/b", "a?b", "a#b", "a b"] {
            refused(aad.clone(), bad);
        }
    }
}
