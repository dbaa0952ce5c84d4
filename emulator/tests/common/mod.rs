//! Helpers shared by the emulator's integration tests: a started emulator
//! with a plain HTTP client, and the requests apps make.

#![allow(dead_code)] // each test binary uses a different subset

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idflow_emulator::{
    Emulator, EmulatorHandle, RsaSigner, Settings, CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, PUBLIC_CLIENT_ID,
};
use serde_json::{json, Map, Value};
use std::time::Duration;

pub const TENANT: &str = "organizations";
pub const REDIRECT: &str = "http://localhost:8400/callback";
pub const USER_SCOPE: &str = "User.Read openid profile offline_access";

/// A running emulator and an HTTP client that does not follow redirects.
pub struct Env {
    pub emu: EmulatorHandle,
    pub http: reqwest::Client,
}

/// An emulator whose device codes can be polled at once (interval 0).
pub async fn start() -> Env {
    start_with(Settings {
        device_code_interval_secs: 0,
        ..Settings::default()
    })
    .await
}

pub async fn start_with(settings: Settings) -> Env {
    let emu = Emulator::builder()
        .settings(settings)
        .start()
        .await
        .expect("emulator starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    Env { emu, http }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    pub fn token_url(&self, tenant: &str) -> String {
        self.emu.token_endpoint(tenant)
    }

    /// POSTs a form to the token endpoint.
    pub async fn post_token(&self, tenant: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.token_url(tenant))
            .header("client-request-id", "3f1c2d4e-0000-4000-8000-00000000beef")
            .header("x-ms-lib-capability", "retry-after, h429")
            .header("x-client-sku", "idflow.test")
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// POSTs to the token endpoint; returns status and JSON body.
    pub async fn token(&self, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.post_token(tenant, form).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    /// GET /authorize with these parameters; returns the status and the Location header.
    pub async fn authorize(&self, tenant: &str, params: &[(&str, &str)]) -> (u16, Option<String>) {
        let r = self
            .http
            .get(self.url(&format!("/{tenant}/oauth2/v2.0/authorize")))
            .query(params)
            .send()
            .await
            .expect("authorize");
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().expect("ascii").to_owned());
        (r.status().as_u16(), loc)
    }

    /// A full interactive sign-in of the public client with PKCE: the token response.
    pub async fn sign_in(&self, scope: &str) -> Value {
        let (verifier, challenge) = pkce();
        let (status, loc) = self
            .authorize(
                TENANT,
                &[
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", scope),
                    ("state", "st"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await;
        assert_eq!(status, 302);
        let code = query_param(&loc.expect("location"), "code").expect("code");
        let (status, body) = self
            .token(
                TENANT,
                &[
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    ("scope", scope),
                    ("client_info", "1"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// ROPC for the default user with the public client.
    pub async fn ropc(&self, scope: &str) -> (u16, Value) {
        self.token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "password"),
                ("username", DEFAULT_USERNAME),
                ("password", DEFAULT_PASSWORD),
                ("scope", scope),
                ("client_info", "1"),
            ],
        )
        .await
    }

    /// Client credentials with the default confidential client's secret.
    pub async fn client_credentials(&self, tenant: &str) -> (u16, Value) {
        self.token(
            tenant,
            &[
                ("client_id", CONFIDENTIAL_CLIENT_ID),
                ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra-chars".to_owned();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// A parameter of a redirect URL's query (or fragment).
pub fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).expect("redirect URL");
    let from_query = url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    from_query.or_else(|| {
        url.fragment().and_then(|f| {
            url::form_urlencoded::parse(f.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
    })
}

/// A JWT's claims, unverified.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

/// An HTTP answer as the classifier takes it.
pub async fn http_response(r: reqwest::Response) -> idflow::HttpResponse {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = r.bytes().await.expect("body").to_vec();
    idflow::HttpResponse::new(status, headers, body)
}

/// A client assertion signed by `signer`.
pub fn assertion(
    signer: &RsaSigner,
    client_id: &str,
    aud: &str,
    header: Map<String, Value>,
    exp_in: i64,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    signer
        .sign_jwt(
            header,
            &json!({
                "aud": aud,
                "iss": client_id,
                "sub": client_id,
                "jti": uuid::Uuid::new_v4().to_string(),
                "nbf": now - 10,
                "iat": now - 10,
                "exp": now + exp_in,
            }),
        )
        .expect("signed")
}

/// The error's AADSTS number.
pub fn first_code(body: &Value) -> i64 {
    body["error_codes"][0].as_i64().unwrap_or(-1)
}
