//! The directory: app registrations, users, APIs and tenants, with the
//! defaults an emulator starts with so that every flow works out of the box.
//!
//! The `*Spec` types are what the admin API and [`crate::Admin`] accept; they
//! are stored as given, except that key registrations are parsed once.

use crate::crypto::credentials::{ClientKey, KeySpec, KeySummary};
use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

/// The tenant users belong to unless registered otherwise.
pub const DEFAULT_TENANT: &str = "emulator.idflow.test";
/// A public client (desktop/mobile/CLI): auth code + PKCE, device code, ROPC, refresh.
pub const PUBLIC_CLIENT_ID: &str = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01";
/// Two public clients in FOCI family "1" (they may redeem each other's refresh tokens).
pub const FAMILY_CLIENT_IDS: [&str; 2] = [
    "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e02",
    "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e03",
];
/// A confidential client (web app / daemon / middle-tier API) with a secret.
/// It exposes the API `api://{CONFIDENTIAL_CLIENT_ID}` with scope `access_as_user`,
/// so the public client can call it and it can call Graph on-behalf-of the user.
pub const CONFIDENTIAL_CLIENT_ID: &str = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
/// The confidential client's secret (an emulator default: not a real credential).
pub const CONFIDENTIAL_CLIENT_SECRET: &str = "emulator-secret-do-not-use-in-production";
/// The user that interactive and device-code sign-ins use unless told otherwise.
pub const DEFAULT_USERNAME: &str = "ada@emulator.idflow.test";
/// The default user's password (for ROPC).
pub const DEFAULT_PASSWORD: &str = "correct horse battery staple";
/// Microsoft Graph, which every emulator knows.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The tenant id the identity platform gives personal Microsoft accounts.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// An app registration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientSpec {
    pub client_id: String,
    /// Display name, used in error descriptions.
    pub name: Option<String>,
    /// A confidential client must authenticate at the token endpoint; a public one must not.
    pub confidential: bool,
    /// Client secrets (a convenience single `secret` is merged into this list).
    pub secrets: Vec<String>,
    #[serde(skip_serializing)]
    pub secret: Option<String>,
    /// Keys for client assertions: PEM certificates / public keys, or RSA JWKs.
    pub keys: Vec<KeySpec>,
    /// Registered redirect URIs. `http://localhost` and `http://127.0.0.1`
    /// entries match any port (RFC 8252), and any path when registered without one.
    pub redirect_uris: Vec<String>,
    /// FOCI family id (`"1"`): token responses carry `foci` and family members
    /// may redeem each other's refresh tokens.
    pub foci: Option<String>,
    /// Seconds; token responses carry `refresh_in` (proactive refresh hint).
    pub refresh_in: Option<u64>,
    /// The manifest's `allowPublicClient`: a confidential registration that may
    /// also run public-client flows (device code, ROPC) without a credential.
    pub allow_public_client: bool,
    /// Tenant-wide admin consent (the default): users never need to consent to
    /// this app's scopes. When false, a user must consent interactively first (silent flows then
    /// answer `invalid_grant` / AADSTS65001 / `consent_required`).
    pub admin_consented: bool,
    /// Delegated scopes this app exposes as an API (`api://{client_id}/{scope}`).
    pub scopes: Vec<String>,
    /// App roles granted to this client (the `roles` claim of its app-only tokens).
    pub roles: Vec<String>,
    /// Subject names (the certificate's CN) trusted for subject name / issuer
    /// authentication: an assertion that carries its certificate in `x5c`,
    /// with one of these subjects, is verified with that certificate's key.
    /// (The emulator checks the subject and the thumbprint, not a CA chain.)
    pub trusted_subjects: Vec<String>,
    /// Workload identity federation: external tokens accepted as client assertions.
    pub federated_credentials: Vec<FederatedCredentialSpec>,
}

/// A federated identity credential on an app registration: a token from
/// `issuer` about `subject`, addressed to one of `audiences`, stands for the
/// app's credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederatedCredentialSpec {
    pub issuer: String,
    pub subject: String,
    /// `["api://AzureADTokenExchange"]` unless given.
    pub audiences: Vec<String>,
    /// The issuer's public keys (PEM or JWK, as for `keys`); empty means the
    /// emulator's own signing key, which `POST /_admin/federated-token` uses.
    pub keys: Vec<KeySpec>,
}

/// The audience federated tokens for Microsoft Entra carry.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

impl Default for FederatedCredentialSpec {
    fn default() -> Self {
        FederatedCredentialSpec {
            issuer: String::new(),
            subject: String::new(),
            audiences: vec![FEDERATED_AUDIENCE.to_owned()],
            keys: Vec::new(),
        }
    }
}

impl Default for ClientSpec {
    fn default() -> Self {
        ClientSpec {
            client_id: String::new(),
            name: None,
            confidential: false,
            secrets: Vec::new(),
            secret: None,
            keys: Vec::new(),
            redirect_uris: Vec::new(),
            foci: None,
            refresh_in: None,
            allow_public_client: false,
            admin_consented: true,
            scopes: Vec::new(),
            roles: Vec::new(),
            trusted_subjects: Vec::new(),
            federated_credentials: Vec::new(),
        }
    }
}

/// A user account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserSpec {
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    /// Object id; derived from the username when omitted.
    pub oid: Option<String>,
    /// Tenant name or id; [`DEFAULT_TENANT`] when omitted.
    pub tenant: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// ROPC answers `invalid_grant` AADSTS50076 (`basic_action`): MFA needs UI.
    pub mfa_required: bool,
    /// ROPC answers `invalid_grant` AADSTS50055 (`user_password_expired`).
    pub password_expired: bool,
    /// Every flow answers `invalid_grant` AADSTS50057.
    pub disabled: bool,
}

/// An API (resource) that scopes can be requested for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceSpec {
    /// The App ID URI, e.g. `https://vault.azure.net`.
    pub uri: String,
    /// The app id (the `aud` of its tokens); derived from the URI when omitted.
    pub app_id: Option<String>,
    /// Delegated scopes; `None` accepts any scope name.
    pub scopes: Option<Vec<String>>,
}

/// A registration with its keys parsed.
#[derive(Clone, Debug)]
pub struct Client {
    pub spec: ClientSpec,
    pub keys: Vec<ClientKey>,
}

impl Client {
    /// Validates and normalises a registration.
    pub fn from_spec(mut spec: ClientSpec) -> Result<Client, String> {
        if spec.client_id.trim().is_empty() {
            return Err("client_id is required".into());
        }
        if let Some(s) = spec.secret.take() {
            spec.secrets.push(s);
        }
        let keys = spec
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| ClientKey::parse(k).map_err(|e| format!("keys[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, f) in spec.federated_credentials.iter().enumerate() {
            if f.issuer.trim().is_empty() || f.subject.trim().is_empty() {
                return Err(format!(
                    "federated_credentials[{i}]: issuer and subject are required"
                ));
            }
            for (j, k) in f.keys.iter().enumerate() {
                ClientKey::parse(k)
                    .map_err(|e| format!("federated_credentials[{i}].keys[{j}]: {e}"))?;
            }
        }
        let has_trust = !spec.trusted_subjects.is_empty() || !spec.federated_credentials.is_empty();
        if !spec.confidential && (!spec.secrets.is_empty() || !keys.is_empty() || has_trust) {
            return Err("a public client has no secrets or keys; set confidential: true".into());
        }
        Ok(Client { spec, keys })
    }

    pub fn id(&self) -> &str {
        &self.spec.client_id
    }

    pub fn display_name(&self) -> &str {
        self.spec.name.as_deref().unwrap_or(&self.spec.client_id)
    }

    /// Whether the client may run a public-client flow without a credential.
    pub fn may_skip_credential(&self) -> bool {
        !self.spec.confidential || self.spec.allow_public_client
    }

    /// Whether `uri` is one of the registered redirect URIs.
    pub fn redirect_allowed(&self, uri: &str) -> bool {
        self.spec
            .redirect_uris
            .iter()
            .any(|registered| redirect_matches(registered, uri))
    }

    /// The service principal's object id (the `oid` of its app-only tokens).
    pub fn principal_oid(&self) -> String {
        derived_guid(&format!("sp:{}", self.spec.client_id))
    }

    /// What the admin API shows: no secrets, only key identifiers.
    pub fn summary(&self) -> serde_json::Value {
        let keys: Vec<KeySummary> = self.keys.iter().map(ClientKey::summary).collect();
        let mut v = serde_json::to_value(&self.spec).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("secrets");
            o.insert("secret_count".into(), self.spec.secrets.len().into());
            o.insert(
                "keys".into(),
                serde_json::to_value(keys).unwrap_or_default(),
            );
        }
        v
    }
}

impl UserSpec {
    pub fn oid(&self) -> String {
        self.oid
            .clone()
            .unwrap_or_else(|| derived_guid(&format!("user:{}", self.username.to_lowercase())))
    }

    pub fn tenant_id(&self) -> String {
        tenant_id(self.tenant.as_deref().unwrap_or(DEFAULT_TENANT))
    }

    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.username
                .split('@')
                .next()
                .unwrap_or(&self.username)
                .to_owned()
        })
    }
}

impl ResourceSpec {
    pub fn app_id(&self) -> String {
        self.app_id
            .clone()
            .unwrap_or_else(|| derived_guid(&format!("resource:{}", self.uri)))
    }

    pub fn allows(&self, scope: &str) -> bool {
        match &self.scopes {
            None => true,
            Some(list) => list.iter().any(|s| s.eq_ignore_ascii_case(scope)),
        }
    }
}

/// A tenant's id: a GUID segment is its own id; `consumers` has the
/// personal-account tenant's id; any other name gets a stable GUID derived
/// from it, so the same name always means the same tenant.
pub fn tenant_id(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    if uuid::Uuid::parse_str(&lower).is_ok() && lower.len() == 36 {
        return lower;
    }
    if lower == "consumers" {
        return CONSUMERS_TENANT_ID.into();
    }
    derived_guid(&format!("tenant:{lower}"))
}

/// `common`, `organizations` and `consumers` are not tenants but audiences.
pub fn is_multi_tenant_alias(tenant: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(tenant))
}

/// A stable GUID-shaped id from a name (SHA-256, v4 layout).
pub fn derived_guid(name: &str) -> String {
    let d = digest::digest(&digest::SHA256, name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Redirect URI matching as the identity platform does it for loopback URIs.
fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    let loopback = |u: &url::Url| {
        u.scheme() == "http" && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    };
    if !(loopback(&reg) && loopback(&req)) || reg.host_str() != req.host_str() {
        return false;
    }
    reg.path() == "/" || reg.path() == req.path()
}

/// The registrations an emulator starts with.
pub fn default_clients() -> Vec<ClientSpec> {
    let native = |id: &str, name: &str, foci: Option<&str>| ClientSpec {
        client_id: id.into(),
        name: Some(name.into()),
        redirect_uris: vec![
            "http://localhost".into(),
            "http://127.0.0.1".into(),
            "https://login.microsoftonline.com/common/oauth2/nativeclient".into(),
            format!("msal{id}://auth"),
        ],
        foci: foci.map(str::to_owned),
        ..Default::default()
    };
    vec![
        native(PUBLIC_CLIENT_ID, "idflow emulator public client", None),
        native(
            FAMILY_CLIENT_IDS[0],
            "idflow emulator family client A",
            Some("1"),
        ),
        native(
            FAMILY_CLIENT_IDS[1],
            "idflow emulator family client B",
            Some("1"),
        ),
        ClientSpec {
            client_id: CONFIDENTIAL_CLIENT_ID.into(),
            name: Some("idflow emulator confidential client".into()),
            confidential: true,
            secrets: vec![CONFIDENTIAL_CLIENT_SECRET.into()],
            redirect_uris: vec!["http://localhost".into(), "http://127.0.0.1".into()],
            scopes: vec!["access_as_user".into()],
            roles: vec!["Data.Read.All".into()],
            ..Default::default()
        },
    ]
}

pub fn default_users() -> Vec<UserSpec> {
    vec![UserSpec {
        username: DEFAULT_USERNAME.into(),
        password: DEFAULT_PASSWORD.into(),
        name: Some("Ada Lovelace".into()),
        ..Default::default()
    }]
}

pub fn default_resources() -> Vec<ResourceSpec> {
    vec![ResourceSpec {
        uri: GRAPH_RESOURCE.into(),
        app_id: Some(GRAPH_APP_ID.into()),
        scopes: Some(
            [
                "User.Read",
                "User.ReadBasic.All",
                "User.Read.All",
                "Mail.Read",
                "Mail.Send",
                "Files.Read",
                "Files.ReadWrite",
                "Calendars.Read",
                "Directory.Read.All",
            ]
            .map(String::from)
            .to_vec(),
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_ignore_the_port() {
        let c = Client::from_spec(default_clients().remove(0)).unwrap();
        assert!(c.redirect_allowed("http://localhost:53123"));
        assert!(c.redirect_allowed("http://127.0.0.1:9/callback"));
        assert!(!c.redirect_allowed("http://evil.example:53123"));
        assert!(!c.redirect_allowed("https://localhost:53123"));
        assert!(!c.redirect_allowed("not a url"));
        assert!(c.redirect_allowed(&format!("msal{PUBLIC_CLIENT_ID}://auth")));
    }

    #[test]
    fn tenant_ids_are_stable() {
        assert_eq!(tenant_id("Contoso.example"), tenant_id("contoso.example"));
        assert_ne!(tenant_id("a"), tenant_id("b"));
        let guid = "72f988bf-0000-4000-8000-000000000000";
        assert_eq!(tenant_id(guid), guid);
        assert_eq!(tenant_id("consumers"), CONSUMERS_TENANT_ID);
        assert!(uuid::Uuid::parse_str(&tenant_id("x")).is_ok());
    }

    #[test]
    fn public_clients_cannot_hold_secrets() {
        let spec = ClientSpec {
            client_id: "x".into(),
            secret: Some("s".into()),
            ..Default::default()
        };
        assert!(Client::from_spec(spec).is_err());
        assert!(Client::from_spec(ClientSpec::default()).is_err());
    }
}
