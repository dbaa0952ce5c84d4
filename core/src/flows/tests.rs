//! The grants and the result they build, against a scripted token endpoint.

use super::*;
use crate::app::PublicClientApplication;
use crate::error::{ErrorKind, HttpResponse, NetworkKind};
use crate::net::clock::ManualTime;
use crate::net::http::{Method, TransportError};
use crate::net::scripted::ScriptedHttp;
use crate::protocol::assertion::ClientCertificate;
use crate::protocol::jwt;
use crate::secret::{Password, RefreshToken, UserAssertion};
use crate::testkit::*;
use aws_lc_rs::encoding::AsDer;
use serde_json::json;
use std::time::Duration;

fn time() -> ManualTime {
    ManualTime::new(start())
}

fn form(http: &ScriptedHttp, key: &str) -> Option<String> {
    http.requests_to(MS_TOKEN)
        .last()
        .and_then(|r| r.form_value(key).map(str::to_owned))
}

#[test]
fn scopes_are_checked_and_decorated() {
    let e = app_scopes(&["User.Read", "offline_access"]).unwrap_err();
    assert_eq!(e.code, "reserved_scope");
    assert_eq!(e.kind, ErrorKind::Client);
    assert_eq!(app_scopes(&["OpenID"]).unwrap_err().code, "reserved_scope");
    let s = app_scopes(&["User.Read Mail.Read", "User.Read"]).unwrap();
    assert_eq!(s, vec!["User.Read", "Mail.Read"]);
    assert_eq!(
        decorated(&s),
        "User.Read Mail.Read openid profile offline_access"
    );
    assert!(crate::protocol::claims::parse_claims(r#"{"access_token":{}}"#).is_ok());
    assert_eq!(
        crate::protocol::claims::parse_claims("[1]")
            .unwrap_err()
            .code,
        "invalid_json_claims_format"
    );
}

#[tokio::test]
async fn client_credentials_with_a_secret() {
    let (http, t) = (ms_http(), time());
    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        json!({"access_token":"app-token","expires_in":3599,"token_type":"Bearer"}),
    );
    let app = confidential_app(&http, &t, ClientCredential::Secret("shh".into()));
    let r = app
        .acquire_token_for_client(&["https://graph.microsoft.com/.default"], None)
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "app-token");
    assert!(r.account.is_none());
    assert_eq!(r.scopes, vec!["https://graph.microsoft.com/.default"]);
    assert_eq!(r.expires_on, start() + Duration::from_secs(3599));
    assert_eq!(
        form(&http, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(form(&http, "client_secret").as_deref(), Some("shh"));
    assert_eq!(form(&http, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(form(&http, "client_info"), None, "not a user flow");
    let sent = http.requests_to(MS_TOKEN);
    let req = sent.last().unwrap();
    assert_eq!(req.header("x-ms-lib-capability"), Some("retry-after, h429"));
    assert_eq!(req.header("return-client-request-id"), Some("true"));
    assert_eq!(req.correlation_id(), Some(r.correlation_id.as_str()));
}

#[tokio::test]
async fn client_credentials_need_a_default_scope_for_microsoft() {
    let (http, t) = (ms_http(), time());
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    for scopes in [vec!["User.Read"], vec!["a/.default", "b/.default"]] {
        let e = app
            .acquire_token_for_client(&scopes, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid_parameter", "{scopes:?}");
        assert_eq!(e.kind, ErrorKind::Client);
    }
    let none: [&str; 0] = [];
    let e = app.acquire_token_for_client(&none, None).await.unwrap_err();
    assert_eq!(e.code, "scopes_required");
    assert!(http.requests().is_empty(), "checked before any request");
}

#[tokio::test]
async fn client_credentials_with_a_certificate_send_a_verifiable_assertion() {
    let (http, t) = (ms_http(), time());
    http.json(Method::Post, MS_TOKEN, 200, json!({"access_token":"a"}));
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&*key()).unwrap();
    let cert = ClientCertificate::from_der(
        &crate::testkit::certificate_der(&key(), "c"),
        pkcs8.as_ref(),
    )
    .unwrap();
    let app = confidential_app(&http, &t, ClientCredential::Certificate(cert));
    app.acquire_token_for_client(&["api://x/.default"], None)
        .await
        .unwrap();
    assert_eq!(
        form(&http, "client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let assertion = jwt::decode(&form(&http, "client_assertion").unwrap()).unwrap();
    assert_eq!(assertion.alg(), "PS256");
    assert_eq!(assertion.claims["aud"], MS_TOKEN);
    assert_eq!(assertion.claims["exp"], secs(start()) + 600);
    let jwk: jwt::Jwk = serde_json::from_value(jwt::rsa_public_jwk(&key(), None)).unwrap();
    assert!(jwt::verify(&assertion, &jwk));
}

#[tokio::test]
async fn secret_basic_goes_in_the_authorization_header() {
    let (http, t) = (ms_http(), time());
    http.json(Method::Post, MS_TOKEN, 200, json!({"access_token":"a"}));
    let app = confidential_app(&http, &t, ClientCredential::SecretBasic("p@ss word".into()));
    app.acquire_token_for_client(&["x/.default"], None)
        .await
        .unwrap();
    let req = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(req.form_value("client_secret"), None);
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:p%40ss+word"));
    assert_eq!(
        req.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
}

#[tokio::test]
async fn oidc_authorities_take_any_client_credentials_scope() {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        "http://127.0.0.1:9/realm/.well-known/openid-configuration",
        200,
        json!({"issuer":"http://127.0.0.1:9/realm","authorization_endpoint":"http://127.0.0.1:9/realm/auth","token_endpoint":"http://127.0.0.1:9/realm/token"}),
    );
    http.json(
        Method::Post,
        "http://127.0.0.1:9/realm/token",
        200,
        json!({"access_token":"a"}),
    );
    let t = time();
    let app = crate::app::ConfidentialClientApplication::new(
        "c",
        crate::protocol::authority::Authority::oidc("http://127.0.0.1:9/realm").unwrap(),
        ClientCredential::Secret("s".into()),
        options(&http, &t),
    )
    .unwrap();
    let r = app
        .acquire_token_for_client(&["api:read"], None)
        .await
        .unwrap();
    assert_eq!(r.scopes, vec!["api:read"]);
}

#[tokio::test]
async fn refresh_builds_the_account_and_keeps_the_old_refresh_token() {
    let (http, t) = (ms_http(), time());
    let mut body = token_body(start(), &[]);
    body.as_object_mut().unwrap().remove("refresh_token");
    http.json(Method::Post, MS_TOKEN, 200, body);
    let app = public_app(&http, &t);
    let old = RefreshToken::new("old-rt");
    let r = app
        .acquire_token_by_refresh_token(&old, &["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(r.refresh_token.unwrap().expose(), "old-rt");
    let account = r.account.unwrap();
    assert_eq!(account.home_account_id, format!("uid-1.{TENANT}"));
    assert_eq!(account.environment, "login.microsoftonline.com");
    assert_eq!(account.realm, TENANT);
    assert_eq!(account.username, "user@contoso.com");
    assert_eq!(account.local_account_id, "object-1");
    assert_eq!(
        r.scopes,
        vec!["User.Read", "openid", "profile", "offline_access"]
    );
    assert_eq!(r.expires_on, start() + Duration::from_secs(3599));
    assert_eq!(r.id_token_claims.unwrap().tid.as_deref(), Some(TENANT));
    assert_eq!(form(&http, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(form(&http, "refresh_token").as_deref(), Some("old-rt"));
    assert_eq!(form(&http, "client_info").as_deref(), Some("1"));
    assert_eq!(
        form(&http, "scope").as_deref(),
        Some("User.Read openid profile offline_access")
    );
}

#[tokio::test]
async fn ropc_and_obo_forms() {
    let (http, t) = (ms_http(), time());
    let mut body = token_body(start(), &[]);
    let claims = body.as_object_mut().unwrap();
    let mut c = ms_claims(start());
    c.remove("preferred_username");
    claims.insert("id_token".into(), sign(&key(), KID, &c).into());
    http.json(Method::Post, MS_TOKEN, 200, body);
    let app = public_app(&http, &t);
    let r = app
        .acquire_token_by_username_password(
            "u@contoso.com",
            &Password::new("pw"),
            &["User.Read"],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        r.account.unwrap().username,
        "u@contoso.com",
        "falls back to the ROPC name"
    );
    assert_eq!(form(&http, "grant_type").as_deref(), Some("password"));
    assert_eq!(form(&http, "password").as_deref(), Some("pw"));

    let cca = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    cca.acquire_token_on_behalf_of(&UserAssertion::new("incoming"), &["api://down/x"], None)
        .await
        .unwrap();
    assert_eq!(
        form(&http, "grant_type").as_deref(),
        Some(grants::JWT_BEARER_GRANT)
    );
    assert_eq!(
        form(&http, "requested_token_use").as_deref(),
        Some("on_behalf_of")
    );
    assert_eq!(form(&http, "assertion").as_deref(), Some("incoming"));
    assert_eq!(form(&http, "client_secret").as_deref(), Some("s"));
}

/// A user grant's answer with neither `client_info` nor an id token (an
/// on-behalf-of answer, an imported refresh token's answer) is returned, but
/// never cached where `acquire_token_for_client` finds the app's tokens.
#[tokio::test]
async fn user_tokens_without_an_account_are_not_app_tokens() {
    const GRAPH: &str = "https://graph.microsoft.com/.default";
    let (http, t) = (ms_http(), time());
    let user_answer = |at: &str| {
        json!({"access_token": at, "refresh_token": "user-rt", "expires_in": 3599,
               "token_type": "Bearer", "scope": GRAPH})
    };
    let cca = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    http.json(Method::Post, MS_TOKEN, 200, user_answer("obo-token"));
    let obo = cca
        .acquire_token_on_behalf_of(&UserAssertion::new("incoming"), &[GRAPH], None)
        .await
        .unwrap();
    assert!(obo.account.is_none());
    http.json(Method::Post, MS_TOKEN, 200, user_answer("imported-token"));
    cca.acquire_token_by_refresh_token(&RefreshToken::new("imported"), &[GRAPH], None)
        .await
        .unwrap();
    assert!(cca.cached_token_for_client(&[GRAPH]).unwrap().is_none());

    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        json!({"access_token": "app-token", "expires_in": 3599, "token_type": "Bearer"}),
    );
    let app = cca.acquire_token_for_client(&[GRAPH], None).await.unwrap();
    assert_eq!(app.access_token.expose(), "app-token");
    assert_eq!(
        form(&http, "grant_type").as_deref(),
        Some("client_credentials")
    );
    let hit = cca.cached_token_for_client(&[GRAPH]).unwrap().unwrap();
    assert_eq!(hit.access_token.expose(), "app-token");
}

#[tokio::test]
async fn server_errors_are_classified_with_the_correlation_id() {
    let (http, t) = (ms_http(), time());
    http.json(
        Method::Post,
        MS_TOKEN,
        400,
        json!({"error":"invalid_grant","suberror":"basic_action","error_codes":[50076]}),
    );
    let app = public_app(&http, &t);
    let e = app
        .acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.aadsts(), &[50076]);
    let sent = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(e.correlation_id.as_deref(), sent.correlation_id());
}

#[tokio::test]
async fn transport_failures_and_unusable_answers() {
    let (http, t) = (ms_http(), time());
    http.on(
        Method::Post,
        MS_TOKEN,
        Err(TransportError::new(NetworkKind::ConnectionLost, "reset")),
    );
    http.on(
        Method::Post,
        MS_TOKEN,
        Ok(HttpResponse::new(200, vec![], "<html>")),
    );
    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        json!({"access_token":"a","expires_in":"later"}),
    );
    let app = public_app(&http, &t);
    let rt = RefreshToken::new("rt");
    let e = app
        .acquire_token_by_refresh_token(&rt, &["a"], None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.network),
        (ErrorKind::Network, Some(NetworkKind::ConnectionLost))
    );
    assert!(e.correlation_id.is_some());
    let e = app
        .acquire_token_by_refresh_token(&rt, &["a"], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "non_parsable_oauth_error");
    let e = app
        .acquire_token_by_refresh_token(&rt, &["a"], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_token_response");
    assert_eq!((e.kind, e.http_status()), (ErrorKind::Service, Some(200)));
    assert!(e.correlation_id.is_some());
}

#[tokio::test]
async fn a_bad_id_token_fails_the_flow() {
    let (http, t) = (ms_http(), time());
    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        token_body(start(), &[("aud", json!("someone-else"))]),
    );
    let app: PublicClientApplication = public_app(&http, &t);
    let e = app
        .acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["a"], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_jwt");
    assert!(e.correlation_id.is_some());
}

/// uniffi exports async methods and objects only when their futures are
/// `Send` and the objects `Send + Sync`: keep it that way.
#[test]
fn futures_are_send_and_apps_are_shareable() {
    fn send<T: Send>(_: &T) {}
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<crate::app::PublicClientApplication>();
    shareable::<crate::app::ConfidentialClientApplication>();
    shareable::<super::cancel::CancelHandle>();
    let (http, t) = (ms_http(), time());
    let pca = public_app(&http, &t);
    let cca = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    let rt = RefreshToken::new("rt");
    let cancel = super::cancel::CancelHandle::new();
    let opts = super::auth_code::AuthCodeOptions::default();
    send(&pca.initiate_device_flow(&["a"], None));
    send(&pca.acquire_token_by_refresh_token(&rt, &["a"], None));
    send(&pca.acquire_token_by_username_password("u", &Password::new("p"), &["a"], None));
    send(&pca.initiate_auth_code_flow(&["a"], "http://localhost", &opts));
    send(&pca.acquire_token_interactive(&["a"], crate::app::InteractiveOptions::default()));
    send(&cca.acquire_token_for_client(&["a/.default"], None));
    send(&cca.acquire_token_on_behalf_of(&UserAssertion::new("x"), &["a"], None));
    send(&cancel.cancelled());
    send(&pca.resolve_authority());
}

/// `expires_in`, `ext_expires_in` and `refresh_in` far beyond any clock
/// (a float of 1e300, u64::MAX as a string) once overflowed the expiry
/// arithmetic and panicked. They are capped at [`MAX_TOKEN_LIFETIME`]: the
/// token is cached with the cap and asked for again once it has passed.
#[tokio::test]
async fn absurd_lifetimes_are_capped_and_cached_with_the_cap() {
    use crate::protocol::token::MAX_TOKEN_LIFETIME;
    const SCOPE: &str = "https://graph.microsoft.com/.default";
    for body in [
        json!({"access_token":"huge-1","expires_in":1e300,"ext_expires_in":"18446744073709551615","refresh_in":1e300}),
        json!({"access_token":"huge-2","expires_in":"18446744073709551615","ext_expires_in":1e300,"refresh_in":u64::MAX}),
        json!({"access_token":"huge-3","expires_in":u64::MAX,"ext_expires_in":u64::MAX,"refresh_in":"18446744073709551615"}),
    ] {
        let (http, t) = (ms_http(), time());
        http.json(Method::Post, MS_TOKEN, 200, body.clone());
        http.json(
            Method::Post,
            MS_TOKEN,
            200,
            json!({"access_token":"next","expires_in":3599}),
        );
        let app = confidential_app(&http, &t, ClientCredential::Secret("shh".into()));
        let r = app.acquire_token_for_client(&[SCOPE], None).await.unwrap();
        let cap = start() + MAX_TOKEN_LIFETIME;
        assert_eq!(r.expires_on, cap, "{body}");
        assert_eq!(r.ext_expires_on, Some(cap), "{body}");
        assert_eq!(r.refresh_on, Some(cap), "{body}");
        assert_eq!(r.expires_in(start()), MAX_TOKEN_LIFETIME.as_secs());
        // Cached with the cap: served from the cache a day later ...
        t.advance(Duration::from_secs(86_400));
        let cached = app.acquire_token_for_client(&[SCOPE], None).await.unwrap();
        assert_eq!(cached.token_source, TokenSource::Cache, "{body}");
        assert_eq!(cached.expires_on, cap);
        // ... and not forever: past the cap the endpoint is asked again.
        t.advance(MAX_TOKEN_LIFETIME);
        let fresh = app.acquire_token_for_client(&[SCOPE], None).await.unwrap();
        assert_eq!(fresh.access_token.expose(), "next", "{body}");
        assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
    }
}
