//! A hostile or broken answer to a silent refresh ends in its classified
//! error within the app's timeout and leaves the token cache exactly as it
//! was: no half-parsed token saved, no refresh token dropped, no account lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{ErrorKind, NetworkKind};
use idflow_emulator::{Effect, Endpoint, Matcher, PUBLIC_CLIENT_ID};
use idflow_testing::emulator::EmulatorEnv;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(700);

#[tokio::test]
async fn every_hostile_answer_to_a_silent_refresh_leaves_the_cache_as_it_was() {
    let env = EmulatorEnv::start().await;
    let mut options = env.options();
    options.http_config.timeout = TIMEOUT;
    let app = env.public_app(PUBLIC_CLIENT_ID, options);
    let signed_in = env.sign_in(&app).await;
    let account = signed_in.account.unwrap();
    let before = app.token_cache().serialize();
    assert!(before.contains("RefreshToken") && before.contains(&account.home_account_id));

    let cases: Vec<(&str, Effect, ErrorKind, &str)> = vec![
        (
            "malformed JSON",
            Effect::MalformedJson { status: 400 },
            ErrorKind::Service,
            "non_parsable_oauth_error",
        ),
        (
            "HTML error page",
            Effect::HtmlPage { status: 502 },
            ErrorKind::Service,
            "service_not_available",
        ),
        (
            "empty body",
            Effect::EmptyBody { status: 400 },
            ErrorKind::Service,
            "http_status_not_200",
        ),
        (
            "body past the cap",
            Effect::OversizedBody {
                bytes: 2 * 1024 * 1024,
                status: 200,
            },
            ErrorKind::Service,
            "non_parsable_oauth_error",
        ),
        (
            "invalid UTF-8",
            Effect::InvalidUtf8 { status: 200 },
            ErrorKind::Service,
            "non_parsable_oauth_error",
        ),
        (
            "wrong JSON types",
            Effect::WrongJsonTypes,
            ErrorKind::Service,
            "invalid_token_response",
        ),
        (
            "no access_token",
            Effect::MissingAccessToken,
            ErrorKind::Service,
            "invalid_token_response",
        ),
        (
            "200 with an error body",
            Effect::OauthError {
                error: "invalid_grant".into(),
                error_description: Some("AADSTS70000: error on 200.".into()),
                error_codes: vec![70000],
                suberror: None,
                claims: None,
                status: 200,
                retry_after: None,
            },
            ErrorKind::InteractionRequired,
            "invalid_grant",
        ),
        (
            "reset mid-body",
            Effect::ResetMidBody { status: 200 },
            ErrorKind::Network,
            "network_connection_lost",
        ),
        (
            "dropped connection",
            Effect::DropConnection,
            ErrorKind::Network,
            "network_connection_lost",
        ),
        (
            "no answer",
            Effect::NoAnswer { ms: 30_000 },
            ErrorKind::Network,
            "request_timeout",
        ),
    ];
    for (what, effect, kind, code) in cases {
        // Past any client-side throttle block the previous case left (the
        // emulator's clock moves too, so the tokens it issues fit the app's).
        env.advance(3600);
        env.emu.admin().clear_faults();
        env.fault(
            Matcher {
                endpoint: Some(Endpoint::Token),
                grant_type: Some("refresh_token".into()),
                ..Matcher::default()
            },
            // Every attempt, the one retry after a 5xx or a timeout included.
            None,
            effect,
        );
        let started = Instant::now();
        let e = app
            .acquire_token_silent(&["User.Read"], Some(&account), None, true)
            .await
            .expect_err(what);
        let took = started.elapsed();
        assert_eq!((e.kind, e.code.as_str()), (kind, code), "{what}: {e:?}");
        assert!(e.correlation_id.is_some(), "{what}");
        if code == "request_timeout" {
            assert_eq!(e.network, Some(NetworkKind::Timeout));
        }
        // Two attempts at most, each bounded by the timeout (the retry's
        // delay is waited on the manual clock): ≈ 1.4 s for "no answer".
        // The bound is far above that (a loaded machine stretches every
        // step) and below the 30 s the server holds the request: only the
        // app's timeout can have ended the call.
        assert!(took < Duration::from_secs(20), "{what}: took {took:?}");
        assert_eq!(
            app.token_cache().serialize(),
            before,
            "{what}: the cache changed"
        );
    }
    // And the cache still works once the service is back.
    env.advance(3600);
    env.emu.admin().clear_faults();
    let r = app
        .acquire_token_silent(&["User.Read"], Some(&account), None, true)
        .await
        .unwrap();
    assert!(!r.access_token.expose().is_empty());
}
