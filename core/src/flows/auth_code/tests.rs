//! The authorize URL, redirect validation and code redemption.

use super::*;
use crate::error::{Classification, ErrorKind};
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::protocol::pkce::s256_challenge;
use crate::testkit::*;
use serde_json::json;
use std::collections::HashMap;

const REDIRECT: &str = "http://localhost:8400/";

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

async fn started(
    options: AuthCodeOptions,
) -> (
    crate::net::scripted::ScriptedHttp,
    ManualTime,
    crate::app::PublicClientApplication,
    AuthCodeFlow,
) {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let flow = app
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
        .await
        .unwrap();
    (http, t, app, flow)
}

#[tokio::test]
async fn authorize_url_contents() {
    let options = AuthCodeOptions {
        prompt: Some(Prompt::SelectAccount),
        login_hint: Some("user@contoso.com".into()),
        domain_hint: Some("organizations".into()),
        claims: Some(r#"{"id_token":{"acr":null}}"#.into()),
        extra_query_parameters: vec![
            ("ui_locales".into(), "fr".into()),
            ("state".into(), "mine".into()),
        ],
        ..AuthCodeOptions::default()
    };
    let (_, _, _, flow) = started(options).await;
    let q = query(&flow.auth_uri);
    assert!(flow
        .auth_uri
        .as_str()
        .starts_with("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?"));
    for (k, v) in [
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "User.Read openid profile offline_access"),
        ("code_challenge_method", "S256"),
        ("response_mode", "query"),
        ("prompt", "select_account"),
        ("login_hint", "user@contoso.com"),
        ("domain_hint", "organizations"),
        ("claims", r#"{"id_token":{"acr":null}}"#),
        ("ui_locales", "fr"),
        ("client_info", "1"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(
        q["state"],
        flow.state().expose(),
        "extra parameters cannot replace state"
    );
    assert_eq!(q["nonce"], flow.nonce().expose());
    assert_eq!(
        q["code_challenge"],
        s256_challenge(flow.code_verifier().expose())
    );
    assert_eq!(q["client-request-id"], flow.correlation_id);
    assert_ne!(flow.state().expose(), flow.nonce().expose());
    let shown = format!("{flow:?}");
    for secret in [
        flow.state().expose(),
        flow.nonce().expose(),
        flow.code_verifier().expose(),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn bad_inputs_are_client_errors() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let none = AuthCodeOptions::default();
    let e = app
        .initiate_auth_code_flow(&["openid"], REDIRECT, &none)
        .await
        .unwrap_err();
    assert_eq!(e.code, "reserved_scope");
    let e = app
        .initiate_auth_code_flow(&["a"], "not a url", &none)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_parameter");
    let claims = AuthCodeOptions {
        claims: Some("nope".into()),
        ..AuthCodeOptions::default()
    };
    let e = app
        .initiate_auth_code_flow(&["a"], REDIRECT, &claims)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_json_claims_format");
}

#[tokio::test]
async fn redirect_validation() {
    let (_, _, _, flow) = started(AuthCodeOptions::default()).await;
    let state = flow.state().expose().to_owned();
    let now = start();
    for good in [
        format!("{REDIRECT}?code=the-code&state={state}&session_state=x"),
        format!("code=the-code&state={state}"),
        format!("?code=the-code&state={state}"),
        format!("{REDIRECT}#code=the-code&state={state}"),
    ] {
        let code = validate_redirect(&flow, &good, now).unwrap();
        assert_eq!(code.expose(), "the-code", "{good}");
    }
    for (bad, code) in [
        (format!("{REDIRECT}?code=c&state=forged"), "state_mismatch"),
        (format!("{REDIRECT}?code=c"), "state_mismatch"),
        (
            format!("{REDIRECT}?error=access_denied&state=forged"),
            "state_mismatch",
        ),
        (
            format!("{REDIRECT}?state={state}"),
            "non_parsable_oauth_error",
        ),
        (
            format!("{REDIRECT}?session_state=x&state={state}"),
            "invalid_token_response",
        ),
    ] {
        let e = validate_redirect(&flow, &bad, now).unwrap_err();
        assert_eq!(e.code, code, "{bad}");
        assert_eq!(
            e.correlation_id.as_deref(),
            Some(flow.correlation_id.as_str())
        );
    }
    let declined = format!(
        "{REDIRECT}?error=access_denied&error_description=AADSTS65004%3A+User+declined&state={state}"
    );
    let e = validate_redirect(&flow, &declined, now).unwrap_err();
    assert_eq!((e.kind, e.flow), (ErrorKind::Cancelled, Flow::Authorize));
    assert_eq!(e.aadsts(), &[65004]);
    let consent =
        format!("{REDIRECT}?error=interaction_required&suberror=consent_required&state={state}");
    let e = validate_redirect(&flow, &consent, now).unwrap_err();
    assert_eq!(e.classification, Some(Classification::ConsentRequired));
}

#[tokio::test]
async fn prompt_none_failures_are_prompt_never_failed() {
    let options = AuthCodeOptions {
        prompt: Some(Prompt::None),
        ..AuthCodeOptions::default()
    };
    let (_, _, _, flow) = started(options).await;
    let redirect = format!(
        "{REDIRECT}?error=login_required&state={}",
        flow.state().expose()
    );
    let e = validate_redirect(&flow, &redirect, start()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.classification, Some(Classification::PromptNeverFailed));
    assert_eq!(e.flow, Flow::AuthorizePromptNone);
}

#[tokio::test]
async fn redeems_the_code_with_the_verifier_and_checks_the_nonce() {
    let (http, _, app, flow) = started(AuthCodeOptions::default()).await;
    let nonce = flow.nonce().expose().to_owned();
    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        token_body(start(), &[("nonce", json!(nonce))]),
    );
    let redirect = format!("{REDIRECT}?code=the-code&state={}", flow.state().expose());
    let r = app
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    let req = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(req.form_value("grant_type"), Some("authorization_code"));
    assert_eq!(req.form_value("code"), Some("the-code"));
    assert_eq!(req.form_value("redirect_uri"), Some(REDIRECT));
    assert_eq!(
        req.form_value("code_verifier"),
        Some(flow.code_verifier().expose())
    );

    // Each redirect is answered once: a fresh sign-in for each answer below.
    let fresh = || async {
        let flow = app
            .initiate_auth_code_flow(&["User.Read"], REDIRECT, &AuthCodeOptions::default())
            .await
            .unwrap();
        let redirect = format!("{REDIRECT}?code=the-code&state={}", flow.state().expose());
        (flow, redirect)
    };
    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        token_body(start(), &[("nonce", json!("replayed"))]),
    );
    let (flow, redirect) = fresh().await;
    let e = app
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code, "nonce_mismatch");
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let (flow, redirect) = fresh().await;
    let e = app
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "nonce_mismatch",
        "a missing nonce is a mismatch too"
    );
}

/// RFC 9207: a provider that advertises
/// `authorization_response_iss_parameter_supported` puts its issuer in every
/// authorization response as `iss`; a response without it, or from another
/// issuer (a mix-up attack), must be refused before it is used — error
/// responses included.
#[tokio::test]
async fn rfc9207_iss_is_required_and_checked_when_advertised() {
    // A host that is not a well-known cloud: its discovery document speaks.
    let issuer = format!("https://login.contoso.net/{TENANT}/v2.0");
    let http = crate::net::scripted::ScriptedHttp::new();
    let doc = ms_discovery()
        .to_string()
        .replace("login.microsoftonline.com", "login.contoso.net");
    let mut doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    doc["issuer"] = json!(issuer);
    doc["authorization_response_iss_parameter_supported"] = json!(true);
    http.json(
        Method::Get,
        "https://login.contoso.net/common/v2.0/.well-known/openid-configuration",
        200,
        doc,
    );
    let t = ManualTime::new(start());
    let app = crate::app::PublicClientApplication::new(
        CLIENT_ID,
        crate::protocol::authority::Authority::parse("https://login.contoso.net/common").unwrap(),
        crate::app::AppOptions {
            validate_authority: false,
            ..options(&http, &t)
        },
    )
    .unwrap();
    let flow = app
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &AuthCodeOptions::default())
        .await
        .unwrap();
    let state = flow.state().expose().to_owned();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let good = format!("{REDIRECT}?code=c&state={state}&iss={}", enc(&issuer));
    assert_eq!(
        validate_redirect(&flow, &good, start()).unwrap().expose(),
        "c"
    );
    for bad in [
        format!("{REDIRECT}?code=c&state={state}"),
        format!(
            "{REDIRECT}?code=c&state={state}&iss={}",
            enc("https://evil.example/")
        ),
        format!(
            "{REDIRECT}?code=c&state={state}&iss={}",
            enc(&format!("{issuer}/"))
        ),
        format!(
            "{REDIRECT}?error=access_denied&state={state}&iss={}",
            enc("https://evil.example/")
        ),
    ] {
        let e = validate_redirect(&flow, &bad, start()).unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Client, "state_mismatch"),
            "{bad}"
        );
        assert!(e.message.contains("RFC 9207"), "{}", e.message);
        assert!(!e.message.contains("code=c"), "{}", e.message);
    }
}

/// Without the advertisement `iss` may be absent, but one that is present is
/// still compared (RFC 9207 §2.4); Entra's `{tenantid}` template matches any
/// one tenant.
#[tokio::test]
async fn rfc9207_iss_present_is_compared_even_when_not_advertised() {
    let (_, _, _, flow) = started(AuthCodeOptions::default()).await;
    let state = flow.state().expose().to_owned();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let tenant_issuer = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    for ok in [
        format!("{REDIRECT}?code=c&state={state}"),
        format!(
            "{REDIRECT}?code=c&state={state}&iss={}",
            enc(&tenant_issuer)
        ),
    ] {
        assert!(validate_redirect(&flow, &ok, start()).is_ok(), "{ok}");
    }
    for bad in [
        format!(
            "{REDIRECT}?code=c&state={state}&iss={}",
            enc("https://evil.example/x/v2.0")
        ),
        format!(
            "{REDIRECT}?code=c&state={state}&iss={}",
            enc("https://login.microsoftonline.com/a/b/v2.0")
        ),
    ] {
        let e = validate_redirect(&flow, &bad, start()).unwrap_err();
        assert_eq!(e.code, "state_mismatch", "{bad}");
    }
}
