//! No secret reaches a log line, an error or a result's `Debug`, even with
//! every log level on and PII logging on: every flow runs against the
//! emulator (success and failure), everything an app or an operator can see
//! is captured as text — every log event of every crate (a subscriber
//! writing to a buffer), every error's `Display`, `Debug`, message and JSON,
//! every result's `Debug`, the apps' and flows' `Debug` — and the text is
//! searched for every secret: the ones the app sent (client secrets,
//! passwords, assertions, codes, PKCE verifiers, state, nonce, device codes,
//! refresh tokens, user assertions — recorded off the wire by a wrapping
//! HTTP client) and the tokens the emulator issued.
//!
//! One test function: the logger and the PII switch are process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::logging::CallbackSubscriber;
use idflow::secret::{ClientSecret, Password, RefreshToken, UserAssertion};
use idflow::{
    AppOptions, AuthCodeOptions, AuthenticationResult, BrowserOpener, CancelHandle,
    ClientCertificate, ClientCredential, HttpResponse, IdFlowError, InteractiveOptions,
    LoopbackOptions,
};
use idflow::{BoxFuture, HttpClient, HttpRequest, TransportError};
use idflow::{HttpConfig, ReqwestHttpClient};
use idflow_emulator::{
    Settings, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD,
    DEFAULT_USERNAME, PUBLIC_CLIENT_ID,
};
use idflow_testing::emulator::EmulatorEnv;
use std::sync::{Arc, Mutex};
use tracing::Level;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const WRONG_SECRET: &str = "WRONG-SECRET-5e6f7a8b";
const WRONG_PASSWORD: &str = "WRONG-PASSWORD-7a8b9c0d";
const FORGED_RT: &str = "FORGED-REFRESH-TOKEN-1c2d3e4f";
const FORGED_ASSERTION: &str = "FORGED-USER-ASSERTION-5a6b7c8d";

/// Form fields and headers whose values are credentials.
const SECRET_FIELDS: [&str; 8] = [
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
];

/// The default HTTP client, recording every credential it sends.
#[derive(Clone)]
struct Recording {
    inner: Arc<ReqwestHttpClient>,
    sent: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recording")
    }
}

impl HttpClient for Recording {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        {
            let mut sent = self.sent.lock().unwrap();
            for (k, v) in &request.form {
                if SECRET_FIELDS.contains(&k.as_str()) {
                    sent.push(v.clone());
                }
            }
            if let Some(auth) = request.header("authorization") {
                sent.push(auth.to_owned());
                sent.extend(auth.strip_prefix("Basic ").map(str::to_owned));
            }
        }
        self.inner.send(request)
    }
}

/// Opens the authorize URL like a browser: follows the emulator's redirect
/// to the app's loopback listener.
#[derive(Debug)]
struct Browser;

impl BrowserOpener for Browser {
    fn open(&self, url: &url::Url) -> Result<(), String> {
        let url = url.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let _ = client.get(url).send().await;
        });
        Ok(())
    }
}

#[derive(Default)]
struct Seen {
    text: String,
    secrets: Vec<String>,
}

impl Seen {
    fn result(&mut self, r: &AuthenticationResult) {
        self.text += &format!("{r:?}\n");
        self.secrets.push(r.access_token.expose().to_owned());
        self.secrets
            .extend(r.refresh_token.iter().map(|t| t.expose().to_owned()));
        self.secrets
            .extend(r.id_token.iter().map(|t| t.expose().to_owned()));
    }

    fn error(&mut self, e: &IdFlowError) {
        self.text += &format!(
            "{e}\n{e:?}\n{}\n{}\n",
            e.message,
            serde_json::to_string(e).unwrap()
        );
        let python = idflow::idioms::python_dict(e);
        self.text += &format!("{}\n", serde_json::Value::Object(python));
    }

    fn outcome(&mut self, r: &Result<AuthenticationResult, IdFlowError>) -> bool {
        match r {
            Ok(r) => {
                self.result(r);
                true
            }
            Err(e) => {
                self.error(e);
                false
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_line_error_or_result_of_any_flow() {
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    let subscriber = CallbackSubscriber::new(Level::TRACE, move |r| {
        sink.lock()
            .unwrap()
            .push(format!("{} {} {}", r.level, r.target, r.message));
    })
    .all_targets();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    idflow::logging::set_pii_logging_enabled(true);

    let env = EmulatorEnv::start_with(Settings {
        device_code_interval_secs: 1,
        ..Settings::default()
    })
    .await;
    let emu = &env.emu;
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let http = Recording {
        inner: Arc::new(ReqwestHttpClient::new(&HttpConfig::default()).unwrap()),
        sent: sent.clone(),
    };
    let options = || AppOptions::default().with_http_client(Arc::new(http.clone()));
    let public = || env.public_app(PUBLIC_CLIENT_ID, options());
    let confidential = |c: ClientCredential| env.confidential_app(c, options());
    let secret = |s: &str| ClientCredential::Secret(ClientSecret::new(s));
    let mut seen = Seen::default();
    let mut ok = 0;

    // Client credentials: secret (body and Basic), certificate, and failures.
    let cert = emu
        .admin()
        .generate_certificate(CONFIDENTIAL_CLIENT_ID)
        .unwrap();
    seen.secrets.push(cert.private_key_pem.clone());
    let certificate =
        ClientCertificate::from_pem(&cert.certificate_pem, &cert.private_key_pem).unwrap();
    for credential in [
        secret(CONFIDENTIAL_CLIENT_SECRET),
        ClientCredential::SecretBasic(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
        ClientCredential::Certificate(certificate),
        secret(WRONG_SECRET),
    ] {
        let app = confidential(credential);
        let r = app.acquire_token_for_client(&[GRAPH_DEFAULT], None).await;
        ok += usize::from(seen.outcome(&r));
        // A second call is a cache hit (logged too).
        let r = app.acquire_token_for_client(&[GRAPH_DEFAULT], None).await;
        seen.outcome(&r);
        seen.text += &format!("{app:?}\n");
    }
    assert_eq!(
        ok, 3,
        "secret, Basic and certificate succeed; the wrong secret fails"
    );
    // A 429 with Retry-After, then the same request blocked on this side.
    emu.admin()
        .arm_preset("throttled_429", idflow_emulator::PresetArm::default())
        .unwrap();
    let app = confidential(secret(CONFIDENTIAL_CLIENT_SECRET));
    for _ in 0..2 {
        let r = app
            .acquire_token_for_client(&["https://vault.azure.net/.default"], None)
            .await;
        assert!(!seen.outcome(&r));
    }

    // ROPC: success, a wrong password; then refresh and silent.
    let pca = public();
    let signed_in = pca
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &["User.Read"],
            None,
        )
        .await;
    assert!(seen.outcome(&signed_in));
    let signed_in = signed_in.unwrap();
    let r = pca
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(WRONG_PASSWORD),
            &["User.Read"],
            None,
        )
        .await;
    assert!(!seen.outcome(&r));
    let rt = signed_in.refresh_token.clone().unwrap();
    assert!(seen.outcome(
        &pca.acquire_token_by_refresh_token(&rt, &["User.Read"], None)
            .await
    ));
    let forged = pca
        .acquire_token_by_refresh_token(&RefreshToken::new(FORGED_RT), &["User.Read"], None)
        .await;
    assert!(!seen.outcome(&forged));
    let account = signed_in.account.clone().unwrap();
    for force in [false, true] {
        let r = pca
            .acquire_token_silent(&["User.Read"], Some(&account), None, force)
            .await;
        assert!(seen.outcome(&r), "silent (force_refresh {force})");
    }
    emu.admin().revoke_refresh_tokens(None, None);
    let r = pca
        .acquire_token_silent(&["User.Read"], Some(&account), None, true)
        .await;
    assert!(!seen.outcome(&r), "a revoked refresh token fails");
    seen.text += &format!("{:?}\n", pca.get_accounts(None));

    // On-behalf-of: with a token the emulator issued for the API, and a forged one.
    let api_scope = format!("api://{CONFIDENTIAL_CLIENT_ID}/access_as_user");
    let for_api = public()
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &[api_scope.as_str()],
            None,
        )
        .await;
    assert!(seen.outcome(&for_api));
    let incoming = UserAssertion::new(for_api.unwrap().access_token.expose());
    let api = confidential(secret(CONFIDENTIAL_CLIENT_SECRET));
    let r = api
        .acquire_token_on_behalf_of(&incoming, &["User.Read"], None)
        .await;
    assert!(seen.outcome(&r), "on-behalf-of");
    let r = api
        .acquire_token_on_behalf_of(&UserAssertion::new(FORGED_ASSERTION), &["User.Read"], None)
        .await;
    assert!(!seen.outcome(&r));

    // Device code: approved, and declined.
    for approve in [true, false] {
        let app = public();
        let flow = app
            .initiate_device_flow(&["User.Read"], None)
            .await
            .unwrap();
        seen.text += &format!("{flow:?}\n");
        seen.secrets.push(flow.device_code().expose().to_owned());
        if approve {
            emu.admin()
                .approve_device_code(&flow.user_code, None)
                .unwrap();
        } else {
            emu.admin().decline_device_code(&flow.user_code).unwrap();
        }
        let r = app
            .acquire_token_by_device_flow(&flow, &CancelHandle::new())
            .await;
        assert_eq!(
            seen.outcome(&r),
            approve,
            "device code (approved {approve})"
        );
    }

    // Auth code + PKCE: redeemed, replayed, and with a forged state.
    let app = public();
    let flow = app
        .initiate_auth_code_flow(
            &["User.Read"],
            "http://localhost/cb",
            &AuthCodeOptions::default(),
        )
        .await
        .unwrap();
    seen.text += &format!("{flow:?}\n");
    seen.secrets.extend(
        [
            flow.state().expose(),
            flow.nonce().expose(),
            flow.code_verifier().expose(),
        ]
        .map(str::to_owned),
    );
    let location = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(flow.auth_uri.as_str())
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let redirect = url::Url::parse(&location).unwrap();
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    seen.secrets.push(code.clone());
    assert!(seen.outcome(&app.acquire_token_by_auth_code_flow(&flow, &location).await));
    assert!(!seen.outcome(&app.acquire_token_by_auth_code_flow(&flow, &location).await));
    let forged = location.replace(flow.state().expose(), "forged-state");
    assert!(!seen.outcome(&app.acquire_token_by_auth_code_flow(&flow, &forged).await));

    // Interactive sign-in through the loopback listener.
    let r = app
        .acquire_token_interactive(
            &["User.Read"],
            InteractiveOptions {
                opener: Arc::new(Browser),
                loopback: LoopbackOptions::default(),
                timeout: Some(std::time::Duration::from_secs(20)),
                ..InteractiveOptions::default()
            },
        )
        .await;
    assert!(seen.outcome(&r), "interactive");
    seen.text += &format!("{app:?}\n");

    // Everything sent, everything issued, everything known.
    let sent = sent.lock().unwrap().clone();
    assert!(sent.len() > 20, "{} credentials recorded", sent.len());
    seen.secrets.extend(sent);
    seen.secrets.extend(
        [
            CONFIDENTIAL_CLIENT_SECRET,
            DEFAULT_PASSWORD,
            WRONG_SECRET,
            WRONG_PASSWORD,
            FORGED_RT,
            FORGED_ASSERTION,
            code.as_str(),
        ]
        .map(str::to_owned),
    );
    seen.text += &format!("{:?}\n", emu.admin().requests(0));
    let log = lines.lock().unwrap().join("\n");
    // The capture is real: PII-level detail and every flow's events are there.
    assert!(
        log.contains(DEFAULT_USERNAME),
        "PII logging shows the username"
    );
    for needle in [
        "request sent",
        "response received",
        "answer classified",
        "token acquired",
        "device code issued",
        "redirect received",
        "id token validated",
        "authority resolved",
        "access token cache lookup",
        "token served from the cache",
        "blocking repeats of this request",
        "blocked by the client-side throttle",
    ] {
        assert!(log.contains(needle), "no '{needle}' event in the log");
    }
    let all = format!("{log}\n{}", seen.text);
    let mut leaked = Vec::new();
    for s in seen.secrets.iter().filter(|s| s.len() >= 8) {
        if all.contains(s.as_str()) {
            leaked.push(format!("{}… ({} chars)", &s[..6], s.len()));
        }
    }
    assert!(leaked.is_empty(), "secrets leaked: {leaked:?}");
    eprintln!(
        "searched {} log lines and {} bytes of app-visible text for {} secrets",
        lines.lock().unwrap().len(),
        seen.text.len(),
        seen.secrets.len()
    );
}
