//! A local Microsoft identity platform for tests, with fault injection.
//!
//! `idflow-emulator` is a real HTTP server on 127.0.0.1 that answers like the
//! Microsoft identity platform: OpenID Connect discovery, instance discovery,
//! signing keys, the authorize endpoint (a scriptable sign-in), the token
//! endpoint (authorization code + PKCE, refresh token, client credentials
//! with a secret or a certificate assertion, ROPC, on-behalf-of, device
//! code) and the device-code endpoint, with the platform's error bodies
//! (`error_codes`, `suberror`, `claims`, trace and correlation ids).
//!
//! Its admin API (`/_admin/`, or [`Admin`] in Rust) registers clients and
//! users, scripts sign-ins and device-code approvals, moves the clock, lists
//! the requests an app sent, and arms faults: any OAuth error, 429/5xx with
//! `Retry-After`, delays, malformed, empty, HTML or oversized bodies, dropped
//! and reset connections — by hand or from named presets
//! (`mfa_required_50079`, `consent_required`, `throttled_429`, ...).
//!
//! ```no_run
//! # async fn demo() -> Result<(), idflow_emulator::EmulatorError> {
//! let emulator = idflow_emulator::Emulator::builder().port(0).start().await?;
//! let authority = format!("{}/organizations", emulator.base_url());
//! emulator.admin().arm_preset("mfa_required_50079", Default::default()).ok();
//! // ... point the app under test at `authority` ...
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Everything it signs uses a key generated when it starts; nothing it
//! issues is valid anywhere else.

// Handlers return the platform's error (an `AadError`) by value a frame or
// two up to where it is rendered; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

// The modules in layers, lowest first; a module uses only its own layer and
// those below it (`scripts/module-deps.py` checks it against
// `module-layers.txt`):
//   grant_types, clock            leaves: grant-type names, the adjustable clock
//   crypto/, wire/                keys and JWTs; HTTP requests, replies, error bodies
//   faults/                       fault rules as data, their application, presets
//   model/                        directory, scopes, the state, the request log
//   endpoints/                    the front door and each platform endpoint
//   admin/                        the admin API and its HTTP routes
//   scenario                      a starting state and faults from one file
mod admin;
mod clock;
mod crypto;
mod endpoints;
mod faults;
mod grant_types;
mod model;
mod scenario;
mod wire;

pub use admin::federation::{FederatedToken, FederatedTokenRequest};
pub use admin::{Admin, AdminError, ClockInfo, PresetArm};
pub use crypto::credentials::{KeySpec, TestCredential};
pub use crypto::jwt::{Jwt, RsaPublic, RsaSigner};
pub use endpoints::device::DeviceSummary;
pub use faults::presets::{Expect, Preset};
pub use faults::rules::{
    Effect, FaultRule, FaultSpec, Matcher, RetryAfter, StatusBody, MAX_DELAY_MS,
};
pub use grant_types::{DEVICE_CODE_GRANT, JWT_BEARER_GRANT};
pub use model::directory::{
    derived_guid, tenant_id, ClientSpec, FederatedCredentialSpec, ResourceSpec, UserSpec,
    CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, CONSUMERS_TENANT_ID, DEFAULT_PASSWORD,
    DEFAULT_TENANT, DEFAULT_USERNAME, FAMILY_CLIENT_IDS, FEDERATED_AUDIENCE, GRAPH_APP_ID,
    GRAPH_RESOURCE, PUBLIC_CLIENT_ID,
};
pub use model::log::RequestRecord;
pub use model::managed_identity::{
    IMDS_PATH, MI_IDENTITY_HEADER, MI_MSI_SECRET, MI_SERVER_THUMBPRINT, MI_SYSTEM_CLIENT_ID,
    MI_SYSTEM_OBJECT_ID, MI_TOKEN_LIFETIME_SECS, MI_USER_CLIENT_ID, MI_USER_OBJECT_ID,
    MI_USER_RESOURCE_ID,
};
pub use model::state::{AuthorizeOutcome, AuthorizeScript, DeviceStatus, Settings};
pub use scenario::{Scenario, ScenarioError, ScenarioFault};
pub use wire::request::{Endpoint, MAX_REQUEST_BODY};
pub use wire::tls::TlsSetup;

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The port could not be bound (in use, or not permitted).
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    /// The initial directory is invalid, or key generation failed.
    #[error("cannot start the emulator: {0}")]
    Setup(String),
}

/// Starts emulators.
#[derive(Debug, Default)]
pub struct Emulator;

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configuration before start.
#[derive(Debug, Default)]
pub struct EmulatorBuilder {
    port: u16,
    settings: Settings,
    clients: Vec<ClientSpec>,
    users: Vec<UserSpec>,
    tls: Option<TlsSetup>,
    scenario: Option<Scenario>,
}

impl EmulatorBuilder {
    /// Serves HTTPS instead of HTTP: the base URL, discovery documents and
    /// issuers then say `https://`. [`TlsSetup::Generate`] makes a CA at
    /// start ([`EmulatorHandle::ca_pem`] is what a client must trust).
    pub fn tls(mut self, setup: TlsSetup) -> Self {
        self.tls = Some(setup);
        self
    }

    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Settings to start with (a reset returns to them).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// An extra client registered at start (a reset keeps it).
    pub fn client(mut self, client: ClientSpec) -> Self {
        self.clients.push(client);
        self
    }

    /// An extra user registered at start (a reset keeps it).
    pub fn user(mut self, user: UserSpec) -> Self {
        self.users.push(user);
        self
    }

    /// A starting state from a scenario file: its settings, clients and
    /// users join the initial directory (a reset returns to them); its APIs,
    /// sign-in scripts and faults are armed once the server is up.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        if let Some(settings) = scenario.settings.clone() {
            self.settings = settings;
        }
        self.clients.extend(scenario.clients.iter().cloned());
        self.users.extend(scenario.users.iter().cloned());
        self.scenario = Some(scenario);
        self
    }

    /// Binds the port, generates the signing key and starts serving.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: self.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: self.port,
                source,
            })?;
        let tls = self
            .tls
            .as_ref()
            .map(TlsSetup::build)
            .transpose()
            .map_err(EmulatorError::Setup)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let signer = RsaSigner::generate().map_err(EmulatorError::Setup)?;
        let initial = model::state::Initial {
            settings: self.settings,
            clients: self.clients,
            users: self.users,
        };
        let app =
            model::state::App::new(base_url, initial, signer).map_err(EmulatorError::Setup)?;
        let admin = Admin { app: Arc::new(app) };
        if let Some(scenario) = &self.scenario {
            scenario.arm(&admin).map_err(EmulatorError::Setup)?;
        }
        let router = admin::http::routes()
            .layer(axum::middleware::from_fn(wire::server::read_body_first))
            .fallback(endpoints::handle)
            .with_state(admin.clone());
        let (stop, stopped) = watch::channel(false);
        let (acceptor, ca_pem) = match tls {
            Some(t) => (Some(t.acceptor), Some(t.trust_pem)),
            None => (None, None),
        };
        let task = tokio::spawn(wire::server::run(listener, router, acceptor, stopped));
        Ok(EmulatorHandle {
            addr,
            admin,
            ca_pem,
            stop,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server too.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    admin: Admin,
    ca_pem: Option<String>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn base_url(&self) -> &str {
        &self.admin.app.base_url
    }

    /// With TLS, the PEM certificate a client must trust: the CA generated
    /// at start, or the last certificate of the chain the caller gave.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The authority URL for a tenant (`common`, `organizations`, a domain or id).
    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.base_url())
    }

    /// The token endpoint for a tenant.
    pub fn token_endpoint(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base_url())
    }

    /// The programmatic admin API.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// Stops serving and closes every open connection.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serves an emulator on `port` until the returned handle is shut down or dropped.
/// (The CLI's `idflow emulator` calls this, then waits for Ctrl-C.)
pub async fn serve(port: u16) -> Result<EmulatorHandle, EmulatorError> {
    Emulator::builder().port(port).start().await
}
