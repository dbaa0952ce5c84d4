//! Shared helpers for the provider-backed tests: token requests as each
//! client authenticates, and the bridge from a captured response to
//! `idflow::classify`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure should panic

use idflow::error::HttpResponse;
use idflow::{classify, Classified, Flow};
use idflow_testing::{Browser, Captured, OidcOptions, OidcProvider, Pkce, DEVICE_CODE_GRANT};
use serde_json::Value;

pub const READ: &str = "api://idflow-test/read";
pub const WRITE: &str = "api://idflow-test/write";
/// The native client's loopback redirect, on an arbitrary port (RFC 8252).
pub const NATIVE_REDIRECT: &str = "http://127.0.0.1:51234/callback";

pub fn start() -> OidcProvider {
    start_with(OidcOptions::default())
}

pub fn start_with(options: OidcOptions) -> OidcProvider {
    OidcProvider::start(options).expect("the test provider starts (run scripts/setup-node.sh)")
}

/// The captured response as the core sees it.
pub fn to_http(c: &Captured) -> HttpResponse {
    HttpResponse::new(c.status, c.headers.clone(), c.body.clone())
}

pub fn classify_captured(c: &Captured, flow: Flow) -> Classified {
    classify(&to_http(c), flow)
}

/// An authorize redirect as the core takes it: the whole URL as the body.
pub fn classify_redirect(url: &url::Url, flow: Flow) -> Classified {
    classify(
        &HttpResponse::new(303, vec![], url.as_str().as_bytes().to_vec()),
        flow,
    )
}

/// POST form fields to the token endpoint, no client authentication added.
pub async fn token(p: &OidcProvider, fields: &[(&str, &str)]) -> Captured {
    let resp = p
        .http_client()
        .unwrap()
        .post(p.token_url())
        .form(fields)
        .send()
        .await
        .unwrap();
    Captured::read(resp).await.unwrap()
}

/// POST to the token endpoint with HTTP Basic client authentication.
pub async fn token_basic(
    p: &OidcProvider,
    id: &str,
    secret: &str,
    fields: &[(&str, &str)],
) -> Captured {
    let resp = p
        .http_client()
        .unwrap()
        .post(p.token_url())
        .basic_auth(id, Some(secret))
        .form(fields)
        .send()
        .await
        .unwrap();
    Captured::read(resp).await.unwrap()
}

/// Client credentials for the `client_secret_post` client.
pub async fn client_credentials_post(p: &OidcProvider, scope: &str) -> Captured {
    let c = p.secret_post();
    let secret = c.client_secret.as_deref().unwrap();
    token(
        p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", secret),
            ("scope", scope),
        ],
    )
    .await
}

pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A native-client authorize URL with PKCE.
pub fn native_authorize_url(
    p: &OidcProvider,
    pkce: &Pkce,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", p.native().client_id.as_str()),
        ("redirect_uri", NATIVE_REDIRECT),
        ("scope", scope),
        ("state", "state-123"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    p.authorize_url(&params).unwrap()
}

/// Signs in through the pages and redeems the code: the native client's
/// token response (access, ID and refresh token).
pub async fn native_login(p: &OidcProvider, scope: &str) -> Value {
    let pkce = Pkce::new();
    let browser = Browser::new(p).unwrap();
    let back = browser
        .authorize(&native_authorize_url(p, &pkce, scope, &[]))
        .await
        .unwrap();
    let code = query_param(&back, "code").expect("a code");
    let resp = redeem(p, &code, &pkce.verifier).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json().unwrap()
}

/// Redeems a native-client code.
pub async fn redeem(p: &OidcProvider, code: &str, verifier: &str) -> Captured {
    token(
        p,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &p.native().client_id),
            ("code", code),
            ("redirect_uri", NATIVE_REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// Asks for a device authorization for the native client.
pub async fn device_authorization(p: &OidcProvider, scope: &str) -> Captured {
    let resp = p
        .http_client()
        .unwrap()
        .post(p.device_authorization_url())
        .form(&[
            ("client_id", p.native().client_id.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    Captured::read(resp).await.unwrap()
}

/// Starts a device authorization for the native client.
pub async fn device_start(p: &OidcProvider, scope: &str) -> Value {
    let c = device_authorization(p, scope).await;
    assert_eq!(c.status, 200, "{}", c.text());
    c.json().unwrap()
}

/// One device-code poll.
pub async fn device_poll(p: &OidcProvider, device_code: &str) -> Captured {
    token(
        p,
        &[
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", &p.native().client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

/// The `error` field of a JSON error body.
pub fn error_of(c: &Captured) -> String {
    c.json().unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
