//! Instance and OIDC discovery against scripted answers.

use super::*;
use crate::error::{ErrorKind, NetworkKind};
use crate::net::clock::ManualTime;
use crate::net::http::{Method, TransportError};
use crate::net::scripted::ScriptedHttp;
use crate::testkit::*;
use serde_json::json;

fn sender(http: &ScriptedHttp) -> Sender {
    let t = ManualTime::new(start());
    Sender {
        http: Arc::new(http.clone()),
        clock: Arc::new(t.clone()),
        sleeper: Arc::new(t),
        sku: "t".into(),
        version: "0".into(),
        retry: crate::net::retry::RetryPolicy::default(),
    }
}

fn doc(base: &str, tenant: &str) -> Value {
    json!({
        "issuer": format!("{base}/{tenant}/v2.0"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
    })
}

#[tokio::test]
async fn known_hosts_skip_instance_discovery_and_results_are_cached() {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration",
        200,
        doc("https://login.microsoftonline.com", TENANT),
    );
    let (s, d) = (sender(&http), Discovery::new());
    let a = Authority::parse("https://login.microsoftonline.com/contoso.com").unwrap();
    let r = d.resolve(&s, &a, true).await.unwrap();
    let again = d.resolve(&s, &a, true).await.unwrap();
    assert!(Arc::ptr_eq(&r, &again));
    assert_eq!(
        http.requests().len(),
        1,
        "one discovery request, no instance discovery"
    );
    assert_eq!(
        r.tenant.as_deref(),
        Some(TENANT),
        "tenant from the token endpoint"
    );
    assert_eq!(r.instance.preferred_cache, "login.windows.net");
    assert!(r.instance.aliases.contains(&"sts.windows.net".to_owned()));
    assert_eq!(
        r.endpoints.device_authorization.as_ref().unwrap().as_str(),
        "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/devicecode",
        "derived when discovery has none"
    );
    let req = &http.requests()[0];
    assert!(req.correlation_id().is_some());
    assert_eq!(req.header("x-client-sku"), Some("t"));
}

#[tokio::test]
async fn unknown_hosts_are_validated_by_instance_discovery() {
    let a = Authority::parse("https://login.contoso.net/t").unwrap();
    let url = instance_discovery_url(&a);
    assert_eq!(url.host_str(), Some(INSTANCE_DISCOVERY_HOST));
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&(
        "authorization_endpoint".into(),
        "https://login.contoso.net/t/oauth2/v2.0/authorize".into()
    )));

    let http = ScriptedHttp::new();
    http.json(Method::Get, url.as_str(), 400, json!({"error":"invalid_instance","error_description":"AADSTS50049: Unknown or invalid instance."}));
    let e = Discovery::new()
        .resolve(&sender(&http), &a, true)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Service, "invalid_instance")
    );
    assert_eq!(e.aadsts(), &[50049]);
    assert!(e.correlation_id.is_some());

    // validate_authority off: no instance discovery at all.
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        a.discovery_url().as_str(),
        200,
        doc("https://login.contoso.net", "t"),
    );
    Discovery::new()
        .resolve(&sender(&http), &a, false)
        .await
        .unwrap();
    assert_eq!(http.requests().len(), 1);
}

#[tokio::test]
async fn instance_discovery_aliases_and_soft_failures() {
    let a = Authority::parse("https://login.contoso.net/t").unwrap();
    let http = ScriptedHttp::new();
    let idisc = instance_discovery_url(&a);
    http.json(Method::Get, idisc.as_str(), 200, json!({
        "tenant_discovery_endpoint": "x",
        "metadata": [{"preferred_network":"login.contoso.net","preferred_cache":"cache.contoso.net","aliases":["login.contoso.net","cache.contoso.net"]}]
    }));
    http.json(
        Method::Get,
        a.discovery_url().as_str(),
        200,
        doc("https://login.contoso.net", "t"),
    );
    let r = Discovery::new()
        .resolve(&sender(&http), &a, true)
        .await
        .unwrap();
    assert_eq!(r.instance.preferred_cache, "cache.contoso.net");

    let http = ScriptedHttp::new();
    http.on(
        Method::Get,
        idisc.as_str(),
        Err(TransportError::new(NetworkKind::Timeout, "t")),
    );
    http.json(
        Method::Get,
        a.discovery_url().as_str(),
        200,
        doc("https://login.contoso.net", "t"),
    );
    let r = Discovery::new()
        .resolve(&sender(&http), &a, true)
        .await
        .unwrap();
    assert_eq!(
        r.instance.aliases,
        vec!["login.contoso.net"],
        "continues without aliases"
    );
}

#[tokio::test]
async fn loopback_authorities_are_their_own_instance_discovery() {
    let a = Authority::parse("http://127.0.0.1:5000/common").unwrap();
    let url = instance_discovery_url(&a);
    assert!(url
        .as_str()
        .starts_with("http://127.0.0.1:5000/common/discovery/instance?api-version=1.1"));
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        a.discovery_url().as_str(),
        200,
        doc("http://127.0.0.1:5000", "common"),
    );
    let r = Discovery::new()
        .resolve(&sender(&http), &a, true)
        .await
        .unwrap();
    assert_eq!(
        r.endpoints.token.as_str(),
        "http://127.0.0.1:5000/common/oauth2/v2.0/token"
    );
    assert_eq!(
        http.requests().len(),
        2,
        "instance discovery (404, ignored) then OIDC"
    );
}

#[tokio::test]
async fn oidc_documents_are_checked() {
    let a = Authority::oidc("https://idp.example/realm").unwrap();
    let url = a.discovery_url();
    let run = |body: Value, status: u16| {
        let http = ScriptedHttp::new();
        http.json(Method::Get, url.as_str(), status, body);
        let a = a.clone();
        async move { Discovery::new().resolve(&sender(&http), &a, true).await }
    };
    let good = json!({
        "issuer":"https://idp.example/realm",
        "authorization_endpoint":"https://idp.example/realm/auth",
        "token_endpoint":"https://idp.example/realm/token",
        "device_authorization_endpoint":"https://idp.example/realm/device/auth",
        "jwks_uri":"https://idp.example/realm/jwks"
    });
    let r = run(good.clone(), 200).await.unwrap();
    assert_eq!(
        r.endpoints.device_authorization.as_ref().unwrap().path(),
        "/realm/device/auth"
    );
    assert_eq!(r.tenant, None);
    assert_eq!(r.issuer, "https://idp.example/realm");

    let mut no_token = good.clone();
    no_token.as_object_mut().unwrap().remove("token_endpoint");
    assert_eq!(
        run(no_token, 200).await.unwrap_err().code,
        "invalid_authority"
    );
    let mut insecure = good.clone();
    insecure["token_endpoint"] = json!("http://idp.example/realm/token");
    assert_eq!(
        run(insecure, 200).await.unwrap_err().code,
        "invalid_authority"
    );
    let e = run(json!({}), 404).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.http_status()), ("not_found", Some(404)));
    assert!(e.message.contains("OpenID discovery"), "{}", e.message);
    assert!(e.correlation_id.is_some());
}

#[tokio::test]
async fn jwks_are_cached_until_a_refresh_is_asked() {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        MS_JWKS,
        200,
        json!({"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"},{"bogus":true},"x"]}),
    );
    let (s, d) = (sender(&http), Discovery::new());
    let uri = Url::parse(MS_JWKS).unwrap();
    let keys = d.jwks(&s, &uri, false).await.unwrap();
    assert_eq!(
        keys.len(),
        2,
        "an object with unknown members still parses; a string does not"
    );
    d.jwks(&s, &uri, false).await.unwrap();
    assert_eq!(http.requests().len(), 1);
    d.jwks(&s, &uri, true).await.unwrap();
    assert_eq!(http.requests().len(), 2);
}
