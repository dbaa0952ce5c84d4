//! Everything the emulator remembers: the directory, the grants it has handed
//! out (codes, refresh tokens, device codes), browser sessions and consents,
//! scripted outcomes, fault rules and the request log.
//!
//! One mutex guards it all: the emulator serves tests, not traffic, and a
//! single lock keeps every transition (e.g. "redeem this code once") atomic.
//! The lock is never held across an `.await`.

use crate::clock::Clock;
use crate::crypto::jwt::RsaSigner;
use crate::faults::rules::FaultBook;
use crate::model::directory::{
    default_clients, default_resources, default_users, Client, ResourceSpec, UserSpec,
    DEFAULT_USERNAME,
};
use crate::model::log::RequestLog;
use crate::model::scopes::ScopeSet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Tunables, changeable at run time through the admin API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `expires_in` of access tokens.
    pub access_token_lifetime_secs: u64,
    /// How long a refresh token stays usable.
    pub refresh_token_lifetime_secs: u64,
    /// How long an authorization code stays redeemable.
    pub auth_code_lifetime_secs: u64,
    /// `expires_in` of device codes (the platform's default is 900).
    pub device_code_expires_in_secs: u64,
    /// `interval` of device codes (the platform's default is 5; tests use 0).
    pub device_code_interval_secs: u64,
    /// When set, a device code is approved for the default user after this
    /// many `authorization_pending` answers.
    pub device_code_auto_approve_after_polls: Option<u32>,
    /// Refuse a refresh token once it has been exchanged (the platform itself
    /// keeps old refresh tokens valid; this makes reuse bugs visible).
    pub single_use_refresh_tokens: bool,
    /// The user interactive and device-code sign-ins use unless scripted.
    pub default_username: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_token_lifetime_secs: 3600,
            refresh_token_lifetime_secs: 90 * 86_400,
            auth_code_lifetime_secs: 600,
            device_code_expires_in_secs: 900,
            device_code_interval_secs: 5,
            device_code_auto_approve_after_polls: None,
            single_use_refresh_tokens: false,
            default_username: DEFAULT_USERNAME.into(),
        }
    }
}

/// An authorization code handed out by `/authorize`.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    /// `(code_challenge, code_challenge_method)`.
    pub challenge: Option<(String, String)>,
    pub username: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// When the user signed in (the authorize request): the id token's `auth_time`.
    pub auth_time: i64,
    pub expires_at: i64,
    pub redeemed: bool,
}

/// A refresh token handed out by the token endpoint.
#[derive(Clone, Debug)]
pub struct RefreshGrant {
    pub client_id: String,
    pub username: String,
    pub scope: String,
    /// The FOCI family, when issued to a family client.
    pub family: Option<String>,
    pub expires_at: i64,
    pub revoked: bool,
    pub used: bool,
}

/// Where a device code stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "username")]
pub enum DeviceStatus {
    Pending,
    Approved(String),
    Declined,
    Redeemed,
}

/// A device code handed out by `/devicecode`.
#[derive(Clone, Debug)]
pub struct DeviceGrant {
    pub user_code: String,
    pub client_id: String,
    pub tenant: String,
    pub scope: String,
    pub expires_at: i64,
    pub status: DeviceStatus,
    pub polls: u32,
}

/// What the next `/authorize` request does instead of signing in the default user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeScript {
    /// Only requests of this client consume the script (any client when omitted).
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub outcome: AuthorizeOutcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", untagged)]
pub enum AuthorizeOutcome {
    /// Sign this user in.
    User { username: String },
    /// Redirect back with this error.
    Error {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
        #[serde(default)]
        error_codes: Vec<i64>,
        #[serde(default)]
        suberror: Option<String>,
        #[serde(default)]
        claims: Option<String>,
    },
}

/// The mutable state.
#[derive(Debug)]
pub struct State {
    pub settings: Settings,
    pub clients: BTreeMap<String, Client>,
    pub users: BTreeMap<String, UserSpec>,
    pub resources: Vec<ResourceSpec>,
    pub codes: HashMap<String, CodeGrant>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub devices: HashMap<String, DeviceGrant>,
    /// Users signed in to the emulated browser (for `prompt=none`).
    pub sessions: BTreeSet<String>,
    /// `(username, client_id, "{app_id}/{scope}")` a user consented to.
    pub consents: BTreeSet<(String, String, String)>,
    pub authorize_scripts: VecDeque<AuthorizeScript>,
    pub faults: FaultBook,
    pub log: RequestLog,
    /// The emulator's own signing key, which verifies the federated tokens
    /// the admin API mints (`POST /_admin/federated-token`).
    pub own_key: Option<crate::crypto::jwt::RsaPublic>,
    /// The Azure Arc endpoint's key directory and the secrets it wrote.
    pub managed_identity: crate::model::managed_identity::MiState,
}

impl State {
    /// The state an emulator starts with (and returns to on reset): the
    /// defaults plus the start-up registrations in `initial`.
    pub fn initial(initial: &Initial) -> Result<State, String> {
        let settings = initial.settings.clone();
        let mut s = State {
            settings,
            clients: BTreeMap::new(),
            users: BTreeMap::new(),
            resources: default_resources(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            devices: HashMap::new(),
            sessions: BTreeSet::new(),
            consents: BTreeSet::new(),
            authorize_scripts: VecDeque::new(),
            faults: FaultBook::default(),
            log: RequestLog::default(),
            own_key: None,
            managed_identity: Default::default(),
        };
        for c in default_clients() {
            s.put_client(Client::from_spec(c)?);
        }
        for u in default_users() {
            s.put_user(u)?;
        }
        for c in &initial.clients {
            s.put_client(Client::from_spec(c.clone())?);
        }
        for u in &initial.users {
            s.put_user(u.clone())?;
        }
        Ok(s)
    }

    pub fn put_client(&mut self, client: Client) {
        self.clients
            .insert(client.id().to_ascii_lowercase(), client);
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(&client_id.trim().to_ascii_lowercase())
    }

    pub fn put_user(&mut self, user: UserSpec) -> Result<(), String> {
        if user.username.trim().is_empty() {
            return Err("username is required".into());
        }
        self.users.insert(user.username.to_lowercase(), user);
        Ok(())
    }

    pub fn user(&self, username: &str) -> Option<&UserSpec> {
        self.users.get(&username.trim().to_lowercase())
    }

    pub fn user_by_oid(&self, oid: &str) -> Option<&UserSpec> {
        self.users
            .values()
            .find(|u| u.oid().eq_ignore_ascii_case(oid))
    }

    /// Parses a scope string against every known API.
    pub fn scopes(
        &self,
        scope: &str,
    ) -> Result<Option<ScopeSet>, crate::wire::aad_error::AadError> {
        let clients: Vec<&Client> = self.clients.values().collect();
        ScopeSet::parse(scope, &self.resources, &clients)
    }

    /// Whether `username` may get `set` for `client` without consenting first.
    pub fn consented(&self, username: &str, client: &Client, set: &ScopeSet) -> bool {
        client.spec.admin_consented
            || set.consent_keys().into_iter().all(|k| {
                self.consents.contains(&(
                    username.to_lowercase(),
                    client.id().to_ascii_lowercase(),
                    k,
                ))
            })
    }

    pub fn record_consent(&mut self, username: &str, client: &Client, set: &ScopeSet) {
        for k in set.consent_keys() {
            self.consents
                .insert((username.to_lowercase(), client.id().to_ascii_lowercase(), k));
        }
    }
}

/// What an emulator was started with, beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct Initial {
    pub settings: Settings,
    pub clients: Vec<crate::model::directory::ClientSpec>,
    pub users: Vec<UserSpec>,
}

/// The emulator: its address, clock, signing key and state.
#[derive(Debug)]
pub struct App {
    pub base_url: String,
    pub clock: Clock,
    pub signer: RsaSigner,
    /// The signing key's id (`kid`), derived from its public key.
    pub kid: String,
    pub initial: Initial,
    state: Mutex<State>,
}

impl App {
    pub fn new(base_url: String, initial: Initial, signer: RsaSigner) -> Result<App, String> {
        let mut state = State::initial(&initial)?;
        state.own_key = Some(signer.public().clone());
        let n = &signer.public().n;
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, n);
        let kid = URL_SAFE_NO_PAD.encode(&d.as_ref()[..20]);
        Ok(App {
            base_url,
            clock: Clock::default(),
            signer,
            kid,
            initial,
            state: Mutex::new(state),
        })
    }

    /// The state; a panic elsewhere while holding the lock does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Back to the start-up directory and settings, with every grant, session,
    /// script, fault and log entry gone and the clock at real time. The
    /// signing key is kept (apps may have cached the JWKS).
    pub fn reset(&self) -> Result<(), String> {
        let mut fresh = State::initial(&self.initial)?;
        fresh.own_key = Some(self.signer.public().clone());
        *self.lock() = fresh;
        self.clock.set_offset(0);
        Ok(())
    }
}

/// A random, URL-safe string carrying `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes.clamp(1, 256)];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        // The system RNG failing is not expected; fall back to the UUID generator's.
        return uuid::Uuid::new_v4().simple().to_string();
    }
    URL_SAFE_NO_PAD.encode(buf)
}

/// A user code as people type them: nine characters without look-alikes.
pub fn random_user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    let mut buf = [0u8; 9];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        buf.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..9]);
    }
    buf.iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
