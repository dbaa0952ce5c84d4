//! The admin API, programmatically: everything `/_admin/` offers over HTTP,
//! as methods, for Rust tests that embed the emulator; `http` serves it.

pub mod federation;
pub mod http;

use crate::crypto::credentials::TestCredential;
use crate::endpoints::device::{self, Decision, DeviceSummary};
use crate::faults::presets::{self, Preset};
use crate::faults::rules::{FaultRule, FaultSpec, Matcher};
use crate::model::directory::{Client, ClientSpec, ResourceSpec, UserSpec};
use crate::model::log::RequestRecord;
use crate::model::state::{App, AuthorizeOutcome, AuthorizeScript, Settings};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Why an admin call was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The request is malformed or names something impossible.
    #[error("{0}")]
    BadRequest(String),
    /// It names a client, user, code, fault or preset that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing exists but is not in a state that allows it (e.g. an expired device code).
    #[error("{0}")]
    Conflict(String),
}

/// Overrides when arming a preset.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetArm {
    /// Replaces the preset's matcher.
    #[serde(default, rename = "match")]
    pub matcher: Option<Matcher>,
    /// A number of requests, or `null` for every matching request; the
    /// preset's own count when absent (1, or every request for `no_answer`).
    #[serde(default)]
    pub count: Option<Value>,
}

/// The clock, as the admin API reports it.
#[derive(Clone, Debug, Serialize)]
pub struct ClockInfo {
    pub offset_secs: i64,
    pub now_unix: i64,
}

/// A handle on a running emulator's state.
#[derive(Clone, Debug)]
pub struct Admin {
    pub(crate) app: Arc<App>,
}

impl Admin {
    /// The environment variables that point a managed identity client at
    /// `source` (`imds`, `app_service`, `service_fabric`, `azure_arc`,
    /// `cloud_shell`, `machine_learning`) on this emulator.
    pub fn managed_identity_environment(&self, source: &str) -> Option<Vec<(String, String)>> {
        crate::model::managed_identity::environment(&self.app.base_url, source)
    }

    /// Where the Azure Arc endpoint writes its key files (the client must
    /// be told to trust this directory in place of the agent's).
    pub fn arc_key_directory(&self) -> std::path::PathBuf {
        crate::endpoints::managed_identity::arc_key_directory(&self.app)
    }

    /// Makes the Azure Arc endpoint write its key files in `dir`.
    pub fn set_arc_key_directory(&self, dir: std::path::PathBuf) {
        self.app.lock().managed_identity.arc_key_directory = Some(dir);
    }

    /// Registers (or replaces) a client.
    pub fn register_client(&self, spec: ClientSpec) -> Result<(), AdminError> {
        let client = Client::from_spec(spec).map_err(AdminError::BadRequest)?;
        self.app.lock().put_client(client);
        Ok(())
    }

    /// Every client, without secrets (key thumbprints only).
    pub fn clients(&self) -> Vec<Value> {
        self.app
            .lock()
            .clients
            .values()
            .map(Client::summary)
            .collect()
    }

    pub fn client(&self, client_id: &str) -> Option<Value> {
        self.app.lock().client(client_id).map(Client::summary)
    }

    pub fn remove_client(&self, client_id: &str) -> bool {
        self.app
            .lock()
            .clients
            .remove(&client_id.trim().to_ascii_lowercase())
            .is_some()
    }

    /// Generates a key and self-signed certificate, registers the certificate
    /// for the (confidential) client, and returns both for the app under test.
    pub fn generate_certificate(&self, client_id: &str) -> Result<TestCredential, AdminError> {
        let mut spec = self
            .app
            .lock()
            .client(client_id)
            .map(|c| c.spec.clone())
            .ok_or_else(|| AdminError::NotFound(format!("no client {client_id}")))?;
        if !spec.confidential {
            return Err(AdminError::BadRequest(
                "only confidential clients use certificate credentials".into(),
            ));
        }
        let cred = TestCredential::generate(
            &format!("CN-{}", spec.client_id),
            self.app.clock.unix() - 3600,
        )
        .map_err(AdminError::BadRequest)?;
        spec.keys.push(crate::crypto::credentials::KeySpec::Pem(
            cred.certificate_pem.clone(),
        ));
        self.register_client(spec)?;
        Ok(cred)
    }

    pub fn register_user(&self, spec: UserSpec) -> Result<(), AdminError> {
        self.app
            .lock()
            .put_user(spec)
            .map_err(AdminError::BadRequest)
    }

    /// Every user (passwords are never serialised).
    pub fn users(&self) -> Vec<UserSpec> {
        self.app.lock().users.values().cloned().collect()
    }

    pub fn remove_user(&self, username: &str) -> bool {
        self.app
            .lock()
            .users
            .remove(&username.trim().to_lowercase())
            .is_some()
    }

    pub fn register_resource(&self, spec: ResourceSpec) -> Result<(), AdminError> {
        if url::Url::parse(&spec.uri).is_err() {
            return Err(AdminError::BadRequest(
                "uri must be an absolute URI (the App ID URI)".into(),
            ));
        }
        let mut state = self.app.lock();
        state
            .resources
            .retain(|r| !r.uri.eq_ignore_ascii_case(&spec.uri));
        state.resources.push(spec);
        Ok(())
    }

    pub fn resources(&self) -> Vec<ResourceSpec> {
        self.app.lock().resources.clone()
    }

    /// Queues what the next matching `/authorize` request does.
    pub fn script_authorize(&self, script: AuthorizeScript) -> Result<(), AdminError> {
        let mut state = self.app.lock();
        match &script.outcome {
            AuthorizeOutcome::User { username } if state.user(username).is_none() => {
                return Err(AdminError::NotFound(format!("no user {username}")));
            }
            AuthorizeOutcome::Error { error, .. } if error.trim().is_empty() => {
                return Err(AdminError::BadRequest("error must not be empty".into()));
            }
            _ => {}
        }
        state.authorize_scripts.push_back(script);
        Ok(())
    }

    pub fn authorize_scripts(&self) -> Vec<AuthorizeScript> {
        self.app.lock().authorize_scripts.iter().cloned().collect()
    }

    pub fn clear_authorize_scripts(&self) {
        self.app.lock().authorize_scripts.clear();
    }

    /// Approves a pending user code as `username` (the default user when `None`).
    pub fn approve_device_code(
        &self,
        user_code: &str,
        username: Option<&str>,
    ) -> Result<(), AdminError> {
        decision(
            device::decide(&self.app, user_code, true, username),
            user_code,
        )
    }

    pub fn decline_device_code(&self, user_code: &str) -> Result<(), AdminError> {
        decision(device::decide(&self.app, user_code, false, None), user_code)
    }

    pub fn device_codes(&self) -> Vec<DeviceSummary> {
        device::list(&self.app.lock())
    }

    /// Users signed in to the emulated browser.
    pub fn sessions(&self) -> Vec<String> {
        self.app.lock().sessions.iter().cloned().collect()
    }

    /// Signs a user in to the emulated browser (so `prompt=none` succeeds).
    pub fn start_session(&self, username: &str) -> Result<(), AdminError> {
        let mut state = self.app.lock();
        if state.user(username).is_none() {
            return Err(AdminError::NotFound(format!("no user {username}")));
        }
        state.sessions.insert(username.to_lowercase());
        Ok(())
    }

    pub fn clear_sessions(&self) {
        self.app.lock().sessions.clear();
    }

    /// Revokes refresh tokens of a user and/or client (all with neither);
    /// returns how many were revoked.
    pub fn revoke_refresh_tokens(&self, username: Option<&str>, client_id: Option<&str>) -> usize {
        let mut state = self.app.lock();
        let mut n = 0;
        for g in state.refresh_tokens.values_mut() {
            let user_ok = username.is_none_or(|u| g.username.eq_ignore_ascii_case(u));
            let client_ok = client_id.is_none_or(|c| g.client_id.eq_ignore_ascii_case(c));
            if user_ok && client_ok && !g.revoked {
                g.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Forgets consents of a user and/or client; returns how many.
    pub fn revoke_consents(&self, username: Option<&str>, client_id: Option<&str>) -> usize {
        let mut state = self.app.lock();
        let before = state.consents.len();
        state.consents.retain(|(u, c, _)| {
            let user_hit = username.is_none_or(|x| u.eq_ignore_ascii_case(x));
            let client_hit = client_id.is_none_or(|x| c.eq_ignore_ascii_case(x));
            !(user_hit && client_hit)
        });
        before - state.consents.len()
    }

    /// Requests received after sequence number `since` (0 for all kept).
    pub fn requests(&self, since: u64) -> Vec<RequestRecord> {
        self.app.lock().log.since(since)
    }

    pub fn clear_requests(&self) {
        self.app.lock().log.clear();
    }

    /// Arms a fault rule; returns its id.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<u64, AdminError> {
        spec.validate().map_err(AdminError::BadRequest)?;
        Ok(self.app.lock().faults.add(spec))
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.lock().faults.list().to_vec()
    }

    pub fn remove_fault(&self, id: u64) -> bool {
        self.app.lock().faults.remove(id)
    }

    pub fn clear_faults(&self) {
        self.app.lock().faults.clear();
    }

    pub fn presets(&self) -> Vec<Preset> {
        presets::all()
    }

    /// Arms a preset (with its own count unless `arm` says otherwise); returns the rule id.
    pub fn arm_preset(&self, name: &str, arm: PresetArm) -> Result<u64, AdminError> {
        let preset = presets::find(name).ok_or_else(|| {
            AdminError::NotFound(format!("no preset {name}; GET /_admin/presets lists them"))
        })?;
        let mut rule = preset.rule;
        if let Some(m) = arm.matcher {
            rule.matcher = m;
        }
        match arm.count {
            None => {}
            Some(Value::Null) => rule.count = None,
            Some(v) => {
                let n = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        AdminError::BadRequest("count must be a positive integer or null".into())
                    })?;
                rule.count = Some(n);
            }
        }
        self.add_fault(rule)
    }

    /// Moves the emulator's clock by `secs` (negative moves it back).
    pub fn advance_clock(&self, secs: i64) -> ClockInfo {
        self.app.clock.advance(secs);
        self.clock()
    }

    pub fn set_clock_offset(&self, secs: i64) -> ClockInfo {
        self.app.clock.set_offset(secs);
        self.clock()
    }

    pub fn clock(&self) -> ClockInfo {
        ClockInfo {
            offset_secs: self.app.clock.offset(),
            now_unix: self.app.clock.unix(),
        }
    }

    pub fn settings(&self) -> Settings {
        self.app.lock().settings.clone()
    }

    pub fn set_settings(&self, settings: Settings) {
        self.app.lock().settings = settings;
    }

    /// Applies a partial update (a JSON object of settings fields).
    pub fn update_settings(&self, patch: &Value) -> Result<Settings, AdminError> {
        let Value::Object(patch) = patch else {
            return Err(AdminError::BadRequest(
                "settings must be a JSON object".into(),
            ));
        };
        let mut state = self.app.lock();
        let mut current = serde_json::to_value(&state.settings)
            .map_err(|e| AdminError::BadRequest(e.to_string()))?;
        if let Value::Object(map) = &mut current {
            for (k, v) in patch {
                map.insert(k.clone(), v.clone());
            }
        }
        let updated: Settings =
            serde_json::from_value(current).map_err(|e| AdminError::BadRequest(e.to_string()))?;
        state.settings = updated.clone();
        Ok(updated)
    }

    /// Everything back to how the emulator started (the signing key is kept).
    pub fn reset(&self) -> Result<(), AdminError> {
        self.app.reset().map_err(AdminError::BadRequest)
    }
}

fn decision(d: Decision, user_code: &str) -> Result<(), AdminError> {
    match d {
        Decision::Done => Ok(()),
        Decision::UnknownCode => Err(AdminError::NotFound(format!(
            "no device code with user code {user_code}"
        ))),
        Decision::UnknownUser => Err(AdminError::NotFound("no such user".into())),
        Decision::NotPending => Err(AdminError::Conflict(format!(
            "user code {user_code} is expired or already approved, declined or redeemed"
        ))),
    }
}
