//! Id token validation with keys generated here.

use super::*;
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::net::scripted::ScriptedHttp;
use crate::protocol::authority::Authority;
use crate::testkit::*;
use serde_json::json;
use std::sync::Arc;

fn claims(now: SystemTime) -> IdTokenClaims {
    IdTokenClaims::from_map(ms_claims(now))
}

fn expected(now: SystemTime) -> Expected<'static> {
    Expected {
        issuer: MS_ISSUER_TEMPLATE,
        client_id: CLIENT_ID,
        nonce: None,
        now,
    }
}

fn code(r: Result<(), Invalid>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err((c, _)) => c.as_str(),
    }
}

#[test]
fn issuer_template_audience_and_typed_claims() {
    let c = claims(start());
    assert_eq!(code(check_claims(&c, &expected(start()))), "ok");
    assert_eq!(c.username(), Some("user@contoso.com"));
    assert_eq!(c.aud, vec![CLIENT_ID]);
    let mut other_tenant = c.clone();
    other_tenant.iss = "https://login.microsoftonline.com/other/v2.0".into();
    assert_eq!(
        code(check_claims(&other_tenant, &expected(start()))),
        "invalid_jwt"
    );
    let mut aud = ms_claims(start());
    aud.insert("aud".into(), json!(["x", CLIENT_ID]));
    aud.insert("azp".into(), json!(CLIENT_ID));
    assert_eq!(
        code(check_claims(
            &IdTokenClaims::from_map(aud),
            &expected(start())
        )),
        "ok"
    );
    let mut wrong = c.clone();
    wrong.aud = vec!["x".into()];
    assert_eq!(
        code(check_claims(&wrong, &expected(start()))),
        "invalid_jwt"
    );
    let fixed = Expected {
        issuer: "https://idp.example/",
        ..expected(start())
    };
    let mut oidc = c;
    oidc.iss = "https://idp.example".into();
    assert_eq!(
        code(check_claims(&oidc, &fixed)),
        "ok",
        "trailing slash tolerated"
    );
}

/// OpenID Connect Core §3.1.3.7 points 4 and 5: a token for several
/// audiences must name this client as its authorized party (`azp`), and an
/// `azp` that is present must be this client.
#[test]
fn several_audiences_need_azp_equal_to_the_client_id() {
    let with = |aud: Value, azp: Option<&str>| {
        let mut m = ms_claims(start());
        m.insert("aud".into(), aud);
        match azp {
            Some(a) => m.insert("azp".into(), json!(a)),
            None => m.remove("azp"),
        };
        code(check_claims(
            &IdTokenClaims::from_map(m),
            &expected(start()),
        ))
    };
    assert_eq!(with(json!(["x", CLIENT_ID]), None), "invalid_jwt");
    assert_eq!(with(json!(["x", CLIENT_ID]), Some("x")), "invalid_jwt");
    assert_eq!(with(json!([CLIENT_ID, "x"]), Some(CLIENT_ID)), "ok");
    assert_eq!(
        with(json!(CLIENT_ID), None),
        "ok",
        "one audience: azp optional"
    );
    assert_eq!(with(json!([CLIENT_ID]), None), "ok");
    assert_eq!(
        with(json!(CLIENT_ID), Some("another-app")),
        "invalid_jwt",
        "an azp that is present must be this client"
    );
}

#[test]
fn expiry_and_not_before_with_five_minutes_of_skew() {
    let c = claims(start());
    let exp = start() + Duration::from_secs(3600);
    let at = |t: SystemTime| code(check_claims(&c, &expected(t)));
    assert_eq!(at(exp + ID_TOKEN_SKEW), "ok");
    assert_eq!(
        at(exp + ID_TOKEN_SKEW + Duration::from_secs(1)),
        "invalid_jwt"
    );
    assert_eq!(at(start() - ID_TOKEN_SKEW), "ok");
    assert_eq!(
        at(start() - ID_TOKEN_SKEW - Duration::from_secs(1)),
        "invalid_jwt"
    );
    let mut no_exp = c.clone();
    no_exp.exp = None;
    assert_eq!(
        code(check_claims(&no_exp, &expected(start()))),
        "invalid_jwt"
    );
}

#[test]
fn nonce_must_match_when_sent() {
    let mut c = claims(start());
    let with = |n| Expected {
        nonce: Some(n),
        ..expected(start())
    };
    assert_eq!(code(check_claims(&c, &with("n1"))), "nonce_mismatch");
    c.nonce = Some("n1".into());
    assert_eq!(code(check_claims(&c, &with("n1"))), "ok");
    assert_eq!(code(check_claims(&c, &with("n2"))), "nonce_mismatch");
    assert_eq!(code(check_claims(&c, &expected(start()))), "ok");
}

#[test]
fn keys_are_chosen_by_kid() {
    let token = sign(&key(), KID, &ms_claims(start()));
    let jwt = jwt::decode(&token).unwrap();
    let keys =
        |v: serde_json::Value| -> Vec<Jwk> { serde_json::from_value(v["keys"].clone()).unwrap() };
    assert_eq!(verify_with(&jwt, &keys(jwks(&[(&key(), KID)]))), Some(true));
    assert_eq!(
        verify_with(&jwt, &keys(jwks(&[(&other_key(), KID)]))),
        Some(false)
    );
    assert_eq!(verify_with(&jwt, &keys(jwks(&[(&key(), "other")]))), None);
}

async fn run(
    http: &ScriptedHttp,
    token: &str,
    now: SystemTime,
) -> Result<IdTokenClaims, (String, String)> {
    let t = ManualTime::new(now);
    let sender = Sender {
        http: Arc::new(http.clone()),
        clock: Arc::new(t.clone()),
        sleeper: Arc::new(t),
        sku: "t".into(),
        version: "0".into(),
        retry: crate::net::retry::RetryPolicy::default(),
    };
    let discovery = Discovery::new();
    let authority = Authority::parse(MS_AUTHORITY).unwrap();
    let resolved = discovery.resolve(&sender, &authority, true).await.unwrap();
    validate(&discovery, &sender, &resolved, token, CLIENT_ID, None)
        .await
        .map_err(|e| (e.code, e.message))
}

#[tokio::test]
async fn refetches_the_key_set_once_when_the_kid_is_unknown() {
    let http = ms_http();
    let rolled = sign(&other_key(), "rolled-over", &ms_claims(start()));
    // The cached set lacks the new key; the refetch brings it.
    http.json(
        Method::Get,
        MS_JWKS,
        200,
        jwks(&[(&other_key(), "rolled-over")]),
    );
    let claims = run(&http, &rolled, start()).await.unwrap();
    assert_eq!(claims.tid.as_deref(), Some(TENANT));
    assert_eq!(http.requests_to(MS_JWKS).len(), 2);

    let unknown = sign(&other_key(), "nobody", &ms_claims(start()));
    let (c, why) = run(&http, &unknown, start()).await.unwrap_err();
    assert_eq!(c, "invalid_jwt");
    assert!(why.contains("kid"), "{why}");
}

#[tokio::test]
async fn refuses_bad_signatures_algorithms_and_garbage() {
    let http = ms_http();
    let forged = sign(&other_key(), KID, &ms_claims(start()));
    let (c, why) = run(&http, &forged, start()).await.unwrap_err();
    assert_eq!(c, "invalid_jwt");
    assert!(why.contains("signature"), "{why}");

    let header = jwt::b64url(br#"{"alg":"HS256","kid":"test-key-1"}"#);
    let body = jwt::b64url(
        serde_json::Value::Object(ms_claims(start()))
            .to_string()
            .as_bytes(),
    );
    let (c, _) = run(&http, &format!("{header}.{body}.c2ln"), start())
        .await
        .unwrap_err();
    assert_eq!(c, "invalid_jwt");
    let (c, why) = run(&http, "not-a-jwt", start()).await.unwrap_err();
    assert_eq!(c, "invalid_jwt");
    assert!(
        !why.contains("not-a-jwt"),
        "the token is never echoed: {why}"
    );

    let expired = sign(&key(), KID, &ms_claims(start()));
    let late = start() + Duration::from_secs(3600) + ID_TOKEN_SKEW + Duration::from_secs(60);
    let (c, _) = run(&http, &expired, late).await.unwrap_err();
    assert_eq!(c, "invalid_jwt");
}

#[tokio::test]
async fn an_unreachable_key_set_is_reported_as_such() {
    let http = ms_http();
    http.on(
        Method::Get,
        MS_JWKS,
        Err(crate::net::http::TransportError::new(
            crate::error::NetworkKind::Timeout,
            "slow",
        )),
    );
    let token = sign(&key(), KID, &ms_claims(start()));
    // The queued good answer is served first and cached; a fresh discovery
    // cache then meets the timeout.
    run(&http, &token, start()).await.unwrap();
    let (c, _) = run(&http, &token, start()).await.unwrap_err();
    assert_eq!(c, "request_timeout");
}

#[test]
fn debug_shows_claim_names_not_values() {
    let shown = format!("{:?}", claims(start()));
    assert!(!shown.contains("user@contoso.com"), "{shown}");
    assert!(shown.contains("preferred_username"));
}
