//! The app's Azure region choice as uniffi sees it, and the request options
//! that go with it (converted here, decided in the core's `protocol::region`).

use idflow::error::{IdFlowError, LocalCode};
use idflow::AppOptions;

/// Client credentials through a regional endpoint (confidential apps).
/// Unset (`None` in the config) takes the `MSAL_FORCE_REGION` environment
/// variable, as msal Python does.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AzureRegion {
    /// This region, e.g. `westus2` (a lowercase DNS label).
    Named { name: String },
    /// `REGION_NAME`, then the VM's instance metadata (IMDS, 2 s at most);
    /// the global endpoint when neither answers (msal's
    /// `ATTEMPT_REGION_DISCOVERY`, MSAL.NET's `TryAutoDetect`).
    AutoDetect,
    /// No region, whatever `MSAL_FORCE_REGION` says.
    Disabled,
}

impl From<AzureRegion> for idflow::AzureRegion {
    fn from(r: AzureRegion) -> Self {
        match r {
            AzureRegion::Named { name } => idflow::AzureRegion::Named(name),
            AzureRegion::AutoDetect => idflow::AzureRegion::AutoDetect,
            AzureRegion::Disabled => idflow::AzureRegion::Disabled,
        }
    }
}

/// Sets the region, the app's name and version, the excluded scopes and the
/// assertion claims (a JSON object) on `o`.
pub(crate) fn apply(
    o: &mut AppOptions,
    azure_region: Option<AzureRegion>,
    app_name: Option<String>,
    app_version: Option<String>,
    exclude_scopes: Vec<String>,
    client_claims_json: Option<&str>,
) -> Result<(), IdFlowError> {
    o.azure_region = azure_region.map(Into::into);
    o.app_name = app_name;
    o.app_version = app_version;
    o.exclude_scopes = exclude_scopes;
    if let Some(text) = client_claims_json {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => o.client_assertion_claims = map,
            _ => return Err(IdFlowError::local(
                LocalCode::InvalidParameter,
                "client_claims must be a JSON object of claims, e.g. {\"client_ip\": \"10.0.0.1\"}",
            )),
        }
    }
    Ok(())
}
