//! Device code polling, driven by manual time: no test really waits.

use super::*;
use crate::error::ErrorKind;
use crate::net::clock::{ManualTime, Sleeper};
use crate::net::http::{BoxFuture, Method};
use crate::net::scripted::ScriptedHttp;
use crate::testkit::*;
use serde_json::json;
use std::sync::Arc;

fn device_answer() -> serde_json::Value {
    json!({
        "device_code": "DEVICE-CODE-SECRET",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": "900",
        "interval": 5,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."
    })
}

fn pending(error: &str) -> serde_json::Value {
    json!({"error": error, "error_description": "AADSTS70016: pending", "error_codes": [70016]})
}

fn setup() -> (ScriptedHttp, ManualTime) {
    let http = ms_http();
    http.json(Method::Post, MS_DEVICE, 200, device_answer());
    (http, ManualTime::new(start()))
}

#[tokio::test]
async fn initiate_shows_the_code_at_once() {
    let (http, t) = setup();
    let app = public_app(&http, &t);
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(flow.user_code, "ABCD-EFGH");
    assert_eq!(flow.verification_uri, "https://microsoft.com/devicelogin");
    assert!(flow.message.contains("ABCD-EFGH"));
    assert_eq!(flow.expires_at, start() + Duration::from_secs(900));
    assert_eq!(flow.interval, Duration::from_secs(5));
    assert_eq!(flow.device_code().expose(), "DEVICE-CODE-SECRET");
    let req = http.requests_to(MS_DEVICE).pop().unwrap();
    assert_eq!(
        req.form_value("scope"),
        Some("User.Read openid profile offline_access")
    );
    assert!(!format!("{flow:?}").contains("DEVICE-CODE-SECRET"));
}

#[tokio::test]
async fn initiate_without_a_message_gets_ours_and_failures_are_classified() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let mut answer = device_answer();
    answer.as_object_mut().unwrap().remove("message");
    http.json(Method::Post, MS_DEVICE, 200, answer);
    http.json(
        Method::Post,
        MS_DEVICE,
        400,
        json!({"error":"unauthorized_client","error_codes":[700016]}),
    );
    let app = public_app(&http, &t);
    let flow = app.initiate_device_flow(&["a"], None).await.unwrap();
    assert!(
        flow.message.contains("https://microsoft.com/devicelogin")
            && flow.message.contains("ABCD-EFGH")
    );
    let e = app.initiate_device_flow(&["a"], None).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Service, "unauthorized_client")
    );
    assert!(e.correlation_id.is_some());
    let e = app
        .initiate_device_flow(&["profile"], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "reserved_scope");
}

/// Polling waits the interval after `authorization_pending`, adds 5 s after
/// `slow_down`, and keeps the longer interval. An `interval` of 0 is a value
/// the server named (RFC 8628 §3.2 gives 5 s only when none is named): the
/// next poll goes at once, as in every MSAL (msal Python's
/// `oauth2cli/oauth2.py`, `obtain_token_by_device_flow`, sleeps `interval`
/// one-second rounds; MSAL for Java's `AcquireTokenByDeviceCodeFlowSupplier`
/// and MSAL.NET's `DeviceCodeRequest` sleep `interval` seconds). The flow's
/// data (the Python dict) carries the interval across.
#[tokio::test]
async fn pending_then_slow_down_then_success() {
    for (interval, sleeps) in [(5, [5, 10, 10]), (0, [0, 5, 5])] {
        let (http, t) = (ms_http(), ManualTime::new(start()));
        let mut answer = device_answer();
        answer["interval"] = json!(interval);
        http.json(Method::Post, MS_DEVICE, 200, answer);
        for error in [
            "authorization_pending",
            "slow_down",
            "authorization_pending",
        ] {
            http.json(Method::Post, MS_TOKEN, 400, pending(error));
        }
        http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
        let app = public_app(&http, &t);
        let flow = app
            .initiate_device_flow(&["User.Read"], None)
            .await
            .unwrap();
        assert_eq!(flow.interval, Duration::from_secs(interval));
        let carried = DeviceFlow::from_json(&flow.to_json(start())).unwrap();
        assert_eq!(carried.interval, flow.interval);
        let r = app
            .acquire_token_by_device_flow(&carried, &CancelHandle::new())
            .await
            .unwrap();
        assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
        assert_eq!(
            t.sleeps(),
            sleeps.map(Duration::from_secs).to_vec(),
            "interval {interval}, +5 after slow_down, and it stays"
        );
        let polls = http.requests_to(MS_TOKEN);
        assert_eq!(polls.len(), 4);
        assert_eq!(polls[0].form_value("grant_type"), Some(DEVICE_CODE_GRANT));
        assert_eq!(
            polls[0].form_value("device_code"),
            Some("DEVICE-CODE-SECRET")
        );
    }
}

/// A device answer without `interval` polls every 5 s (RFC 8628 §3.2).
#[tokio::test]
async fn no_interval_named_is_five_seconds() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let mut answer = device_answer();
    answer.as_object_mut().unwrap().remove("interval");
    http.json(Method::Post, MS_DEVICE, 200, answer);
    let app = public_app(&http, &t);
    let flow = app.initiate_device_flow(&["a"], None).await.unwrap();
    assert_eq!(flow.interval, DEFAULT_INTERVAL);
}

#[tokio::test]
async fn terminal_errors_stop_polling() {
    for (error, kind) in [
        ("authorization_declined", ErrorKind::Cancelled),
        ("access_denied", ErrorKind::Cancelled),
        ("expired_token", ErrorKind::Service),
        ("bad_verification_code", ErrorKind::Service),
    ] {
        let (http, t) = setup();
        http.json(Method::Post, MS_TOKEN, 400, json!({"error": error}));
        let app = public_app(&http, &t);
        let flow = app.initiate_device_flow(&["a"], None).await.unwrap();
        let e = app
            .acquire_token_by_device_flow(&flow, &CancelHandle::new())
            .await
            .unwrap_err();
        assert_eq!((e.code.as_str(), e.kind), (error, kind));
        assert_eq!(e.flow, Flow::DeviceCode);
        assert!(
            t.sleeps().is_empty(),
            "{error}: no wait after a terminal answer"
        );
    }
}

#[tokio::test]
async fn local_expiry_gives_code_expired_without_oversleeping() {
    let (http, t) = setup();
    http.json(
        Method::Post,
        MS_TOKEN,
        400,
        pending("authorization_pending"),
    );
    let app = public_app(&http, &t);
    let mut flow = app.initiate_device_flow(&["a"], None).await.unwrap();
    flow.expires_at = start() + Duration::from_secs(12);
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "code_expired");
    assert_eq!(e.kind, ErrorKind::Client);
    assert_eq!(t.sleeps(), [5, 5, 2].map(Duration::from_secs).to_vec());
    assert_eq!(http.requests_to(MS_TOKEN).len(), 3);
}

/// A sleeper that never wakes: only cancellation can end the wait.
#[derive(Debug)]
struct Forever;

impl Sleeper for Forever {
    fn sleep(&self, _: Duration) -> BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn cancel_ends_polling_promptly() {
    let (http, t) = setup();
    http.json(
        Method::Post,
        MS_TOKEN,
        400,
        pending("authorization_pending"),
    );
    let mut opts = options(&http, &t);
    opts.sleeper = Arc::new(Forever);
    let app = crate::app::PublicClientApplication::new(
        CLIENT_ID,
        crate::protocol::authority::Authority::parse(MS_AUTHORITY).unwrap(),
        opts,
    )
    .unwrap();
    let flow = app.initiate_device_flow(&["a"], None).await.unwrap();
    let cancel = CancelHandle::new();
    let task = {
        let (app, flow, cancel) = (app.clone(), flow.clone(), cancel.clone());
        tokio::spawn(async move { app.acquire_token_by_device_flow(&flow, &cancel).await })
    };
    while http.requests_to(MS_TOKEN).is_empty() {
        tokio::task::yield_now().await;
    }
    cancel.cancel();
    let e = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("cancel must end polling promptly")
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.kind),
        ("user_cancelled", ErrorKind::Cancelled)
    );
    assert_eq!(http.requests_to(MS_TOKEN).len(), 1);
}

/// A device-code answer with `expires_in` and `interval` of u64::MAX once
/// overflowed `now + expires_in` (and `interval + 5 s` on `slow_down`): both
/// are capped, and polling still ends.
#[tokio::test]
async fn absurd_expiry_and_interval_are_capped() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let mut answer = device_answer();
    answer["expires_in"] = json!("18446744073709551615");
    answer["interval"] = json!(u64::MAX);
    http.json(Method::Post, MS_DEVICE, 200, answer);
    http.json(Method::Post, MS_TOKEN, 400, pending("slow_down"));
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let app = public_app(&http, &t);
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(flow.expires_at, start() + MAX_DEVICE_CODE_LIFETIME);
    assert_eq!(flow.interval, MAX_POLL_INTERVAL);
    let r = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    assert_eq!(
        t.sleeps(),
        vec![MAX_POLL_INTERVAL],
        "slow_down stays at the cap"
    );
}

/// `slow_down` on an interval already at the largest `Duration` saturates.
#[test]
fn slow_down_saturates() {
    use crate::error::Polling;
    assert_eq!(
        Polling::SlowDown.next_interval(Duration::MAX),
        Some(Duration::MAX)
    );
}

/// One poll for an app's own loop: the pending answer comes back as the
/// error after one request and no wait, even past the flow's `expires_at`
/// (the server decides); the next poll gets the token.
#[tokio::test]
async fn poll_once_returns_each_answer() {
    let (http, t) = setup();
    http.json(Method::Post, MS_TOKEN, 400, pending("slow_down"));
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let app = public_app(&http, &t);
    let mut flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    flow.expires_at = start() - Duration::from_secs(1);
    let e = app
        .poll_device_flow_once(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code.as_str()), (ErrorKind::Service, "slow_down"));
    assert!(e.correlation_id.is_some());
    let r = app
        .poll_device_flow_once(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    assert!(t.sleeps().is_empty());
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
}
