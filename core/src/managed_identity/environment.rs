//! Which managed identity source serves this process, read from an
//! environment the caller can inject (a map), so tests never depend on the
//! process's own variables.
//!
//! The order is MSAL.NET's
//! (`src/client/Microsoft.Identity.Client/ManagedIdentity/ManagedIdentityClient.cs`,
//! `GetManagedIdentitySource`): Service Fabric, App Service, Azure Machine
//! Learning, Cloud Shell, Azure Arc, then IMDS for everything else. msal
//! Python (`msal/managed_identity.py`, `get_managed_identity_source`) checks
//! the same variables; it puts Arc before Cloud Shell and serves Cloud Shell
//! through its public client instead.

use crate::error::{IdFlowError, LocalCode};
use crate::secret::ClientSecret;
use std::collections::BTreeMap;
use std::path::PathBuf;
use url::Url;

/// The variables that decide the source (and so the only ones
/// [`ManagedIdentityEnvironment::from_process`] reads).
pub const ENVIRONMENT_VARIABLES: [&str; 7] = [
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

/// The IMDS host when `AZURE_POD_IDENTITY_AUTHORITY_HOST` does not name another.
pub const DEFAULT_IMDS_HOST: &str = "http://169.254.169.254";
/// The IMDS token path.
pub const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
/// The Azure Arc agent's endpoint when only the agent (no variable) is present.
pub const DEFAULT_ARC_ENDPOINT: &str = "http://localhost:40342/metadata/identity/oauth2/token";
/// Where the Azure Arc agent is installed on Linux (its presence means Arc).
pub const ARC_AGENT_LINUX: &str = "/opt/azcmagent/bin/himds";

/// A managed identity source, named as MSAL.NET's `ManagedIdentitySource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManagedIdentitySource {
    AppService,
    ServiceFabric,
    AzureArc,
    CloudShell,
    MachineLearning,
    Imds,
}

impl ManagedIdentitySource {
    pub const ALL: [ManagedIdentitySource; 6] = [
        ManagedIdentitySource::AppService,
        ManagedIdentitySource::ServiceFabric,
        ManagedIdentitySource::AzureArc,
        ManagedIdentitySource::CloudShell,
        ManagedIdentitySource::MachineLearning,
        ManagedIdentitySource::Imds,
    ];

    /// MSAL.NET's name (also MSAL for Java's `ManagedIdentitySourceType`, upper-snake).
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedIdentitySource::AppService => "AppService",
            ManagedIdentitySource::ServiceFabric => "ServiceFabric",
            ManagedIdentitySource::AzureArc => "AzureArc",
            ManagedIdentitySource::CloudShell => "CloudShell",
            ManagedIdentitySource::MachineLearning => "MachineLearning",
            ManagedIdentitySource::Imds => "Imds",
        }
    }

    /// MSAL for Java's `ManagedIdentitySourceType` constant.
    pub fn java_name(self) -> &'static str {
        match self {
            ManagedIdentitySource::AppService => "APP_SERVICE",
            ManagedIdentitySource::ServiceFabric => "SERVICE_FABRIC",
            ManagedIdentitySource::AzureArc => "AZURE_ARC",
            ManagedIdentitySource::CloudShell => "CLOUD_SHELL",
            ManagedIdentitySource::MachineLearning => "MACHINE_LEARNING",
            ManagedIdentitySource::Imds => "IMDS",
        }
    }
}

/// The environment variables managed identity reads, as a map.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ManagedIdentityEnvironment {
    vars: BTreeMap<String, String>,
    /// The Arc agent's executable, whose presence means Azure Arc when the
    /// variables do not say so; `None` never detects the agent.
    pub arc_agent: Option<PathBuf>,
}

impl std::fmt::Debug for ManagedIdentityEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The header and secret variables are credentials: names only.
        f.debug_struct("ManagedIdentityEnvironment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("arc_agent", &self.arc_agent)
            .finish()
    }
}

impl ManagedIdentityEnvironment {
    /// This process's variables (only [`ENVIRONMENT_VARIABLES`]), and the
    /// Arc agent's Linux path.
    pub fn from_process() -> Self {
        let vars = ENVIRONMENT_VARIABLES
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
            .collect();
        ManagedIdentityEnvironment {
            vars,
            arc_agent: cfg!(target_os = "linux").then(|| PathBuf::from(ARC_AGENT_LINUX)),
        }
    }

    /// Exactly these variables, and no Arc agent on disk.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        ManagedIdentityEnvironment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            arc_agent: None,
        }
    }

    /// A variable's value; an empty one counts as unset (as MSAL.NET does).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn arc_agent_present(&self) -> bool {
        self.arc_agent.as_ref().is_some_and(|p| p.exists())
    }

    /// The source serving this environment.
    pub fn source(&self) -> ManagedIdentitySource {
        use ManagedIdentitySource::*;
        if self.has("IDENTITY_ENDPOINT") && self.has("IDENTITY_HEADER") {
            if self.has("IDENTITY_SERVER_THUMBPRINT") {
                ServiceFabric
            } else {
                AppService
            }
        } else if self.has("MSI_ENDPOINT") && self.has("MSI_SECRET") {
            MachineLearning
        } else if self.has("MSI_ENDPOINT") {
            CloudShell
        } else if (self.has("IDENTITY_ENDPOINT") && self.has("IMDS_ENDPOINT"))
            || self.arc_agent_present()
        {
            AzureArc
        } else {
            Imds
        }
    }

    /// The source with its endpoint and secret, checked: an endpoint that is
    /// not an http(s) URL is `invalid_managed_identity_endpoint`.
    pub(crate) fn target(&self) -> Result<Target, IdFlowError> {
        use ManagedIdentitySource::*;
        let source = self.source();
        let (var, raw) = match source {
            AppService | ServiceFabric => (
                "IDENTITY_ENDPOINT",
                self.get("IDENTITY_ENDPOINT").map(str::to_owned),
            ),
            MachineLearning | CloudShell => {
                ("MSI_ENDPOINT", self.get("MSI_ENDPOINT").map(str::to_owned))
            }
            AzureArc => (
                "IDENTITY_ENDPOINT",
                Some(
                    self.get("IDENTITY_ENDPOINT")
                        .filter(|_| self.has("IMDS_ENDPOINT"))
                        .unwrap_or(DEFAULT_ARC_ENDPOINT)
                        .to_owned(),
                ),
            ),
            Imds => {
                let host = self
                    .get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
                    .unwrap_or(DEFAULT_IMDS_HOST);
                (
                    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                    Some(format!("{}{IMDS_TOKEN_PATH}", host.trim_end_matches('/'))),
                )
            }
        };
        let raw = raw.unwrap_or_default();
        let endpoint = Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                IdFlowError::local(
                    LocalCode::InvalidManagedIdentityEndpoint,
                    format!(
                        "{var} does not give an http(s) URL for the {} managed identity source",
                        source.as_str()
                    ),
                )
            })?;
        if source == ServiceFabric {
            // msal Python 1.39 (`_obtain_token_on_service_fabric`) requires
            // https and a SHA-1 thumbprint; http is accepted here for
            // loopback hosts only (test servers), as for authorities.
            let loopback = matches!(
                endpoint.host_str(),
                Some("127.0.0.1" | "localhost" | "[::1]")
            );
            if endpoint.scheme() != "https" && !loopback {
                return Err(IdFlowError::local(
                    LocalCode::InvalidManagedIdentityEndpoint,
                    "IDENTITY_ENDPOINT must use https for the ServiceFabric managed identity source",
                ));
            }
            let thumbprint: String = self
                .get("IDENTITY_SERVER_THUMBPRINT")
                .unwrap_or_default()
                .chars()
                .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n' | ':'))
                .collect();
            if thumbprint.len() != 40 || !thumbprint.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(IdFlowError::local(
                    LocalCode::InvalidManagedIdentityEndpoint,
                    "IDENTITY_SERVER_THUMBPRINT must be a SHA-1 certificate thumbprint (40 hex digits)",
                ));
            }
        }
        if source == AzureArc && self.has("IMDS_ENDPOINT") {
            let imds = self.get("IMDS_ENDPOINT").unwrap_or_default();
            if Url::parse(imds).is_err() {
                return Err(IdFlowError::local(
                    LocalCode::InvalidManagedIdentityEndpoint,
                    "IMDS_ENDPOINT is not a URL for the AzureArc managed identity source",
                ));
            }
        }
        let secret = match source {
            AppService | ServiceFabric => self.get("IDENTITY_HEADER"),
            MachineLearning => self.get("MSI_SECRET"),
            _ => None,
        }
        .map(ClientSecret::new);
        Ok(Target {
            source,
            endpoint,
            secret,
            server_thumbprint: self
                .get("IDENTITY_SERVER_THUMBPRINT")
                .filter(|_| source == ServiceFabric)
                .map(str::to_owned),
        })
    }
}

/// Where and how to ask: the source, its endpoint and its secret.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub source: ManagedIdentitySource,
    pub endpoint: Url,
    /// `IDENTITY_HEADER` or `MSI_SECRET`.
    pub secret: Option<ClientSecret>,
    /// Service Fabric's pinned server certificate thumbprint.
    pub server_thumbprint: Option<String>,
}
