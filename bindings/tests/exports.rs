//! The exports as a foreign caller sees them: nothing panics across the
//! boundary, and errors carry every language's view.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_ffi::*;

#[test]
fn a_panic_in_the_core_becomes_a_classified_internal_error() {
    let err = self_test_panic().expect_err("the panic is reported as an error");
    let info = err.info();
    assert_eq!(info.kind, ErrorKind::Client);
    assert_eq!(info.code, "internal_error");
    assert_eq!(info.swift.code, -50000);
    assert_eq!(info.swift.internal_code, Some(-42008));
    assert!(matches!(err, AuthError::Client { .. }));
}

#[test]
fn raise_for_response_throws_the_kind_as_the_variant() {
    let body = br#"{"error":"invalid_grant","suberror":"consent_required"}"#.to_vec();
    let err = raise_for_response(400, vec![], body, Flow::Silent).expect_err("an error");
    match err {
        AuthError::InteractionRequired { info, message } => {
            assert_eq!(info.classification, Classification::ConsentRequired);
            assert_eq!(
                info.action,
                RecommendedAction::AcquireInteractively { claims: None }
            );
            assert_eq!(message, info.message);
            let dict: serde_json::Value =
                serde_json::from_str(&info.python.dict_json).expect("JSON");
            assert_eq!(dict["classification"], "consent_required");
        }
        other => panic!("expected InteractionRequired, got {other:?}"),
    }
    let ok = raise_for_response(
        200,
        vec![],
        br#"{"access_token":"a"}"#.to_vec(),
        Flow::Token,
    )
    .expect("success");
    assert_eq!(ok.outcome, Outcome::Success);
    assert!(
        !format!("{ok:?}").contains("\"a\""),
        "Debug never shows tokens"
    );
}

#[test]
fn retry_after_reaches_the_action() {
    let headers = vec![Header {
        name: "Retry-After".into(),
        value: "12".into(),
    }];
    let c = classify_response(429, headers, Vec::new(), Flow::Token).expect("classified");
    let info = c.error.expect("an error");
    assert_eq!(info.action, RecommendedAction::RetryAfter { seconds: 12 });
    assert_eq!(info.retry_after_secs, Some(12));
    assert!(info.retryable);
}

#[test]
fn the_catalogue_lists_every_local_code_once() {
    let cat = mapping_catalogue();
    let mut codes: Vec<_> = cat.local_codes.iter().map(|c| c.code.clone()).collect();
    let n = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), n);
    assert_eq!(cat.classifications.len(), 8);
    assert_eq!(cat.kotlin_reasons.len(), 8);
    for c in &cat.local_codes {
        let info = explain(c.code.clone()).expect("every local code explains");
        assert_eq!(info.swift.code, c.swift_code, "{}", c.code);
        assert_eq!(info.python.form, c.python_form, "{}", c.code);
    }
}

fn h(name: &str, value: &str) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn www_authenticate_parsing_and_the_claims_challenge() {
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
    let b64 =
        "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNjA0MTA2NjUxIn19fQ==";
    let headers = vec![
        h("Content-Type", "application/json"),
        h(
            "WWW-Authenticate",
            &format!(
                r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="{b64}""#
            ),
        ),
    ];
    let parsed = parse_www_authenticate(headers.clone()).unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].scheme, "Bearer");
    assert_eq!(parsed[0].error.as_deref(), Some("insufficient_claims"));
    assert_eq!(parsed[0].claims.as_deref(), Some(claims));
    assert_eq!(parsed[0].params["claims"], b64);
    assert_eq!(
        parsed[0].authority.as_deref(),
        Some("https://login.microsoftonline.com/common")
    );
    assert_eq!(claims_challenge(headers).as_deref(), Some(claims));

    let bad = vec![h("www-authenticate", r#"Bearer error="x"#)];
    assert_eq!(claims_challenge(bad.clone()), None);
    let err = parse_www_authenticate(bad).unwrap_err();
    assert_eq!(err.info().code, "unable_to_parse_authentication_header");
    assert!(matches!(err, AuthError::Client { .. }));
}
