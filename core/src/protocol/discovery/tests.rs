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

/// A well-known cloud costs no request before the first token: endpoints,
/// key set and issuer follow from the authority (see `known_cloud`).
#[tokio::test]
async fn known_clouds_resolve_offline_and_results_are_cached() {
    let http = ScriptedHttp::new();
    let (s, d) = (sender(&http), Discovery::new());
    let a = Authority::parse("https://login.microsoftonline.com/contoso.com").unwrap();
    let r = d.resolve(&s, &a, true).await.unwrap();
    let again = d.resolve(&s, &a, true).await.unwrap();
    assert!(Arc::ptr_eq(&r, &again));
    assert!(http.requests().is_empty(), "no discovery request");
    assert_eq!(r.tenant.as_deref(), Some("contoso.com"));
    assert_eq!(r.instance.preferred_cache, "login.windows.net");
    assert!(r.instance.aliases.contains(&"sts.windows.net".to_owned()));
    let base = "https://login.microsoftonline.com/contoso.com";
    assert_eq!(
        r.endpoints.token.as_str(),
        format!("{base}/oauth2/v2.0/token")
    );
    assert_eq!(
        r.endpoints.authorization.as_str(),
        format!("{base}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        r.endpoints.device_authorization.as_ref().unwrap().as_str(),
        format!("{base}/oauth2/v2.0/devicecode")
    );
    assert_eq!(
        r.jwks_uri.as_ref().unwrap().as_str(),
        format!("{base}/discovery/v2.0/keys")
    );
    assert_eq!(
        r.issuer, "https://login.microsoftonline.com/{tenantid}/v2.0",
        "a domain's tenant id comes from each token's tid"
    );
    assert!(!r.iss_parameter_supported);

    // A tenant id is its own issuer; an alias sends to the preferred host.
    let upper = TENANT.to_ascii_uppercase();
    let a = Authority::parse(&format!("https://login.windows.net/{upper}")).unwrap();
    let r = d.resolve(&s, &a, true).await.unwrap();
    assert_eq!(
        r.issuer,
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    assert_eq!(
        r.endpoints.token.host_str(),
        Some("login.microsoftonline.com")
    );
    // Sovereign clouds from MSAL.NET's list, aliases included.
    for (host, network) in [
        ("login.chinacloudapi.cn", "login.partner.microsoftonline.cn"),
        ("login.usgovcloudapi.net", "login.microsoftonline.us"),
        ("login.sovcloud-identity.fr", "login.sovcloud-identity.fr"),
    ] {
        let a = Authority::parse(&format!("https://{host}/common")).unwrap();
        let r = d.resolve(&s, &a, true).await.unwrap();
        assert_eq!(r.endpoints.token.host_str(), Some(network), "{host}");
        assert_eq!(r.issuer, format!("https://{network}/{{tenantid}}/v2.0"));
    }
    assert!(http.requests().is_empty(), "no request for any known cloud");
}

/// The test switch: a loopback Entra authority counts as a known cloud only
/// when asked; B2C, CIAM and other providers keep their discovery.
#[tokio::test]
async fn loopback_counts_as_a_known_cloud_only_when_switched_on() {
    let http = ScriptedHttp::new();
    let local = Authority::parse("http://127.0.0.1:5000/contoso.com").unwrap();
    let r = Discovery::with_loopback_as_known_cloud()
        .resolve(&sender(&http), &local, true)
        .await
        .unwrap();
    assert!(http.requests().is_empty());
    assert_eq!(
        r.endpoints.token.as_str(),
        "http://127.0.0.1:5000/contoso.com/oauth2/v2.0/token"
    );
    assert_eq!(r.issuer, "http://127.0.0.1:5000/{tenantid}/v2.0");
    for a in [
        Authority::parse("https://fab.b2clogin.com/fab.onmicrosoft.com/B2C_1_signin").unwrap(),
        Authority::parse("https://contoso.ciamlogin.com/contoso.onmicrosoft.com").unwrap(),
        Authority::oidc("https://idp.example/realm").unwrap(),
        Authority::parse("https://login.contoso.net/common").unwrap(),
    ] {
        assert!(
            known_cloud::resolve_offline(&a, true).is_none(),
            "{}",
            a.as_str()
        );
    }
    let plain = Discovery::new()
        .resolve(&sender(&http), &local, false)
        .await;
    assert!(
        plain.is_err(),
        "without the switch, discovery runs (unscripted here)"
    );
    assert_eq!(http.requests().len(), 1);
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
    let e = Discovery::new()
        .resolve(&sender(&http), &a, true)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Network, "request_timeout"),
        "an unvalidated host is not used"
    );
    assert!(
        http.requests_to(a.discovery_url().as_str()).is_empty(),
        "no OIDC discovery after it"
    );
}

/// Instance discovery that fails in any way (not only `invalid_instance`)
/// used to continue with the unvalidated host; with validation on, the host
/// is now used only once instance discovery vouched for it.
#[tokio::test]
async fn failed_instance_discovery_fails_closed() {
    let a = Authority::parse("https://login.contoso.net/t").unwrap();
    let idisc = instance_discovery_url(&a);
    let run = |answer: Option<(u16, Value)>, validate: bool| {
        let http = ScriptedHttp::new();
        match answer {
            Some((status, body)) => http.json(Method::Get, idisc.as_str(), status, body),
            None => http.on(
                Method::Get,
                idisc.as_str(),
                Err(TransportError::new(
                    NetworkKind::ConnectionRefused,
                    "refused",
                )),
            ),
        };
        http.json(
            Method::Get,
            a.discovery_url().as_str(),
            200,
            doc("https://login.contoso.net", "t"),
        );
        let a = a.clone();
        async move { Discovery::new().resolve(&sender(&http), &a, validate).await }
    };
    let e = run(Some((500, json!({}))), true).await;
    let e = e.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Service, "service_not_available")
    );
    assert!(e.message.contains("instance discovery"), "{}", e.message);
    let e = run(None, true).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    let e = run(Some((404, json!({}))), true).await.unwrap_err();
    assert_eq!(e.code, "not_found");
    // A 200 that does not vouch for the host (msal Python needs its
    // tenant_discovery_endpoint) is not a validation either.
    let e = run(Some((200, json!({"metadata": []}))), true)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Client, "invalid_authority")
    );
    assert!(e.message.contains("login.contoso.net"), "{}", e.message);
    // Validation off: instance discovery is not asked at all.
    run(None, false).await.unwrap();
}

/// A discovered endpoint used to be accepted as `http://` whenever its host
/// was loopback, even under an https authority: a hostile document could
/// send the code and the client secret over cleartext to a local listener.
#[tokio::test]
async fn endpoints_under_an_https_authority_are_https() {
    let a = Authority::oidc("https://idp.example/realm").unwrap();
    let good = json!({
        "issuer":"https://idp.example/realm",
        "authorization_endpoint":"https://idp.example/realm/auth",
        "token_endpoint":"https://idp.example/realm/token",
        "jwks_uri":"https://idp.example/realm/jwks"
    });
    for (key, value) in [
        ("token_endpoint", "http://localhost/realm/token"),
        ("authorization_endpoint", "http://127.0.0.1:8080/auth"),
        ("device_authorization_endpoint", "http://[::1]/device"),
        ("jwks_uri", "http://localhost/jwks"),
    ] {
        let mut d = good.clone();
        d[key] = json!(value);
        let http = ScriptedHttp::new();
        http.json(Method::Get, a.discovery_url().as_str(), 200, d);
        let e = Discovery::new()
            .resolve(&sender(&http), &a, true)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Client, "invalid_authority"),
            "{key}"
        );
        assert!(e.message.contains(key), "{}", e.message);
    }
    // A loopback authority (an emulator, a test provider) keeps http.
    let local = Authority::oidc("http://127.0.0.1:4000/realm").unwrap();
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        local.discovery_url().as_str(),
        200,
        json!({
            "issuer":"http://127.0.0.1:4000/realm",
            "authorization_endpoint":"http://127.0.0.1:4000/realm/auth",
            "token_endpoint":"http://localhost:4000/realm/token"
        }),
    );
    Discovery::new()
        .resolve(&sender(&http), &local, true)
        .await
        .unwrap();
}

/// OpenID Connect Discovery 1.0 §4.3: the document's `issuer` must be the
/// issuer the client was configured with; it was never compared.
#[tokio::test]
async fn the_documents_issuer_must_be_the_authoritys() {
    let check = |authority: Authority, issuer: &str| {
        let mut d = json!({
            "authorization_endpoint":"https://idp.example/realm/auth",
            "token_endpoint":"https://idp.example/realm/token",
        });
        if let Some(t) = authority.derived_endpoints() {
            d["token_endpoint"] = json!(t.token.as_str());
            d["authorization_endpoint"] = json!(t.authorization.as_str());
        }
        d["issuer"] = json!(issuer);
        let http = ScriptedHttp::new();
        http.json(Method::Get, authority.discovery_url().as_str(), 200, d);
        async move {
            Discovery::new()
                .resolve(&sender(&http), &authority, false)
                .await
                .map(|_| "ok".to_owned())
                .unwrap_or_else(|e| {
                    assert_eq!(e.kind, ErrorKind::Client, "{}", e.message);
                    e.code
                })
        }
    };
    let oidc = || Authority::oidc("https://idp.example/realm").unwrap();
    assert_eq!(check(oidc(), "https://idp.example/realm").await, "ok");
    assert_eq!(check(oidc(), "https://idp.example/realm/").await, "ok");
    for bad in [
        "https://evil.example/realm",
        "https://idp.example/other",
        "https://idp.example",
        "http://idp.example/realm",
        "https://idp.example:8443/realm",
        "not a url",
    ] {
        assert_eq!(check(oidc(), bad).await, "invalid_authority", "{bad}");
    }

    let ms = |t: &str| Authority::parse(&format!("https://login.microsoftonline.com/{t}")).unwrap();
    let iss = |host: &str, t: &str| format!("https://{host}/{t}/v2.0");
    let other = "00000000-1111-2222-3333-444444444444";
    // Known clouds resolve offline; the rule still guards a host that
    // reaches discovery (a custom domain in front of a cloud), so it is
    // checked here directly.
    let check_ms = |authority: Authority, issuer: &str| {
        let instance = InstanceMetadata::known(&authority.host()).unwrap();
        let token = authority.derived_endpoints().unwrap().token;
        match check_issuer(&authority, issuer, &instance, tenant_of(&token).as_deref()) {
            Ok(()) => "ok",
            Err(_) => "invalid_authority",
        }
    };
    for (authority, issuer, want) in [
        // Entra's v2.0 document for the multi-tenant names is a template.
        (
            ms("common"),
            iss("login.microsoftonline.com", "{tenantid}"),
            "ok",
        ),
        (
            ms("organizations"),
            iss("login.microsoftonline.com", "{tenantid}"),
            "ok",
        ),
        (ms(TENANT), iss("login.microsoftonline.com", TENANT), "ok"),
        // A domain names one tenant whose id only the document knows.
        (
            ms("contoso.com"),
            iss("login.microsoftonline.com", TENANT),
            "ok",
        ),
        (
            ms("consumers"),
            iss(
                "login.microsoftonline.com",
                "9188040d-6c67-4c5b-b112-36a304b66dad",
            ),
            "ok",
        ),
        // Aliases of one cloud share its issuer.
        (
            Authority::parse("https://login.windows.net/common").unwrap(),
            iss("login.microsoftonline.com", "{tenantid}"),
            "ok",
        ),
        (
            ms(TENANT),
            iss("login.microsoftonline.com", other),
            "invalid_authority",
        ),
        (
            ms(TENANT),
            iss("login.microsoftonline.com", "{tenantid}"),
            "invalid_authority",
        ),
        (
            ms("contoso.com"),
            iss("login.microsoftonline.com", "{tenantid}"),
            "invalid_authority",
        ),
        (
            ms("common"),
            iss("evil.example", "{tenantid}"),
            "invalid_authority",
        ),
        (
            ms("common"),
            iss("login.microsoftonline.us", "{tenantid}"),
            "invalid_authority",
        ),
        (
            ms("common"),
            format!("https://login.microsoftonline.com/{TENANT}/v1.0"),
            "invalid_authority",
        ),
        (
            ms(TENANT),
            format!("http://login.microsoftonline.com/{TENANT}/v2.0"),
            "invalid_authority",
        ),
    ] {
        let shown = format!("{} / {issuer}", authority.as_str());
        assert_eq!(check_ms(authority, &issuer), want, "{shown}");
    }

    // B2C: `{host}/{tenant id}/v2.0/`, or the tfp form naming the policy.
    let b2c =
        || Authority::parse("https://fab.b2clogin.com/fab.onmicrosoft.com/B2C_1_signin").unwrap();
    assert_eq!(
        check(b2c(), &format!("https://fab.b2clogin.com/{TENANT}/v2.0/")).await,
        "ok"
    );
    assert_eq!(
        check(
            b2c(),
            &format!("https://fab.b2clogin.com/tfp/{TENANT}/b2c_1_signin/v2.0/")
        )
        .await,
        "ok"
    );
    assert_eq!(
        check(b2c(), &format!("https://other.b2clogin.com/{TENANT}/v2.0/")).await,
        "invalid_authority"
    );
    // CIAM: the issuer's host is the tenant id's.
    let ciam = Authority::parse(&format!("https://contoso.ciamlogin.com/{TENANT}")).unwrap();
    assert_eq!(
        check(
            ciam.clone(),
            &format!("https://{TENANT}.ciamlogin.com/{TENANT}/v2.0")
        )
        .await,
        "ok"
    );
    assert_eq!(
        check(ciam, &format!("https://{other}.ciamlogin.com/{other}/v2.0")).await,
        "invalid_authority"
    );
    // A loopback emulator's document.
    let emu = Authority::parse("http://127.0.0.1:5000/organizations").unwrap();
    assert_eq!(
        check(emu.clone(), "http://127.0.0.1:5000/{tenantid}/v2.0").await,
        "ok"
    );
    assert_eq!(
        check(emu, "http://127.0.0.1:5001/{tenantid}/v2.0").await,
        "invalid_authority"
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
    http.json(Method::Get, url.as_str(), 200, json!({
        "tenant_discovery_endpoint": "http://127.0.0.1:5000/common/v2.0/.well-known/openid-configuration",
        "metadata": [{"preferred_network":"127.0.0.1:5000","preferred_cache":"127.0.0.1:5000","aliases":["127.0.0.1:5000","localhost:5000"]}]
    }));
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
    assert_eq!(r.instance.aliases, vec!["127.0.0.1:5000", "localhost:5000"]);
    assert_eq!(http.requests().len(), 2, "instance discovery then OIDC");
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
