//! A token endpoint answering a 200 whose lifetimes are beyond any clock
//! (`expires_in` of 1e300 or u64::MAX): the token is returned and cached with
//! idflow's cap instead of the process aborting on an overflowed expiry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{Clock, TokenSource, MAX_TOKEN_LIFETIME};
use idflow_emulator::{Effect, Endpoint};
use idflow_testing::emulator::EmulatorEnv;
use std::time::{SystemTime, UNIX_EPOCH};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

#[tokio::test]
async fn absurd_lifetimes_from_the_token_endpoint_are_capped() {
    let env = EmulatorEnv::start().await;
    let bodies = [
        r#"{"token_type":"Bearer","access_token":"huge-1","expires_in":1e300,"ext_expires_in":1e300,"refresh_in":1e300}"#,
        r#"{"token_type":"Bearer","access_token":"huge-2","expires_in":"18446744073709551615","ext_expires_in":18446744073709551615}"#,
    ];
    for body in bodies {
        let app = env.confidential();
        env.fault_on(
            Endpoint::Token,
            Effect::Raw {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.into(),
            },
            1,
        );
        let now = env.time.now();
        let r = app
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert!(r.access_token.expose().starts_with("huge-"), "{body}");
        assert_eq!(r.expires_on, now + MAX_TOKEN_LIFETIME, "{body}");
        assert_eq!(r.ext_expires_on, Some(now + MAX_TOKEN_LIFETIME), "{body}");
        // Cached with the cap, and the cache lookup does not overflow either.
        let again = app
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert_eq!(again.token_source, TokenSource::Cache, "{body}");
        assert_eq!(again.access_token.expose(), r.access_token.expose());
        // A round trip through the serialized cache reads the same expiry.
        let copy = env.confidential();
        copy.token_cache()
            .deserialize(&app.token_cache().serialize())
            .unwrap();
        let restored = copy
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert_eq!(restored.token_source, TokenSource::Cache, "{body}");
        // (The cache keeps whole seconds.)
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(
            secs(restored.expires_on),
            secs(now + MAX_TOKEN_LIFETIME),
            "{body}"
        );
    }
}
