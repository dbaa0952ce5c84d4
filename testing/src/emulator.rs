//! Fixtures for the tests that run idflow's real flows against the emulator:
//! the set-up every such test repeats (an emulator on an ephemeral port, the
//! app's `ManualTime`, applications for its registered clients, a sign-in),
//! the admin calls they make (faults, presets, the request log, the clock),
//! and the readers of what the emulator logged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a fixture that cannot do its job fails the test

use idflow::secret::{ClientSecret, Password};
use idflow::ManualTime;
use idflow::{
    AppOptions, AuthenticationResult, Authority, ClientCredential, ConfidentialClientApplication,
    PublicClientApplication,
};
use idflow_emulator::{
    Effect, Emulator, EmulatorHandle, Endpoint, FaultSpec, Matcher, PresetArm, RequestRecord,
    Settings, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_TENANT,
    DEFAULT_USERNAME, PUBLIC_CLIENT_ID,
};

/// Presets answering 5xx without Retry-After: the transport sends the request
/// once more after a second, so [`EmulatorEnv::arm`] arms them for two requests.
pub const RETRIED_PRESETS: [&str; 2] = ["server_error_500", "html_error_page"];

/// The scope [`EmulatorEnv::sign_in`] asks for.
pub const SIGN_IN_SCOPES: [&str; 1] = ["User.Read"];

/// An emulator on 127.0.0.1 and the manual clock the apps built here run on.
/// The emulator stops when this is dropped.
#[derive(Debug)]
pub struct EmulatorEnv {
    pub emu: EmulatorHandle,
    pub time: ManualTime,
}

impl EmulatorEnv {
    /// An emulator with its default settings, on an ephemeral port.
    pub async fn start() -> Self {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let emu = Emulator::builder()
            .port(0)
            .settings(settings)
            .start()
            .await
            .expect("the emulator starts on 127.0.0.1");
        EmulatorEnv {
            emu,
            time: ManualTime::starting_now(),
        }
    }

    /// The default tenant's authority.
    pub fn authority(&self) -> Authority {
        Authority::parse(&self.emu.authority(DEFAULT_TENANT)).unwrap()
    }

    /// Default app options on this fixture's manual clock.
    pub fn options(&self) -> AppOptions {
        AppOptions::default().with_manual_time(self.time.clone())
    }

    /// The registered public client with [`EmulatorEnv::options`].
    pub fn public(&self) -> PublicClientApplication {
        self.public_app(PUBLIC_CLIENT_ID, self.options())
    }

    pub fn public_app(&self, client_id: &str, options: AppOptions) -> PublicClientApplication {
        PublicClientApplication::new(client_id, self.authority(), options).unwrap()
    }

    /// The registered confidential client, with its secret and [`EmulatorEnv::options`].
    pub fn confidential(&self) -> ConfidentialClientApplication {
        self.confidential_app(Self::secret(), self.options())
    }

    pub fn confidential_app(
        &self,
        credential: ClientCredential,
        options: AppOptions,
    ) -> ConfidentialClientApplication {
        ConfidentialClientApplication::new(
            CONFIDENTIAL_CLIENT_ID,
            self.authority(),
            credential,
            options,
        )
        .unwrap()
    }

    /// The confidential client's registered secret.
    pub fn secret() -> ClientCredential {
        ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET))
    }

    /// Signs the default user in with `app` (username and password, [`SIGN_IN_SCOPES`]).
    pub async fn sign_in(&self, app: &PublicClientApplication) -> AuthenticationResult {
        app.acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &SIGN_IN_SCOPES,
            None,
        )
        .await
        .unwrap()
    }

    /// Arms a preset for as many requests as one call sends: twice for the
    /// 5xx answers the transport retries once (see [`RETRIED_PRESETS`]).
    pub fn arm(&self, preset: &str) {
        let arm = PresetArm {
            count: RETRIED_PRESETS
                .contains(&preset)
                .then(|| serde_json::json!(2)),
            ..PresetArm::default()
        };
        self.emu
            .admin()
            .arm_preset(preset, arm)
            .unwrap_or_else(|e| panic!("arm {preset}: {e}"));
    }

    /// Arms `effect` for the next `count` requests `matcher` matches (every one for `None`).
    pub fn fault(&self, matcher: Matcher, count: Option<u32>, effect: Effect) {
        self.emu
            .admin()
            .add_fault(FaultSpec {
                matcher,
                count,
                effect,
                label: None,
            })
            .unwrap();
    }

    /// Arms `effect` for the next `count` requests to `endpoint`.
    pub fn fault_on(&self, endpoint: Endpoint, effect: Effect, count: u32) {
        self.fault(on(endpoint), Some(count), effect);
    }

    /// Moves the app's clock and the emulator's together.
    pub fn advance(&self, secs: u64) {
        self.time.advance(std::time::Duration::from_secs(secs));
        self.emu.admin().advance_clock(secs as i64);
    }

    /// Every request the emulator logged.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.emu.admin().requests(0)
    }

    /// The logged requests to the token endpoint.
    pub fn token_requests(&self) -> Vec<RequestRecord> {
        self.requests()
            .into_iter()
            .filter(|r| r.endpoint == Endpoint::Token)
            .collect()
    }

    /// The last logged request to `endpoint`.
    pub fn last(&self, endpoint: Endpoint) -> RequestRecord {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| r.endpoint == endpoint)
            .unwrap_or_else(|| panic!("no {endpoint:?} request logged"))
    }

    /// Approves a pending device-code sign-in, as the user would.
    pub fn approve_device(&self, user_code: &str) {
        self.emu
            .admin()
            .approve_device_code(user_code, None)
            .unwrap();
    }

    pub fn clear_log(&self) {
        self.emu.admin().clear_requests();
    }
}

/// A matcher for every request to `endpoint`.
pub fn on(endpoint: Endpoint) -> Matcher {
    Matcher {
        endpoint: Some(endpoint),
        ..Matcher::default()
    }
}

/// A logged request's header (case-insensitive name).
pub fn header<'a>(rec: &'a RequestRecord, name: &str) -> Option<&'a str> {
    rec.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A logged request's parameter (one the log keeps the value of).
pub fn param<'a>(rec: &'a RequestRecord, name: &str) -> Option<&'a str> {
    rec.params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Where the emulator's authorize endpoint redirects the browser for `url`
/// (the `Location`, not followed).
pub async fn location(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    assert!(
        resp.status().is_redirection(),
        "authorize answered {}",
        resp.status()
    );
    resp.headers()["location"].to_str().unwrap().to_owned()
}
