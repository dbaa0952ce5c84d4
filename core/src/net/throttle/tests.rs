use super::*;
use crate::error::{classify_at, HttpResponse};
use std::time::UNIX_EPOCH;

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const URL: &str = "https://login.microsoftonline.com/t/oauth2/v2.0/token";

fn error(status: u16, headers: &[(&str, &str)], body: &str, flow: Flow) -> IdFlowError {
    let r = HttpResponse::new(
        status,
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body.as_bytes().to_vec(),
    );
    classify_at(&r, flow, UNIX_EPOCH).error.unwrap()
}

#[test]
fn key_normalizes_scopes_and_hashes_the_subject() {
    let a = ThrottleKey::for_token_request(
        URL,
        &form(&[
            ("client_id", "c"),
            ("scope", "User.Read openid  Mail.Read"),
            ("refresh_token", "rt-secret-1"),
        ]),
    );
    let b = ThrottleKey::for_token_request(
        &format!("{URL}/"),
        &form(&[
            ("scope", "mail.read user.read OPENID user.read"),
            ("refresh_token", "rt-secret-1"),
            ("client_id", "c"),
        ]),
    );
    assert_eq!(a, b);
    assert_eq!(
        a.app_scopes,
        "c\nhttps://login.microsoftonline.com/t/oauth2/v2.0/token\nmail.read openid user.read"
    );
    // The client id keeps its case; the URL and the scopes are folded, and
    // scopes differing only in case are one.
    let upper = ThrottleKey::for_token_request(
        "HTTPS://Login.Example/T/token//",
        &form(&[("client_id", "C-Id"), ("scope", "B a  A b/.Default")]),
    );
    assert_eq!(
        upper.app_scopes,
        "C-Id\nhttps://login.example/t/token\na b b/.default"
    );
    assert_eq!(a.subject.len(), 64);
    assert!(!format!("{a:?}").contains("rt-secret-1"));
    let other_rt = ThrottleKey::for_token_request(
        URL,
        &form(&[
            ("client_id", "c"),
            ("scope", "User.Read openid Mail.Read"),
            ("refresh_token", "rt-secret-2"),
        ]),
    );
    assert_eq!(other_rt.app_scopes, a.app_scopes);
    assert_ne!(other_rt.subject, a.subject);
    let with_claims = ThrottleKey::for_token_request(
        URL,
        &form(&[
            ("client_id", "c"),
            ("scope", "User.Read openid Mail.Read"),
            ("refresh_token", "rt-secret-1"),
            ("claims", "{}"),
        ]),
    );
    assert_ne!(with_claims, a);
    let app_only =
        ThrottleKey::for_token_request(URL, &form(&[("client_id", "c"), ("scope", "x/.default")]));
    assert_eq!(app_only.subject, "");
    let other_client =
        ThrottleKey::for_token_request(URL, &form(&[("client_id", "d"), ("scope", "x/.default")]));
    assert_ne!(app_only, other_client);
}

#[test]
fn durations_follow_the_three_rules() {
    let ra = error(429, &[("Retry-After", "30")], "", Flow::Token);
    for public in [true, false] {
        assert_eq!(
            Throttle::duration_for(&ra, Flow::Token, public),
            Some(Duration::from_secs(30))
        );
    }
    let huge = error(503, &[("Retry-After", "86400")], "", Flow::Token);
    assert_eq!(
        Throttle::duration_for(&huge, Flow::Token, false),
        Some(MAX_RETRY_AFTER)
    );
    let zero = error(429, &[("Retry-After", "0")], "", Flow::Token);
    assert_eq!(Throttle::duration_for(&zero, Flow::Token, true), None);
    for status in [429, 500, 503] {
        let bare = error(status, &[], "", Flow::Token);
        assert_eq!(
            Throttle::duration_for(&bare, Flow::Token, true),
            Some(HTTP_STATUS_THROTTLE),
            "{status}"
        );
        assert_eq!(Throttle::duration_for(&bare, Flow::Token, false), None);
    }
    let ui = r#"{"error":"invalid_grant","suberror":"basic_action"}"#;
    let silent = error(400, &[], ui, Flow::Silent);
    assert_eq!(
        Throttle::duration_for(&silent, Flow::Silent, true),
        Some(UI_REQUIRED_THROTTLE)
    );
    assert_eq!(Throttle::duration_for(&silent, Flow::Silent, false), None);
    let token = error(400, &[], ui, Flow::Token);
    assert_eq!(Throttle::duration_for(&token, Flow::Token, true), None);
    let plain = error(400, &[], r#"{"error":"invalid_scope"}"#, Flow::Token);
    assert_eq!(Throttle::duration_for(&plain, Flow::Token, true), None);
    let network = IdFlowError::network(crate::NetworkKind::Timeout, "t");
    assert_eq!(Throttle::duration_for(&network, Flow::Token, true), None);
}

#[test]
fn a_block_answers_with_the_original_until_it_expires() {
    let t = Throttle::new();
    let key = ThrottleKey::for_token_request(URL, &form(&[("client_id", "c")]));
    let body = r#"{"error":"temporarily_unavailable","error_codes":[90033],"suberror":"s","claims":"{\"a\":1}","correlation_id":"corr-1"}"#;
    let original = error(
        429,
        &[("Retry-After", "30"), ("x-ms-request-id", "r1")],
        body,
        Flow::Token,
    );
    let now = UNIX_EPOCH + Duration::from_secs(1000);
    t.record(key.clone(), &original, Flow::Token, false, now);
    assert_eq!(t.len(), 1);
    let e = t
        .check(&key, Flow::Token, now + Duration::from_millis(10_500))
        .expect("blocked");
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.code, "temporarily_unavailable");
    assert_eq!(e.retry_after, Some(Duration::from_secs(20)), "rounded up");
    // Claims do not make the original interaction-required (the error
    // decides): the way out is waiting, and the claims stay attached.
    assert_eq!(original.kind, ErrorKind::Service);
    assert_eq!(e.action, Action::RetryAfter);
    assert!(e.retryable);
    assert_eq!(e.http_status(), Some(429));
    assert_eq!(e.suberror(), Some("s"));
    assert_eq!(e.claims(), Some("{\"a\":1}"));
    assert_eq!(e.aadsts(), &[90033]);
    assert_eq!(e.correlation_id.as_deref(), Some("corr-1"));
    let headers = &e.service.as_ref().unwrap().headers;
    assert!(headers.contains(&("x-ms-request-id".into(), "r1".into())));
    assert!(e.message.contains("throttled"), "{}", e.message);
    assert!(e.mitigation.contains("blocked locally"), "{}", e.mitigation);
    // Another key is not blocked.
    let other = ThrottleKey::for_token_request(URL, &form(&[("client_id", "d")]));
    assert!(t.check(&other, Flow::Token, now).is_none());
    // At the end of the wait the block is gone, and forgotten.
    assert!(t
        .check(&key, Flow::Token, now + Duration::from_secs(30))
        .is_none());
    assert!(t.is_empty());
}

#[test]
fn ui_required_blocks_keep_their_classification_and_ask_for_interaction() {
    let t = Throttle::new();
    let rt = form(&[("client_id", "c"), ("scope", "a"), ("refresh_token", "x")]);
    let key = ThrottleKey::for_token_request(URL, &rt);
    let original = error(
        400,
        &[],
        r#"{"error":"invalid_grant","suberror":"basic_action"}"#,
        Flow::Silent,
    );
    t.record(key.clone(), &original, Flow::Silent, true, UNIX_EPOCH);
    assert!(
        t.check(&key, Flow::Token, UNIX_EPOCH).is_none(),
        "silent only"
    );
    let e = t.check(&key, Flow::Silent, UNIX_EPOCH).unwrap();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.classification, original.classification);
    assert_eq!(e.action, Action::AcquireInteractively);
    assert_eq!(e.retry_after, Some(UI_REQUIRED_THROTTLE));
    assert!(e.mitigation.contains("interactively"), "{}", e.mitigation);
}

#[test]
fn clearing_lifts_every_block_on_the_client_and_scopes() {
    let t = Throttle::new();
    let ra = error(429, &[("Retry-After", "30")], "", Flow::Token);
    let k1 = ThrottleKey::for_token_request(
        URL,
        &form(&[("client_id", "c"), ("scope", "a b"), ("refresh_token", "1")]),
    );
    let k2 = ThrottleKey::for_token_request(
        URL,
        &form(&[("client_id", "c"), ("scope", "b a"), ("refresh_token", "2")]),
    );
    let k3 = ThrottleKey::for_token_request(
        URL,
        &form(&[
            ("client_id", "c"),
            ("scope", "other"),
            ("refresh_token", "1"),
        ]),
    );
    for k in [&k1, &k2, &k3] {
        t.record(k.clone(), &ra, Flow::Token, true, UNIX_EPOCH);
    }
    let code = ThrottleKey::for_token_request(
        URL,
        &form(&[("client_id", "c"), ("scope", "a b"), ("code", "c0de")]),
    );
    t.clear(&code);
    assert!(t.check(&k1, Flow::Token, UNIX_EPOCH).is_none());
    assert!(t.check(&k2, Flow::Token, UNIX_EPOCH).is_none());
    assert!(t.check(&k3, Flow::Token, UNIX_EPOCH).is_some());
}

#[test]
fn every_language_sees_the_throttled_shape() {
    use crate::idioms::{self, user_info_key as k, KotlinClass, PythonView, UserInfoValue};
    let t = Throttle::new();
    let key = ThrottleKey::for_token_request(URL, &form(&[("client_id", "c")]));
    let body = r#"{"error":"temporarily_unavailable","error_codes":[90033]}"#;
    let original = error(429, &[("Retry-After", "30")], body, Flow::Token);
    t.record(key.clone(), &original, Flow::Token, false, UNIX_EPOCH);
    let e = t.check(&key, Flow::Token, UNIX_EPOCH).unwrap();

    let swift = idioms::swift(&e);
    let info = |key: &str| {
        swift
            .user_info
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        info(k::THROTTLING_CACHE_HIT),
        Some(UserInfoValue::Bool(true))
    );
    assert_eq!(info(k::RETRY_AFTER), Some(UserInfoValue::Int(30)));
    assert_eq!(
        info(k::OAUTH_ERROR),
        Some(UserInfoValue::Text("temporarily_unavailable".into()))
    );
    assert_eq!(
        info(k::HTTP_RESPONSE_CODE),
        Some(UserInfoValue::Text("429".into()))
    );
    assert_eq!(swift.code, idioms::swift(&original).code);

    assert_eq!(idioms::kotlin(&e).class, KotlinClass::ThrottlingException);

    let PythonView::Dict(d) = idioms::python(&e) else {
        panic!("a dict")
    };
    assert_eq!(d["error"], "temporarily_unavailable");
    assert_eq!(d["error_kind"], "throttled");
    assert_eq!(d["retry_after"], 30);
    assert_eq!(d["http_status"], 429);

    // A throttled interaction-required error is still -50002 in Swift.
    let ui = error(400, &[], r#"{"error":"invalid_grant"}"#, Flow::Silent);
    t.record(key.clone(), &ui, Flow::Silent, true, UNIX_EPOCH);
    let e = t.check(&key, Flow::Silent, UNIX_EPOCH).unwrap();
    assert_eq!(idioms::swift(&e).code, -50002);
}

#[test]
fn the_number_of_blocks_is_bounded() {
    let t = Throttle::new();
    let ra = error(429, &[("Retry-After", "30")], "", Flow::Token);
    let key = |i: usize| {
        ThrottleKey::for_token_request(
            URL,
            &form(&[("client_id", "c"), ("refresh_token", &i.to_string())]),
        )
    };
    // All live; the first recorded ends soonest.
    for i in 0..MAX_BLOCKS {
        t.record(
            key(i),
            &ra,
            Flow::Token,
            false,
            UNIX_EPOCH + Duration::from_millis(i as u64),
        );
    }
    assert_eq!(t.len(), MAX_BLOCKS);
    let now = UNIX_EPOCH + Duration::from_millis(MAX_BLOCKS as u64);
    t.record(key(MAX_BLOCKS), &ra, Flow::Token, false, now);
    assert_eq!(t.len(), MAX_BLOCKS);
    assert!(
        t.check(&key(0), Flow::Token, now).is_none(),
        "the soonest-ending block made room"
    );
    assert!(t.check(&key(1), Flow::Token, now).is_some());
    assert!(t.check(&key(MAX_BLOCKS), Flow::Token, now).is_some());
    // Once blocks have ended, they are dropped first.
    let later = now + Duration::from_secs(60);
    t.record(key(MAX_BLOCKS + 1), &ra, Flow::Token, false, later);
    assert_eq!(t.len(), 1);
}
