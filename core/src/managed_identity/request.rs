//! Each source's token request, exactly as its platform expects it. The
//! api-versions, parameter names and headers are msal Python's
//! (`msal/managed_identity.py`, `_obtain_token_on_*`), Cloud Shell's is
//! MSAL.NET's (`ManagedIdentity/CloudShellManagedIdentitySource.cs`).

use super::environment::{ManagedIdentitySource, Target};
use super::identity::ManagedIdentity;
use crate::error::{IdFlowError, LocalCode};
use crate::net::http::HttpRequest;

pub const IMDS_API_VERSION: &str = "2018-02-01";
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";
pub const MACHINE_LEARNING_API_VERSION: &str = "2017-09-01";
pub const SERVICE_FABRIC_API_VERSION: &str = "2019-07-01-preview";
pub const ARC_API_VERSION: &str = "2020-06-01";

/// What one token request needs besides the target.
#[derive(Clone, Debug)]
pub(crate) struct Ask<'a> {
    pub identity: &'a ManagedIdentity,
    pub resource: &'a str,
    /// SHA-256 (hex) of the token a claims challenge rejected (Service Fabric).
    pub token_sha256_to_refresh: Option<&'a str>,
    /// `xms_cc` (Service Fabric).
    pub client_capabilities: &'a [String],
}

/// The name under which `source` takes a user-assigned identity's id, or
/// `None` when it serves only the system-assigned identity.
pub fn id_parameter(
    source: ManagedIdentitySource,
    identity: &ManagedIdentity,
) -> Option<&'static str> {
    use ManagedIdentity::*;
    use ManagedIdentitySource::*;
    match (source, identity) {
        (_, SystemAssigned) => None,
        // IMDS prefers `msi_res_id`; App Service names it `mi_res_id`.
        (Imds | AppService | AzureArc, ClientId(_)) => Some("client_id"),
        (Imds | MachineLearning | AzureArc, ResourceId(_)) => Some("msi_res_id"),
        (AppService, ResourceId(_)) => Some("mi_res_id"),
        (Imds | AppService | MachineLearning | AzureArc, ObjectId(_)) => Some("object_id"),
        // Azure ML's 2017 api names the client id `clientid`.
        (MachineLearning, ClientId(_)) => Some("clientid"),
        // Service Fabric's identity is fixed by the cluster: msal Python
        // ignores the parameter; Cloud Shell refuses user-assigned.
        (ServiceFabric, _) | (CloudShell, _) => None,
    }
}

/// Refuses an identity the source cannot serve: Cloud Shell has only the
/// system-assigned identity (MSAL.NET `CloudShellManagedIdentitySource.cs`).
/// Azure Arc takes user-assigned ones as msal Python 1.39 sends them
/// (`_obtain_token_on_arc`: `client_id`, `msi_res_id`, `object_id`), and the
/// answer must confirm the identity (see `response`).
pub(crate) fn check_supported(
    source: ManagedIdentitySource,
    identity: &ManagedIdentity,
) -> Result<(), IdFlowError> {
    if identity.is_user_assigned() && source == ManagedIdentitySource::CloudShell {
        return Err(IdFlowError::local(
            LocalCode::UserAssignedManagedIdentityNotSupported,
            format!(
                "the {} managed identity source supports only the system-assigned identity, \
                 not a user-assigned one ({})",
                source.as_str(),
                identity.id_type()
            ),
        ));
    }
    Ok(())
}

/// The first request to the source.
pub(crate) fn build(target: &Target, ask: &Ask<'_>) -> Result<HttpRequest, IdFlowError> {
    use ManagedIdentitySource::*;
    check_supported(target.source, ask.identity)?;
    let mut url = target.endpoint.clone();
    let secret = target
        .secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    let api_version = match target.source {
        Imds => IMDS_API_VERSION,
        AppService => APP_SERVICE_API_VERSION,
        MachineLearning => MACHINE_LEARNING_API_VERSION,
        ServiceFabric => SERVICE_FABRIC_API_VERSION,
        AzureArc => ARC_API_VERSION,
        CloudShell => {
            let form = vec![("resource".to_owned(), ask.resource.to_owned())];
            return Ok(HttpRequest::post_form(url, form).with_header("Metadata", "true"));
        }
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", api_version);
        q.append_pair("resource", ask.resource);
        if let (Some(name), Some(id)) =
            (id_parameter(target.source, ask.identity), ask.identity.id())
        {
            q.append_pair(name, id);
        }
        if target.source == ServiceFabric {
            if let Some(h) = ask.token_sha256_to_refresh {
                q.append_pair("token_sha256_to_refresh", h);
            }
            if !ask.client_capabilities.is_empty() {
                q.append_pair("xms_cc", &ask.client_capabilities.join(","));
            }
        }
    }
    let request = HttpRequest::get(url);
    Ok(match target.source {
        Imds | AzureArc => request.with_header("Metadata", "true"),
        AppService => request
            .with_header("X-IDENTITY-HEADER", secret)
            .with_header("Metadata", "true"),
        MachineLearning => request.with_header("secret", secret),
        ServiceFabric => request.with_header("Secret", secret),
        CloudShell => unreachable_cloud_shell(request),
    })
}

// Cloud Shell returned above; kept as a function so the match stays total
// without a panic path.
fn unreachable_cloud_shell(request: HttpRequest) -> HttpRequest {
    request
}
