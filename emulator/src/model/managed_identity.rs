//! The managed identities the emulator serves, the secrets each source's
//! endpoint checks, and the environment variables that point a client at
//! each source.
//!
//! One system-assigned identity and one user-assigned identity (known by
//! its client id, resource id and object id) exist; any other user-assigned
//! id is "not found", as on a machine that does not have it.

use std::collections::VecDeque;
use std::path::PathBuf;

/// `IDENTITY_HEADER` of App Service and Service Fabric.
pub const MI_IDENTITY_HEADER: &str = "emulator-identity-header";
/// `MSI_SECRET` of Azure Machine Learning.
pub const MI_MSI_SECRET: &str = "emulator-msi-secret";
/// `IDENTITY_SERVER_THUMBPRINT` of Service Fabric (the emulator serves http).
pub const MI_SERVER_THUMBPRINT: &str = "0123456789ABCDEF0123456789ABCDEF01234567";

pub const MI_SYSTEM_CLIENT_ID: &str = "5a1a4e4c-0000-4000-8000-00000000a001";
pub const MI_SYSTEM_OBJECT_ID: &str = "5a1a4e4c-0000-4000-8000-00000000a002";
pub const MI_USER_CLIENT_ID: &str = "5a1a4e4c-0000-4000-8000-00000000b001";
pub const MI_USER_OBJECT_ID: &str = "5a1a4e4c-0000-4000-8000-00000000b002";
pub const MI_USER_RESOURCE_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/emulated";

/// Managed identity tokens live a day, as the platform's do.
pub const MI_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// The token path of each source (IMDS's is the platform's own; it is
/// routed in `wire::request`).
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
pub const APP_SERVICE_PATH: &str = "/msi/app_service/token";
pub const SERVICE_FABRIC_PATH: &str = "/msi/service_fabric/token";
pub const ARC_PATH: &str = "/msi/azure_arc/token";
pub const CLOUD_SHELL_PATH: &str = "/msi/cloud_shell/token";
pub const MACHINE_LEARNING_PATH: &str = "/msi/machine_learning/token";

/// The sources, by the names the admin API and the fault matchers use.
pub const SOURCES: [&str; 6] = [
    "imds",
    "app_service",
    "service_fabric",
    "azure_arc",
    "cloud_shell",
    "machine_learning",
];

/// Which identity a request named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    System,
    User,
}

impl Identity {
    pub fn client_id(self) -> &'static str {
        match self {
            Identity::System => MI_SYSTEM_CLIENT_ID,
            Identity::User => MI_USER_CLIENT_ID,
        }
    }

    pub fn object_id(self) -> &'static str {
        match self {
            Identity::System => MI_SYSTEM_OBJECT_ID,
            Identity::User => MI_USER_OBJECT_ID,
        }
    }
}

/// The identity a user-assigned id names, compared as the platform does
/// (ids case-insensitively).
pub fn user_assigned(kind: &str, id: &str) -> Option<Identity> {
    let want = match kind {
        "client_id" => MI_USER_CLIENT_ID,
        "object_id" => MI_USER_OBJECT_ID,
        _ => MI_USER_RESOURCE_ID,
    };
    want.eq_ignore_ascii_case(id).then_some(Identity::User)
}

/// The most Arc key files remembered (older ones stop working).
const MAX_ARC_SECRETS: usize = 64;

/// What the Azure Arc endpoint remembers: where it writes key files and the
/// secrets it wrote.
#[derive(Debug, Default)]
pub struct MiState {
    /// Set by the builder or the admin API; else a directory under the
    /// system's temp dir, made on first use.
    pub arc_key_directory: Option<PathBuf>,
    pub arc_secrets: VecDeque<String>,
}

impl MiState {
    pub fn remember_arc_secret(&mut self, secret: String) {
        if self.arc_secrets.len() >= MAX_ARC_SECRETS {
            self.arc_secrets.pop_front();
        }
        self.arc_secrets.push_back(secret);
    }

    pub fn knows_arc_secret(&self, secret: &str) -> bool {
        self.arc_secrets.iter().any(|s| s == secret)
    }
}

/// The environment variables that send a client to `source` on the emulator
/// at `base_url` (`None` for an unknown source name).
pub fn environment(base_url: &str, source: &str) -> Option<Vec<(String, String)>> {
    let v = |pairs: &[(&str, String)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    };
    match source {
        "imds" => v(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", base_url.to_owned())]),
        "app_service" => v(&[
            ("IDENTITY_ENDPOINT", format!("{base_url}{APP_SERVICE_PATH}")),
            ("IDENTITY_HEADER", MI_IDENTITY_HEADER.to_owned()),
        ]),
        "service_fabric" => v(&[
            (
                "IDENTITY_ENDPOINT",
                format!("{base_url}{SERVICE_FABRIC_PATH}"),
            ),
            ("IDENTITY_HEADER", MI_IDENTITY_HEADER.to_owned()),
            (
                "IDENTITY_SERVER_THUMBPRINT",
                MI_SERVER_THUMBPRINT.to_owned(),
            ),
        ]),
        "azure_arc" => v(&[
            ("IDENTITY_ENDPOINT", format!("{base_url}{ARC_PATH}")),
            ("IMDS_ENDPOINT", base_url.to_owned()),
        ]),
        "cloud_shell" => v(&[("MSI_ENDPOINT", format!("{base_url}{CLOUD_SHELL_PATH}"))]),
        "machine_learning" => v(&[
            ("MSI_ENDPOINT", format!("{base_url}{MACHINE_LEARNING_PATH}")),
            ("MSI_SECRET", MI_MSI_SECRET.to_owned()),
        ]),
        _ => None,
    }
}
