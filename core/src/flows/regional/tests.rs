//! Client credentials through a region, end to end through the app against
//! a scripted platform: the regional endpoint, what stays global (cache
//! environment, assertion audience), detection once per app, the silent
//! fallback to the global endpoint, and the other options sent with it.

use crate::app::{AppOptions, ConfidentialClientApplication, PublicClientApplication};
use crate::flows::ClientCredential;
use crate::net::clock::ManualTime;
use crate::net::http::{Method, TransportError};
use crate::net::scripted::ScriptedHttp;
use crate::protocol::assertion::ClientCertificate;
use crate::protocol::authority::Authority;
use crate::protocol::jwt;
use crate::protocol::region::{AzureRegion, RegionEnvironment, IMDS_REGION_ENDPOINT};
use crate::testkit::*;
use aws_lc_rs::encoding::AsDer;
use serde_json::json;

const REGIONAL_TOKEN: &str = "https://westus2.login.microsoft.com/common/oauth2/v2.0/token";
const SCOPE: [&str; 1] = ["api://x/.default"];

fn app_token() -> serde_json::Value {
    json!({"access_token": "app-token", "expires_in": 3599, "token_type": "Bearer"})
}

fn app_with(
    http: &ScriptedHttp,
    region: Option<AzureRegion>,
    env: RegionEnvironment,
    credential: ClientCredential,
) -> Result<ConfidentialClientApplication, crate::error::IdFlowError> {
    let options = AppOptions {
        azure_region: region,
        region_environment: env,
        ..options(http, &ManualTime::new(start()))
    };
    ConfidentialClientApplication::new(
        CLIENT_ID,
        Authority::parse(MS_AUTHORITY).unwrap(),
        credential,
        options,
    )
}

fn secret() -> ClientCredential {
    ClientCredential::Secret("shh".into())
}

fn posts(http: &ScriptedHttp) -> Vec<String> {
    http.requests()
        .into_iter()
        .filter(|r| r.method == Method::Post)
        .map(|r| r.url.to_string())
        .collect()
}

#[tokio::test]
async fn a_named_region_sends_client_credentials_to_the_regional_host() {
    let http = ScriptedHttp::new();
    http.json(Method::Post, REGIONAL_TOKEN, 200, app_token());
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&*key()).unwrap();
    let cert = ClientCertificate::from_der(&certificate_der(&key(), "c"), pkcs8.as_ref()).unwrap();
    let app = app_with(
        &http,
        Some(AzureRegion::Named("westus2".into())),
        RegionEnvironment::empty(),
        ClientCredential::Certificate(cert),
    )
    .unwrap();
    let r = app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    assert_eq!(r.access_token.expose(), "app-token");
    assert_eq!(posts(&http), vec![REGIONAL_TOKEN]);
    // No detection for a named region: nothing else was sent.
    assert_eq!(http.requests().len(), 1);
    // The assertion's audience and the cache's environment stay global (msal's).
    let sent = http.requests_to(REGIONAL_TOKEN).pop().unwrap();
    let assertion = jwt::decode(sent.form_value("client_assertion").unwrap()).unwrap();
    assert_eq!(assertion.claims["aud"], MS_TOKEN);
    let cache: serde_json::Value = serde_json::from_str(&app.token_cache().serialize()).unwrap();
    let at = cache["AccessToken"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(at["environment"], "login.microsoftonline.com");
}

#[tokio::test]
async fn detection_asks_imds_once_and_uses_its_region() {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        IMDS_REGION_ENDPOINT,
        200,
        json!({"location": "westus2"}),
    );
    http.json(Method::Post, REGIONAL_TOKEN, 200, app_token());
    let app = app_with(
        &http,
        Some(AzureRegion::AutoDetect),
        RegionEnvironment::empty(),
        secret(),
    )
    .unwrap();
    app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    // A claims request skips the cache: a second token request, no second detection.
    app.acquire_token_for_client(&SCOPE, Some(r#"{"access_token":{}}"#))
        .await
        .unwrap();
    assert_eq!(posts(&http), vec![REGIONAL_TOKEN, REGIONAL_TOKEN]);
    assert_eq!(http.requests_to(IMDS_REGION_ENDPOINT).len(), 1);
}

#[tokio::test]
async fn no_region_detected_falls_back_to_the_global_endpoint_silently() {
    let http = ScriptedHttp::new();
    http.on(
        Method::Get,
        IMDS_REGION_ENDPOINT,
        Err(TransportError::new(
            crate::error::NetworkKind::ConnectionRefused,
            "no IMDS here",
        )),
    );
    http.json(Method::Post, MS_TOKEN, 200, app_token());
    let app = app_with(
        &http,
        Some(AzureRegion::AutoDetect),
        RegionEnvironment::empty(),
        secret(),
    )
    .unwrap();
    let r = app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    assert_eq!(r.access_token.expose(), "app-token");
    assert_eq!(posts(&http), vec![MS_TOKEN]);
}

#[tokio::test]
async fn region_name_and_force_region_come_from_the_environment() {
    let http = ScriptedHttp::new();
    http.json(Method::Post, REGIONAL_TOKEN, 200, app_token());
    let env = RegionEnvironment {
        region_name: Some("westus2".into()),
        ..RegionEnvironment::empty()
    };
    let app = app_with(&http, Some(AzureRegion::AutoDetect), env, secret()).unwrap();
    app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    let forced = RegionEnvironment {
        force_region: Some("westus2".into()),
        ..RegionEnvironment::empty()
    };
    let app = app_with(&http, None, forced.clone(), secret()).unwrap();
    app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    assert_eq!(posts(&http), vec![REGIONAL_TOKEN, REGIONAL_TOKEN]);
    assert!(http.requests_to(IMDS_REGION_ENDPOINT).is_empty());
    // Disabled wins over MSAL_FORCE_REGION.
    http.json(Method::Post, MS_TOKEN, 200, app_token());
    let app = app_with(&http, Some(AzureRegion::Disabled), forced, secret()).unwrap();
    app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    assert_eq!(posts(&http).last().map(String::as_str), Some(MS_TOKEN));
}

#[tokio::test]
async fn an_invalid_region_is_refused_at_construction() {
    let http = ScriptedHttp::new();
    let e = app_with(
        &http,
        Some(AzureRegion::Named("West US 2".into())),
        RegionEnvironment::empty(),
        secret(),
    )
    .unwrap_err();
    assert_eq!(e.code, "invalid_parameter");
    assert!(http.requests().is_empty());
}

#[tokio::test]
async fn app_name_version_and_excluded_scopes_reach_the_token_request() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let options = AppOptions {
        app_name: Some("contoso-app".into()),
        app_version: Some("1.2.3".into()),
        exclude_scopes: vec!["offline_access".into()],
        // A public client ignores a region.
        azure_region: Some(AzureRegion::Named("westus2".into())),
        ..options(&http, &t)
    };
    let app =
        PublicClientApplication::new(CLIENT_ID, Authority::parse(MS_AUTHORITY).unwrap(), options)
            .unwrap();
    app.acquire_token_by_refresh_token(
        &crate::secret::RefreshToken::new("rt"),
        &["User.Read"],
        None,
    )
    .await
    .unwrap();
    let sent = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(sent.header("x-app-name"), Some("contoso-app"));
    assert_eq!(sent.header("x-app-ver"), Some("1.2.3"));
    assert_eq!(sent.form_value("scope"), Some("User.Read openid profile"));
    let refused = PublicClientApplication::new(
        CLIENT_ID,
        Authority::parse(MS_AUTHORITY).unwrap(),
        AppOptions {
            exclude_scopes: vec!["openid".into()],
            ..AppOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(refused.code, "invalid_parameter");
}

#[tokio::test]
async fn client_claims_are_laid_over_the_assertion_defaults() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 200, app_token());
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&*key()).unwrap();
    let cert = ClientCertificate::from_der(&certificate_der(&key(), "c"), pkcs8.as_ref()).unwrap();
    let mut claims = serde_json::Map::new();
    claims.insert("client_ip".into(), json!("10.0.0.1"));
    claims.insert("sub".into(), json!("override"));
    let options = AppOptions {
        client_assertion_claims: claims,
        ..options(&http, &t)
    };
    let app = ConfidentialClientApplication::new(
        CLIENT_ID,
        Authority::parse(MS_AUTHORITY).unwrap(),
        ClientCredential::Certificate(cert),
        options,
    )
    .unwrap();
    app.acquire_token_for_client(&SCOPE, None).await.unwrap();
    let sent = http.requests_to(MS_TOKEN).pop().unwrap();
    let assertion = jwt::decode(sent.form_value("client_assertion").unwrap()).unwrap();
    assert_eq!(assertion.claims["client_ip"], "10.0.0.1");
    assert_eq!(assertion.claims["sub"], "override");
    assert_eq!(assertion.claims["iss"], CLIENT_ID);
    let jwk: jwt::Jwk = serde_json::from_value(jwt::rsa_public_jwk(&key(), None)).unwrap();
    assert!(
        jwt::verify(&assertion, &jwk),
        "still signed by the certificate's key"
    );
}
