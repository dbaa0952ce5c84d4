//! The region rules: validation, the regional host per cloud, the plan an
//! app's configuration gives, and detection (REGION_NAME, IMDS, fallback).

use super::*;
use crate::error::NetworkKind;
use crate::net::clock::ManualTime;
use crate::net::http::{BoxFuture, HttpClient, Method, TransportError};
use crate::net::scripted::ScriptedHttp;
use crate::testkit::start;
use serde_json::json;
use std::sync::Arc;

fn sender(http: Arc<dyn HttpClient>) -> Sender {
    let t = ManualTime::new(start());
    Sender {
        http,
        clock: Arc::new(t.clone()),
        sleeper: Arc::new(t),
        sku: "t".into(),
        version: "0".into(),
        retry: crate::net::retry::RetryPolicy::default(),
    }
}

fn env(region_name: Option<&str>, force: Option<&str>) -> RegionEnvironment {
    RegionEnvironment {
        region_name: region_name.map(str::to_owned),
        force_region: force.map(str::to_owned),
        ..RegionEnvironment::empty()
    }
}

#[test]
fn regions_are_lowercase_dns_labels() {
    for ok in ["westus2", "eastus", "a", "us-gov-1", &"a".repeat(63)] {
        assert!(is_valid_region(ok), "{ok}");
    }
    for bad in [
        "",
        "WestUS",
        "2west",
        "west-",
        "west us",
        "west.us",
        "west/us",
        &"a".repeat(64),
    ] {
        assert!(!is_valid_region(bad), "{bad}");
    }
}

#[test]
fn public_cloud_hosts_go_to_login_microsoft_com_others_keep_their_host() {
    for host in [
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "LOGIN.MicrosoftOnline.com",
    ] {
        assert_eq!(
            regional_host("westus2", host),
            "westus2.login.microsoft.com"
        );
    }
    assert_eq!(
        regional_host("usgovvirginia", "login.microsoftonline.us"),
        "usgovvirginia.login.microsoftonline.us"
    );
    assert_eq!(
        regional_host("chinanorth", "login.chinacloudapi.cn"),
        "chinanorth.login.chinacloudapi.cn"
    );
    let global = Url::parse("https://login.microsoftonline.com/contoso/oauth2/v2.0/token").unwrap();
    assert_eq!(
        regional_token_endpoint("westus2", &global)
            .unwrap()
            .as_str(),
        "https://westus2.login.microsoft.com/contoso/oauth2/v2.0/token"
    );
}

#[test]
fn the_plan_follows_msal_configured_then_force_region_confidential_only() {
    let none = env(None, None);
    let forced = env(None, Some("eastus"));
    let named = AzureRegion::Named("westus2".into());
    let plan = |c: Option<&AzureRegion>, conf: bool, e: &RegionEnvironment| {
        RegionPlan::decide(c, conf, e).unwrap()
    };
    assert_eq!(
        plan(Some(&named), true, &none),
        RegionPlan::Fixed("westus2".into())
    );
    assert_eq!(
        plan(Some(&named), true, &forced),
        RegionPlan::Fixed("westus2".into())
    );
    assert_eq!(
        plan(Some(&AzureRegion::AutoDetect), true, &none),
        RegionPlan::Detect
    );
    assert_eq!(
        plan(Some(&AzureRegion::Disabled), true, &forced),
        RegionPlan::None
    );
    assert_eq!(plan(None, true, &none), RegionPlan::None);
    assert_eq!(
        plan(None, true, &forced),
        RegionPlan::Fixed("eastus".into())
    );
    assert_eq!(plan(Some(&named), false, &forced), RegionPlan::None);
    for (c, e, source) in [
        (
            Some(AzureRegion::Named("West US".into())),
            &none,
            "azure_region=",
        ),
        (None, &env(None, Some("EAST")), "MSAL_FORCE_REGION="),
    ] {
        let err = RegionPlan::decide(c.as_ref(), true, e).unwrap_err();
        assert_eq!(err.code, "invalid_parameter");
        assert!(err.message.contains(source), "{}", err.message);
    }
}

#[tokio::test]
async fn region_name_wins_and_sends_nothing() {
    let http = ScriptedHttp::new();
    let s = sender(Arc::new(http.clone()));
    assert_eq!(
        detect(&s, &env(Some("westus2"), None)).await.as_deref(),
        Some("westus2")
    );
    assert_eq!(detect(&s, &env(Some("Bad Name"), None)).await, None);
    assert!(http.requests().is_empty());
}

#[tokio::test]
async fn imds_location_is_read_with_the_metadata_header() {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        IMDS_REGION_ENDPOINT,
        200,
        json!({"location": "eastus2", "name": "vm"}),
    );
    let region = detect(&sender(Arc::new(http.clone())), &env(None, None)).await;
    assert_eq!(region.as_deref(), Some("eastus2"));
    let sent = http.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.as_str(), IMDS_REGION_ENDPOINT);
    assert_eq!(sent[0].header("Metadata"), Some("true"));
    // Only that header: no client id, sku or correlation id goes to IMDS.
    assert_eq!(sent[0].headers.len(), 1);
}

#[tokio::test]
async fn any_imds_failure_means_no_region() {
    let answers: Vec<Result<crate::error::HttpResponse, TransportError>> = vec![
        Err(TransportError::new(
            NetworkKind::ConnectionRefused,
            "refused",
        )),
        Ok(crate::net::scripted::json_response(
            500,
            &json!({"location": "eastus2"}),
        )),
        Ok(crate::net::scripted::json_response(
            200,
            &json!({"location": 7}),
        )),
        Ok(crate::net::scripted::json_response(
            200,
            &json!({"location": "East US"}),
        )),
        Ok(crate::net::scripted::json_response(200, &json!(["eastus"]))),
    ];
    for answer in answers {
        let http = ScriptedHttp::new();
        http.on(Method::Get, IMDS_REGION_ENDPOINT, answer);
        assert_eq!(
            detect(&sender(Arc::new(http)), &env(None, None)).await,
            None
        );
    }
}

/// An HTTP client that never answers (IMDS unreachable and silent).
#[derive(Debug)]
struct Silent;

impl HttpClient for Silent {
    fn send(
        &self,
        _: HttpRequest,
    ) -> BoxFuture<'_, Result<crate::error::HttpResponse, TransportError>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_silent_imds_is_given_up_after_the_timeout() {
    let t = ManualTime::new(start());
    let s = Sender {
        sleeper: Arc::new(t.clone()),
        ..sender(Arc::new(Silent))
    };
    assert_eq!(detect(&s, &env(None, None)).await, None);
    assert_eq!(t.sleeps(), vec![IMDS_REGION_TIMEOUT]);
}
