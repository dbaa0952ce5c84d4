//! Managed identity over the scripted HTTP client: the request each source
//! gets, the cache, the retries and the throttle (the emulator tests in
//! `testing/` cover the real endpoints).

use super::*;
use crate::app::AppOptions;
use crate::net::clock::{Clock, ManualTime};
use crate::net::http::Method;
use crate::net::scripted::ScriptedHttp;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
const APP: &str = "http://127.0.0.1:9/msi/token";

fn client(
    identity: ManagedIdentity,
    env: &[(&str, &str)],
    http: &ScriptedHttp,
    time: &ManualTime,
) -> ManagedIdentityClient {
    ManagedIdentityClient::new(
        identity,
        ManagedIdentityOptions {
            app: AppOptions::default()
                .with_http_client(Arc::new(http.clone()))
                .with_manual_time(time.clone()),
            environment: Some(ManagedIdentityEnvironment::from_pairs(env.iter().copied())),
            ..ManagedIdentityOptions::default()
        },
    )
    .unwrap()
}

fn query(r: &crate::net::http::HttpRequest) -> Vec<(String, String)> {
    r.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn sources_are_detected_in_msal_order() {
    use ManagedIdentitySource::*;
    let e = |pairs: &[(&str, &str)]| {
        ManagedIdentityEnvironment::from_pairs(pairs.iter().copied()).source()
    };
    assert_eq!(e(&[]), Imds);
    assert_eq!(
        e(&[("IDENTITY_ENDPOINT", "http://a"), ("IDENTITY_HEADER", "h")]),
        AppService
    );
    assert_eq!(
        e(&[
            ("IDENTITY_ENDPOINT", "http://a"),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "t")
        ]),
        ServiceFabric
    );
    assert_eq!(
        e(&[("MSI_ENDPOINT", "http://a"), ("MSI_SECRET", "s")]),
        MachineLearning
    );
    assert_eq!(e(&[("MSI_ENDPOINT", "http://a")]), CloudShell);
    assert_eq!(
        e(&[
            ("IDENTITY_ENDPOINT", "http://a"),
            ("IMDS_ENDPOINT", "http://b")
        ]),
        AzureArc
    );
    // App Service wins over Arc, Machine Learning over Cloud Shell; empty is unset.
    assert_eq!(
        e(&[
            ("IDENTITY_ENDPOINT", "http://a"),
            ("IDENTITY_HEADER", "h"),
            ("IMDS_ENDPOINT", "http://b")
        ]),
        AppService
    );
    assert_eq!(
        e(&[("IDENTITY_ENDPOINT", "http://a"), ("IDENTITY_HEADER", "")]),
        Imds
    );
}

#[tokio::test]
async fn imds_request_per_identity_kind_and_the_cache() {
    for (identity, name) in [
        (ManagedIdentity::SystemAssigned, None),
        (ManagedIdentity::ClientId("c".into()), Some("client_id")),
        (ManagedIdentity::ResourceId("/r".into()), Some("msi_res_id")),
        (ManagedIdentity::ObjectId("o".into()), Some("object_id")),
    ] {
        let http = ScriptedHttp::new();
        let time = ManualTime::starting_now();
        http.json(Method::Get, IMDS, 200, json!({"access_token": "AT", "expires_in": "86400", "resource": "R", "token_type": "Bearer"}));
        let c = client(identity.clone(), &[], &http, &time);
        let r = c.acquire_token_for_client("R", None).await.unwrap();
        assert_eq!(r.token_source, crate::TokenSource::IdentityProvider);
        assert_eq!((r.expires_in, r.refresh_in), (86400, Some(43200)));
        let req = &http.requests()[0];
        assert_eq!(req.header("metadata"), Some("true"));
        let q = query(req);
        assert_eq!(q[0], ("api-version".into(), "2018-02-01".into()));
        assert_eq!(q[1], ("resource".into(), "R".into()));
        assert_eq!(q.get(2).map(|(k, _)| k.as_str()), name);
        // Second call: from the cache, no request.
        let again = c.acquire_token_for_client("R", None).await.unwrap();
        assert_eq!(again.token_source, crate::TokenSource::Cache);
        assert_eq!(http.requests().len(), 1);
        let d = again.python_dict();
        assert_eq!(d["token_source"], "cache");
        assert!(d.contains_key("refresh_on"));
        // The cache entry is under msal's conventions.
        let doc: serde_json::Value = serde_json::from_str(&c.token_cache().serialize()).unwrap();
        let at = doc["AccessToken"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone();
        assert_eq!(at["realm"], "managed_identity");
        assert_eq!(at["environment"], "localhost");
        match identity.id() {
            Some(id) => assert_eq!(at["client_id"], id),
            None => assert!(at["client_id"].is_null()),
        }
        assert_eq!(at["target"], "R");
        // Past refresh_on the token is refreshed; a failed refresh returns the cached one.
        time.advance(Duration::from_secs(43201));
        http.json(
            Method::Get,
            IMDS,
            400,
            json!({"error": "invalid_request", "error_description": "no"}),
        );
        let fallback = c.acquire_token_for_client("R", None).await.unwrap();
        assert_eq!(fallback.token_source, crate::TokenSource::Cache);
        assert_eq!(http.requests().len(), 2);
    }
}

#[tokio::test]
async fn short_tokens_have_no_refresh_on_and_claims_skip_the_cache() {
    let http = ScriptedHttp::new();
    let time = ManualTime::starting_now();
    let env = [
        ("IDENTITY_ENDPOINT", APP),
        ("IDENTITY_HEADER", "hdr"),
        (
            "IDENTITY_SERVER_THUMBPRINT",
            "0123456789abcdef0123456789abcdef01234567",
        ),
    ];
    let exp = crate::testkit::secs(time.now()) + 3600;
    http.json(Method::Get, APP, 200, json!({"access_token": "AT", "expires_on": exp.to_string(), "resource": "R", "token_type": "Bearer"}));
    let mut app = AppOptions::default()
        .with_http_client(Arc::new(http.clone()))
        .with_manual_time(time.clone());
    app.client_capabilities = vec!["cp1".into()];
    let c = ManagedIdentityClient::new(
        ManagedIdentity::SystemAssigned,
        ManagedIdentityOptions {
            app,
            environment: Some(ManagedIdentityEnvironment::from_pairs(env)),
            ..ManagedIdentityOptions::default()
        },
    )
    .unwrap();
    let r = c.acquire_token_for_client("R", None).await.unwrap();
    assert_eq!(
        (r.expires_in, r.refresh_in, r.refresh_on),
        (3600, None, None)
    );
    let first = query(&http.requests()[0]);
    assert_eq!(first[0].1, "2019-07-01-preview");
    assert!(!first.iter().any(|(k, _)| k == "token_sha256_to_refresh"));
    assert_eq!(http.requests()[0].header("secret"), Some("hdr"));
    c.acquire_token_for_client("R", Some(r#"{"access_token":{}}"#))
        .await
        .unwrap();
    assert_eq!(http.requests().len(), 2);
    let second = query(&http.requests()[1]);
    let hash = second
        .iter()
        .find(|(k, _)| k == "token_sha256_to_refresh")
        .unwrap();
    // The SHA-256 (hex) of the rejected token, "AT".
    let expected: String = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"AT")
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hash.1, expected);
    assert!(second.contains(&("xms_cc".into(), "cp1".into())));
}

#[tokio::test]
async fn user_assigned_is_refused_locally_where_unsupported() {
    {
        let env = [("MSI_ENDPOINT", "http://127.0.0.1:9/cs")];
        let http = ScriptedHttp::new();
        let c = client(
            ManagedIdentity::ClientId("c".into()),
            &env,
            &http,
            &ManualTime::starting_now(),
        );
        let e = c.acquire_token_for_client("R", None).await.unwrap_err();
        assert_eq!(e.code, "user_assigned_managed_identity_not_supported");
        assert_eq!(e.kind, crate::ErrorKind::Client);
        assert!(http.requests().is_empty());
    }
}

#[tokio::test]
async fn invalid_endpoint_is_a_client_error() {
    let http = ScriptedHttp::new();
    let c = client(
        ManagedIdentity::SystemAssigned,
        &[("IDENTITY_ENDPOINT", "not a url"), ("IDENTITY_HEADER", "h")],
        &http,
        &ManualTime::starting_now(),
    );
    let e = c.acquire_token_for_client("R", None).await.unwrap_err();
    assert_eq!(e.code, "invalid_managed_identity_endpoint");
}

#[tokio::test]
async fn service_fabric_needs_https_off_loopback_and_a_sha1_thumbprint() {
    let good = "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67";
    for (endpoint, thumbprint) in [
        ("http://sf.example:2377/token", good),
        ("http://127.0.0.1:9/token", "not-a-thumbprint"),
    ] {
        let http = ScriptedHttp::new();
        let env = [
            ("IDENTITY_ENDPOINT", endpoint),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", thumbprint),
        ];
        let c = client(
            ManagedIdentity::SystemAssigned,
            &env,
            &http,
            &ManualTime::starting_now(),
        );
        let e = c.acquire_token_for_client("R", None).await.unwrap_err();
        assert_eq!(e.code, "invalid_managed_identity_endpoint", "{endpoint}");
        assert!(http.requests().is_empty());
    }
}

#[tokio::test]
async fn imds_retries_then_blocks_repeats() {
    let http = ScriptedHttp::new();
    let time = ManualTime::starting_now();
    http.json(
        Method::Get,
        IMDS,
        500,
        json!({"error": "server_error", "error_description": "down"}),
    );
    let c = client(ManagedIdentity::SystemAssigned, &[], &http, &time);
    let e = c.acquire_token_for_client("R", None).await.unwrap_err();
    assert_eq!(e.code, "server_error");
    assert_eq!(http.requests().len(), 4);
    assert_eq!(
        time.sleeps(),
        vec![
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(4)
        ]
    );
    // The same request is now blocked for 5 s without being sent.
    let blocked = c.acquire_token_for_client("R", None).await.unwrap_err();
    assert_eq!(blocked.kind, crate::ErrorKind::Throttled);
    assert_eq!(http.requests().len(), 4);
    time.advance(Duration::from_secs(6));
    http.json(
        Method::Get,
        IMDS,
        200,
        json!({"access_token": "AT", "expires_in": 3600}),
    );
    assert!(c.acquire_token_for_client("R", None).await.is_ok());
}

#[tokio::test]
async fn source_errors_are_shaped_as_msal_python_shapes_them() {
    let time = ManualTime::starting_now();
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        APP,
        400,
        json!({"statusCode": 400, "message": "bad resource"}),
    );
    let c = client(
        ManagedIdentity::SystemAssigned,
        &[("IDENTITY_ENDPOINT", APP), ("IDENTITY_HEADER", "h")],
        &http,
        &time,
    );
    let e = c.acquire_token_for_client("R", None).await.unwrap_err();
    assert_eq!(e.code, "invalid_scope");
    assert_eq!(
        e.service.as_ref().unwrap().error_description.as_deref(),
        Some("400, bad resource")
    );
    assert_eq!(e.http_status(), Some(400));

    let http = ScriptedHttp::new();
    http.on(
        Method::Get,
        IMDS,
        Ok(crate::HttpResponse::new(200, vec![], b"<html>".to_vec())),
    );
    let c = client(ManagedIdentity::SystemAssigned, &[], &http, &time);
    let e = c.acquire_token_for_client("R", None).await.unwrap_err();
    assert_eq!(e.code, "invalid_managed_identity_response");
    assert_eq!(
        crate::error::LocalCode::InvalidManagedIdentityResponse
            .spec()
            .python,
        crate::error::PythonForm::ValueError
    );
}
