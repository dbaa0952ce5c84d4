//! The demo's live part: the guide's scenarios run for real, through the
//! core's flows over HTTP, against an emulator started in this process.
//!
//! Each scenario arms one of the emulator's presets (or points the app at a
//! dead port), runs the flow an app would run, and records what happened on
//! the wire (from the emulator's request log) and what the app got. The apps
//! use a manual clock, so waits the core takes (device-code intervals,
//! Retry-After) cost no real time: the demo reports them instead.

use idflow::secret::ClientSecret;
use idflow::ManualTime;
use idflow::TokenCache;
use idflow::{
    Account, AppOptions, AuthenticationResult, Authority, CancelHandle, ClientCredential,
    ConfidentialClientApplication, ErrorKind, IdFlowError, PublicClientApplication, TokenSource,
};
use idflow_emulator::{
    Emulator, EmulatorHandle, Settings, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET,
    DEFAULT_TENANT, PUBLIC_CLIENT_ID,
};
use std::time::Duration;

const USER_SCOPES: [&str; 1] = ["User.Read"];
const APP_SCOPES: [&str; 1] = ["https://graph.microsoft.com/.default"];

/// What the app got.
#[derive(Debug)]
pub enum Got {
    Token { source: TokenSource },
    Error(Box<IdFlowError>),
}

/// One scenario as it ran.
#[derive(Debug)]
pub struct Run {
    pub title: String,
    /// The requests the app sent and the answers, in order (`refresh_token → 400`).
    pub wire: Vec<String>,
    /// Waits the core took (on the manual clock).
    pub waits: Vec<Duration>,
    pub got: Got,
    /// The kind the guide expects (`None`: a token).
    pub expected: Option<ErrorKind>,
    /// What the app does next, when the demo does it too (a claims challenge answered).
    pub follow_up: Option<String>,
}

impl Run {
    /// Whether the app got what the guide expects.
    pub fn as_expected(&self) -> bool {
        match (&self.got, self.expected) {
            (Got::Token { .. }, None) => true,
            (Got::Error(e), Some(kind)) => e.kind == kind,
            _ => false,
        }
    }
}

/// The emulator and the apps the scenarios share.
struct Stage {
    emu: EmulatorHandle,
    time: ManualTime,
    public: PublicClientApplication,
    confidential: ConfidentialClientApplication,
}

fn options(time: &ManualTime, cache: Option<&TokenCache>) -> AppOptions {
    let o = AppOptions::default().with_manual_time(time.clone());
    match cache {
        Some(c) => o.with_token_cache(c.clone()),
        None => o,
    }
}

impl Stage {
    async fn start() -> Result<Self, String> {
        let emu = Emulator::builder()
            .port(0)
            .settings(Settings {
                device_code_interval_secs: 1,
                device_code_auto_approve_after_polls: Some(1),
                ..Settings::default()
            })
            .start()
            .await
            .map_err(|e| format!("cannot start the emulator: {e}"))?;
        let authority = Authority::parse(&emu.authority(DEFAULT_TENANT))
            .map_err(|e| format!("emulator authority: {}", e.message))?;
        let time = ManualTime::starting_now();
        let cache = TokenCache::new();
        let public = PublicClientApplication::new(
            PUBLIC_CLIENT_ID,
            authority.clone(),
            options(&time, Some(&cache)),
        )
        .map_err(|e| e.message)?;
        let confidential = ConfidentialClientApplication::new(
            CONFIDENTIAL_CLIENT_ID,
            authority,
            ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET.to_owned())),
            options(&time, None),
        )
        .map_err(|e| e.message)?;
        Ok(Stage {
            emu,
            time,
            public,
            confidential,
        })
    }

    fn arm(&self, preset: &str) {
        // Every preset name used here exists; a failure would show as an unexpected outcome.
        let _ = self.emu.admin().arm_preset(preset, Default::default());
    }

    fn seq(&self) -> u64 {
        self.emu.admin().requests(0).last().map_or(0, |r| r.seq)
    }

    /// The token-endpoint requests after `since`, as `grant → status` lines.
    fn wire_since(&self, since: u64) -> Vec<String> {
        self.emu
            .admin()
            .requests(since)
            .into_iter()
            .filter(|r| r.seq > since && r.grant_type.is_some())
            .map(|r| {
                let status = if r.status == 0 {
                    "connection dropped".to_owned()
                } else {
                    format!("HTTP {}", r.status)
                };
                format!(
                    "POST {} ({}) → {status}",
                    r.path,
                    r.grant_type.unwrap_or_default()
                )
            })
            .collect()
    }

    /// Runs one scenario: `body` is the app's call.
    async fn run<F, Fut>(&self, title: &str, expected: Option<ErrorKind>, body: F) -> Run
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<AuthenticationResult, IdFlowError>>,
    {
        let since = self.seq();
        let slept = self.time.sleeps().len();
        let got = match body().await {
            Ok(r) => Got::Token {
                source: r.token_source,
            },
            Err(e) => Got::Error(Box::new(e)),
        };
        // A preset the flow did not reach must not answer the next scenario.
        self.emu.admin().clear_faults();
        Run {
            title: title.to_owned(),
            wire: self.wire_since(since),
            waits: self.time.sleeps().into_iter().skip(slept).collect(),
            got,
            expected,
            follow_up: None,
        }
    }

    /// A device-code sign-in (the emulator approves it after one poll).
    async fn sign_in(&self, claims: Option<&str>) -> Result<AuthenticationResult, IdFlowError> {
        let flow = self
            .public
            .initiate_device_flow(&USER_SCOPES, claims)
            .await?;
        self.public
            .acquire_token_by_device_flow(&flow, &CancelHandle::new())
            .await
    }

    /// The signed-in account, signing in again when the cache lost it.
    async fn account(&self) -> Option<Account> {
        if let Some(a) = self.public.get_accounts(None).ok()?.into_iter().next() {
            return Some(a);
        }
        self.sign_in(None).await.ok()?.account
    }

    /// What the guide says to do after interaction required: sign in
    /// interactively (here: device code), passing the error's claims. That
    /// also lifts the core's local block on repeating the silent call.
    async fn answer_interactively(&self, run: &mut Run) {
        let Got::Error(e) = &run.got else { return };
        if e.kind != ErrorKind::InteractionRequired {
            return;
        }
        let claims = e.claims().map(str::to_owned);
        let with = if claims.is_some() {
            " with the claims"
        } else {
            ""
        };
        run.follow_up = Some(match self.sign_in(claims.as_deref()).await {
            Ok(_) => format!("the app signs in interactively{with} (device code here): a token"),
            Err(e) => format!(
                "the app signs in interactively{with}: {} ({})",
                e.code,
                e.kind.as_str()
            ),
        });
    }

    /// A silent call that must refresh (the access token is skipped), so the armed preset answers it.
    async fn silent_refresh(&self) -> Result<AuthenticationResult, IdFlowError> {
        let account = self.account().await;
        self.public
            .acquire_token_silent(&USER_SCOPES, account.as_ref(), None, true)
            .await
    }
}

/// Runs every live scenario, in the order the demo shows them.
pub async fn run_all() -> Result<Vec<Run>, String> {
    use ErrorKind as K;
    let s = Stage::start().await?;
    let mut runs = Vec::new();

    s.arm("slow_down");
    runs.push(
        s.run(
            "Device code sign-in: slow_down, then approved",
            None,
            || s.sign_in(None),
        )
        .await,
    );
    runs.push(
        s.run("Silent: a valid token in the cache", None, || async {
            let account = s.account().await;
            s.public
                .acquire_token_silent(&USER_SCOPES, account.as_ref(), None, false)
                .await
        })
        .await,
    );

    // Interaction required: the silent refresh refused, one classification each.
    for (preset, title) in [
        (
            "basic_action",
            "Silent refresh: interaction required, BasicAction",
        ),
        (
            "additional_action",
            "Silent refresh: interaction required, AdditionalAction",
        ),
        (
            "message_only",
            "Silent refresh: interaction required, MessageOnly",
        ),
        (
            "consent_required",
            "Silent refresh: interaction required, ConsentRequired",
        ),
        (
            "user_password_expired",
            "Silent refresh: interaction required, UserPasswordExpired",
        ),
        (
            "classification_none",
            "Silent refresh: interaction required, no classification",
        ),
        ("consent_required_65001", "Consent missing (AADSTS65001)"),
        (
            "device_not_compliant_53000",
            "Conditional Access: device not compliant (AADSTS53000)",
        ),
        (
            "password_reset_50142",
            "Password reset required (AADSTS50142; -50142 on Apple platforms)",
        ),
    ] {
        s.arm(preset);
        let mut run = s
            .run(title, Some(K::InteractionRequired), || s.silent_refresh())
            .await;
        s.answer_interactively(&mut run).await;
        runs.push(run);
    }
    runs.push(
        s.run(
            "Silent with an empty cache: AcquireTokenSilentFailed",
            Some(K::InteractionRequired),
            || async {
                let fresh = PublicClientApplication::new(
                    PUBLIC_CLIENT_ID,
                    s.public.authority().clone(),
                    options(&s.time, None),
                )?;
                fresh
                    .acquire_token_silent(&USER_SCOPES, None, None, false)
                    .await
            },
        )
        .await,
    );

    // MFA: the claims challenge, then the interactive sign-in that answers it.
    s.arm("mfa_required_50079");
    let mut mfa = s
        .run(
            "MFA required (AADSTS50079) with a claims challenge",
            Some(K::InteractionRequired),
            || s.silent_refresh(),
        )
        .await;
    s.answer_interactively(&mut mfa).await;
    runs.push(mfa);

    // Service answers: throttling, outages, configuration.
    s.arm("throttled_429");
    runs.push(
        s.run("HTTP 429 with Retry-After: 30", Some(K::Service), || {
            s.confidential.acquire_token_for_client(&APP_SCOPES, None)
        })
        .await,
    );
    runs.push(
        s.run("The same request again at once", Some(K::Throttled), || {
            s.confidential.acquire_token_for_client(&APP_SCOPES, None)
        })
        .await,
    );
    s.emu.admin().clear_faults();
    for (preset, title, expected) in [
        (
            "service_unavailable_503",
            "HTTP 503 with Retry-After: 5: not retried, the service said when",
            Some(K::Service),
        ),
        (
            "server_error_500",
            "HTTP 500 once, without Retry-After: retried once",
            None,
        ),
    ] {
        s.arm(preset);
        runs.push(
            s.run(title, expected, || async {
                // A fresh app: the first app's cached token would answer without a request.
                let app = ConfidentialClientApplication::new(
                    CONFIDENTIAL_CLIENT_ID,
                    s.confidential.authority().clone(),
                    ClientCredential::Secret(ClientSecret::new(
                        CONFIDENTIAL_CLIENT_SECRET.to_owned(),
                    )),
                    options(&s.time, None),
                )?;
                app.acquire_token_for_client(&APP_SCOPES, None).await
            })
            .await,
        );
    }
    s.arm("protection_policy_required");
    runs.push(
        s.run(
            "App protection policy required (-50004 on Apple platforms)",
            Some(K::Service),
            || s.silent_refresh(),
        )
        .await,
    );
    s.arm("grant_on_common_90010");
    runs.push(
        s.run(
            "Grant not supported on /common (AADSTS90010)",
            Some(K::Service),
            || s.sign_in(None),
        )
        .await,
    );
    s.arm("public_client_70002");
    runs.push(
        s.run(
            "App not registered as a public client (AADSTS70002)",
            Some(K::Service),
            || s.sign_in(None),
        )
        .await,
    );

    // The user and the network.
    s.arm("authorization_declined");
    runs.push(
        s.run("Device code: the user declined", Some(K::Cancelled), || {
            s.sign_in(None)
        })
        .await,
    );
    runs.push(
        s.run(
            "Device code: the app cancelled while polling",
            Some(K::Cancelled),
            || async {
                let flow = s.public.initiate_device_flow(&USER_SCOPES, None).await?;
                let cancel = CancelHandle::new();
                cancel.cancel();
                s.public.acquire_token_by_device_flow(&flow, &cancel).await
            },
        )
        .await,
    );
    s.arm("dropped_connection");
    runs.push(
        s.run(
            "The connection dropped before an answer",
            Some(K::Network),
            || s.sign_in(None),
        )
        .await,
    );
    runs.push(
        s.run(
            "No server listening (offline)",
            Some(K::Network),
            || async {
                let dead = dead_port().await;
                let app = ConfidentialClientApplication::new(
                    CONFIDENTIAL_CLIENT_ID,
                    Authority::parse(&format!("http://127.0.0.1:{dead}/{DEFAULT_TENANT}"))?,
                    ClientCredential::Secret(ClientSecret::new(
                        CONFIDENTIAL_CLIENT_SECRET.to_owned(),
                    )),
                    options(&s.time, None),
                )?;
                app.acquire_token_for_client(&APP_SCOPES, None).await
            },
        )
        .await,
    );
    let Stage { emu, .. } = s;
    emu.shutdown().await;
    Ok(runs)
}

/// A loopback port nothing listens on (bound, then released).
async fn dead_port() -> u16 {
    match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l.local_addr().map_or(9, |a| a.port()),
        Err(_) => 9,
    }
}
